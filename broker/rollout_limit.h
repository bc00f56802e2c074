// A rollout's limit (DESIGN.md section 13): `max_concurrency` and
// `max_errors` of an `all` job, each an integer or "N%" of the job's
// tasks, as the audience gives it and the database keeps it ("2", "10%"),
// and the count it comes to for a job of so many tasks. Pure functions,
// shared by the codecs, the conductor and the tools.

#ifndef ORCHESTRA_BROKER_ROLLOUT_LIMIT_H_
#define ORCHESTRA_BROKER_ROLLOUT_LIMIT_H_

#include <cstdint>
#include <string>
#include <string_view>

namespace orchestra::broker {

struct RolloutLimit {
  int64_t value = 0;     // a count, or a percentage (0 to 100)
  bool percent = false;  // "N%" of the job's tasks
  bool operator==(const RolloutLimit& o) const {
    return value == o.value && percent == o.percent;
  }
  bool operator!=(const RolloutLimit& o) const { return !(*this == o); }
};

// The smallest value each field takes (the largest percentage is 100).
constexpr int64_t kMinConcurrency = 1;
constexpr int64_t kMinErrors = 0;

// "2" or "10%": the text the audience gave, as the database keeps it.
std::string RolloutLimitText(const RolloutLimit& limit);
// Parses "N" (N >= `min`) or "N%" (`min` <= N <= 100), decimal digits
// only; false otherwise.
bool ParseRolloutLimit(std::string_view text, int64_t min, RolloutLimit* limit);
// Parses "N%" alone (`min` <= N <= 100): the string form on the wire.
bool ParsePercent(std::string_view text, int64_t min, RolloutLimit* limit);

// How many of a job's `tasks` may be DISPATCHED or RUNNING at once: a
// percentage is rounded up, and the count is at least 1.
int64_t ConcurrencyCount(const RolloutLimit& limit, int64_t tasks);
// How many of a job's `tasks` may end other than OK before its QUEUED
// tasks are SKIPPED: a percentage is rounded down.
int64_t ErrorCount(const RolloutLimit& limit, int64_t tasks);

}  // namespace orchestra::broker

#endif  // ORCHESTRA_BROKER_ROLLOUT_LIMIT_H_
