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

std::string FormatTime(TimeMs ms) {
  time_t seconds = static_cast<time_t>(ms / 1000);
  int millis = static_cast<int>(ms % 1000);
  if (millis < 0) {
    millis += 1000;
    seconds -= 1;
  }
  struct tm tm;
  gmtime_r(&seconds, &tm);
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ",
                tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
                tm.tm_min, tm.tm_sec, millis);
  return buf;
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
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 ||
      minute > 59 || second > 60)
    return false;
  struct tm tm = {};
  tm.tm_year = year - 1900;
  tm.tm_mon = month - 1;
  tm.tm_mday = day;
  tm.tm_hour = hour;
  tm.tm_min = minute;
  tm.tm_sec = second;
  time_t seconds = timegm(&tm);
  // timegm() quietly moves a day the month lacks (Feb 30) or a leap second
  // into the next month or minute; such a time was never formatted by us.
  struct tm check;
  if (gmtime_r(&seconds, &check) == nullptr || check.tm_mday != day ||
      check.tm_mon != month - 1 || check.tm_sec != second)
    return false;
  *ms = static_cast<TimeMs>(seconds) * 1000 + millis;
  return true;
}

}  // namespace orchestra::common
