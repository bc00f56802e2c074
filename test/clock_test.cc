// Tests for common/clock.h: the ISO 8601 wire format and SystemClock.

#include "common/clock.h"

#include <gtest/gtest.h>
#include <time.h>

#include <string>

namespace orchestra::common {
namespace {

class ClockTest : public testing::Test {
 protected:
  // Parses `text`, expecting success.
  static TimeMs Parsed(const std::string& text) {
    TimeMs ms = -1;
    EXPECT_TRUE(ParseTime(text, &ms)) << text;
    return ms;
  }
  static bool Rejects(const std::string& text) {
    TimeMs ms = 0;
    return !ParseTime(text, &ms);
  }
};

TEST_F(ClockTest, FormatsMillisecondsInUtc) {
  EXPECT_EQ("1970-01-01T00:00:00.000Z", FormatTime(0));
  EXPECT_EQ("2026-11-28T03:20:00.123Z", FormatTime(1795836000123));
  EXPECT_EQ("2024-02-29T23:59:59.999Z", FormatTime(1709251199999));
}

TEST_F(ClockTest, FormatsTimesBeforeTheEpoch) {
  EXPECT_EQ("1969-12-31T23:59:59.999Z", FormatTime(-1));
  EXPECT_EQ(-1, Parsed("1969-12-31T23:59:59.999Z"));
}

TEST_F(ClockTest, ParsesWhatItFormats) {
  EXPECT_EQ(1795836000123, Parsed("2026-11-28T03:20:00.123Z"));
  for (TimeMs ms : {TimeMs{0}, TimeMs{1}, TimeMs{999}, TimeMs{1709251199999},
                    TimeMs{1795000000000}, TimeMs{253402300799999}}) {
    EXPECT_EQ(ms, Parsed(FormatTime(ms)));
  }
}

TEST_F(ClockTest, ParseRejectsOtherShapes) {
  EXPECT_TRUE(Rejects(""));
  EXPECT_TRUE(Rejects("2026-11-28T03:20:00Z"));     // no milliseconds
  EXPECT_TRUE(Rejects("2026-11-28T03:20:00.123"));  // no Z
  EXPECT_TRUE(Rejects("2026-11-28t03:20:00.123z"));
  EXPECT_TRUE(Rejects("2026-11-28 03:20:00.123Z"));
  EXPECT_TRUE(Rejects("2026-11-28T03:20:00.123+00:00"));
  EXPECT_TRUE(Rejects(" 2026-11-28T03:20:00.123Z"));
  EXPECT_TRUE(Rejects("2026-11-28T03:2a:00.123Z"));
  EXPECT_TRUE(Rejects("+026-11-28T03:20:00.123Z"));
}

TEST_F(ClockTest, ParseRejectsFieldsOutOfRange) {
  EXPECT_TRUE(Rejects("2026-00-28T03:20:00.123Z"));
  EXPECT_TRUE(Rejects("2026-13-28T03:20:00.123Z"));
  EXPECT_TRUE(Rejects("2026-11-00T03:20:00.123Z"));
  EXPECT_TRUE(Rejects("2026-11-32T03:20:00.123Z"));
  EXPECT_TRUE(Rejects("2026-11-28T24:00:00.000Z"));
  EXPECT_TRUE(Rejects("2026-11-28T03:60:00.000Z"));
  EXPECT_TRUE(Rejects("2026-11-28T03:20:61.000Z"));
}

// A date that does not exist must not be quietly moved to another day: a
// stored "2026-02-30" would otherwise read back as March 2nd.
TEST_F(ClockTest, ParseRejectsDaysTheMonthDoesNotHave) {
  EXPECT_TRUE(Rejects("2026-02-29T00:00:00.000Z"));
  EXPECT_TRUE(Rejects("2026-02-30T00:00:00.000Z"));
  EXPECT_TRUE(Rejects("2026-04-31T00:00:00.000Z"));
  EXPECT_EQ(1709164800000, Parsed("2024-02-29T00:00:00.000Z"));
}

TEST_F(ClockTest, ParseRejectsLeapSecondsItCouldNotFormat) {
  EXPECT_TRUE(Rejects("2016-12-31T23:59:60.000Z"));  // a real one
  EXPECT_TRUE(Rejects("2026-12-31T23:59:60.999Z"));
  EXPECT_EQ(1798761599999, Parsed("2026-12-31T23:59:59.999Z"));
}

TEST_F(ClockTest, SystemClockNowIsWallClockTime) {
  SystemClock clock;
  const TimeMs now = clock.Now();
  const TimeMs seconds = static_cast<TimeMs>(time(nullptr));
  EXPECT_LE(seconds * 1000 - 2000, now);
  EXPECT_GE(seconds * 1000 + 2000, now);
}

TEST_F(ClockTest, SystemClockMonotonicNeverGoesBack) {
  SystemClock clock;
  TimeMs previous = clock.Monotonic();
  for (int i = 0; i < 1000; ++i) {
    const TimeMs next = clock.Monotonic();
    ASSERT_LE(previous, next);
    previous = next;
  }
}

// FormatTime and ParseTime do their own calendar arithmetic (gmtime_r and
// timegm were too slow for the conductor's hot path): they must agree
// with the C library on every day, leap years and century rules included.
TEST_F(ClockTest, FormatsEveryDayAsGmtimeDoes) {
  for (TimeMs day = -25567; day < 2 * 36525; day += 1) {  // 1900 to 2170
    const TimeMs ms = day * 86400000 + 45296789;          // 12:34:56.789
    const time_t seconds = static_cast<time_t>(day * 86400 + 45296);
    struct tm tm;
    gmtime_r(&seconds, &tm);
    char expected[32];
    strftime(expected, sizeof expected, "%Y-%m-%dT%H:%M:%S.789Z", &tm);
    ASSERT_EQ(expected, FormatTime(ms));
    ASSERT_EQ(ms, Parsed(expected));
  }
}

}  // namespace
}  // namespace orchestra::common
