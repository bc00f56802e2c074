// Times are stored as ISO 8601 text (time_column.h). Maps (params,
// response) are JSON objects. Statements on the hot path (insert and
// update of jobs and tasks) are prepared once.

#include "conductor/job_store.h"

#include <iterator>
#include <nlohmann/json.hpp>

#include "common/log.h"
#include "conductor/json_column.h"
#include "conductor/schema.h"
#include "conductor/time_column.h"

namespace orchestra::conductor {

using broker::JobState;
using broker::StringMap;
using broker::TaskState;
using common::Result;
using common::Statement;
using common::Status;
using common::TimeMs;

namespace {

constexpr const char* kTaskColumns =
    "id, player, attempt, state, exit_code, signal, stdout, stderr, "
    "stdout_truncated, stderr_truncated, response, error, dispatched_at, "
    "started_at, finished_at, CAST(ROUND(cpu_s * 1e6) AS INTEGER), "
    "memory_peak_bytes";

TaskRecord ReadTask(const Statement& s) {
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

// A rollout limit's column: its text as given, or NULL.
void BindLimit(Statement* s, int index,
               const std::optional<broker::RolloutLimit>& limit) {
  if (limit)
    s->Bind(index, broker::RolloutLimitText(*limit));
  else
    s->BindNull(index);
}

std::optional<broker::RolloutLimit> ColumnLimit(const Statement& s, int column,
                                                int64_t min) {
  broker::RolloutLimit limit;
  if (s.IsNull(column) ||
      !broker::ParseRolloutLimit(s.Text(column), min, &limit))
    return std::nullopt;
  return limit;
}

JobRecord ReadJob(const Statement& s) {
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

broker::JobSummary ReadSummary(const Statement& s) {
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
  Result<common::Database> db = common::Database::Open(path);
  if (!db.ok()) return db.status();
  std::unique_ptr<JobStore> store(new JobStore(std::move(db.value())));
  Status s = store->db_.AddFnmatchFunction();
  if (s.ok()) s = store->Migrate();
  // Bounds the WAL file: after a checkpoint lets it start over, a WAL grown
  // past this by a large turn is truncated back.
  if (s.ok()) s = store->db_.Exec("PRAGMA journal_size_limit = 16777216");
  if (s.ok()) s = store->PrepareStatements();
  if (!s.ok()) return s;
  return store;
}

Status JobStore::Migrate() {
  Result<Statement> version = db_.Prepare("PRAGMA user_version");
  if (!version.ok()) return version.status();
  Result<bool> row = version.value().Step();
  if (!row.ok()) return row.status();
  const int64_t current = version.value().Int(0);
  version.value().Reset();
  if (current == kSchemaVersion) return Status();
  if (current > kSchemaVersion || current < 0)
    return Status::InvalidArgument(
        db_.path(), "schema version " + std::to_string(current) +
                        " is newer than this conductor (" +
                        std::to_string(kSchemaVersion) + "); upgrade it");
  static_assert(std::size(kMigrations) == kSchemaVersion,
                "one migration per schema version");
  // Off while tables are rebuilt: dropping one would cascade (a no-op
  // inside a transaction, so it comes first).
  Status s = db_.Exec("PRAGMA foreign_keys = OFF");
  if (s.ok()) s = ApplyMigrations(current);
  Status on = db_.Exec("PRAGMA foreign_keys = ON");
  if (!s.ok()) return s;
  if (!on.ok()) return on;
  if (current == 0) {
    common::LogInfo("database created path=%s schema=%d", db_.path().c_str(),
                    kSchemaVersion);
  } else {
    common::LogInfo("database migrated path=%s from=%lld to=%d",
                    db_.path().c_str(), static_cast<long long>(current),
                    kSchemaVersion);
  }
  return Status();
}

Status JobStore::ApplyMigrations(int64_t from) {
  Result<common::Transaction> txn = common::Transaction::Begin(&db_);
  if (!txn.ok()) return txn.status();
  for (int64_t v = from; v < kSchemaVersion; ++v) {
    Status s = db_.Exec(kMigrations[v]);
    if (!s.ok()) return s;
  }
  Result<Statement> check = db_.Prepare("PRAGMA foreign_key_check");
  if (!check.ok()) return check.status();
  Result<bool> violation = check.value().Step();
  if (!violation.ok()) return violation.status();
  if (violation.value())
    return Status::Internal(
        db_.path(),
        "migration broke a foreign key in table " + check.value().Text(0));
  check.value().Reset();
  return txn.value().Commit();
}

Status JobStore::PrepareStatements() {
  const std::string probe =
      "PRAGMA user_version = " + std::to_string(kSchemaVersion);
  return db_.PrepareAll({
      {&insert_job_,
       "INSERT INTO jobs(score, scope, params, state, submitted_by, "
       "idempotency_key, timeout_s, delivery_timeout_s, created_at, target, "
       "priority, max_concurrency, max_errors) "
       "VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)"},
      {&insert_job_player_,
       "INSERT INTO job_players(job_id, player, position) VALUES(?1, ?2, ?3)"},
      {&insert_task_,
       "INSERT INTO tasks(job_id, player, attempt, state) "
       "VALUES(?1, ?2, ?3, ?4)"},
      {&update_task_,
       "UPDATE tasks SET player = ?2, attempt = ?3, state = ?4, "
       "exit_code = ?5, signal = ?6, stdout = ?7, stderr = ?8, "
       "stdout_truncated = ?9, stderr_truncated = ?10, response = ?11, "
       "error = ?12, dispatched_at = ?13, started_at = ?14, "
       "finished_at = ?15, cpu_s = ?16 / 1e6, memory_peak_bytes = ?17 "
       "WHERE id = ?1"},
      {&update_job_,
       "UPDATE jobs SET state = ?2, finished_at = ?3 WHERE id = ?1"},
      {&find_key_,
       "SELECT id FROM jobs WHERE submitted_by = ?1 AND idempotency_key = ?2"},
      {&expired_jobs_,
       "SELECT id FROM jobs WHERE finished_at < ?1 "
       "ORDER BY finished_at, id LIMIT ?2"},
      {&delete_tasks_,
       "DELETE FROM tasks WHERE id IN "
       "(SELECT id FROM tasks WHERE job_id = ?1 LIMIT ?2)"},
      {&delete_job_players_,
       "DELETE FROM job_players WHERE job_id = ?1 AND position IN "
       "(SELECT position FROM job_players WHERE job_id = ?1 LIMIT ?2)"},
      {&delete_job_, "DELETE FROM jobs WHERE id = ?1"},
      {&probe_, probe.c_str()},
  });
}

Status JobStore::Write(Statement* statement) { return turn_.Run(statement); }

// A failed commit leaves nothing of the turn: the transaction rolls back,
// and the kept-back task rows are dropped.
Status JobStore::Commit() {
  Status s = FlushTasks();
  if (s.ok()) s = turn_.Commit();
  if (!s.ok()) Rollback();
  return s;
}

void JobStore::Rollback() {
  pending_tasks_.clear();
  turn_.Rollback();
}

Status JobStore::Probe() { return Write(&probe_); }

Status JobStore::InsertJob(JobRecord* job, const std::string& key) {
  insert_job_.Bind(1, job->score)
      .Bind(2, broker::ScopeName(job->scope))
      .Bind(3, MapToJson(job->params))
      .Bind(4, broker::JobStateName(job->state))
      .Bind(5, job->submitted_by)
      .Bind(7, job->timeout_s)
      .Bind(8, job->delivery_timeout_s);
  if (key.empty())
    insert_job_.BindNull(6);
  else
    insert_job_.Bind(6, key);
  BindTime(&insert_job_, 9, job->created_at);
  if (job->target.empty())
    insert_job_.BindNull(10);
  else
    insert_job_.Bind(10, job->target);
  insert_job_.Bind(11, job->priority);
  BindLimit(&insert_job_, 12, job->max_concurrency);
  BindLimit(&insert_job_, 13, job->max_errors);
  Status s = Write(&insert_job_);
  if (!s.ok()) return s;
  job->id = db_.LastInsertId();
  for (size_t i = 0; i < job->players.size(); ++i) {
    insert_job_player_.Bind(1, job->id)
        .Bind(2, job->players[i])
        .Bind(3, static_cast<int64_t>(i));
    s = Write(&insert_job_player_);
    if (!s.ok()) return s;
  }
  for (TaskRecord& task : job->tasks) {
    s = InsertTask(job->id, &task);
    if (!s.ok()) return s;
  }
  return Status();
}

Status JobStore::InsertTask(JobId job, TaskRecord* task) {
  insert_task_.Bind(1, job)
      .Bind(3, task->attempt)
      .Bind(4, broker::TaskStateName(task->state));
  if (task->player.empty())
    insert_task_.BindNull(2);
  else
    insert_task_.Bind(2, task->player);
  Status s = Write(&insert_task_);
  if (s.ok()) task->task = db_.LastInsertId();
  return s;
}

// A task changes state several times in one turn (dispatched right after
// its insert; accepted and finished in one batch of player messages): the
// turn keeps its latest version and writes the row once, at Commit() (or
// before any read).
Status JobStore::UpdateTask(const TaskRecord& t) {
  pending_tasks_.insert_or_assign(t.task, t);
  return Status();
}

Status JobStore::FlushTasks() {
  for (const auto& [id, t] : pending_tasks_) {
    Status s = WriteTask(t);
    if (!s.ok()) return s;
  }
  pending_tasks_.clear();
  return Status();
}

Status JobStore::WriteTask(const TaskRecord& t) {
  Statement& s = update_task_;
  s.Bind(1, t.task).Bind(3, t.attempt).Bind(4, broker::TaskStateName(t.state));
  if (t.player.empty())
    s.BindNull(2);
  else
    s.Bind(2, t.player);
  s.Bind(5, t.exit_code).Bind(6, t.signal);
  s.Bind(7, t.stdout_text).Bind(8, t.stderr_text);
  s.Bind(9, int64_t{t.stdout_truncated}).Bind(10, int64_t{t.stderr_truncated});
  s.Bind(11, MapToJson(t.response)).Bind(12, t.error);
  BindTime(&s, 13, t.dispatched_at);
  BindTime(&s, 14, t.started_at);
  BindTime(&s, 15, t.finished_at);
  s.Bind(16, t.cpu_us).Bind(17, t.memory_peak_bytes);
  return Write(&s);
}

Status JobStore::UpdateJobState(const JobRecord& job) {
  update_job_.Bind(1, job.id).Bind(2, broker::JobStateName(job.state));
  BindTime(&update_job_, 3, job.finished_at);
  return Write(&update_job_);
}

// Children go first and in chunks, so that an `all` job of 100,000 tasks
// is spread over many calls; the job row goes last, when the cascade of
// its foreign keys finds nothing left to delete.
Result<Purged> JobStore::PurgeFinishedBefore(TimeMs cutoff, int64_t max_rows) {
  if (Status s = FlushTasks(); !s.ok()) return s;
  Purged purged;
  Result<std::vector<JobId>> expired = ExpiredJobs(cutoff, max_rows);
  if (!expired.ok()) return expired.status();
  purged.more = static_cast<int64_t>(expired.value().size()) == max_rows;
  for (JobId job : expired.value()) {
    for (Statement* children : {&delete_tasks_, &delete_job_players_}) {
      const int64_t budget = max_rows - purged.rows;
      Result<int64_t> deleted = DeleteUpTo(children, job, budget);
      if (!deleted.ok()) return deleted.status();
      purged.rows += deleted.value();
      if (deleted.value() == budget) {
        purged.more = true;
        return purged;
      }
    }
    delete_job_.Bind(1, job);
    Status s = Write(&delete_job_);
    if (!s.ok()) return s;
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
      [&](const Statement& row) { jobs.push_back(row.Int(0)); });
  if (!s.ok()) return s;
  return jobs;
}

Result<int64_t> JobStore::DeleteUpTo(Statement* statement, JobId job,
                                     int64_t limit) {
  statement->Bind(1, job).Bind(2, limit);
  Status s = Write(statement);
  if (!s.ok()) return s;
  return db_.Changes();
}

Result<common::CheckpointResult> JobStore::Checkpoint() {
  if (turn_.is_open())
    return Status::Internal(db_.path(), "checkpoint inside a transaction");
  return db_.Checkpoint();
}

Result<std::optional<JobId>> JobStore::FindJobByKey(
    const std::string& submitted_by, const std::string& key) {
  find_key_.Bind(1, submitted_by).Bind(2, key);
  Result<bool> row = find_key_.Step();
  std::optional<JobId> id;
  if (row.ok() && row.value()) id = find_key_.Int(0);
  find_key_.Reset();
  if (!row.ok()) return row.status();
  return id;
}

Result<std::vector<std::string>> JobStore::LoadPlayers(JobId job) {
  Result<Statement> query = db_.Prepare(
      "SELECT player FROM job_players WHERE job_id = ?1 ORDER BY position");
  if (!query.ok()) return query.status();
  query.value().Bind(1, job);
  std::vector<std::string> players;
  Status s = query.value().ForEachRow(
      [&](const Statement& row) { players.push_back(row.Text(0)); });
  if (!s.ok()) return s;
  return players;
}

Result<broker::StringMap> JobStore::LoadParams(JobId id) {
  Result<Statement> query =
      db_.Prepare("SELECT params FROM jobs WHERE id = ?1");
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
  if (Status s = FlushTasks(); !s.ok()) return s;
  std::string sql = std::string("SELECT ") + kJobColumns +
                    ", (SELECT COUNT(*) FROM tasks WHERE job_id = ?1) "
                    "FROM jobs WHERE id = ?1";
  Result<Statement> query = db_.Prepare(sql.c_str());
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
  if (Status s = FlushTasks(); !s.ok()) return s;
  std::string sql = std::string("SELECT ") + kTaskColumns +
                    " FROM tasks WHERE job_id = ?1 ORDER BY id "
                    "LIMIT -1 OFFSET ?2";
  Result<Statement> query = db_.Prepare(sql.c_str());
  if (!query.ok()) return query.status();
  query.value().Bind(1, id);
  query.value().Bind(2, from);
  return query.value().ForEachRow(
      [&](const Statement& row) { return take(ReadTask(row)); });
}

Result<std::vector<JobRecord>> JobStore::LoadUnfinishedJobs() {
  if (Status s = FlushTasks(); !s.ok()) return s;
  Result<Statement> query =
      db_.Prepare("SELECT id FROM jobs WHERE state = 'PENDING' ORDER BY id");
  if (!query.ok()) return query.status();
  std::vector<JobId> ids;
  Status s = query.value().ForEachRow(
      [&](const Statement& row) { ids.push_back(row.Int(0)); });
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
  if (Status s = FlushTasks(); !s.ok()) return s;
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
  Result<Statement> query = db_.Prepare(sql.c_str());
  if (!query.ok()) return query.status();
  Statement& q = query.value();
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
      [&](const Statement& row) { jobs.push_back(ReadSummary(row)); });
  if (!s.ok()) return s;
  Result<Statement> counts = db_.Prepare(
      "SELECT state, COUNT(*) FROM tasks WHERE job_id = ?1 GROUP BY state");
  if (!counts.ok()) return counts.status();
  for (broker::JobSummary& job : jobs) {
    counts.value().Bind(1, job.id);
    s = counts.value().ForEachRow([&](const Statement& row) {
      job.tasks_by_state[row.Text(0)] = row.Int(1);
    });
    if (!s.ok()) return s;
  }
  return jobs;
}

}  // namespace orchestra::conductor
