// GroupTasks folds a job's tasks with identical outcomes into one group
// (DESIGN.md section 13, "Grouped results"): 10,000 identical results read
// as one line. Pure logic, no sockets or SQL; used by the web pages.

#ifndef ORCHESTRA_CONDUCTOR_TASK_GROUPS_H_
#define ORCHESTRA_CONDUCTOR_TASK_GROUPS_H_

#include <cstdint>
#include <string>
#include <vector>

#include "broker/audience_protocol.h"
#include "broker/protocol.h"

namespace orchestra::conductor {

// Tasks that ended alike: the same state, exit code, signal, stdout and
// stderr (with their *_truncated flags) and error.
struct TaskGroup {
  broker::TaskOutcome outcome;        // of the first task in the group
  std::vector<std::string> players;   // each task's player, in task order
  std::vector<broker::TaskId> tasks;  // each task's id, beside `players`
  int64_t count = 0;                  // tasks in the group
  broker::TaskId first_task = 0;
};

// The groups of `tasks`, in the order of each group's first task. Linear in
// the tasks' size: outcomes are hashed, not compared pairwise.
std::vector<TaskGroup> GroupTasks(const std::vector<broker::TaskRecord>& tasks);

}  // namespace orchestra::conductor

#endif  // ORCHESTRA_CONDUCTOR_TASK_GROUPS_H_
