// JobBoard keeps every unfinished job in memory (without its params or the
// outputs of its ended tasks: the store has those) and applies each change of
// a task's state to it, to the JobStore and to the Scheduler, following
// DESIGN.md section 5. It owns no socket: at the end of each loop turn the
// Core commits the store, then sends TakeOrders() to players and answers
// the waits of TakeFinishedJobs(). Owned by the conductor's loop thread.
// A failed store write leaves memory ahead of the database: the Core then
// calls Reload(), which puts memory back where the database is. It tells
// Metrics of each job submitted or finished and each task dispatched or
// finished, and keeps the count of open tasks by state as they move.

#ifndef ORCHESTRA_CONDUCTOR_JOB_BOARD_H_
#define ORCHESTRA_CONDUCTOR_JOB_BOARD_H_

#include <algorithm>
#include <array>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "broker/audience_protocol.h"
#include "broker/protocol.h"
#include "common/clock.h"
#include "common/result.h"
#include "conductor/job_store.h"
#include "conductor/metrics.h"
#include "conductor/scheduler.h"

namespace orchestra::conductor {

// A message for a player: a task to run or a task to stop.
struct PlayerOrder {
  std::string player;
  broker::PlayerMessage message;  // RunTask or CancelTask
};

class JobBoard {
 public:
  // `listed` names the players in the players file; it and `metrics`
  // must outlive us.
  JobBoard(JobStore* store, Scheduler* scheduler, const common::Clock* clock,
           const std::set<std::string>* listed, Metrics* metrics);
  // The cell's epoch, sent with every task (DESIGN.md section 17).
  void set_epoch(int64_t epoch) { epoch_ = epoch; }

  // Forgets every job and order in memory, and the Scheduler's state, and
  // loads the unfinished jobs as the store has committed them, writing
  // nothing (after a failed commit). No player is connected afterwards.
  common::Status Reload();
  // Reload(), then ends the tasks no listed player can run and moves their
  // jobs on (start-up, and once the store takes writes again).
  common::Status Recover();

  // Creates a job from a validated request; its tasks are queued.
  common::Result<JobId> Submit(const broker::SubmitRequest& request,
                               const std::string& submitted_by,
                               int64_t default_delivery_timeout_s);

  // The unfinished job `job` (without params or ended tasks' outputs:
  // JobStore::LoadJob() has the whole record), or nullptr.
  const JobRecord* FindActive(JobId job) const;
  // Sets `waiting` on each QUEUED task of `record` (a page of a job read
  // for the audience) if the job is unfinished (DESIGN.md 13): computed
  // now, never stored; a few lookups a task.
  void ExplainWaiting(broker::JobRecord* record) const;
  // Why the QUEUED `task` of an unfinished job waits; nullopt when it is
  // not queued.
  std::optional<broker::WaitReason> WhyWaiting(TaskId task) const {
    return scheduler_->WhyWaiting(task);
  }

  // Player events: `player` is the name its Curve key proved.
  common::Status OnAccepted(const std::string& player, TaskId task);
  common::Status OnResult(const std::string& player,
                          const broker::TaskResult& result);
  // A new session: reconciles the tasks the player holds with ours (resend
  // what it never got, LOST what it forgot) and opens its slots.
  common::Status OnHello(const std::string& player, const broker::Hello& hello);
  // The session of `player` ended. Tasks of `one` jobs it never accepted
  // end EXPIRED and their jobs move on to the next eligible player; other
  // tasks wait for it to come back (until their delivery timeout).
  common::Status OnDisconnect(const std::string& player);
  // Player `player` was removed or revoked: its unfinished tasks end
  // ABORTED (a `one` job moves on).
  common::Status AbortPlayer(const std::string& player);

  // Audience cancel: queued tasks end CANCELLED, running ones are stopped.
  // NotFound if there is no such unfinished job.
  common::Status Cancel(JobId job);

  // Queues resends of tasks sent `retry_ms` ago and still not accepted.
  common::Status ResendUnaccepted(common::TimeMs retry_ms);
  // Ends EXPIRED the tasks that waited past their job's delivery timeout
  // for a player that is not connected, and those sent but never accepted
  // within it.
  common::Status ExpireUndelivered(
      const std::function<bool(const std::string&)>& connected);

  // Orders for players queued since the last call (send after Commit).
  std::vector<PlayerOrder> TakeOrders();
  // Jobs that finished since the last call (the store has their records).
  std::vector<JobId> TakeFinishedJobs();
  // True when job `id` finished in this turn (TakeFinishedJobs() has not
  // taken it yet).
  bool FinishedThisTurn(JobId id) const {
    return std::find(finished_.begin(), finished_.end(), id) != finished_.end();
  }

  size_t active_jobs() const { return jobs_.size(); }
  // Tasks of unfinished jobs in `state` (QUEUED, DISPATCHED or RUNNING;
  // 0 for a final state), counted as they move, not scanned.
  size_t CountInState(broker::TaskState state) const;
  // When the task QUEUED longest was queued (wall clock: its job's submit,
  // or its attempt's creation), or nullopt when none is.
  std::optional<common::TimeMs> OldestQueuedSince() const;
  // Tasks sent to `player` and not finished.
  size_t Unfinished(const std::string& player) const {
    auto it = on_player_.find(player);
    return it == on_player_.end() ? 0 : it->second.size();
  }

 private:
  struct ActiveJob {
    JobRecord record;
    bool cancelled = false;
    std::unordered_map<TaskId, size_t> index;  // task -> position in record
    size_t open = 0;  // tasks not final: an `all` job settles at zero
    // Tasks ended other than OK, counted from the tasks' states on a
    // reload, then as they end: a rollout's max_errors is checked on it.
    int64_t failed = 0;
    bool skipped = false;  // Its QUEUED tasks were SKIPPED (max_errors)
  };

  TaskRecord* FindTask(TaskId task, ActiveJob** job);
  // Moves tracked, open `task` to `state`, keeping the counts by state.
  void MoveTask(TaskRecord* task, broker::TaskState state);
  // Adds `task` (`delta` 1) to the counts by state, or takes it out (-1).
  void Tally(const TaskRecord& task, int delta);
  void Track(ActiveJob* job, size_t position, common::TimeMs queued_since);
  // Tells the Scheduler the job's priority and rollout limit, before its
  // tasks are tracked.
  void Schedule(const JobRecord& job);
  // Ends the QUEUED tasks of an `all` job SKIPPED once more tasks than its
  // max_errors ended other than OK. The caller then settles it.
  common::Status SkipIfOverErrors(ActiveJob* job);
  common::Status AddTask(ActiveJob* job, TaskRecord task);
  void Enqueue(const ActiveJob& job, const TaskRecord& task);
  // Ends `task` in `state` (already final) and frees its slot. The caller
  // then calls Settle() once.
  common::Status EndTask(TaskRecord* task, broker::TaskState state,
                         const std::string& error);
  // After tasks ended: retries a `one` job, finishes a finished job.
  common::Status Settle(JobId job);
  common::Status ApplyAssignments();
  void Order(const std::string& player, broker::PlayerMessage message);
  // Orders `task` of `job` to its player, with the job's params.
  common::Status SendTask(const JobRecord& job, const TaskRecord& task);
  static void Lighten(TaskRecord* task);
  std::vector<std::string> Eligible(const JobRecord& job) const;

  JobStore* store_;
  Scheduler* scheduler_;
  const common::Clock* clock_;
  const std::set<std::string>* listed_;
  Metrics* metrics_;
  std::map<JobId, ActiveJob> jobs_;                  // unfinished jobs
  std::unordered_map<TaskId, JobId> task_jobs_;      // their unfinished tasks
  std::unordered_map<TaskId, common::TimeMs> sent_;  // DISPATCHED: last send
  std::unordered_map<TaskId, common::TimeMs> queued_since_;      // wall clock
  std::unordered_map<std::string, std::set<TaskId>> on_player_;  // sent
  std::array<size_t, 3> open_by_state_{};  // QUEUED, DISPATCHED, RUNNING
  std::set<std::pair<common::TimeMs, TaskId>> queued_by_age_;  // QUEUED
  std::vector<PlayerOrder> orders_;
  std::vector<JobId> finished_;
  JobId params_job_ = 0;  // The job whose params params_ are
  broker::StringMap params_;
  int64_t epoch_ = 0;
};

}  // namespace orchestra::conductor

#endif  // ORCHESTRA_CONDUCTOR_JOB_BOARD_H_
