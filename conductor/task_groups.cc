// Each task's outcome is hashed once; a hash table from outcome to group
// index finds the task's group, and outcomes are compared in full only
// when their hashes match. The table points into `tasks` only while
// grouping.

#include "conductor/task_groups.h"

#include <functional>
#include <string_view>
#include <unordered_map>

namespace orchestra::conductor {

namespace {

using broker::TaskOutcome;
using broker::TaskRecord;

// An outcome with its hash, computed once.
struct OutcomeKey {
  const TaskOutcome* outcome;
  size_t hash;
};

size_t Mix(size_t seed, size_t value) {
  return seed ^ (value + 0x9e3779b97f4a7c15ULL + (seed << 6) + (seed >> 2));
}

size_t HashOutcome(const TaskOutcome& o) {
  const std::hash<std::string_view> text;
  const std::hash<int64_t> number;
  size_t h = static_cast<size_t>(o.state);
  h = Mix(h, o.exit_code ? number(*o.exit_code) : 0x5a5a);
  h = Mix(h, o.signal ? number(*o.signal) : 0xa5a5);
  h = Mix(h, text(o.stdout_text));
  h = Mix(h, text(o.stderr_text));
  h = Mix(h, text(o.error));
  return Mix(h, (o.stdout_truncated ? 1 : 0) | (o.stderr_truncated ? 2 : 0));
}

struct KeyHash {
  size_t operator()(const OutcomeKey& key) const { return key.hash; }
};

struct SameOutcome {
  bool operator()(const OutcomeKey& a, const OutcomeKey& b) const {
    const TaskOutcome& x = *a.outcome;
    const TaskOutcome& y = *b.outcome;
    return a.hash == b.hash && x.state == y.state &&
           x.exit_code == y.exit_code && x.signal == y.signal &&
           x.stdout_truncated == y.stdout_truncated &&
           x.stderr_truncated == y.stderr_truncated &&
           x.stdout_text == y.stdout_text && x.stderr_text == y.stderr_text &&
           x.error == y.error;
  }
};

TaskGroup StartGroup(const TaskRecord& task) {
  TaskGroup group;
  group.outcome = task;  // its TaskOutcome part
  group.first_task = task.task;
  return group;
}

}  // namespace

std::vector<TaskGroup> GroupTasks(const std::vector<TaskRecord>& tasks) {
  std::vector<TaskGroup> groups;
  std::unordered_map<OutcomeKey, size_t, KeyHash, SameOutcome> index;
  index.reserve(tasks.size());
  for (const TaskRecord& task : tasks) {
    const OutcomeKey key{&task, HashOutcome(task)};
    auto [it, added] = index.emplace(key, groups.size());
    if (added) groups.push_back(StartGroup(task));
    TaskGroup& group = groups[it->second];
    group.players.push_back(task.player);
    group.tasks.push_back(task.task);
    ++group.count;
  }
  return groups;
}

}  // namespace orchestra::conductor
