// Tests for tools/bench/samples.cc: the summaries the bench prints.

#include "tools/bench/samples.h"

#include <gtest/gtest.h>

namespace orchestra::bench {
namespace {

TEST(SamplesTest, EmptySamplesSummariseToZero) {
  Samples samples;
  EXPECT_EQ(0, samples.Percentile(0.5));
  EXPECT_EQ(0, samples.Mean());
  EXPECT_EQ(0, samples.Max());
}

TEST(SamplesTest, PercentilesAreTakenFromTheSortedValues) {
  Samples samples;
  for (double v : {5.0, 1.0, 4.0, 2.0, 3.0}) samples.Add(v);
  EXPECT_EQ(1, samples.Percentile(0));
  EXPECT_EQ(3, samples.Percentile(0.5));
  EXPECT_EQ(5, samples.Percentile(1));
  EXPECT_EQ(5, samples.Max());
  EXPECT_DOUBLE_EQ(3, samples.Mean());
}

TEST(SamplesTest, AddingAfterAPercentileKeepsThemRight) {
  Samples samples;
  samples.Add(10);
  EXPECT_EQ(10, samples.Percentile(0.99));
  samples.Add(1);
  EXPECT_EQ(1, samples.Percentile(0));
  EXPECT_EQ(2u, samples.size());
}

}  // namespace
}  // namespace orchestra::bench
