// TaskCgroups gives each task a cgroup v2 of its own, `task-<id>` beside
// the `player` child that holds the player, under one base cgroup
// (DESIGN.md section 16): it creates it with the score's limits, kills
// everything in it, reads what the task cost and removes it. The base is a
// parameter, so tests point it at a fake directory. Used by the player
// loop thread only.

#ifndef ORCHESTRA_PLAYER_TASK_CGROUPS_H_
#define ORCHESTRA_PLAYER_TASK_CGROUPS_H_

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>

#include "broker/protocol.h"
#include "common/clock.h"
#include "common/result.h"
#include "common/unique_fd.h"

namespace orchestra::player {

// A score's limits from its NAME.conf; unset: none.
struct CgroupLimits {
  std::optional<int64_t> memory_max;  // Bytes, into memory.max
  std::string memory_max_text;        // As NAME.conf gave it ("256M")
  std::optional<int64_t> tasks_max;   // Into pids.max
};

// What a task cost, read from its cgroup; unset where the kernel says not.
struct TaskCost {
  std::optional<int64_t> cpu_us;             // cpu.stat usage_usec
  std::optional<int64_t> memory_peak_bytes;  // memory.peak
  bool out_of_memory = false;                // memory.events oom_kill > 0
};

// Where task cgroups go for player.conf `cgroup` = `setting` (auto, off or
// a path), reading `proc` (/proc) for auto: the base directory, or "" with
// `why_not` saying why tasks are not contained. An explicit path that is
// not a usable cgroup v2 directory is an error.
common::Result<std::string> FindCgroupBase(const std::string& setting,
                                           const std::string& proc,
                                           std::string* why_not);

class TaskCgroups {
 public:
  // Opens the base directory and reads which controllers it offers
  // (cgroup.controllers).
  static common::Result<std::unique_ptr<TaskCgroups>> Open(
      const std::string& base);
  // Removes what is still waiting for removal, waiting for each at most
  // a moment.
  ~TaskCgroups();
  TaskCgroups(const TaskCgroups&) = delete;
  TaskCgroups& operator=(const TaskCgroups&) = delete;

  // Moves process `pid` (the player) into `player` under the base, created
  // if needed: the base must hold no process for controllers to be
  // enabled for its children.
  common::Status AdoptPlayer(pid_t pid);
  // Writes "+memory +pids" (those of them the base offers) into the base's
  // cgroup.subtree_control; logs once why a controller is not on.
  void EnableControllers();

  // Creates task `task`'s cgroup with `limits` (those whose controller is
  // on; the others are logged once per score) and returns its directory,
  // to clone into.
  common::Result<common::UniqueFd> Create(broker::TaskId task,
                                          const std::string& score,
                                          const CgroupLimits& limits);
  // Kills every process in the task's cgroup: cgroup.kill, or SIGKILL to
  // each pid in cgroup.procs until it is empty where there is none.
  void Kill(broker::TaskId task);
  // What the task has cost so far.
  TaskCost Cost(broker::TaskId task) const;
  // Removes the task's cgroup, now if it is empty, else on a later
  // RetryRemovals() (bounded); never waits.
  void Remove(broker::TaskId task, common::TimeMs now);
  void RetryRemovals(common::TimeMs now);
  // Monotonic time of the next removal retry; 0 for none.
  common::TimeMs NextRetry() const;

  // At start-up: kills and removes every task-* cgroup left under the
  // base, waiting at most `wait_ms` for each to empty. `started` are the
  // tasks the journal says were running; any other leftover is logged.
  // Returns how many were removed.
  size_t CleanLeftovers(const std::set<broker::TaskId>& started,
                        common::TimeMs wait_ms);

  bool memory_on() const { return memory_problem_.empty(); }
  bool pids_on() const { return pids_problem_.empty(); }
  const std::string& base() const { return base_; }
  // The directory of task `task`'s cgroup.
  std::string TaskPath(broker::TaskId task) const;

 private:
  struct Removal {
    int attempts = 0;
    common::TimeMs next_at = 0;
  };

  TaskCgroups(std::string base, common::UniqueFd base_fd, std::string offered);
  void ApplyLimits(int dir_fd, const std::string& score,
                   const CgroupLimits& limits);
  void LogUnapplied(const std::string& score, const char* key,
                    const std::string& why);
  bool TryRemove(const std::string& name);

  std::string base_;
  common::UniqueFd base_fd_;
  std::string offered_;         // cgroup.controllers of the base
  std::string memory_problem_;  // Why memory.max is not applied; "": on
  std::string pids_problem_;    // Why pids.max is not applied; "": on
  std::map<broker::TaskId, Removal> removals_;
  std::set<std::string> logged_;  // "score key" already logged
};

}  // namespace orchestra::player

#endif  // ORCHESTRA_PLAYER_TASK_CGROUPS_H_
