// JobStore records jobs and tasks in the conductor's SQLite database
// (DESIGN.md section 8); PlayerStore, on the same database, the players.
// It owns the database and the transaction of the current loop turn,
// which every write of either store joins and Commit() ends (group
// commit). Not thread-safe: owned by the conductor's loop thread.

#ifndef ORCHESTRA_CONDUCTOR_JOB_STORE_H_
#define ORCHESTRA_CONDUCTOR_JOB_STORE_H_

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "broker/audience_protocol.h"
#include "common/result.h"
#include "common/sqlite.h"
#include "conductor/audience_keys.h"

namespace orchestra::conductor {

using broker::JobId;
using broker::JobRecord;
using broker::TaskId;
using broker::TaskRecord;

constexpr int kSchemaVersion = 5;

// What one PurgeFinishedBefore() call deleted.
struct Purged {
  int64_t jobs = 0;    // jobs deleted whole
  int64_t rows = 0;    // rows deleted: jobs, their tasks and target lists
  JobId last_job = 0;  // the last job deleted whole, 0 if none
  bool more = false;   // the row budget ran out: there may be more to do
};

class JobStore {
 public:
  // Opens (creating and migrating if needed) the database at `path`.
  static common::Result<std::unique_ptr<JobStore>> Open(
      const std::string& path);

  // Commits the turn's writes, if there were any. On failure they are all
  // rolled back.
  common::Status Commit();
  // True when the turn has writes for Commit() to commit.
  bool HasWrites() const { return turn_.is_open() || !pending_tasks_.empty(); }
  // Drops the turn's writes (a write failed before the commit).
  void Rollback();
  // Rewrites the schema version, unchanged, in the turn's transaction: the
  // next Commit() then writes a page even when nothing else changed, and
  // so shows whether the database takes writes again.
  common::Status Probe();
  // The database and the turn's transaction, for PlayerStore.
  common::Database* database() { return &db_; }
  common::Transaction* turn() { return &turn_; }

  // Adds `job` and its tasks; sets job->id and each task's id.
  common::Status InsertJob(JobRecord* job, const std::string& key);
  // Adds `task` to job `job`; sets task->task.
  common::Status InsertTask(JobId job, TaskRecord* task);
  // Writes every field of an existing task (at the latest by Commit();
  // several updates of one task in a turn write its row once).
  common::Status UpdateTask(const TaskRecord& task);
  // Writes the job's state and finished_at.
  common::Status UpdateJobState(const JobRecord& job);

  // The job `submitted_by` submitted with idempotency key `key`, if any.
  common::Result<std::optional<JobId>> FindJobByKey(
      const std::string& submitted_by, const std::string& key);
  // The whole record of job `id`, if it exists.
  common::Result<std::optional<JobRecord>> LoadJob(JobId id);
  // The params of job `id` ({} if there is no such job).
  common::Result<broker::StringMap> LoadParams(JobId id);
  // The record of job `id` without its tasks, if it exists; `*tasks` is
  // set to how many it has.
  common::Result<std::optional<JobRecord>> LoadJobHeader(JobId id,
                                                         int64_t* tasks);
  // Passes the tasks of job `id` in order from index `from` on to `take`,
  // until it returns false: a page of a large job costs the rows it holds.
  common::Status ForEachTask(JobId id, int64_t from,
                             const std::function<bool(TaskRecord&&)>& take);
  // Every job still PENDING, with its tasks, oldest first.
  common::Result<std::vector<JobRecord>> LoadUnfinishedJobs();
  // Summaries for the `jobs` op, newest first; with `visible`, only jobs
  // whose score and every player its globs match (AudienceGrant::MaySee).
  common::Result<std::vector<broker::JobSummary>> ListJobs(
      const broker::JobsRequest& filter,
      const AudienceGrant* visible = nullptr);

  // Deletes finished jobs whose finished_at is before `cutoff` (wall
  // clock), oldest first, with their tasks and target lists, removing at
  // most `max_rows` rows: a large job is deleted over several calls.
  common::Result<Purged> PurgeFinishedBefore(common::TimeMs cutoff,
                                             int64_t max_rows);
  // Copies the WAL into the database as far as readers allow, without
  // waiting for them. REQUIRES: Commit() since the last write.
  common::Result<common::CheckpointResult> Checkpoint();

  JobStore(const JobStore&) = delete;
  JobStore& operator=(const JobStore&) = delete;

 private:
  explicit JobStore(common::Database db) : db_(std::move(db)) {}
  common::Status Migrate();
  common::Status ApplyMigrations(int64_t from);
  common::Result<std::vector<JobId>> ExpiredJobs(common::TimeMs cutoff,
                                                 int64_t limit);
  common::Result<int64_t> DeleteUpTo(common::Statement* statement, JobId job,
                                     int64_t limit);
  common::Status PrepareStatements();
  common::Status Write(common::Statement* statement);
  // Writes the task rows UpdateTask() kept back.
  common::Status FlushTasks();
  common::Status WriteTask(const TaskRecord& task);
  common::Result<std::vector<std::string>> LoadPlayers(JobId job);

  common::Database db_;
  common::Transaction turn_{&db_};  // Open from the turn's first write
  std::unordered_map<TaskId, TaskRecord> pending_tasks_;  // to write
  common::Statement insert_job_, insert_job_player_, insert_task_, update_task_,
      update_job_, find_key_, expired_jobs_, delete_tasks_, delete_job_players_,
      delete_job_, probe_;
};

}  // namespace orchestra::conductor

#endif  // ORCHESTRA_CONDUCTOR_JOB_STORE_H_
