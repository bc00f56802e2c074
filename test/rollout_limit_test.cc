// Tests for broker/rollout_limit.h: a rollout limit's text as the database
// keeps it, and the counts it comes to for a job's tasks (DESIGN.md
// section 13): max_concurrency rounds up and is at least 1, max_errors
// rounds down.

#include "broker/rollout_limit.h"

#include <gtest/gtest.h>

#include <cstdint>

namespace orchestra::broker {
namespace {

constexpr RolloutLimit Count(int64_t n) { return {n, false}; }
constexpr RolloutLimit Percent(int64_t n) { return {n, true}; }

TEST(RolloutLimitTest, TextIsAsGiven) {
  EXPECT_EQ("2", RolloutLimitText(Count(2)));
  EXPECT_EQ("0", RolloutLimitText(Count(0)));
  EXPECT_EQ("10%", RolloutLimitText(Percent(10)));
  EXPECT_EQ("100%", RolloutLimitText(Percent(100)));
  EXPECT_EQ("9223372036854775807", RolloutLimitText(Count(INT64_MAX)));
}

TEST(RolloutLimitTest, TextParsesBack) {
  for (RolloutLimit limit : {Count(0), Count(1), Count(INT64_MAX), Percent(0),
                             Percent(1), Percent(99), Percent(100)}) {
    RolloutLimit back{-1, false};
    ASSERT_TRUE(ParseRolloutLimit(RolloutLimitText(limit), kMinErrors, &back))
        << RolloutLimitText(limit);
    EXPECT_EQ(limit, back) << RolloutLimitText(limit);
  }
}

TEST(RolloutLimitTest, ParsingHoldsToTheMinimumAndAHundredPercent) {
  RolloutLimit limit;
  EXPECT_FALSE(ParseRolloutLimit("0", kMinConcurrency, &limit));
  EXPECT_FALSE(ParseRolloutLimit("0%", kMinConcurrency, &limit));
  EXPECT_TRUE(ParseRolloutLimit("0", kMinErrors, &limit));
  EXPECT_TRUE(ParseRolloutLimit("0%", kMinErrors, &limit));
  for (const char* bad :
       {"", "%", "101%", "-1", "-1%", "-0", "+3", "3.5", "3.5%", "1e3", " 3",
        "3 ", "3%%", "x%", "9223372036854775808"})
    EXPECT_FALSE(ParseRolloutLimit(bad, kMinErrors, &limit)) << bad;
  // ParsePercent takes the string form of the wire only.
  EXPECT_FALSE(ParsePercent("5", kMinErrors, &limit));
  ASSERT_TRUE(ParsePercent("5%", kMinErrors, &limit));
  EXPECT_EQ(Percent(5), limit);
}

TEST(RolloutLimitTest, ACountIsItselfWhateverTheTasks) {
  for (int64_t tasks : {0, 1, 3, 10000}) {
    EXPECT_EQ(5, ConcurrencyCount(Count(5), tasks));
    EXPECT_EQ(5, ErrorCount(Count(5), tasks));
    EXPECT_EQ(0, ErrorCount(Count(0), tasks));
    EXPECT_EQ(1, ConcurrencyCount(Count(1), tasks));
  }
  EXPECT_EQ(INT64_MAX, ConcurrencyCount(Count(INT64_MAX), 7));
}

TEST(RolloutLimitTest, ConcurrencyOfAPercentRoundsUpToAtLeastOne) {
  // 10% of 25 tasks is 2.5: 3 at once.
  EXPECT_EQ(3, ConcurrencyCount(Percent(10), 25));
  // Exact shares stay exact.
  EXPECT_EQ(2, ConcurrencyCount(Percent(10), 20));
  EXPECT_EQ(1000, ConcurrencyCount(Percent(10), 10000));
  // Just above a whole number rounds up; just below stays.
  EXPECT_EQ(11, ConcurrencyCount(Percent(10), 101));  // 10.1
  EXPECT_EQ(10, ConcurrencyCount(Percent(10), 100));
  EXPECT_EQ(10, ConcurrencyCount(Percent(10), 99));   // 9.9
  EXPECT_EQ(34, ConcurrencyCount(Percent(33), 101));  // 33.33
  // At least one, also for a job of one task or none.
  EXPECT_EQ(1, ConcurrencyCount(Percent(1), 1));
  EXPECT_EQ(1, ConcurrencyCount(Percent(1), 0));
  EXPECT_EQ(1, ConcurrencyCount(Percent(100), 0));
  EXPECT_EQ(1, ConcurrencyCount(Percent(1), 99));  // 0.99
  EXPECT_EQ(1, ConcurrencyCount(Percent(1), 100));
  EXPECT_EQ(2, ConcurrencyCount(Percent(1), 101));  // 1.01
  // 100% is every task at once.
  EXPECT_EQ(1, ConcurrencyCount(Percent(100), 1));
  EXPECT_EQ(25, ConcurrencyCount(Percent(100), 25));
  EXPECT_EQ(10000, ConcurrencyCount(Percent(100), 10000));
  EXPECT_EQ(9900, ConcurrencyCount(Percent(99), 10000));
  EXPECT_EQ(3334, ConcurrencyCount(Percent(33), 10101));  // 3333.33
  EXPECT_EQ(1, ConcurrencyCount(Percent(50), 1));         // 0.5
}

TEST(RolloutLimitTest, ErrorsOfAPercentRoundDown) {
  // 10% of 25 tasks is 2.5: 2 errors are tolerated, the third stops it.
  EXPECT_EQ(2, ErrorCount(Percent(10), 25));
  EXPECT_EQ(2, ErrorCount(Percent(10), 20));
  EXPECT_EQ(10, ErrorCount(Percent(10), 101));  // 10.1
  EXPECT_EQ(10, ErrorCount(Percent(10), 100));
  EXPECT_EQ(9, ErrorCount(Percent(10), 99));  // 9.9
  // 0% tolerates none; so does a small share of a small job.
  EXPECT_EQ(0, ErrorCount(Percent(0), 10000));
  EXPECT_EQ(0, ErrorCount(Percent(0), 1));
  EXPECT_EQ(0, ErrorCount(Percent(1), 99));  // 0.99
  EXPECT_EQ(1, ErrorCount(Percent(1), 100));
  EXPECT_EQ(0, ErrorCount(Percent(50), 1));  // 0.5
  EXPECT_EQ(0, ErrorCount(Percent(99), 1));
  EXPECT_EQ(0, ErrorCount(Percent(100), 0));
  // 100% tolerates every task failing.
  EXPECT_EQ(1, ErrorCount(Percent(100), 1));
  EXPECT_EQ(10000, ErrorCount(Percent(100), 10000));
  EXPECT_EQ(9900, ErrorCount(Percent(99), 10000));
  EXPECT_EQ(3333, ErrorCount(Percent(33), 10101));  // 3333.33
}

// No overflow for any count of tasks: the share is computed in parts.
TEST(RolloutLimitTest, HugeJobsDoNotOverflow) {
  const int64_t most = INT64_MAX;
  EXPECT_EQ(most, ErrorCount(Percent(100), most));
  EXPECT_EQ(most, ConcurrencyCount(Percent(100), most));
  EXPECT_EQ(most / 2, ErrorCount(Percent(50), most));
  EXPECT_EQ(most / 2 + 1, ConcurrencyCount(Percent(50), most));
  EXPECT_EQ(1, ConcurrencyCount(Percent(10), -5));  // none, not negative
  EXPECT_EQ(0, ErrorCount(Percent(10), -5));
}

}  // namespace
}  // namespace orchestra::broker
