// Scheduler decides which queued task goes to which player (DESIGN.md
// sections 5 and 13): in dispatch order, the job's priority (highest first)
// then its id; a task goes to an eligible, connected player with a free
// slot; a `one` task prefers the eligible player with the most free slots.
// A job with a rollout limit has at most that many tasks assigned and not
// released at once; its tasks go out in task id order (the player order).
// Pure logic: no sockets, no SQL, no clock.
//
// Invariant: a connected player with a free slot has no waiting task but
// those of jobs at their limit, so a newly queued task never overtakes an
// earlier one in dispatch order.

#ifndef ORCHESTRA_CONDUCTOR_SCHEDULER_H_
#define ORCHESTRA_CONDUCTOR_SCHEDULER_H_

#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "broker/protocol.h"
#include "broker/states.h"

namespace orchestra::conductor {

using broker::JobId;
using broker::TaskId;

class Scheduler {
 public:
  struct Assignment {
    JobId job = 0;
    TaskId task = 0;
    std::string player;
  };

  // `player` is online with `slots`, of which `busy` hold unfinished tasks.
  void Connect(const std::string& player, int slots, int busy);
  // `player` went away; its waiting tasks stay queued for it.
  void Disconnect(const std::string& player);

  // Sets the dispatch priority of `job` (default 0) and its limit of tasks
  // assigned at once (0: none), before its tasks are queued.
  void SetJob(JobId job, int64_t priority, int64_t limit);
  // A task of `job` recovered in flight (DISPATCHED or RUNNING) holds one
  // of its job's limit until Release().
  void Hold(JobId job);
  // `job` finished: forgets its priority and limit.
  void ForgetJob(JobId job);

  // Queues a task that only `player` may run.
  void EnqueueFor(JobId job, TaskId task, const std::string& player);
  // Queues a task that any one of `players` may run.
  void EnqueueAny(JobId job, TaskId task,
                  const std::vector<std::string>& players);
  // Takes a task out of the queue (cancelled, expired, aborted). A task
  // that is not queued is ignored.
  void Remove(TaskId task);
  // A task of `job` on `player` ended (or was taken back): one slot of the
  // player, and one of the job's limit, are free again.
  void Release(const std::string& player, JobId job = 0);

  // Why queued `task` waits, as the audience sees it (DESIGN.md 13), or
  // nullopt when it is not queued. Cheap: a few lookups.
  std::optional<broker::WaitReason> WhyWaiting(TaskId task) const;

  // The assignments made since the last call, oldest first. Each one holds
  // a slot of its player until Release().
  std::vector<Assignment> TakeAssignments();

  bool IsQueued(TaskId task) const { return queued_.count(task) != 0; }
  size_t queued() const { return queued_.size(); }
  int Busy(const std::string& player) const;

 private:
  // A place in dispatch order: -priority, job, task.
  struct Key {
    int64_t rank = 0;
    JobId job = 0;
    TaskId task = 0;
    bool operator<(const Key& o) const {
      if (rank != o.rank) return rank < o.rank;
      if (job != o.job) return job < o.job;
      return task < o.task;
    }
  };
  struct PlayerSlots {
    bool connected = false;
    int slots = 0;
    int busy = 0;
    std::set<Key> waiting;  // first in dispatch order first
  };
  struct QueuedTask {
    Key key;
    std::vector<std::string> players;  // who may run it
  };
  struct JobLimit {
    int64_t priority = 0;
    int64_t limit = 0;  // 0: none
    int64_t held = 0;   // assigned and not released
    std::set<TaskId> waiting;  // queued, in player order
  };

  Key KeyOf(JobId job, TaskId task) const;
  bool AtLimit(JobId job) const;
  void Assign(TaskId task, const std::string& player);
  void Fill(const std::string& player);
  // Assigns waiting tasks of `job` while it is under its limit.
  void FillJob(JobId job);
  const std::string* BestPlayer(const std::vector<std::string>& players) const;
  int FreeSlots(const PlayerSlots& p) const {
    return p.connected ? p.slots - p.busy : 0;
  }

  std::unordered_map<std::string, PlayerSlots> players_;
  std::unordered_map<TaskId, QueuedTask> queued_;
  std::unordered_map<JobId, JobLimit> jobs_;  // jobs given by SetJob()
  std::vector<Assignment> assignments_;
};

}  // namespace orchestra::conductor

#endif  // ORCHESTRA_CONDUCTOR_SCHEDULER_H_
