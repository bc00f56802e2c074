// A task's life on the player, and what is journaled before each message:
//
//   task --(journal: accepted)--> `accepted`, waits in the FIFO
//   slot free --(journal: started)--> spawned
//   process ends --(journal: result)--> `result`, resent until acked
//   result_ack --(journal: forgotten)
//
// A `task` already held is answered again (`accepted` or the stored result)
// and never run twice. A task for a missing score ends UNK_SCORE, one for a
// score with a bad NAME.conf HOST_ERROR, both without running anything. The
// FIFO is served in order, except that a task whose score is at its
// `concurrency` limit lets later tasks of other scores pass.
//
// When a journal commit fails (disk full, I/O error; DESIGN.md section 15),
// memory is put back where the journal is: a task added in the failed batch
// is refused (never `accepted`, never run; its `accepted` is not sent and a
// HOST_ERROR result saying "journal: ..." is), a task started in it is not
// spawned and waits again at the head of the FIFO, and a result saved in it
// is kept in memory and sent all the same. Until a retry commits (every
// kJournalRetryMs: the results and forgets held in memory, and a probe),
// nothing is written: new tasks are refused the same way, waiting tasks do
// not start (they were accepted; they run once the journal takes writes),
// results and forgets are held in memory. One log line each way.

#include "player/task_board.h"

#include <algorithm>

#include "common/log.h"
#include "common/text.h"

namespace orchestra::player {

using broker::RunTask;
using broker::TaskId;
using broker::TaskResult;
using broker::TaskState;
using common::Status;
using common::TimeMs;

namespace {

constexpr size_t kMaxErrorBytes = 1000;  // The decoder allows 4096

long long Id(TaskId task) { return static_cast<long long>(task); }

}  // namespace

TaskBoard::TaskBoard(const PlayerConfig& config, Journal* journal,
                     ProcessRunner* runner, const common::Clock* clock)
    : config_(config), journal_(journal), runner_(runner), clock_(clock) {}

// A task the journal holds as started, without a result, was running when
// the player last stopped: how it ended is unknown, so it ends LOST.
Status TaskBoard::Load() {
  common::Result<std::vector<JournalEntry>> entries = journal_->Load();
  if (!entries.ok()) return entries.status();
  std::vector<TaskId> lost;
  for (JournalEntry& entry : entries.value()) {
    const TaskId id = entry.task.task;
    if (entry.phase == TaskPhase::kAccepted) waiting_.push_back(id);
    if (entry.phase == TaskPhase::kStarted && !entry.result) lost.push_back(id);
    tasks_[id] = TaskRecord{std::move(entry.task), entry.phase,
                            std::move(entry.result), 0};
  }
  common::LogInfo("journal loaded tasks=%zu waiting=%zu", tasks_.size(),
                  waiting_.size());
  if (lost.empty()) return Status();
  common::LogWarning("tasks lost in restart count=%zu", lost.size());
  for (TaskId id : lost) End(id, TaskEnd::PlayerRestarted());
  Commit(/*forgets_due=*/true);
  return Status();
}

void TaskBoard::OnTask(const RunTask& task) {
  auto known = tasks_.find(task.task);
  if (known != tasks_.end()) {
    common::LogInfo("task repeated task=%lld", Id(task.task));
    if (known->second.result)
      outbox_.push_back(*known->second.result);
    else
      outbox_.push_back(broker::Accepted{task.task});
    return;
  }
  if (stopping_) {
    common::LogInfo("task refused while stopping task=%lld", Id(task.task));
    return;
  }
  if (!journal_writable_) return Refuse(task);
  (void)journal_->Add(task, clock_->Now());
  batch_added_.push_back(task.task);  // "task accepted" once committed
  tasks_[task.task] = TaskRecord{task, TaskPhase::kAccepted, std::nullopt, 0};
  outbox_.push_back(broker::Accepted{task.task});
  TaskState state;
  std::string error;
  if (ScoreProblem(task.score, &state, &error))
    return FinishEarly(task.task, state, error);
  waiting_.push_back(task.task);
}

void TaskBoard::OnCancel(TaskId task) {
  auto it = tasks_.find(task);
  if (it == tasks_.end() || it->second.result) {
    common::LogDebug("cancel ignored task=%lld (not running)", Id(task));
    return;
  }
  auto waiting = std::find(waiting_.begin(), waiting_.end(), task);
  if (waiting != waiting_.end()) {
    waiting_.erase(waiting);
    return FinishEarly(task, TaskState::kCancelled, "cancelled before start");
  }
  common::LogInfo("task cancelling task=%lld", Id(task));
  runner_->Stop(task, TaskState::kCancelled);
}

void TaskBoard::OnResultAck(TaskId task) {
  auto it = tasks_.find(task);
  if (it == tasks_.end() || !it->second.result) {
    common::LogDebug("result_ack ignored task=%lld (no result)", Id(task));
    return;
  }
  Forget(task);
  tasks_.erase(it);
  common::LogDebug("result acknowledged task=%lld", Id(task));
}

void TaskBoard::CollectResults() {
  for (TaskResult& result : runner_->Collect()) {
    auto it = tasks_.find(result.task);
    if (it == tasks_.end() || it->second.result) continue;  // Not ours
    --picked_;
    --running_by_score_[it->second.task.score];
    Finish(std::move(result));
  }
}

void TaskBoard::StopAll() {
  stopping_ = true;
  for (const auto& [id, record] : tasks_) {
    if (record.phase == TaskPhase::kStarted && !record.result)
      runner_->Stop(id, TaskState::kLost);
  }
}

std::optional<TaskId> TaskBoard::PopRunnable() {
  if (stopping_ || !journal_writable_ || picked_ >= config_.slots)
    return std::nullopt;
  for (auto it = waiting_.begin(); it != waiting_.end(); ++it) {
    const std::string& score = tasks_[*it].task.score;
    const Score* found = scores_ ? scores_->Find(score) : nullptr;
    if (found && found->concurrency > 0 &&
        running_by_score_[score] >= found->concurrency)
      continue;
    TaskId task = *it;
    waiting_.erase(it);
    return task;
  }
  return std::nullopt;
}

void TaskBoard::StartReady() {
  while (std::optional<TaskId> task = PopRunnable()) {
    TaskRecord& record = tasks_[*task];
    TaskState state;
    std::string error;
    if (ScoreProblem(record.task.score, &state, &error)) {
      FinishEarly(*task, state, error);
      continue;
    }
    (void)journal_->MarkStarted(*task, clock_->Now());
    record.phase = TaskPhase::kStarted;
    ++picked_;
    ++running_by_score_[record.task.score];
    to_spawn_.push_back(
        MakeRun(record.task, *scores_->Find(record.task.score)));
  }
}

void TaskBoard::Commit(bool forgets_due) {
  if (!journal_writable_) return;  // Nothing was written
  Status s = forgets_due ? journal_->Commit() : journal_->CommitUrgent();
  if (!s.ok()) return JournalFailed(s);
  for (TaskId id : batch_added_) {
    const RunTask& task = tasks_[id].task;
    common::LogInfo("task accepted task=%lld job=%lld score=%s", Id(id),
                    static_cast<long long>(task.job), task.score.c_str());
  }
  batch_added_.clear();  // Every write but a forget is urgent
  batch_results_.clear();
  if (!journal_->HasPending()) batch_forgotten_.clear();
}

void TaskBoard::SpawnStarted() {
  std::vector<ScoreRun> runs;
  runs.swap(to_spawn_);
  for (const ScoreRun& run : runs) {
    Status started = runner_->Start(run);
    if (started.ok()) {
      common::LogInfo("task started task=%lld job=%lld score=%s", Id(run.task),
                      static_cast<long long>(run.job), run.score.c_str());
      continue;
    }
    --picked_;
    --running_by_score_[run.score];
    End(run.task, TaskEnd::NotStarted(started.message()));
  }
}

bool TaskBoard::ScoreProblem(const std::string& score, TaskState* state,
                             std::string* error) const {
  const Score* found = scores_ ? scores_->Find(score) : nullptr;
  if (found == nullptr) {
    *state = TaskState::kUnkScore;
    *error = "player " + config_.player_name + ": score '" + score +
             "' is not in " + config_.score_directory;
    return true;
  }
  if (!found->usable()) {
    *state = TaskState::kHostError;
    *error = found->problem;
    return true;
  }
  return false;
}

ScoreRun TaskBoard::MakeRun(const RunTask& task, const Score& score) const {
  ScoreRun run;
  run.task = task.task;
  run.job = task.job;
  run.score = score.name;
  run.path = score.path;
  run.file = score.file;
  run.params = task.params;
  run.player = config_.player_name;
  run.pipe_interface = score.pipe_interface;
  run.dir = score.dir;
  run.user = score.user;
  run.timeout_ms = TimeLimitS(task, score) * 1000;
  run.limits = score.limits;
  return run;
}

// The job's limit if it gave one, else the score's, else the player's
// default. A score's `timeout` is its administrator's limit: a job may ask
// for less, never more (0 means none).
int64_t TaskBoard::TimeLimitS(const RunTask& task, const Score& score) const {
  const int64_t score_limit =
      score.timeout_s.value_or(config_.default_score_timeout_s);
  if (!task.timeout_s) return score_limit;
  const int64_t job_limit = *task.timeout_s;
  if (!score.timeout_s || *score.timeout_s == 0) return job_limit;
  if (job_limit == 0) return *score.timeout_s;
  return std::min(job_limit, *score.timeout_s);
}

void TaskBoard::FinishEarly(TaskId task, TaskState state,
                            const std::string& error) {
  TaskResult result;
  result.task = task;
  result.state = state;
  result.finished_at = clock_->Now();
  result.error = error;
  Finish(std::move(result));
}

void TaskBoard::End(TaskId task, const TaskEnd& end) {
  TaskResult result = ResultFor(task, end);
  result.finished_at = clock_->Now();
  Finish(std::move(result));
}

void TaskBoard::Finish(TaskResult result) {
  if (result.error.size() > kMaxErrorBytes) result.error.resize(kMaxErrorBytes);
  result.error = common::SanitizeUtf8(result.error);
  TaskRecord& record = tasks_[result.task];
  SaveResult(result);
  record.phase = TaskPhase::kDone;
  record.sent_at = clock_->Monotonic();
  std::string fields;
  if (result.exit_code)
    fields += " exit_code=" + std::to_string(*result.exit_code);
  if (result.signal) fields += " signal=" + std::to_string(*result.signal);
  if (!result.error.empty())
    fields += " error=" + common::LogQuote(result.error);
  common::LogInfo("task finished task=%lld job=%lld score=%s state=%s%s",
                  Id(result.task), static_cast<long long>(record.task.job),
                  record.task.score.c_str(), TaskStateName(result.state),
                  fields.c_str());
  outbox_.push_back(result);
  record.result = std::move(result);
}

void TaskBoard::SaveResult(const TaskResult& result) {
  if (!journal_writable_) {
    unjournaled_.insert(result.task);
    return;
  }
  (void)journal_->SaveResult(result);
  batch_results_.push_back(result.task);
}

void TaskBoard::Forget(TaskId task) {
  unjournaled_.erase(task);
  if (!journal_writable_) {
    unforgotten_.insert(task);
    return;
  }
  (void)journal_->Forget(task);
  batch_forgotten_.push_back(task);
}

void TaskBoard::Refuse(const RunTask& task) {
  TaskResult result;
  result.task = task.task;
  result.state = TaskState::kHostError;
  result.finished_at = clock_->Now();
  result.error = journal_error_;
  TaskRecord& record = tasks_[task.task];
  record = TaskRecord{task, TaskPhase::kDone, result, clock_->Monotonic()};
  outbox_.push_back(std::move(result));
  common::LogWarning("task refused task=%lld job=%lld error=%s", Id(task.task),
                     static_cast<long long>(task.job),
                     common::LogQuote(journal_error_).c_str());
}

// What the failed batch held is undone in memory (see the top of the file).
// A task both added and started in it is first put back, then refused.
void TaskBoard::JournalFailed(const Status& error) {
  journal_writable_ = false;
  journal_error_ = "journal: " + std::string(error.what());
  retry_at_ = clock_->Monotonic() + kJournalRetryMs;
  common::LogError("journal failed error=%s",
                   common::LogQuote(error.ToString()).c_str());
  for (auto run = to_spawn_.rbegin(); run != to_spawn_.rend(); ++run) {
    --picked_;
    --running_by_score_[run->score];
    tasks_[run->task].phase = TaskPhase::kAccepted;
    waiting_.push_front(run->task);
  }
  to_spawn_.clear();
  for (TaskId id : batch_results_) unjournaled_.insert(id);
  for (TaskId id : batch_added_) {
    waiting_.erase(std::remove(waiting_.begin(), waiting_.end(), id),
                   waiting_.end());
    unjournaled_.erase(id);
    DropMessages(id);
    const RunTask task = tasks_[id].task;
    Refuse(task);
  }
  unforgotten_.insert(batch_forgotten_.begin(), batch_forgotten_.end());
  batch_added_.clear();
  batch_results_.clear();
  batch_forgotten_.clear();
}

void TaskBoard::DropMessages(TaskId task) {
  auto about = [task](const broker::PlayerMessage& m) {
    if (const auto* a = std::get_if<broker::Accepted>(&m))
      return a->task == task;
    if (const auto* r = std::get_if<TaskResult>(&m)) return r->task == task;
    return false;
  };
  outbox_.erase(std::remove_if(outbox_.begin(), outbox_.end(), about),
                outbox_.end());
}

// A result whose task the journal does not hold (a refused one) updates
// nothing: it needs no record, since the task never ran.
void TaskBoard::RetryJournal() {
  if (journal_writable_ || clock_->Monotonic() < retry_at_) return;
  retry_at_ = clock_->Monotonic() + kJournalRetryMs;
  for (TaskId id : unjournaled_) {
    auto it = tasks_.find(id);
    if (it != tasks_.end() && it->second.result)
      (void)journal_->SaveResult(*it->second.result);
  }
  for (TaskId id : unforgotten_) (void)journal_->Forget(id);
  (void)journal_->Probe();
  Status s = journal_->Commit();
  if (!s.ok()) {
    journal_error_ = "journal: " + std::string(s.what());
    return;
  }
  journal_writable_ = true;
  unjournaled_.clear();
  unforgotten_.clear();
  common::LogInfo("journal writable again");
}

std::vector<broker::HeldTask> TaskBoard::Held() const {
  std::vector<broker::HeldTask> held;
  held.reserve(tasks_.size());
  for (const auto& [id, record] : tasks_)
    held.push_back({id, record.result.has_value()});
  return held;
}

void TaskBoard::ResendResults(TimeMs now, TimeMs age_ms) {
  for (auto& [id, record] : tasks_) {
    if (!record.result || now - record.sent_at < age_ms) continue;
    record.sent_at = now;
    outbox_.push_back(*record.result);
  }
}

TimeMs TaskBoard::NextResend(TimeMs age_ms) const {
  TimeMs next = 0;
  for (const auto& [id, record] : tasks_) {
    if (record.result && (next == 0 || record.sent_at + age_ms < next))
      next = record.sent_at + age_ms;
  }
  return next;
}

std::vector<broker::PlayerMessage> TaskBoard::TakeOutbox() {
  std::vector<broker::PlayerMessage> out;
  out.swap(outbox_);
  return out;
}

}  // namespace orchestra::player
