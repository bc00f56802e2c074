// Clock is the seam for time: wall-clock milliseconds for records, monotonic
// milliseconds for deadlines. SystemClock is the real one; tests use
// test/fake_clock.h. Also the ISO 8601 format used on the wire and in SQL.

#ifndef ORCHESTRA_COMMON_CLOCK_H_
#define ORCHESTRA_COMMON_CLOCK_H_

#include <cstdint>
#include <string>
#include <string_view>

namespace orchestra::common {

using TimeMs = int64_t;  // Milliseconds; 0 means "not set" in records.

class Clock {
 public:
  virtual ~Clock() = default;
  // Wall-clock time, milliseconds since the Unix epoch.
  virtual TimeMs Now() const = 0;
  // Monotonic time for timers and deadlines; only differences matter.
  virtual TimeMs Monotonic() const = 0;
};

class SystemClock : public Clock {
 public:
  TimeMs Now() const override;
  TimeMs Monotonic() const override;
};

// "2026-11-28T03:20:00.123Z" for `ms` since the epoch.
std::string FormatTime(TimeMs ms);

// Parses the FormatTime form (the "Z" and milliseconds are required).
// Returns false for anything else.
bool ParseTime(std::string_view text, TimeMs* ms);

}  // namespace orchestra::common

#endif  // ORCHESTRA_COMMON_CLOCK_H_
