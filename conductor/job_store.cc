// Times are stored as ISO 8601 text (time_column.h). Maps (params,
// response) are JSON objects. Statements on the hot path (insert and
// update of jobs and tasks) are prepared once.

#include "conductor/job_store.h"

#include <algorithm>
#include <cerrno>
#include <nlohmann/json.hpp>
#include <utility>

#include "common/log.h"
#include "conductor/json_column.h"
#include "conductor/sqlite_engine.h"
#include "conductor/time_column.h"

namespace orchestra::conductor {

using broker::JobState;
using broker::StringMap;
using broker::TaskState;
using common::Result;
using common::Status;
using common::TimeMs;

namespace {

constexpr const char* kTaskColumns =
    "id, player, attempt, state, exit_code, signal, stdout, stderr, "
    "stdout_truncated, stderr_truncated, response, error, dispatched_at, "
    "started_at, finished_at, CAST(ROUND(cpu_s * 1e6) AS INTEGER), "
    "memory_peak_bytes";

TaskRecord ReadTask(const StoreQuery& s) {
  TaskRecord t;
  t.task = s.Int(0);
  t.player = s.Text(1);
  t.attempt = s.Int(2);
  broker::ParseTaskState(s.TextView(3), &t.state);
  t.exit_code = s.OptionalInt(4);
  t.signal = s.OptionalInt(5);
  t.stdout_text = s.Text(6);
  t.stderr_text = s.Text(7);
  t.stdout_truncated = s.Int(8) != 0;
  t.stderr_truncated = s.Int(9) != 0;
  t.response = MapFromJson(s.TextView(10));
  t.error = s.Text(11);
  t.dispatched_at = ColumnTime(s, 12);
  t.started_at = ColumnTime(s, 13);
  t.finished_at = ColumnTime(s, 14);
  t.cpu_us = s.OptionalInt(15);
  t.memory_peak_bytes = s.OptionalInt(16);
  return t;
}

constexpr const char* kJobColumns =
    "id, score, scope, params, state, submitted_by, timeout_s, "
    "delivery_timeout_s, created_at, finished_at, target, priority, "
    "max_concurrency, max_errors";
constexpr int kJobColumnCount = 14;

std::optional<broker::RolloutLimit> ColumnLimit(const StoreQuery& s, int column,
                                                int64_t min) {
  broker::RolloutLimit limit;
  if (s.IsNull(column) ||
      !broker::ParseRolloutLimit(s.Text(column), min, &limit))
    return std::nullopt;
  return limit;
}

JobRecord ReadJob(const StoreQuery& s) {
  JobRecord j;
  j.id = s.Int(0);
  j.score = s.Text(1);
  broker::ParseScope(s.Text(2), &j.scope);
  j.params = MapFromJson(s.Text(3));
  broker::ParseJobState(s.Text(4), &j.state);
  j.submitted_by = s.Text(5);
  j.timeout_s = s.OptionalInt(6);
  j.delivery_timeout_s = s.OptionalInt(7);
  j.created_at = ColumnTime(s, 8);
  j.finished_at = ColumnTime(s, 9);
  j.target = s.Text(10);
  j.priority = s.Int(11);
  j.max_concurrency = ColumnLimit(s, 12, broker::kMinConcurrency);
  j.max_errors = ColumnLimit(s, 13, broker::kMinErrors);
  return j;
}

broker::JobSummary ReadSummary(const StoreQuery& s) {
  broker::JobSummary j;
  j.id = s.Int(0);
  j.score = s.Text(1);
  broker::ParseScope(s.Text(2), &j.scope);
  broker::ParseJobState(s.Text(3), &j.state);
  j.submitted_by = s.Text(4);
  j.created_at = ColumnTime(s, 5);
  j.finished_at = ColumnTime(s, 6);
  j.players = s.Int(7);
  j.target = s.Text(8);
  j.priority = s.Int(9);
  return j;
}

}  // namespace

Result<std::unique_ptr<JobStore>> JobStore::Open(const std::string& path) {
  Result<std::unique_ptr<SqliteEngine>> engine = SqliteEngine::Open(path);
  if (!engine.ok()) return engine.status();
  Result<common::Database> db = common::Database::Open(path);
  if (!db.ok()) return db.status();
  Status s = db.value().AddFnmatchFunction();
  if (!s.ok()) return s;
  return Create(std::move(engine.value()), StoreReader(std::move(db.value())));
}

Result<std::unique_ptr<JobStore>> JobStore::Create(
    std::unique_ptr<StoreEngine> engine, StoreReader reader) {
  auto thread = std::make_unique<StoreThread>(std::move(engine));
  if (thread->fd() < 0) return Status::FromErrno("store thread eventfd", errno);
  std::unique_ptr<JobStore> store(
      new JobStore(std::move(reader), std::move(thread)));
  Status s = store->LoadNextIds();
  if (s.ok())
    s = store->reader_.PrepareAll({
        {&store->find_key_,
         "SELECT id FROM jobs WHERE submitted_by = ?1 AND "
         "idempotency_key = ?2"},
        {&store->expired_jobs_,
         "SELECT id FROM jobs WHERE finished_at < ?1 "
         "ORDER BY finished_at, id LIMIT ?2"},
    });
  if (!s.ok()) return s;
  return store;
}

// Ids are given here, before their rows are written: past every id used,
// also those of rows since deleted (AUTOINCREMENT's sqlite_sequence).
Status JobStore::LoadNextIds() {
  Result<StoreQuery> query = reader_.Prepare(
      "SELECT MAX(COALESCE((SELECT MAX(id) FROM jobs), 0), "
      "COALESCE((SELECT seq FROM sqlite_sequence WHERE name = 'jobs'), 0)), "
      "MAX(COALESCE((SELECT MAX(id) FROM tasks), 0), "
      "COALESCE((SELECT seq FROM sqlite_sequence WHERE name = 'tasks'), 0))");
  if (!query.ok()) return query.status();
  return query.value().ForEachRow([&](const StoreQuery& row) {
    next_job_ = row.Int(0) + 1;
    next_task_ = row.Int(1) + 1;
  });
}

void JobStore::Add(WriteKind kind, std::vector<StoreValue> values) {
  batch_.writes.push_back(StoreWrite{kind, std::move(values)});
}

JobStore::Sealed JobStore::Seal() {
  FlushTasks();
  const uint64_t turn = ++last_turn_;
  if (batch_.writes.empty() && !batch_.checkpoint) return Sealed{turn, false};
  batch_.turn = turn;
  batch_.epoch = epoch_;
  thread_->Submit(std::exchange(batch_, StoreBatch()));
  return Sealed{turn, true};
}

void JobStore::Committed(uint64_t turn) {
  committed_turn_ = std::max(committed_turn_, turn);
  for (auto it = unsettled_.begin(); it != unsettled_.end();) {
    if (it->second.turn > turn) {
      ++it;
      continue;
    }
    const JobRecord& h = it->second.header;
    unsettled_keys_.erase({h.submitted_by, it->second.key});
    it = unsettled_.erase(it);
  }
}

void JobStore::Abandon() {
  batch_ = StoreBatch();
  pending_tasks_.clear();
  unsettled_.clear();
  unsettled_keys_.clear();
  committed_turn_ = purge_turn_ = last_turn_;
  ++epoch_;
}

Status JobStore::Commit() { return CommitAndWait(nullptr); }

Result<common::CheckpointResult> JobStore::Checkpoint() {
  RequestCheckpoint();
  std::optional<Result<common::CheckpointResult>> checkpoint;
  Status s = CommitAndWait(&checkpoint);
  if (!s.ok()) return s;
  if (!checkpoint) return Status::Internal("store", "no checkpoint ran");
  return *checkpoint;
}

Status JobStore::CommitAndWait(
    std::optional<Result<common::CheckpointResult>>* checkpoint) {
  const Sealed sealed = Seal();
  if (!sealed.writes) {
    Committed(sealed.turn);
    return Status();
  }
  thread_->WaitUntilIdle();
  Status s;
  for (StoreDone& done : thread_->TakeDone()) {
    if (done.epoch != epoch_) continue;
    if (!done.status.ok() && s.ok()) s = done.status;
    if (checkpoint && done.checkpoint) *checkpoint = std::move(done.checkpoint);
  }
  if (s.ok())
    Committed(sealed.turn);
  else
    Abandon();
  return s;
}

namespace {

StoreValue Text(const std::string& text) { return text; }
StoreValue TextOrNull(const std::string& text) {
  if (text.empty()) return std::monostate();
  return text;
}
StoreValue Int(const std::optional<int64_t>& n) {
  if (!n) return std::monostate();
  return *n;
}
StoreValue Limit(const std::optional<broker::RolloutLimit>& limit) {
  if (!limit) return std::monostate();
  return broker::RolloutLimitText(*limit);
}

}  // namespace

// A key already used is refused here, not at the commit: a failed commit
// would count as the store failing.
Status JobStore::InsertJob(JobRecord* job, const std::string& key) {
  if (!key.empty()) {
    Result<std::optional<JobId>> used = FindJobByKey(job->submitted_by, key);
    if (!used.ok()) return used.status();
    if (used.value())
      return Status::Conflict("store", "idempotency key '" + key +
                                           "' is taken by job " +
                                           std::to_string(*used.value()));
  }
  job->id = next_job_++;
  Add(WriteKind::kInsertJob,
      {job->id, Text(job->score), Text(broker::ScopeName(job->scope)),
       MapToJson(job->params), Text(broker::JobStateName(job->state)),
       Text(job->submitted_by), TextOrNull(key), Int(job->timeout_s),
       Int(job->delivery_timeout_s), TimeValue(job->created_at),
       TextOrNull(job->target), job->priority, Limit(job->max_concurrency),
       Limit(job->max_errors)});
  for (size_t i = 0; i < job->players.size(); ++i)
    Add(WriteKind::kInsertJobPlayer,
        {job->id, Text(job->players[i]), static_cast<int64_t>(i)});
  for (TaskRecord& task : job->tasks) {
    Status s = InsertTask(job->id, &task);
    if (!s.ok()) return s;
  }
  Unsettled& kept = unsettled_[job->id];
  kept.turn = last_turn_ + 1;
  kept.header = *job;
  kept.header.tasks.clear();
  kept.key = key;
  if (!key.empty()) unsettled_keys_[{job->submitted_by, key}] = job->id;
  return Status();
}

Status JobStore::InsertTask(JobId job, TaskRecord* task) {
  task->task = next_task_++;
  Add(WriteKind::kInsertTask,
      {task->task, job, TextOrNull(task->player), task->attempt,
       Text(broker::TaskStateName(task->state))});
  return Status();
}

// A task changes state several times in one turn (dispatched right after
// its insert; accepted and finished in one batch of player messages): the
// turn keeps its latest version and writes the row once, at Seal().
Status JobStore::UpdateTask(const TaskRecord& t) {
  pending_tasks_.insert_or_assign(t.task, t);
  return Status();
}

void JobStore::FlushTasks() {
  for (const auto& [id, t] : pending_tasks_) WriteTask(t);
  pending_tasks_.clear();
}

void JobStore::WriteTask(const TaskRecord& t) {
  Add(WriteKind::kUpdateTask,
      {t.task, TextOrNull(t.player), t.attempt,
       Text(broker::TaskStateName(t.state)), Int(t.exit_code), Int(t.signal),
       t.stdout_text, t.stderr_text, int64_t{t.stdout_truncated},
       int64_t{t.stderr_truncated}, MapToJson(t.response), t.error,
       TimeValue(t.dispatched_at), TimeValue(t.started_at),
       TimeValue(t.finished_at), Int(t.cpu_us), Int(t.memory_peak_bytes)});
}

Status JobStore::UpdateJobState(const JobRecord& job) {
  Add(WriteKind::kUpdateJob, {job.id, Text(broker::JobStateName(job.state)),
                              TimeValue(job.finished_at)});
  return Status();
}

// Planned from what is committed (a finished job no longer changes), run
// by the store thread: children first and in chunks, so that an `all` job
// of 100,000 tasks is spread over many calls; the job row goes last, when
// the cascade of its foreign keys finds nothing left to delete.
Result<Purged> JobStore::PurgeFinishedBefore(TimeMs cutoff, int64_t max_rows) {
  Purged purged;
  Result<std::vector<JobId>> expired = ExpiredJobs(cutoff, max_rows);
  if (!expired.ok()) return expired.status();
  purged.more = static_cast<int64_t>(expired.value().size()) == max_rows;
  purge_turn_ = last_turn_ + 1;
  for (JobId job : expired.value()) {
    for (const auto& [table, kind] :
         {std::pair{"tasks", WriteKind::kDeleteTasks},
          std::pair{"job_players", WriteKind::kDeleteJobPlayers}}) {
      const int64_t budget = max_rows - purged.rows;
      Result<int64_t> rows = CountRows(table, job);
      if (!rows.ok()) return rows.status();
      const int64_t deleted = std::min(rows.value(), budget);
      if (deleted > 0) Add(kind, {job, deleted});
      purged.rows += deleted;
      if (deleted == budget) {
        purged.more = true;
        return purged;
      }
    }
    Add(WriteKind::kDeleteJob, {job});
    purged.rows += 1;
    purged.jobs += 1;
    purged.last_job = job;
    if (purged.rows >= max_rows) {
      purged.more = true;
      break;
    }
  }
  return purged;
}

Result<std::vector<JobId>> JobStore::ExpiredJobs(TimeMs cutoff, int64_t limit) {
  expired_jobs_.Bind(1, common::FormatTime(cutoff)).Bind(2, limit);
  std::vector<JobId> jobs;
  Status s = expired_jobs_.ForEachRow(
      [&](const StoreQuery& row) { jobs.push_back(row.Int(0)); });
  if (!s.ok()) return s;
  return jobs;
}

Result<int64_t> JobStore::CountRows(const char* table, JobId job) {
  const std::string sql =
      std::string("SELECT COUNT(*) FROM ") + table + " WHERE job_id = ?1";
  Result<StoreQuery> query = reader_.Prepare(sql.c_str());
  if (!query.ok()) return query.status();
  query.value().Bind(1, job);
  int64_t rows = 0;
  Status s = query.value().ForEachRow(
      [&](const StoreQuery& row) { rows = row.Int(0); });
  if (!s.ok()) return s;
  return rows;
}

Result<std::optional<JobId>> JobStore::FindJobByKey(
    const std::string& submitted_by, const std::string& key) {
  auto kept = unsettled_keys_.find({submitted_by, key});
  if (kept != unsettled_keys_.end()) return std::optional<JobId>(kept->second);
  find_key_.Bind(1, submitted_by).Bind(2, key);
  Result<bool> row = find_key_.Step();
  std::optional<JobId> id;
  if (row.ok() && row.value()) id = find_key_.Int(0);
  find_key_.Reset();
  if (!row.ok()) return row.status();
  return id;
}

Result<std::vector<std::string>> JobStore::LoadPlayers(JobId job) {
  Result<StoreQuery> query = reader_.Prepare(
      "SELECT player FROM job_players WHERE job_id = ?1 ORDER BY position");
  if (!query.ok()) return query.status();
  query.value().Bind(1, job);
  std::vector<std::string> players;
  Status s = query.value().ForEachRow(
      [&](const StoreQuery& row) { players.push_back(row.Text(0)); });
  if (!s.ok()) return s;
  return players;
}

Result<broker::StringMap> JobStore::LoadParams(JobId id) {
  auto kept = unsettled_.find(id);
  if (kept != unsettled_.end()) return kept->second.header.params;
  Result<StoreQuery> query =
      reader_.Prepare("SELECT params FROM jobs WHERE id = ?1");
  if (!query.ok()) return query.status();
  query.value().Bind(1, id);
  Result<bool> row = query.value().Step();
  if (!row.ok()) return row.status();
  if (!row.value()) return broker::StringMap();
  return MapFromJson(query.value().Text(0));
}

// The header, then every task: what a page is, without a limit.
Result<std::optional<JobRecord>> JobStore::LoadJob(JobId id) {
  int64_t count = 0;
  Result<std::optional<JobRecord>> job = LoadJobHeader(id, &count);
  if (!job.ok() || !job.value()) return job;
  std::vector<TaskRecord>& tasks = job.value()->tasks;
  tasks.reserve(static_cast<size_t>(count));
  Status s = ForEachTask(id, 0, [&](TaskRecord&& t) {
    tasks.push_back(std::move(t));
    return true;
  });
  if (!s.ok()) return s;
  return job;
}

Result<std::optional<JobRecord>> JobStore::LoadJobHeader(JobId id,
                                                         int64_t* tasks) {
  std::string sql = std::string("SELECT ") + kJobColumns +
                    ", (SELECT COUNT(*) FROM tasks WHERE job_id = ?1) "
                    "FROM jobs WHERE id = ?1";
  Result<StoreQuery> query = reader_.Prepare(sql.c_str());
  if (!query.ok()) return query.status();
  query.value().Bind(1, id);
  Result<bool> row = query.value().Step();
  if (!row.ok()) return row.status();
  if (!row.value()) return std::optional<JobRecord>();
  JobRecord job = ReadJob(query.value());
  *tasks = query.value().Int(kJobColumnCount);
  Result<std::vector<std::string>> players = LoadPlayers(id);
  if (!players.ok()) return players.status();
  job.players = std::move(players.value());
  return std::optional<JobRecord>(std::move(job));
}

Status JobStore::ForEachTask(JobId id, int64_t from,
                             const std::function<bool(TaskRecord&&)>& take) {
  std::string sql = std::string("SELECT ") + kTaskColumns +
                    " FROM tasks WHERE job_id = ?1 ORDER BY id "
                    "LIMIT -1 OFFSET ?2";
  Result<StoreQuery> query = reader_.Prepare(sql.c_str());
  if (!query.ok()) return query.status();
  query.value().Bind(1, id);
  query.value().Bind(2, from);
  return query.value().ForEachRow(
      [&](const StoreQuery& row) { return take(ReadTask(row)); });
}

Result<std::vector<JobRecord>> JobStore::LoadUnfinishedJobs() {
  Result<StoreQuery> query = reader_.Prepare(
      "SELECT id FROM jobs WHERE state = 'PENDING' ORDER BY id");
  if (!query.ok()) return query.status();
  std::vector<JobId> ids;
  Status s = query.value().ForEachRow(
      [&](const StoreQuery& row) { ids.push_back(row.Int(0)); });
  if (!s.ok()) return s;
  std::vector<JobRecord> jobs;
  for (JobId id : ids) {
    Result<std::optional<JobRecord>> job = LoadJob(id);
    if (!job.ok()) return job.status();
    if (job.value()) jobs.push_back(std::move(*job.value()));
  }
  return jobs;
}

// A limited audience key's globs arrive as JSON arrays (?6 scores, ?7
// players; NULL: any) and are matched by fnmatch(), the same matcher as
// AudienceGrant's, so the list shows exactly the jobs status would.
Result<std::vector<broker::JobSummary>> JobStore::ListJobs(
    const broker::JobsRequest& filter, const AudienceGrant* visible) {
  std::string sql =
      "SELECT j.id, j.score, j.scope, j.state, j.submitted_by, "
      "j.created_at, j.finished_at, "
      "(SELECT COUNT(*) FROM job_players p WHERE p.job_id = j.id), "
      "j.target, j.priority "
      "FROM jobs j WHERE (?1 IS NULL OR j.state = ?1) "
      "AND (?2 IS NULL OR j.score = ?2) AND (?3 IS NULL OR j.id < ?3) "
      "AND (?4 IS NULL OR j.id IN (SELECT job_id FROM job_players "
      "WHERE player = ?4)) "
      "AND (?6 IS NULL OR EXISTS (SELECT 1 FROM json_each(?6) g "
      "WHERE fnmatch(g.value, j.score))) "
      "AND (?7 IS NULL OR NOT EXISTS (SELECT 1 FROM job_players p "
      "WHERE p.job_id = j.id AND NOT EXISTS (SELECT 1 FROM json_each(?7) g "
      "WHERE fnmatch(g.value, p.player)))) "
      "ORDER BY j.id DESC LIMIT ?5";
  Result<StoreQuery> query = reader_.Prepare(sql.c_str());
  if (!query.ok()) return query.status();
  StoreQuery& q = query.value();
  if (filter.state) q.Bind(1, broker::JobStateName(*filter.state));
  if (!filter.score.empty()) q.Bind(2, filter.score);
  q.Bind(3, filter.before);
  if (!filter.player.empty()) q.Bind(4, filter.player);
  q.Bind(5, filter.limit);
  if (visible && !visible->scores.empty())
    q.Bind(6, nlohmann::json(visible->scores).dump());
  if (visible && !visible->players.empty())
    q.Bind(7, nlohmann::json(visible->players).dump());
  std::vector<broker::JobSummary> jobs;
  Status s = q.ForEachRow(
      [&](const StoreQuery& row) { jobs.push_back(ReadSummary(row)); });
  if (!s.ok()) return s;
  Result<StoreQuery> counts = reader_.Prepare(
      "SELECT state, COUNT(*) FROM tasks WHERE job_id = ?1 GROUP BY state");
  if (!counts.ok()) return counts.status();
  for (broker::JobSummary& job : jobs) {
    counts.value().Bind(1, job.id);
    s = counts.value().ForEachRow([&](const StoreQuery& row) {
      job.tasks_by_state[row.Text(0)] = row.Int(1);
    });
    if (!s.ok()) return s;
  }
  return jobs;
}

}  // namespace orchestra::conductor
