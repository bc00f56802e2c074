#include "common/timers.h"

#include <algorithm>

namespace orchestra::common {

void Timers::Every(std::string name, TimeMs period_ms, TimeMs now,
                   std::function<Status()> task) {
  timers_.push_back(
      Timer{std::move(name), period_ms, now + period_ms, std::move(task)});
}

void Timers::SetPeriod(const std::string& name, TimeMs period_ms) {
  for (Timer& timer : timers_) {
    if (timer.name != name) continue;
    timer.next = std::min(timer.next, timer.next - timer.period + period_ms);
    timer.period = period_ms;
  }
}

TimeMs Timers::TimeUntilNext(TimeMs now) const {
  TimeMs wait = 3600 * 1000;
  for (const Timer& timer : timers_)
    wait = std::min(wait, std::max<TimeMs>(0, timer.next - now));
  return wait;
}

Status Timers::RunDue(TimeMs now) {
  for (Timer& timer : timers_) {
    if (timer.next > now) continue;
    timer.next += timer.period;
    if (timer.next <= now) timer.next = now + timer.period;  // fell behind
    Status s = timer.task();
    if (!s.ok()) return s;
  }
  return Status();
}

}  // namespace orchestra::common
