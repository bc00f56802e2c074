// Scheduler decides which queued task goes to which player (DESIGN.md
// section 5): first come first served by job id; a task goes to an eligible,
// connected player with a free slot; a `one` task prefers the eligible
// player with the most free slots. Pure logic: no sockets, no SQL, no clock.
//
// Invariant: a connected player with a free slot has no waiting task, so a
// newly queued task never overtakes an older one.

#ifndef ORCHESTRA_CONDUCTOR_SCHEDULER_H_
#define ORCHESTRA_CONDUCTOR_SCHEDULER_H_

#include <set>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "broker/protocol.h"

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

  // Queues a task that only `player` may run.
  void EnqueueFor(JobId job, TaskId task, const std::string& player);
  // Queues a task that any one of `players` may run.
  void EnqueueAny(JobId job, TaskId task,
                  const std::vector<std::string>& players);
  // Takes a task out of the queue (cancelled, expired, aborted). A task
  // that is not queued is ignored.
  void Remove(TaskId task);
  // A task on `player` ended (or was taken back): one slot is free again.
  void Release(const std::string& player);

  // The assignments made since the last call, oldest first. Each one holds
  // a slot of its player until Release().
  std::vector<Assignment> TakeAssignments();

  bool IsQueued(TaskId task) const { return queued_.count(task) != 0; }
  size_t queued() const { return queued_.size(); }
  int Busy(const std::string& player) const;

 private:
  struct PlayerSlots {
    bool connected = false;
    int slots = 0;
    int busy = 0;
    std::set<std::pair<JobId, TaskId>> waiting;  // oldest job first
  };
  struct QueuedTask {
    JobId job = 0;
    std::vector<std::string> players;  // who may run it
  };

  void Assign(TaskId task, const std::string& player);
  void Fill(const std::string& player);
  int FreeSlots(const PlayerSlots& p) const {
    return p.connected ? p.slots - p.busy : 0;
  }

  std::unordered_map<std::string, PlayerSlots> players_;
  std::unordered_map<TaskId, QueuedTask> queued_;
  std::vector<Assignment> assignments_;
};

}  // namespace orchestra::conductor

#endif  // ORCHESTRA_CONDUCTOR_SCHEDULER_H_
