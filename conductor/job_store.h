// JobStore is the conductor's store as the loop sees it (DESIGN.md
// sections 8 and 17): jobs and tasks here, players through PlayerStore,
// on one database. Writes are recorded as values in the turn's
// StoreBatch and handed to StoreThread at Seal(), which commits them on
// its engine while the loop goes on; reads run at once on a connection of
// their own and see what is committed, so a read never waits for a commit
// in flight. What the loop needs of its own writes before they commit (an
// idempotency key's job, a new job's params) it keeps until Committed().
// Not thread-safe: owned by the conductor's loop thread.

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
#include "conductor/store_engine.h"
#include "conductor/store_query.h"
#include "conductor/store_reader.h"
#include "conductor/store_thread.h"
#include "conductor/store_writes.h"

namespace orchestra::conductor {

using broker::JobId;
using broker::JobRecord;
using broker::TaskId;
using broker::TaskRecord;

// What one PurgeFinishedBefore() call deleted.
struct Purged {
  int64_t jobs = 0;    // jobs deleted whole
  int64_t rows = 0;    // rows deleted: jobs, their tasks and target lists
  JobId last_job = 0;  // the last job deleted whole, 0 if none
  bool more = false;   // the row budget ran out: there may be more to do
};

class JobStore {
 public:
  // Opens (creating and migrating if needed) the database at `path`, on
  // the SQLite engine, and starts the store's thread.
  static common::Result<std::unique_ptr<JobStore>> Open(
      const std::string& path);
  // The same on any engine, `reader` reading what it commits (a cell's
  // store: conductor/cell.h). The schema is already there.
  static common::Result<std::unique_ptr<JobStore>> Create(
      std::unique_ptr<StoreEngine> engine, StoreReader reader);

  // True when the turn has writes for Seal() to hand over.
  bool HasWrites() const {
    return !batch_.writes.empty() || !pending_tasks_.empty() ||
           batch_.checkpoint;
  }
  // Ends the open turn: numbers it (1, 2, ...) and hands its writes, if
  // any, to the store thread.
  struct Sealed {
    uint64_t turn = 0;
    bool writes = false;  // else nothing went to the thread
  };
  Sealed Seal();
  // Reports of sealed turns (StoreThread::TakeDone()).
  std::vector<StoreDone> TakeDone() { return thread_->TakeDone(); }
  // Blocks until every sealed turn has a report.
  void WaitUntilIdle() { thread_->WaitUntilIdle(); }
  // Readable while reports wait.
  int done_fd() const { return thread_->fd(); }
  // Turns up to `turn` are committed: what was kept of them goes.
  void Committed(uint64_t turn);
  // A commit failed or a turn is undone: the open turn's writes and what
  // was kept of turns in flight are dropped, and a new epoch starts (the
  // thread fails the old epoch's batches still queued). Reports of the
  // old epoch are to be ignored.
  void Abandon();
  uint64_t epoch() const { return epoch_; }

  // Seals the open turn and waits for its commit, taking every report:
  // for tests of the store alone. REQUIRES: no other turn in flight.
  common::Status Commit();
  // Rewrites the schema version, unchanged, in the turn: its commit then
  // writes a page even when nothing else changed, and so shows whether
  // the database takes writes again.
  void Probe() { Add(WriteKind::kProbe, {}); }
  // After the turn's commit, copy the WAL into the database, as far as
  // readers allow, without waiting for them (reported as the turn's
  // StoreDone::checkpoint).
  void RequestCheckpoint() { batch_.checkpoint = true; }
  // Commit() with a checkpoint after it: what the checkpoint did.
  // REQUIRES: no other turn in flight.
  common::Result<common::CheckpointResult> Checkpoint();
  // The reads, and the turn's writes, for PlayerStore.
  StoreReader* reader() { return &reader_; }
  // The SQLite read connection (null on a cell), for tests.
  common::Database* database() { return reader_.local(); }
  std::vector<StoreWrite>* writes() { return &batch_.writes; }

  // Adds `job` and its tasks; sets job->id and each task's id (never
  // one used before, AUTOINCREMENT's promise).
  common::Status InsertJob(JobRecord* job, const std::string& key);
  // Adds `task` to job `job`; sets task->task.
  common::Status InsertTask(JobId job, TaskRecord* task);
  // Writes every field of an existing task (at the latest by Commit();
  // several updates of one task in a turn write its row once).
  common::Status UpdateTask(const TaskRecord& task);
  // Writes the job's state and finished_at.
  common::Status UpdateJobState(const JobRecord& job);

  // The job `submitted_by` submitted with idempotency key `key`, if any,
  // committed or not.
  common::Result<std::optional<JobId>> FindJobByKey(
      const std::string& submitted_by, const std::string& key);
  // The whole record of job `id`, if it exists.
  common::Result<std::optional<JobRecord>> LoadJob(JobId id);
  // The params of job `id`, committed or not ({} if there is no such job).
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
  // True while the writes of the last PurgeFinishedBefore() are not yet
  // committed: the next one would plan them again.
  bool PurgeInFlight() const { return purge_turn_ > committed_turn_; }

  JobStore(const JobStore&) = delete;
  JobStore& operator=(const JobStore&) = delete;

 private:
  // What the loop keeps of a job until its turn commits.
  struct Unsettled {
    uint64_t turn = 0;
    JobRecord header;  // without tasks
    std::string key;   // idempotency key
  };

  JobStore(StoreReader reader, std::unique_ptr<StoreThread> thread)
      : reader_(std::move(reader)), thread_(std::move(thread)) {}
  common::Status LoadNextIds();
  // Seals the open turn, waits for it and takes every report: the status
  // of its commit, with the checkpoint's result in `*checkpoint`.
  common::Status CommitAndWait(
      std::optional<common::Result<common::CheckpointResult>>* checkpoint);
  void Add(WriteKind kind, std::vector<StoreValue> values);
  common::Result<std::vector<JobId>> ExpiredJobs(common::TimeMs cutoff,
                                                 int64_t limit);
  common::Result<int64_t> CountRows(const char* table, JobId job);
  // Writes the task rows UpdateTask() kept back.
  void FlushTasks();
  void WriteTask(const TaskRecord& task);
  common::Result<std::vector<std::string>> LoadPlayers(JobId job);

  StoreReader reader_;
  std::unique_ptr<StoreThread> thread_;
  StoreBatch batch_;  // the open turn
  uint64_t epoch_ = 0;
  uint64_t last_turn_ = 0;       // sealed
  uint64_t committed_turn_ = 0;  // reported committed
  uint64_t purge_turn_ = 0;      // of the last purge's writes
  JobId next_job_ = 1;
  TaskId next_task_ = 1;
  std::unordered_map<TaskId, TaskRecord> pending_tasks_;  // to write
  std::map<std::pair<std::string, std::string>, JobId> unsettled_keys_;
  std::map<JobId, Unsettled> unsettled_;  // jobs inserted, not committed
  StoreQuery find_key_, expired_jobs_;
};

}  // namespace orchestra::conductor

#endif  // ORCHESTRA_CONDUCTOR_JOB_STORE_H_
