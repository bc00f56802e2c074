// Timers: named periodic tasks of a daemon's loop (redis's run_with_period,
// made explicit). The loop polls until TimeUntilNext() and then RunDue().

#ifndef ORCHESTRA_COMMON_TIMERS_H_
#define ORCHESTRA_COMMON_TIMERS_H_

#include <functional>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/status.h"

namespace orchestra::common {

class Timers {
 public:
  // Runs `task` every `period_ms`, first at `now + period_ms`.
  void Every(std::string name, TimeMs period_ms, TimeMs now,
             std::function<Status()> task);
  // Changes the period of timer `name` (configuration reload).
  void SetPeriod(const std::string& name, TimeMs period_ms);

  // Milliseconds until the next timer is due (0 if one is due now).
  TimeMs TimeUntilNext(TimeMs now) const;
  // Runs every due timer once; stops at and returns the first failure.
  Status RunDue(TimeMs now);

 private:
  struct Timer {
    std::string name;
    TimeMs period;
    TimeMs next;
    std::function<Status()> task;
  };
  std::vector<Timer> timers_;
};

}  // namespace orchestra::common

#endif  // ORCHESTRA_COMMON_TIMERS_H_
