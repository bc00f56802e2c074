// RateLimit lets at most `burst` events a `period` through and counts the
// others, so that a log line a peer can cause is written at a bounded rate
// however many peers cause it. Not thread-safe: owned by one loop.

#ifndef ORCHESTRA_COMMON_RATE_LIMIT_H_
#define ORCHESTRA_COMMON_RATE_LIMIT_H_

#include <cstdint>

#include "common/clock.h"

namespace orchestra::common {

class RateLimit {
 public:
  RateLimit(int64_t burst, TimeMs period) : burst_(burst), period_(period) {}

  // True when an event at monotonic time `now` may pass; otherwise counts
  // it as suppressed.
  bool Allow(TimeMs now) {
    if (now - window_start_ >= period_ || now < window_start_) {
      window_start_ = now;
      passed_ = 0;
    }
    if (passed_ < burst_) {
      ++passed_;
      return true;
    }
    ++suppressed_;
    return false;
  }

  // The events suppressed since the last call.
  int64_t TakeSuppressed() {
    const int64_t n = suppressed_;
    suppressed_ = 0;
    return n;
  }

 private:
  const int64_t burst_;
  const TimeMs period_;
  TimeMs window_start_ = INT64_MIN / 2;
  int64_t passed_ = 0;
  int64_t suppressed_ = 0;
};

}  // namespace orchestra::common

#endif  // ORCHESTRA_COMMON_RATE_LIMIT_H_
