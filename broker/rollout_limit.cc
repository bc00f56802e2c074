#include "broker/rollout_limit.h"

#include <algorithm>

#include "common/text.h"

namespace orchestra::broker {

namespace {

// `tasks` * `percent` / 100 as a whole part and a remainder (in hundredths),
// without overflow for any count of tasks.
struct Share {
  int64_t whole;
  int64_t hundredths;
};

Share ShareOf(int64_t tasks, int64_t percent) {
  const int64_t rest = (tasks % 100) * percent;
  return {(tasks / 100) * percent + rest / 100, rest % 100};
}

}  // namespace

std::string RolloutLimitText(const RolloutLimit& limit) {
  return std::to_string(limit.value) + (limit.percent ? "%" : "");
}

bool ParsePercent(std::string_view text, int64_t min, RolloutLimit* limit) {
  if (text.size() < 2 || text.back() != '%' || text.front() == '-')
    return false;
  int64_t value = 0;
  if (!common::ParseInt64(text.substr(0, text.size() - 1), min, 100, &value))
    return false;
  *limit = RolloutLimit{value, true};
  return true;
}

bool ParseRolloutLimit(std::string_view text, int64_t min,
                       RolloutLimit* limit) {
  if (!text.empty() && text.back() == '%')
    return ParsePercent(text, min, limit);
  int64_t value = 0;
  if (text.empty() || text.front() == '-' ||
      !common::ParseInt64(text, min, INT64_MAX, &value))
    return false;
  *limit = RolloutLimit{value, false};
  return true;
}

int64_t ConcurrencyCount(const RolloutLimit& limit, int64_t tasks) {
  if (!limit.percent) return std::max<int64_t>(1, limit.value);
  const Share share = ShareOf(std::max<int64_t>(0, tasks), limit.value);
  return std::max<int64_t>(1, share.whole + (share.hundredths > 0 ? 1 : 0));
}

int64_t ErrorCount(const RolloutLimit& limit, int64_t tasks) {
  if (!limit.percent) return std::max<int64_t>(0, limit.value);
  return ShareOf(std::max<int64_t>(0, tasks), limit.value).whole;
}

}  // namespace orchestra::broker
