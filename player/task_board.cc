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
constexpr const char* kStoppedError = "player stopped while the score ran";

long long Id(TaskId task) { return static_cast<long long>(task); }

}  // namespace

TaskBoard::TaskBoard(const PlayerConfig& config, Journal* journal,
                     ProcessRunner* runner, const common::Clock* clock)
    : config_(config), journal_(journal), runner_(runner), clock_(clock) {}

Status TaskBoard::Load() {
  common::Result<std::vector<JournalEntry>> entries = journal_->Load();
  if (!entries.ok()) return entries.status();
  for (JournalEntry& entry : entries.value()) {
    const TaskId id = entry.task.task;
    if (entry.phase == TaskPhase::kAccepted) waiting_.push_back(id);
    tasks_[id] = TaskRecord{std::move(entry.task), entry.phase,
                            std::move(entry.result), 0};
  }
  common::LogInfo("journal loaded tasks=%zu waiting=%zu", tasks_.size(),
                  waiting_.size());
  return Status();
}

Status TaskBoard::OnTask(const RunTask& task) {
  auto known = tasks_.find(task.task);
  if (known != tasks_.end()) {
    common::LogInfo("task repeated task=%lld", Id(task.task));
    if (known->second.result)
      outbox_.push_back(*known->second.result);
    else
      outbox_.push_back(broker::Accepted{task.task});
    return Status();
  }
  if (stopping_) {
    common::LogInfo("task refused while stopping task=%lld", Id(task.task));
    return Status();
  }
  Status s = journal_->Add(task, clock_->Now());
  if (!s.ok()) return s;
  tasks_[task.task] = TaskRecord{task, TaskPhase::kAccepted, std::nullopt, 0};
  outbox_.push_back(broker::Accepted{task.task});
  common::LogInfo("task accepted task=%lld job=%lld score=%s", Id(task.task),
                  static_cast<long long>(task.job), task.score.c_str());
  TaskState state;
  std::string error;
  if (ScoreProblem(task.score, &state, &error))
    return FinishEarly(task.task, state, error);
  waiting_.push_back(task.task);
  return Status();
}

Status TaskBoard::OnCancel(TaskId task) {
  auto it = tasks_.find(task);
  if (it == tasks_.end() || it->second.result) {
    common::LogDebug("cancel ignored task=%lld (not running)", Id(task));
    return Status();
  }
  auto waiting = std::find(waiting_.begin(), waiting_.end(), task);
  if (waiting != waiting_.end()) {
    waiting_.erase(waiting);
    return FinishEarly(task, TaskState::kCancelled, "cancelled before start");
  }
  common::LogInfo("task cancelling task=%lld", Id(task));
  runner_->Stop(task, TaskState::kCancelled);
  return Status();
}

Status TaskBoard::OnResultAck(TaskId task) {
  auto it = tasks_.find(task);
  if (it == tasks_.end() || !it->second.result) {
    common::LogDebug("result_ack ignored task=%lld (no result)", Id(task));
    return Status();
  }
  Status s = journal_->Forget(task);
  if (!s.ok()) return s;
  tasks_.erase(it);
  common::LogDebug("result acknowledged task=%lld", Id(task));
  return Status();
}

Status TaskBoard::CollectResults() {
  for (TaskResult& result : runner_->Collect()) {
    auto it = tasks_.find(result.task);
    if (it == tasks_.end() || it->second.result) continue;  // Not ours
    --picked_;
    --running_by_score_[it->second.task.score];
    if (result.state == TaskState::kLost) result.error = kStoppedError;
    Status s = Finish(std::move(result));
    if (!s.ok()) return s;
  }
  return Status();
}

void TaskBoard::StopAll() {
  stopping_ = true;
  for (const auto& [id, record] : tasks_) {
    if (record.phase == TaskPhase::kStarted && !record.result)
      runner_->Stop(id, TaskState::kLost);
  }
}

std::optional<TaskId> TaskBoard::PopRunnable() {
  if (stopping_ || picked_ >= config_.slots) return std::nullopt;
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

Status TaskBoard::StartReady() {
  while (std::optional<TaskId> task = PopRunnable()) {
    TaskRecord& record = tasks_[*task];
    TaskState state;
    std::string error;
    if (ScoreProblem(record.task.score, &state, &error)) {
      Status s = FinishEarly(*task, state, error);
      if (!s.ok()) return s;
      continue;
    }
    Status s = journal_->MarkStarted(*task, clock_->Now());
    if (!s.ok()) return s;
    record.phase = TaskPhase::kStarted;
    ++picked_;
    ++running_by_score_[record.task.score];
    to_spawn_.push_back(
        MakeRun(record.task, *scores_->Find(record.task.score)));
  }
  return Status();
}

Status TaskBoard::SpawnStarted() {
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
    Status s = FinishEarly(run.task, TaskState::kHostError, started.message());
    if (!s.ok()) return s;
  }
  return Status();
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
  int64_t timeout_s = task.timeout_s.value_or(
      score.timeout_s.value_or(config_.default_score_timeout_s));
  run.timeout_ms = timeout_s * 1000;
  return run;
}

Status TaskBoard::FinishEarly(TaskId task, TaskState state,
                              const std::string& error) {
  TaskResult result;
  result.task = task;
  result.state = state;
  result.finished_at = clock_->Now();
  result.error = error;
  return Finish(std::move(result));
}

Status TaskBoard::Finish(TaskResult result) {
  if (result.error.size() > kMaxErrorBytes) result.error.resize(kMaxErrorBytes);
  result.error = common::SanitizeUtf8(result.error);
  TaskRecord& record = tasks_[result.task];
  Status s = journal_->SaveResult(result);
  if (!s.ok()) return s;
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
  return Status();
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
