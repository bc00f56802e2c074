// FakeClock: time that moves only when a test says so.

#ifndef ORCHESTRA_TEST_FAKE_CLOCK_H_
#define ORCHESTRA_TEST_FAKE_CLOCK_H_

#include "common/clock.h"

namespace orchestra::test {

class FakeClock : public common::Clock {
 public:
  explicit FakeClock(common::TimeMs now = 1795000000000)
      : now_(now), monotonic_(1000) {}
  common::TimeMs Now() const override { return now_; }
  common::TimeMs Monotonic() const override { return monotonic_; }
  void Advance(common::TimeMs ms) {
    now_ += ms;
    monotonic_ += ms;
  }

 private:
  common::TimeMs now_;
  common::TimeMs monotonic_;
};

}  // namespace orchestra::test

#endif  // ORCHESTRA_TEST_FAKE_CLOCK_H_
