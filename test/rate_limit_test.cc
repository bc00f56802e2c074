// Tests for common/rate_limit.h: a burst a period passes, the rest is
// counted, and the next period starts afresh.

#include "common/rate_limit.h"

#include <gtest/gtest.h>

namespace orchestra::common {
namespace {

TEST(RateLimitTest, ABurstAPeriodPassesAndTheRestIsCounted) {
  RateLimit limit(3, 1000);
  int passed = 0;
  for (int i = 0; i < 10; ++i) passed += limit.Allow(5000 + i);
  EXPECT_EQ(3, passed);
  EXPECT_EQ(7, limit.TakeSuppressed());
  EXPECT_EQ(0, limit.TakeSuppressed());
  EXPECT_FALSE(limit.Allow(5999));
  EXPECT_TRUE(limit.Allow(6000));
  EXPECT_EQ(1, limit.TakeSuppressed());
}

TEST(RateLimitTest, TheFirstEventAlwaysPasses) {
  RateLimit limit(1, 60000);
  EXPECT_TRUE(limit.Allow(0));
  EXPECT_FALSE(limit.Allow(1));
}

}  // namespace
}  // namespace orchestra::common
