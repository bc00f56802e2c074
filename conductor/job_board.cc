// How a task moves (DESIGN.md section 5):
//
//   QUEUED --assigned--> DISPATCHED --accepted--> RUNNING --result--> final
//     |                      |                       |
//     +-- cancel, expiry, ---+-- removal of its -----+-- LOST when the
//         abort                  player (ABORTED)        player forgot it
//
// A `one` job has one open task at a time; when it ends softly (UNK_SCORE,
// HOST_ERROR, ABORTED, EXPIRED) a new attempt is queued for the players
// still eligible. Every change is written to the store in the same loop
// turn; nothing reaches a player before that turn's commit.
//
// Memory holds what placement needs, not what the store already has: a
// job's params are read from the store when a task is sent (the last job's
// are kept for the next task of the same job), and an ended task's outputs
// and response are dropped once written. So a job that waits for ever for
// an offline player costs its task rows, not its 256 KiB of params, and an
// `all` job over 10,000 players does not hold 10,000 outputs until its
// last task ends.

#include "conductor/job_board.h"

#include "broker/rollout_limit.h"
#include "common/log.h"
#include "common/text.h"
#include "conductor/job_rules.h"

namespace orchestra::conductor {

using broker::JobState;
using broker::Scope;
using broker::TaskState;
using common::Result;
using common::Status;
using common::TimeMs;

namespace {

// A player's outcome as UTF-8, which the store and every client expect.
broker::TaskOutcome AsUtf8(const broker::TaskOutcome& from) {
  broker::TaskOutcome out = from;
  out.stdout_text = common::SanitizeUtf8(from.stdout_text);
  out.stderr_text = common::SanitizeUtf8(from.stderr_text);
  out.response.clear();
  for (const auto& [key, value] : from.response)
    out.response[common::SanitizeUtf8(key)] = common::SanitizeUtf8(value);
  out.error = common::SanitizeUtf8(from.error);
  return out;
}

}  // namespace

JobBoard::JobBoard(JobStore* store, Scheduler* scheduler,
                   const common::Clock* clock,
                   const std::set<std::string>* listed, Metrics* metrics)
    : store_(store),
      scheduler_(scheduler),
      clock_(clock),
      listed_(listed),
      metrics_(metrics) {}

std::vector<std::string> JobBoard::Eligible(const JobRecord& job) const {
  std::vector<std::string> eligible;
  for (std::string& player : EligiblePlayers(job)) {
    if (listed_->count(player)) eligible.push_back(std::move(player));
  }
  return eligible;
}

TaskRecord* JobBoard::FindTask(TaskId task, ActiveJob** job) {
  auto it = task_jobs_.find(task);
  if (it == task_jobs_.end()) return nullptr;
  ActiveJob& active = jobs_.at(it->second);
  *job = &active;
  return &active.record.tasks[active.index.at(task)];
}

void JobBoard::MoveTask(TaskRecord* task, TaskState state) {
  Tally(*task, -1);
  task->state = state;
  Tally(*task, 1);
}

// The open task states are the first three of TaskState.
void JobBoard::Tally(const TaskRecord& task, int delta) {
  if (broker::IsFinal(task.state)) return;
  size_t& count = open_by_state_[static_cast<size_t>(task.state)];
  count = delta > 0 ? count + 1 : count - 1;
  if (task.state != TaskState::kQueued) return;
  auto since = queued_since_.find(task.task);
  const std::pair<TimeMs, TaskId> key{
      since == queued_since_.end() ? 0 : since->second, task.task};
  if (delta > 0) {
    queued_by_age_.insert(key);
  } else {
    queued_by_age_.erase(key);
  }
}

size_t JobBoard::CountInState(TaskState state) const {
  const size_t i = static_cast<size_t>(state);
  return i < open_by_state_.size() ? open_by_state_[i] : 0;
}

std::optional<TimeMs> JobBoard::OldestQueuedSince() const {
  if (queued_by_age_.empty()) return std::nullopt;
  return queued_by_age_.begin()->first;
}

void JobBoard::Track(ActiveJob* job, size_t position, TimeMs queued_since) {
  const TaskRecord& task = job->record.tasks[position];
  job->index[task.task] = position;
  if (broker::IsFinal(task.state)) return;
  if (task_jobs_.emplace(task.task, job->record.id).second) {
    ++job->open;
  } else {
    Tally(task, -1);  // Tracked again: counted afresh below
  }
  queued_since_[task.task] = queued_since;
  Tally(task, 1);
  if (task.state == TaskState::kQueued) {
    Enqueue(*job, task);
  } else {
    on_player_[task.player].insert(task.task);
    scheduler_->Hold(job->record.id);  // It holds one of the job's limit
  }
}

void JobBoard::Schedule(const JobRecord& job) {
  int64_t limit = 0;
  if (job.scope == Scope::kAll && job.max_concurrency) {
    limit = broker::ConcurrencyCount(*job.max_concurrency,
                                     static_cast<int64_t>(job.tasks.size()));
  }
  scheduler_->SetJob(job.id, job.priority, limit);
}

Status JobBoard::SkipIfOverErrors(ActiveJob* job) {
  const JobRecord& record = job->record;
  if (record.scope != Scope::kAll || !record.max_errors || job->skipped ||
      job->cancelled)
    return Status();
  const int64_t allowed = broker::ErrorCount(
      *record.max_errors, static_cast<int64_t>(record.tasks.size()));
  if (job->failed <= allowed) return Status();
  job->skipped = true;
  common::LogInfo("rollout stopped job=%lld failed=%lld max_errors=%s",
                  static_cast<long long>(record.id),
                  static_cast<long long>(job->failed),
                  broker::RolloutLimitText(*record.max_errors).c_str());
  const std::string error =
      "skipped: " + std::to_string(job->failed) +
      " tasks ended other than OK, more than the job's max_errors (" +
      broker::RolloutLimitText(*record.max_errors) + ")";
  for (TaskRecord& task : job->record.tasks) {
    if (task.state != TaskState::kQueued) continue;
    Status s = EndTask(&task, TaskState::kSkipped, error);
    if (!s.ok()) return s;
  }
  return Status();
}

void JobBoard::Enqueue(const ActiveJob& job, const TaskRecord& task) {
  if (!task.player.empty()) {
    scheduler_->EnqueueFor(job.record.id, task.task, task.player);
  } else {
    scheduler_->EnqueueAny(job.record.id, task.task, Eligible(job.record));
  }
}

// What the store keeps and memory need not: see the top of the file.
void JobBoard::Lighten(TaskRecord* task) {
  if (!broker::IsFinal(task->state)) return;
  std::string().swap(task->stdout_text);
  std::string().swap(task->stderr_text);
  broker::StringMap().swap(task->response);
}

Status JobBoard::AddTask(ActiveJob* job, TaskRecord task) {
  Status s = store_->InsertTask(job->record.id, &task);
  if (!s.ok()) return s;
  job->record.tasks.push_back(std::move(task));
  Track(job, job->record.tasks.size() - 1, clock_->Now());
  return Status();
}

Status JobBoard::Reload() {
  jobs_.clear();
  task_jobs_.clear();
  sent_.clear();
  queued_since_.clear();
  on_player_.clear();
  open_by_state_.fill(0);
  queued_by_age_.clear();
  orders_.clear();
  finished_.clear();
  params_job_ = 0;  // An id whose insert was undone may be used again
  params_.clear();
  *scheduler_ = Scheduler();  // It held what memory held; Track() refills it
  Result<std::vector<JobRecord>> jobs = store_->LoadUnfinishedJobs();
  if (!jobs.ok()) return jobs.status();
  for (JobRecord& record : jobs.value()) {
    ActiveJob& job = jobs_[record.id];
    job.record = std::move(record);
    job.record.params.clear();
    Schedule(job.record);
    for (size_t i = 0; i < job.record.tasks.size(); ++i) {
      TaskRecord& task = job.record.tasks[i];
      Lighten(&task);
      if (broker::IsFinal(task.state) && task.state != TaskState::kOk)
        ++job.failed;
      Track(&job, i, task.attempt == 1 ? job.record.created_at : clock_->Now());
    }
  }
  return Status();
}

Status JobBoard::Recover() {
  Status reloaded = Reload();
  if (!reloaded.ok()) return reloaded;
  std::vector<JobId> ids;
  for (const auto& [id, job] : jobs_) ids.push_back(id);
  // Tasks of players no longer listed cannot run; the jobs move on. So
  // does a `one` task that waits and has no listed player left.
  for (JobId id : ids) {
    ActiveJob& job = jobs_.at(id);
    for (TaskRecord& task : job.record.tasks) {
      if (broker::IsFinal(task.state)) continue;
      Status s;
      if (!task.player.empty() && !listed_->count(task.player)) {
        s = EndTask(&task, TaskState::kAborted,
                    "player is no longer in the players file");
      } else if (task.player.empty() && Eligible(job.record).empty()) {
        s = EndTask(&task, TaskState::kAborted,
                    "no listed player is left to run it");
      }
      if (!s.ok()) return s;
    }
    Status s = Settle(id);
    if (!s.ok()) return s;
  }
  return ApplyAssignments();
}

Result<JobId> JobBoard::Submit(const broker::SubmitRequest& request,
                               const std::string& submitted_by,
                               int64_t default_delivery_timeout_s) {
  JobRecord record;
  record.score = request.score;
  record.scope = request.scope;
  record.players = request.players;
  record.params = request.params;
  record.submitted_by = submitted_by;
  record.timeout_s = request.timeout_s;
  record.delivery_timeout_s =
      request.delivery_timeout_s.value_or(default_delivery_timeout_s);
  record.target = request.target;
  record.max_concurrency = request.max_concurrency;
  record.max_errors = request.max_errors;
  record.priority = request.priority;
  record.created_at = clock_->Now();
  if (request.scope == Scope::kAll) {
    record.tasks.resize(record.players.size());
    for (size_t i = 0; i < record.players.size(); ++i)
      record.tasks[i].player = record.players[i];
  } else {
    record.tasks.resize(1);
  }
  Status s = store_->InsertJob(&record, request.key);
  if (!s.ok()) return s;
  metrics_->JobSubmitted();
  const JobId id = record.id;
  params_job_ = id;
  params_ = std::move(record.params);
  record.params.clear();
  ActiveJob& job = jobs_[id];
  job.record = std::move(record);
  Schedule(job.record);
  for (size_t i = 0; i < job.record.tasks.size(); ++i)
    Track(&job, i, job.record.created_at);
  common::LogInfo(
      "job submitted job=%lld score=%s scope=%s players=%zu "
      "by=%s",
      static_cast<long long>(id), job.record.score.c_str(),
      broker::ScopeName(job.record.scope), job.record.players.size(),
      common::LogQuote(submitted_by).c_str());
  s = ApplyAssignments();
  if (!s.ok()) return s;
  return id;
}

const JobRecord* JobBoard::FindActive(JobId job) const {
  auto it = jobs_.find(job);
  return it == jobs_.end() ? nullptr : &it->second.record;
}

void JobBoard::ExplainWaiting(broker::JobRecord* record) const {
  if (jobs_.find(record->id) == jobs_.end()) return;
  for (TaskRecord& task : record->tasks) {
    if (task.state == TaskState::kQueued)
      task.waiting = scheduler_->WhyWaiting(task.task);
  }
}

Status JobBoard::SendTask(const JobRecord& job, const TaskRecord& task) {
  if (params_job_ != job.id) {
    Result<broker::StringMap> params = store_->LoadParams(job.id);
    if (!params.ok()) return params.status();
    params_job_ = job.id;
    params_ = std::move(params.value());
  }
  broker::RunTask run;
  run.task = task.task;
  run.job = job.id;
  run.score = job.score;
  run.params = params_;
  run.timeout_s = job.timeout_s;
  run.epoch = epoch_;
  Order(task.player, std::move(run));
  return Status();
}

void JobBoard::Order(const std::string& player, broker::PlayerMessage message) {
  orders_.push_back(PlayerOrder{player, std::move(message)});
}

Status JobBoard::ApplyAssignments() {
  const TimeMs now = clock_->Now();
  const TimeMs monotonic = clock_->Monotonic();
  std::vector<Scheduler::Assignment> todo = scheduler_->TakeAssignments();
  for (size_t i = 0; i < todo.size(); ++i) {
    const Scheduler::Assignment a = todo[i];
    ActiveJob* job = nullptr;
    TaskRecord* task = FindTask(a.task, &job);
    if (task == nullptr || task->state != TaskState::kQueued) {
      // It ended while assigned (a cancel): the slot goes to the next task.
      scheduler_->Release(a.player, a.job);
      for (Scheduler::Assignment& next : scheduler_->TakeAssignments())
        todo.push_back(std::move(next));
      continue;
    }
    task->player = a.player;
    MoveTask(task, TaskState::kDispatched);
    task->dispatched_at = now;
    metrics_->TaskDispatched(now - queued_since_[a.task]);
    Status s = store_->UpdateTask(*task);
    if (!s.ok()) return s;
    on_player_[a.player].insert(a.task);
    sent_[a.task] = monotonic;
    s = SendTask(job->record, *task);
    if (!s.ok()) return s;
  }
  return Status();
}

Status JobBoard::EndTask(TaskRecord* task, TaskState state,
                         const std::string& error) {
  auto tracked = task_jobs_.find(task->task);
  const bool open = tracked != task_jobs_.end();  // counted once, here
  if (open) Tally(*task, -1);
  task->state = state;
  if (task->finished_at == 0) task->finished_at = clock_->Now();
  if (!error.empty()) task->error = error;
  if (open) metrics_->TaskFinished(state, task->started_at, task->finished_at);
  scheduler_->Remove(task->task);
  JobId job_id = 0;
  if (open) {
    job_id = tracked->second;
    auto job = jobs_.find(job_id);
    if (job != jobs_.end()) {
      --job->second.open;
      if (state != TaskState::kOk) ++job->second.failed;
    }
    task_jobs_.erase(tracked);
  }
  sent_.erase(task->task);
  queued_since_.erase(task->task);
  auto on = on_player_.find(task->player);
  if (on != on_player_.end() && on->second.erase(task->task)) {
    scheduler_->Release(task->player, job_id);
  }
  Status s = store_->UpdateTask(*task);
  Lighten(task);
  return s;
}

Status JobBoard::Settle(JobId id) {
  auto it = jobs_.find(id);
  if (it == jobs_.end()) return Status();
  ActiveJob& job = it->second;
  const TaskRecord& last = job.record.tasks.back();
  if (job.record.scope == Scope::kOne && !job.cancelled &&
      broker::IsSoft(last.state) && !last.player.empty()) {
    std::vector<std::string> eligible = Eligible(job.record);
    if (!eligible.empty()) {
      TaskRecord next;
      next.attempt = last.attempt + 1;
      common::LogInfo("job moves on job=%lld attempt=%lld after=%s",
                      static_cast<long long>(id),
                      static_cast<long long>(next.attempt),
                      broker::TaskStateName(last.state));
      return AddTask(&job, std::move(next));
    }
  }
  Status skipped = SkipIfOverErrors(&job);  // Scans once, when it stops
  if (!skipped.ok()) return skipped;
  // Counting, not rescanning: an `all` job over 10,000 players would
  // otherwise scan its tasks on every result.
  if (job.record.scope == Scope::kAll && job.open > 0) return Status();
  JobState state = EvaluateJob(job.record, job.cancelled);
  if (state == JobState::kPending) return Status();
  job.record.state = state;
  job.record.finished_at = clock_->Now();
  Status s = store_->UpdateJobState(job.record);
  if (!s.ok()) return s;
  common::LogInfo("job finished job=%lld state=%s tasks=%zu",
                  static_cast<long long>(id), broker::JobStateName(state),
                  job.record.tasks.size());
  metrics_->JobFinished(state);
  finished_.push_back(id);
  scheduler_->ForgetJob(id);
  jobs_.erase(it);
  return Status();
}

Status JobBoard::OnAccepted(const std::string& player, TaskId id) {
  ActiveJob* job = nullptr;
  TaskRecord* task = FindTask(id, &job);
  if (task == nullptr || task->player != player ||
      task->state != TaskState::kDispatched)
    return Status();
  MoveTask(task, TaskState::kRunning);
  sent_.erase(id);
  return store_->UpdateTask(*task);
}

Status JobBoard::OnResult(const std::string& player,
                          const broker::TaskResult& result) {
  ActiveJob* job = nullptr;
  TaskRecord* task = FindTask(result.task, &job);
  if (task == nullptr) return Status();  // Known and final, or unknown.
  if (task->player != player || task->state == TaskState::kQueued) {
    common::LogWarning(
        "result for a task not sent to this player dropped "
        "player=%s task=%lld",
        player.c_str(), static_cast<long long>(result.task));
    return Status();
  }
  const TaskState was = task->state;
  static_cast<broker::TaskOutcome&>(*task) = AsUtf8(result);
  task->state = was;  // EndTask() moves it on, keeping the counts
  const JobId job_id = job->record.id;
  Status s = EndTask(task, result.state, std::string(task->error));
  if (!s.ok()) return s;
  s = Settle(job_id);
  if (!s.ok()) return s;
  return ApplyAssignments();
}

Status JobBoard::OnHello(const std::string& player,
                         const broker::Hello& hello) {
  // No placement until the reconciliation is done: a task ended below
  // frees a slot, and Connect() counts the busy slots afresh.
  scheduler_->Disconnect(player);
  std::unordered_map<TaskId, bool> held;  // task -> done
  for (const broker::HeldTask& t : hello.tasks) held[t.task] = t.done;
  std::set<TaskId> ours = on_player_[player];
  std::set<JobId> touched;
  for (TaskId id : ours) {
    ActiveJob* job = nullptr;
    TaskRecord* task = FindTask(id, &job);
    if (task == nullptr) continue;
    auto it = held.find(id);
    if (it != held.end()) {
      if (task->state == TaskState::kDispatched) {
        MoveTask(task, TaskState::kRunning);
        sent_.erase(id);
        Status s = store_->UpdateTask(*task);
        if (!s.ok()) return s;
      }
      if (job->cancelled) Order(player, broker::CancelTask{id});
    } else if (task->state == TaskState::kDispatched) {
      sent_[id] = clock_->Monotonic();
      Status s = SendTask(job->record, *task);
      if (!s.ok()) return s;
    } else {
      touched.insert(job->record.id);
      Status s = EndTask(task, TaskState::kLost,
                         "the player no longer knows this task (it lost "
                         "its journal)");
      if (!s.ok()) return s;
    }
  }
  for (const auto& [id, done] : held) {
    if (!done && !ours.count(id)) Order(player, broker::CancelTask{id});
  }
  for (JobId id : touched) {
    Status s = Settle(id);
    if (!s.ok()) return s;
  }
  scheduler_->Connect(player, hello.slots,
                      static_cast<int>(on_player_[player].size()));
  return ApplyAssignments();
}

// Moving a `one` job on at once trades a rare double run for progress: if
// the player did journal the task but its `accepted` was lost with the
// connection, the task also runs there; its next hello then lists a task we
// no longer hold as running, and it gets a cancel.
Status JobBoard::OnDisconnect(const std::string& player) {
  scheduler_->Disconnect(player);
  std::set<JobId> touched;
  const std::set<TaskId> sent = on_player_[player];
  for (TaskId id : sent) {
    ActiveJob* job = nullptr;
    TaskRecord* task = FindTask(id, &job);
    if (task == nullptr || task->state != TaskState::kDispatched ||
        job->record.scope != Scope::kOne)
      continue;
    touched.insert(job->record.id);
    Status s =
        EndTask(task, TaskState::kExpired,
                "player " + player + " went away before accepting the task");
    if (!s.ok()) return s;
  }
  for (JobId id : touched) {
    Status s = Settle(id);
    if (!s.ok()) return s;
  }
  return ApplyAssignments();
}

Status JobBoard::AbortPlayer(const std::string& player) {
  scheduler_->Disconnect(player);  // The slots its tasks free stay empty.
  std::vector<JobId> ids;
  for (const auto& [id, job] : jobs_) ids.push_back(id);
  for (JobId id : ids) {
    ActiveJob& job = jobs_.at(id);
    bool changed = false;
    for (TaskRecord& task : job.record.tasks) {
      if (broker::IsFinal(task.state)) continue;
      if (task.player == player) {
        Status s = EndTask(&task, TaskState::kAborted,
                           "player " + player +
                               " was removed from the players file or "
                               "revoked");
        if (!s.ok()) return s;
        changed = true;
      } else if (task.player.empty() && task.state == TaskState::kQueued) {
        scheduler_->Remove(task.task);  // Re-queue without that player.
        if (Eligible(job.record).empty()) {
          Status s = EndTask(&task, TaskState::kAborted,
                             "no listed player is left to run it");
          if (!s.ok()) return s;
          changed = true;
        } else {
          Enqueue(job, task);
        }
      }
    }
    if (changed) {
      Status s = Settle(id);
      if (!s.ok()) return s;
    }
  }
  return ApplyAssignments();
}

Status JobBoard::Cancel(JobId id) {
  auto it = jobs_.find(id);
  if (it == jobs_.end()) return Status::NotFound("job", "not unfinished");
  ActiveJob& job = it->second;
  job.cancelled = true;
  for (TaskRecord& task : job.record.tasks) {
    if (broker::IsFinal(task.state)) continue;
    if (task.state == TaskState::kRunning) {
      Order(task.player, broker::CancelTask{task.task});
      continue;
    }
    if (task.state == TaskState::kDispatched)
      Order(task.player, broker::CancelTask{task.task});
    Status s = EndTask(&task, TaskState::kCancelled, "cancelled");
    if (!s.ok()) return s;
  }
  common::LogInfo("job cancel requested job=%lld", static_cast<long long>(id));
  Status s = Settle(id);
  if (!s.ok()) return s;
  return ApplyAssignments();
}

Status JobBoard::ResendUnaccepted(TimeMs retry_ms) {
  const TimeMs now = clock_->Monotonic();
  for (auto& [id, sent_at] : sent_) {
    if (now - sent_at < retry_ms) continue;
    ActiveJob* job = nullptr;
    TaskRecord* task = FindTask(id, &job);
    if (task == nullptr) continue;
    sent_at = now;
    Status s = SendTask(job->record, *task);
    if (!s.ok()) return s;
  }
  return Status();
}

Status JobBoard::ExpireUndelivered(
    const std::function<bool(const std::string&)>& connected) {
  const TimeMs now = clock_->Now();
  std::set<JobId> touched;
  for (auto& [id, job] : jobs_) {
    const int64_t limit_s = job.record.delivery_timeout_s.value_or(0);
    if (limit_s <= 0 || now - job.record.created_at < limit_s * 1000) continue;
    for (TaskRecord& task : job.record.tasks) {
      if (task.state != TaskState::kQueued &&
          task.state != TaskState::kDispatched)
        continue;
      // A sent task has its whole delivery timeout to be accepted.
      const TimeMs since = task.state == TaskState::kDispatched
                               ? task.dispatched_at
                               : queued_since_[task.task];
      if (now - since < limit_s * 1000) continue;
      bool reachable = false;
      if (task.state == TaskState::kDispatched) {
        reachable = false;  // Sent, yet not accepted in all that time.
      } else if (!task.player.empty()) {
        reachable = connected(task.player);
      } else {
        for (const std::string& p : Eligible(job.record))
          reachable = reachable || connected(p);
      }
      if (reachable) continue;
      Status s =
          EndTask(&task, TaskState::kExpired,
                  "not delivered within " + std::to_string(limit_s) + " s: " +
                      (task.state == TaskState::kDispatched
                           ? "the player never accepted it"
                           : "the player stayed offline"));
      if (!s.ok()) return s;
      touched.insert(id);
    }
  }
  for (JobId id : touched) {
    Status s = Settle(id);
    if (!s.ok()) return s;
  }
  return ApplyAssignments();
}

std::vector<PlayerOrder> JobBoard::TakeOrders() {
  std::vector<PlayerOrder> out;
  out.swap(orders_);
  return out;
}

std::vector<JobId> JobBoard::TakeFinishedJobs() {
  std::vector<JobId> out;
  out.swap(finished_);
  return out;
}

}  // namespace orchestra::conductor
