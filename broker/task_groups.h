// TaskGrouper folds a job's tasks with identical outcomes into groups
// (DESIGN.md section 13, "Grouped results"), one task at a time as they
// are read from the store, so that 10,000 identical results read as one
// line and a page of groups costs memory for its own groups' outputs only.
// Pure logic, no sockets or SQL; used by the web pages and `orchestra status
// --group`.

#ifndef ORCHESTRA_BROKER_TASK_GROUPS_H_
#define ORCHESTRA_BROKER_TASK_GROUPS_H_

#include <array>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "broker/audience_protocol.h"

namespace orchestra::broker {

// Tasks that ended alike: the same state, exit code, signal, stdout and
// stderr (with their *_truncated flags) and error.
struct TaskGroup {
  // That of the first task in the group; its texts may be cut, or they
  // and its response cleared (TaskGrouper's window); the *_bytes below
  // keep the texts' whole sizes.
  TaskOutcome outcome;
  size_t stdout_bytes = 0, stderr_bytes = 0, error_bytes = 0;
  std::vector<std::string> players;  // each task's player, in task order
  std::vector<TaskId> tasks;         // each task's id, beside `players`
  int64_t count = 0;                 // tasks in the group
  TaskId first_task = 0;
  // Why its QUEUED tasks wait (their `waiting`, when set), each reason
  // once, in the order first seen.
  std::vector<WaitReason> waiting;
};

class TaskGrouper {
 public:
  static constexpr size_t kAll = std::numeric_limits<size_t>::max();

  // Groups numbered from `keep_from` to before `keep_to` (in the order of
  // their first tasks) keep their outputs' last and their error's first
  // `text_bytes`; the others keep no text. Outcomes are compared by a
  // BLAKE2b digest of their whole texts, so nothing else is held.
  explicit TaskGrouper(size_t keep_from = 0, size_t keep_to = kAll,
                       size_t text_bytes = kAll);

  // Adds the job's next task, in task order. Linear in its texts' size.
  void Add(const TaskRecord& task);

  size_t groups() const { return groups_.size(); }
  int64_t tasks() const { return tasks_; }
  // The groups, in the order of each group's first task; leaves us empty.
  std::vector<TaskGroup> Take();

 private:
  using Digest = std::array<uint8_t, 16>;
  struct Key {
    TaskState state;
    std::optional<int64_t> exit_code, signal;
    bool stdout_truncated, stderr_truncated;
    Digest texts;
    bool operator==(const Key& other) const;
  };
  Key KeyOf(const TaskOutcome& outcome);
  TaskGroup StartGroup(const TaskRecord& task) const;

  size_t keep_from_, keep_to_, text_bytes_;
  std::vector<TaskGroup> groups_;
  std::vector<Key> keys_;                             // beside groups_
  std::unordered_multimap<uint64_t, size_t> by_key_;  // key hash -> group
  int64_t tasks_ = 0;
  std::string texts_;  // KeyOf's buffer
};

// The reasons' names joined by ", " ("rollout, player_offline").
std::string WaitingText(const std::vector<WaitReason>& reasons);

// Every group of `tasks`, texts whole.
std::vector<TaskGroup> GroupTasks(const std::vector<TaskRecord>& tasks);

}  // namespace orchestra::broker

#endif  // ORCHESTRA_BROKER_TASK_GROUPS_H_
