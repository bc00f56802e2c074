// TaskBoard keeps every task the player holds, from `task` to `result_ack`:
// waiting for a slot (FIFO), running, or done with its result unacknowledged.
// It journals each step and queues the messages that answer it; the Player
// loop commits the journal before it sends them or spawns what was started.
// No sockets. Owned by the player loop thread.

#ifndef ORCHESTRA_PLAYER_TASK_BOARD_H_
#define ORCHESTRA_PLAYER_TASK_BOARD_H_

#include <deque>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "broker/protocol.h"
#include "common/clock.h"
#include "common/status.h"
#include "player/config.h"
#include "player/journal.h"
#include "player/process_runner.h"
#include "player/score_directory.h"

namespace orchestra::player {

class TaskBoard {
 public:
  // None of the pointers is owned; all must outlive the board.
  TaskBoard(const PlayerConfig& config, Journal* journal, ProcessRunner* runner,
            const common::Clock* clock);

  // Takes over the journal's tasks; accepted ones wait for a slot again.
  common::Status Load();
  // The score table to use from now on (after each scan).
  void set_scores(const ScoreDirectory* scores) { scores_ = scores; }

  common::Status OnTask(const broker::RunTask& task);
  common::Status OnCancel(broker::TaskId task);
  common::Status OnResultAck(broker::TaskId task);
  // Journals the results of tasks the runner reports ended.
  common::Status CollectResults();
  // Shutdown: takes no more tasks and stops the running ones, which end
  // LOST. Waiting tasks stay in the journal for the next start.
  void StopAll();

  // Journals as started the waiting tasks that free slots allow.
  common::Status StartReady();
  // Spawns the tasks StartReady() picked. REQUIRES: the journal committed.
  common::Status SpawnStarted();
  bool HasStarted() const { return !to_spawn_.empty(); }

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
  ScoreRun MakeRun(const broker::RunTask& task, const Score& score) const;
  common::Status Finish(broker::TaskResult result);
  common::Status FinishEarly(broker::TaskId task, broker::TaskState state,
                             const std::string& error);

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
};

}  // namespace orchestra::player

#endif  // ORCHESTRA_PLAYER_TASK_BOARD_H_
