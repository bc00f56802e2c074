// TaskBoard keeps every task the player holds, from `task` to `result_ack`:
// waiting for a slot (FIFO), running, or done with its result unacknowledged.
// It journals each step and queues the messages that answer it; the Player
// loop commits the journal (Commit()) before it sends them or spawns what
// was started. A journal that fails a commit does not stop it: see
// task_board.cc. No sockets. Owned by the player loop thread.

#ifndef ORCHESTRA_PLAYER_TASK_BOARD_H_
#define ORCHESTRA_PLAYER_TASK_BOARD_H_

#include <deque>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "broker/protocol.h"
#include "common/clock.h"
#include "common/status.h"
#include "player/config.h"
#include "player/journal.h"
#include "player/process_runner.h"
#include "player/score_directory.h"
#include "player/task_end.h"

namespace orchestra::player {

// How often a failed journal is tried again.
constexpr common::TimeMs kJournalRetryMs = 1000;

class TaskBoard {
 public:
  // None of the pointers is owned; all must outlive the board.
  TaskBoard(const PlayerConfig& config, Journal* journal, ProcessRunner* runner,
            const common::Clock* clock);

  // Takes over the journal's tasks; accepted ones wait for a slot again.
  // A task still started (the player stopped while it ran) ends LOST; its
  // result is held in memory if the journal fails.
  common::Status Load();
  // The score table to use from now on (after each scan).
  void set_scores(const ScoreDirectory* scores) { scores_ = scores; }

  // Journal writes are not checked one by one: a failed write fails the
  // batch, and Commit() deals with that.
  void OnTask(const broker::RunTask& task);
  void OnCancel(broker::TaskId task);
  void OnResultAck(broker::TaskId task);
  // Journals the results of tasks the runner reports ended.
  void CollectResults();
  // Shutdown: takes no more tasks and stops the running ones, which end
  // LOST. Waiting tasks stay in the journal for the next start.
  void StopAll();

  // Journals as started the waiting tasks that free slots allow (none
  // while the journal fails: they wait).
  void StartReady();
  // Commits the journal's writes (forgets alone only if `forgets_due`). If
  // the commit fails, what it held is undone in memory (tasks added are
  // refused, tasks started wait again, results stay in memory) and the
  // journal counts as failed until RetryJournal() commits.
  void Commit(bool forgets_due);
  // Spawns the tasks StartReady() picked. REQUIRES: Commit() succeeded.
  void SpawnStarted();
  bool HasStarted() const { return !to_spawn_.empty(); }

  // While the journal fails, every kJournalRetryMs: journals the results
  // and forgets held in memory, with a probe, in one commit; on success
  // the journal takes writes again.
  void RetryJournal();
  bool journal_writable() const { return journal_writable_; }
  // When RetryJournal() next has work (monotonic); 0 while writable.
  common::TimeMs NextJournalRetry() const {
    return journal_writable_ ? 0 : retry_at_;
  }

  // The tasks for `hello`: running (incl. waiting) or done.
  std::vector<broker::HeldTask> Held() const;
  // Queues again each unacknowledged result last sent `age_ms` or more ago.
  void ResendResults(common::TimeMs now, common::TimeMs age_ms);
  // When ResendResults(now, age_ms) next has something to send; 0: never.
  common::TimeMs NextResend(common::TimeMs age_ms) const;
  // The messages queued since the last call, oldest first.
  std::vector<broker::PlayerMessage> TakeOutbox();

  size_t running() const { return runner_->running(); }
  size_t waiting() const { return waiting_.size(); }

 private:
  struct TaskRecord {
    broker::RunTask task;
    TaskPhase phase = TaskPhase::kAccepted;
    std::optional<broker::TaskResult> result;
    common::TimeMs sent_at = 0;  // Monotonic; when the result was last sent
  };

  std::optional<broker::TaskId> PopRunnable();
  bool ScoreProblem(const std::string& score, broker::TaskState* state,
                    std::string* error) const;
  // The time limit of `task` running `score`, in seconds (0: none).
  int64_t TimeLimitS(const broker::RunTask& task, const Score& score) const;
  ScoreRun MakeRun(const broker::RunTask& task, const Score& score) const;
  // Finishes `task` as the rule of task_end.h says for `end`.
  void End(broker::TaskId task, const TaskEnd& end);
  void Finish(broker::TaskResult result);
  void FinishEarly(broker::TaskId task, broker::TaskState state,
                   const std::string& error);
  void SaveResult(const broker::TaskResult& result);
  void Forget(broker::TaskId task);
  // Answers `task` with a HOST_ERROR result saying the journal failed; it
  // is never run, and never accepted.
  void Refuse(const broker::RunTask& task);
  void JournalFailed(const common::Status& error);
  void DropMessages(broker::TaskId task);

  const PlayerConfig& config_;
  Journal* journal_;
  ProcessRunner* runner_;
  const common::Clock* clock_;
  const ScoreDirectory* scores_ = nullptr;
  std::map<broker::TaskId, TaskRecord> tasks_;
  std::deque<broker::TaskId> waiting_;
  std::map<std::string, int> running_by_score_;  // Picked, not yet ended
  int picked_ = 0;                               // Ditto, all scores
  std::vector<ScoreRun> to_spawn_;
  std::vector<broker::PlayerMessage> outbox_;
  bool stopping_ = false;
  // What the journal's open batch holds, undone if its commit fails.
  std::vector<broker::TaskId> batch_added_;
  std::vector<broker::TaskId> batch_results_;
  std::vector<broker::TaskId> batch_forgotten_;
  // Since the journal failed: results held in memory only, and tasks
  // forgotten in memory only.
  bool journal_writable_ = true;
  std::string journal_error_;    // "journal: disk full"
  common::TimeMs retry_at_ = 0;  // Monotonic
  std::set<broker::TaskId> unjournaled_;
  std::set<broker::TaskId> unforgotten_;
};

}  // namespace orchestra::player

#endif  // ORCHESTRA_PLAYER_TASK_BOARD_H_
