#include "common/clock.h"

#include <time.h>

#include <cstdio>

namespace orchestra::common {

namespace {

TimeMs ReadClock(clockid_t id) {
  struct timespec ts;
  clock_gettime(id, &ts);
  return static_cast<TimeMs>(ts.tv_sec) * 1000 + ts.tv_nsec / 1000000;
}

bool ParseDigits(std::string_view text, size_t pos, size_t count, int* out) {
  if (pos + count > text.size()) return false;
  int value = 0;
  for (size_t i = pos; i < pos + count; ++i) {
    if (text[i] < '0' || text[i] > '9') return false;
    value = value * 10 + (text[i] - '0');
  }
  *out = value;
  return true;
}

}  // namespace

TimeMs SystemClock::Now() const { return ReadClock(CLOCK_REALTIME); }
TimeMs SystemClock::Monotonic() const { return ReadClock(CLOCK_MONOTONIC); }

// Both directions use the proleptic Gregorian calendar arithmetic of
// Howard Hinnant's days_from_civil / civil_from_days: the conductor formats
// and parses several times per task, and gmtime_r/timegm (which take the
// time-zone lock) and snprintf showed in its profile.
std::string FormatTime(TimeMs ms) {
  TimeMs days = ms / 86400000;
  TimeMs rest = ms % 86400000;
  if (rest < 0) {
    rest += 86400000;
    days -= 1;
  }
  const TimeMs z = days + 719468;
  const TimeMs era = (z >= 0 ? z : z - 146096) / 146097;
  const TimeMs doe = z - era * 146097;
  const TimeMs yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const TimeMs doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const TimeMs mp = (5 * doy + 2) / 153;
  const int day = static_cast<int>(doy - (153 * mp + 2) / 5 + 1);
  const int month = static_cast<int>(mp < 10 ? mp + 3 : mp - 9);
  const TimeMs year = yoe + era * 400 + (month <= 2 ? 1 : 0);
  const int hour = static_cast<int>(rest / 3600000);
  const int minute = static_cast<int>(rest / 60000 % 60);
  const int second = static_cast<int>(rest / 1000 % 60);
  const int millis = static_cast<int>(rest % 1000);
  if (year < 0 || year > 9999) {
    char buf[64];
    std::snprintf(buf, sizeof(buf), "%04lld-%02d-%02dT%02d:%02d:%02d.%03dZ",
                  static_cast<long long>(year), month, day, hour, minute,
                  second, millis);
    return buf;
  }
  char buf[25] = "0000-00-00T00:00:00.000Z";
  auto put = [&buf](int at, int width, int64_t value) {
    for (int i = at + width - 1; i >= at; --i, value /= 10)
      buf[i] = static_cast<char>('0' + value % 10);
  };
  put(0, 4, year);
  put(5, 2, month);
  put(8, 2, day);
  put(11, 2, hour);
  put(14, 2, minute);
  put(17, 2, second);
  put(20, 3, millis);
  return std::string(buf, 24);
}

bool ParseTime(std::string_view text, TimeMs* ms) {
  // 2026-11-28T03:20:00.123Z
  if (text.size() != 24 || text[4] != '-' || text[7] != '-' ||
      text[10] != 'T' || text[13] != ':' || text[16] != ':' ||
      text[19] != '.' || text[23] != 'Z')
    return false;
  int year, month, day, hour, minute, second, millis;
  if (!ParseDigits(text, 0, 4, &year) || !ParseDigits(text, 5, 2, &month) ||
      !ParseDigits(text, 8, 2, &day) || !ParseDigits(text, 11, 2, &hour) ||
      !ParseDigits(text, 14, 2, &minute) ||
      !ParseDigits(text, 17, 2, &second) ||
      !ParseDigits(text, 20, 3, &millis))
    return false;
  static const int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  const bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
  // A day the month lacks (Feb 30) or a leap second was never formatted
  // by us.
  if (month < 1 || month > 12 || day < 1 ||
      day > kDays[month - 1] + (month == 2 && leap ? 1 : 0) || hour > 23 ||
      minute > 59 || second > 59)
    return false;
  const TimeMs y = year - (month <= 2 ? 1 : 0);
  const TimeMs era = (y >= 0 ? y : y - 399) / 400;
  const TimeMs yoe = y - era * 400;
  const TimeMs doy = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1;
  const TimeMs doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  const TimeMs days = era * 146097 + doe - 719468;
  *ms = ((days * 24 + hour) * 60 + minute) * 60000 + second * 1000 + millis;
  return true;
}

}  // namespace orchestra::common
