// Tests for conductor/job_store.h on a real SQLite file in a temp dir: the
// schema of DESIGN.md section 8, round trips of every field of a job and its
// tasks, the `jobs` listing, group commit (nothing survives without
// Commit(), the players' rows of PlayerStore included), and the reporting
// views; and on a full tmpfs, what a failed commit leaves.

#include "conductor/job_store.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "common/log.h"
#include "common/sqlite.h"
#include "conductor/schema.h"
#include "test/conductor_samples.h"
#include "test/small_disk.h"
#include "test/test_util.h"

namespace orchestra::conductor {
namespace {

using broker::JobsRequest;
using broker::JobState;
using broker::JobSummary;
using broker::Scope;
using broker::ScoreInfo;
using broker::TaskState;
using common::Result;

constexpr common::TimeMs kT0 = 1795000000123;  // 2026-11-18T11:06:40.123Z

class JobStoreTest : public testing::Test {
 protected:
  void SetUp() override {
    common::SetLogSinkForTest([](common::LogLevel, std::string_view) {});
    Reopen();
  }
  void TearDown() override { common::SetLogSinkForTest(nullptr); }

  // Closes the store (dropping an uncommitted turn) and opens it again.
  void Reopen() { test::OpenStores(path(), &store_, &players_); }
  std::string path() const { return dir_.File("conductor.db"); }

  static JobRecord Job(Scope scope, std::vector<std::string> players,
                       const std::string& score = "backup") {
    return test::SampleJob(scope, std::move(players), kT0, score);
  }
  // A job with every field set, unicode in its parameters.
  static JobRecord FullJob() {
    JobRecord job = Job(Scope::kAll, {"web-2", "web-1"}, "db.dump-2");
    job.params = {{"target", "héllo wörld ✓"}, {"empty", ""}, {"q", "\"'\\"}};
    job.submitted_by = "uid=1000";
    job.timeout_s = 90;
    job.delivery_timeout_s = 0;
    job.target = "role=db dc=syd,mel";
    job.max_concurrency = broker::RolloutLimit{10, true};
    job.max_errors = broker::RolloutLimit{0, false};
    job.priority = -42;
    return job;
  }
  static void ExpectSameJob(const JobRecord& want, const JobRecord& got) {
    EXPECT_EQ(want.score, got.score);
    EXPECT_EQ(want.scope, got.scope);
    EXPECT_EQ(want.players, got.players);
    EXPECT_EQ(want.params, got.params);
    EXPECT_EQ(want.state, got.state);
    EXPECT_EQ(want.submitted_by, got.submitted_by);
    EXPECT_EQ(want.timeout_s, got.timeout_s);
    EXPECT_EQ(want.delivery_timeout_s, got.delivery_timeout_s);
    EXPECT_EQ(want.target, got.target);
    EXPECT_EQ(want.max_concurrency, got.max_concurrency);
    EXPECT_EQ(want.max_errors, got.max_errors);
    EXPECT_EQ(want.priority, got.priority);
    EXPECT_EQ(want.created_at, got.created_at);
    EXPECT_EQ(want.finished_at, got.finished_at);
    EXPECT_EQ(want.tasks.size(), got.tasks.size());
  }
  // Task `id` with every field set, unicode in its output and response.
  static TaskRecord FullTask(TaskId id) {
    TaskRecord t;
    t.task = id;
    t.player = "web-1";
    t.attempt = 3;
    t.state = TaskState::kFail;
    t.exit_code = 2;
    t.signal = 15;
    t.stdout_text = "out ✓\nline 2";
    t.stderr_text = "erreur: ünïcode";
    t.stdout_truncated = true;
    t.response = {{"rows", "42"}, {"note", "日本語"}};
    t.error = "exit status 2";
    t.dispatched_at = kT0 + 1;
    t.started_at = kT0 + 20;
    t.finished_at = kT0 + 3999;
    return t;
  }
  static void ExpectSameTask(const TaskRecord& want, const TaskRecord& got) {
    EXPECT_EQ(want.task, got.task);
    EXPECT_EQ(want.player, got.player);
    EXPECT_EQ(want.attempt, got.attempt);
    EXPECT_EQ(want.state, got.state);
    EXPECT_EQ(want.exit_code, got.exit_code);
    EXPECT_EQ(want.signal, got.signal);
    EXPECT_EQ(want.stdout_text, got.stdout_text);
    EXPECT_EQ(want.stderr_text, got.stderr_text);
    EXPECT_EQ(want.stdout_truncated, got.stdout_truncated);
    EXPECT_EQ(want.stderr_truncated, got.stderr_truncated);
    EXPECT_EQ(want.response, got.response);
    EXPECT_EQ(want.error, got.error);
    EXPECT_EQ(want.dispatched_at, got.dispatched_at);
    EXPECT_EQ(want.started_at, got.started_at);
    EXPECT_EQ(want.finished_at, got.finished_at);
  }
  // Inserts and commits `job`; returns its id.
  JobId Insert(JobRecord job, const std::string& key = "") {
    EXPECT_OK(store_->InsertJob(&job, key));
    EXPECT_OK(store_->Commit());
    return job.id;
  }
  JobRecord Load(JobId id) {
    return test::StoredJob(store_.get(), id).value_or(JobRecord());
  }
  void Finish(JobId id, JobState state) {
    JobRecord job = Load(id);
    job.state = state;
    job.finished_at = kT0 + 5000;
    EXPECT_OK(store_->UpdateJobState(job));
    EXPECT_OK(store_->Commit());
  }
  std::vector<JobId> List(const JobsRequest& filter) {
    Result<std::vector<JobSummary>> jobs = store_->ListJobs(filter);
    EXPECT_OK(jobs.status());
    std::vector<JobId> ids;
    if (jobs.ok())
      for (const JobSummary& s : jobs.value()) ids.push_back(s.id);
    return ids;
  }
  // The first row of `sql` (`columns` wide) read through a second
  // connection, as a reporting tool would: "a|b|c", or "no row".
  std::string Query(const std::string& sql, int columns = 1) {
    return test::FirstRow(path(), sql, columns);
  }
  std::vector<StoredPlayer> KnownPlayers() {
    return test::KnownPlayers(players_.get());
  }

  test::TempDir dir_;
  std::unique_ptr<JobStore> store_;
  std::unique_ptr<PlayerStore> players_;  // on store_'s database and turn
};

TEST_F(JobStoreTest, NewDatabaseHasTheLatestSchemaVersion) {
  EXPECT_EQ(std::to_string(kSchemaVersion), Query("PRAGMA user_version"));
  EXPECT_EQ("9", Query("SELECT count(*) FROM sqlite_master WHERE name IN "
                       "('jobs', 'job_players', 'tasks', 'players', "
                       "'player_scores', 'job_summary', 'player_summary', "
                       "'score_summary', 'jobs_pending')"));
}

// A database written by a conductor of schema version 1 (plain rowids, no
// score_summary) is migrated in place on open, its jobs, tasks and target
// lists kept, and its ids are not reused afterwards.
TEST_F(JobStoreTest, VersionOneDatabaseIsMigratedInPlace) {
  store_.reset();
  ASSERT_EQ(0, ::unlink(path().c_str()));
  {
    Result<common::Database> db = common::Database::Open(path());
    ASSERT_OK(db.status());
    ASSERT_OK(db.value().Exec(kSchemaV1));
    ASSERT_OK(db.value().Exec(
        "INSERT INTO jobs(id, score, scope, state, idempotency_key, "
        "created_at, finished_at) VALUES(7, 'backup', 'all', 'OK', 'k7', "
        "'2026-11-18T11:06:40.123Z', '2026-11-18T11:06:41.123Z');"
        "INSERT INTO job_players VALUES(7, 'web-1', 0), (7, 'web-2', 1);"
        "INSERT INTO tasks(id, job_id, player, state, stdout) VALUES"
        "(30, 7, 'web-1', 'OK', 'out 1'), (31, 7, 'web-2', 'OK', 'out 2');"));
  }
  ASSERT_EQ("1", Query("PRAGMA user_version"));
  std::vector<std::string> logged;
  common::SetLogSinkForTest([&](common::LogLevel, std::string_view line) {
    logged.emplace_back(line);
  });
  Reopen();
  common::SetLogSinkForTest([](common::LogLevel, std::string_view) {});
  EXPECT_EQ(std::to_string(kSchemaVersion), Query("PRAGMA user_version"));
  EXPECT_EQ("7|2|2", Query("SELECT id, tasks, ok FROM job_summary", 3));
  EXPECT_EQ("1", Query("SELECT count(*) FROM sqlite_master "
                       "WHERE name = 'score_summary'"));
  JobRecord job = Load(7);
  EXPECT_EQ("backup", job.score);
  EXPECT_EQ((std::vector<std::string>{"web-1", "web-2"}), job.players);
  ASSERT_EQ(2u, job.tasks.size());
  EXPECT_EQ(31, job.tasks[1].task);
  EXPECT_EQ("out 2", job.tasks[1].stdout_text);
  Result<std::optional<JobId>> by_key = store_->FindJobByKey("", "k7");
  ASSERT_OK(by_key.status());
  EXPECT_EQ(std::optional<JobId>(7), by_key.value());
  ASSERT_EQ(1u, logged.size());
  EXPECT_NE(std::string::npos, logged[0].find("from=1 to=" + std::to_string(kSchemaVersion))) << logged[0];

  // Delete the newest job: the next job and task still get new ids.
  ASSERT_OK(store_->PurgeFinishedBefore(kT0 + 100000, 100).status());
  ASSERT_OK(store_->Commit());
  JobRecord next = Job(Scope::kOne, {"web-1"});
  ASSERT_OK(store_->InsertJob(&next, ""));
  ASSERT_OK(store_->Commit());
  EXPECT_EQ(8, next.id);
  EXPECT_EQ(32, next.tasks[0].task);
  EXPECT_EQ("no row", Query("PRAGMA foreign_key_check"));
}

// Version 2 held an idempotency key unique across all submitters. The
// migration to 3 scopes keys to their submitter, keeps every job and key,
// and carries the id counter over: ids retention deleted never come back.
TEST_F(JobStoreTest, VersionTwoDatabaseScopesIdempotencyKeysToSubmitters) {
  store_.reset();
  ASSERT_EQ(0, ::unlink(path().c_str()));
  {
    Result<common::Database> db = common::Database::Open(path());
    ASSERT_OK(db.status());
    ASSERT_OK(db.value().Exec("PRAGMA foreign_keys = OFF"));
    ASSERT_OK(db.value().Exec(kSchemaV1));
    ASSERT_OK(db.value().Exec(kSchemaV2));
    ASSERT_OK(db.value().Exec(
        "INSERT INTO jobs(id, score, scope, state, submitted_by, "
        "idempotency_key, created_at) VALUES(5, 'backup', 'one', 'PENDING', "
        "'alice', 'k', '2026-11-18T11:06:40.123Z'), (9, 'backup', 'one', "
        "'OK', 'bob', 'k2', '2026-11-18T11:06:40.123Z');"
        "INSERT INTO job_players VALUES(5, 'web-1', 0), (9, 'web-1', 0);"
        "INSERT INTO tasks(id, job_id, state) VALUES(40, 5, 'QUEUED'), "
        "(41, 9, 'OK');"
        "PRAGMA foreign_keys = ON;"
        "DELETE FROM jobs WHERE id = 9;"));
  }
  ASSERT_EQ("2", Query("PRAGMA user_version"));
  Reopen();
  EXPECT_EQ(std::to_string(kSchemaVersion), Query("PRAGMA user_version"));
  EXPECT_EQ("no row", Query("PRAGMA foreign_key_check"));
  EXPECT_EQ("5|1", Query("SELECT id, players FROM job_summary", 2));
  Result<std::optional<JobId>> alice = store_->FindJobByKey("alice", "k");
  ASSERT_OK(alice.status());
  EXPECT_EQ(std::optional<JobId>(5), alice.value());
  Result<std::optional<JobId>> bob = store_->FindJobByKey("bob", "k");
  ASSERT_OK(bob.status());
  EXPECT_FALSE(bob.value());
  JobRecord theirs = Job(Scope::kOne, {"web-1"});
  theirs.submitted_by = "bob";
  ASSERT_OK(store_->InsertJob(&theirs, "k"));
  ASSERT_OK(store_->Commit());
  EXPECT_EQ(10, theirs.id) << "job 9 was deleted: its id must not return";
  JobRecord again = Job(Scope::kOne, {"web-1"});
  again.submitted_by = "alice";
  EXPECT_EQ(common::Status::Code::kConflict,
            store_->InsertJob(&again, "k").code());
  EXPECT_OK(store_->Commit());
  EXPECT_EQ("1", Query("SELECT count(*) FROM sqlite_master WHERE name IN "
                       "('jobs_pending')"));
}

// Version 3 had none of DESIGN.md section 13's columns. The migration to 4
// adds them to a real version 3 file (made by the earlier migrations, as
// an older conductor left it) in place: old jobs read as listed by name,
// priority 0, no rollout; old players get no labels; the views still read,
// job_summary counting SKIPPED tasks; and new jobs store every new field.
TEST_F(JobStoreTest, VersionThreeDatabaseGainsTargetsRolloutsAndLabels) {
  players_.reset();
  store_.reset();
  ASSERT_EQ(0, ::unlink(path().c_str()));
  {
    Result<common::Database> db = common::Database::Open(path());
    ASSERT_OK(db.status());
    ASSERT_OK(db.value().Exec("PRAGMA foreign_keys = OFF"));
    for (const char* migration : {kSchemaV1, kSchemaV2, kSchemaV3})
      ASSERT_OK(db.value().Exec(migration));
    ASSERT_OK(db.value().Exec(
        "INSERT INTO jobs(id, score, scope, state, submitted_by, "
        "idempotency_key, created_at, finished_at) VALUES(12, 'backup', "
        "'all', 'FAIL', 'alice', 'k', '2026-11-18T11:06:40.123Z', "
        "'2026-11-18T11:06:45.123Z'), (13, 'backup', 'one', 'PENDING', "
        "'bob', NULL, '2026-11-18T11:06:41.123Z', NULL);"
        "INSERT INTO job_players VALUES(12, 'web-1', 0), (12, 'web-2', 1), "
        "(13, 'web-2', 0);"
        "INSERT INTO tasks(id, job_id, player, state) VALUES"
        "(50, 12, 'web-1', 'FAIL'), (51, 12, 'web-2', 'FAIL'), "
        "(52, 13, NULL, 'QUEUED');"
        "INSERT INTO players(name, public_key, version, slots, connected, "
        "first_seen, last_seen) VALUES('web-1', 'key-1', '1.0', 4, 1, "
        "'2026-11-18T11:00:00.000Z', '2026-11-18T11:06:00.000Z');"));
  }
  ASSERT_EQ("3", Query("PRAGMA user_version"));
  std::vector<std::string> logged;
  common::SetLogSinkForTest([&](common::LogLevel, std::string_view line) {
    logged.emplace_back(line);
  });
  Reopen();
  common::SetLogSinkForTest([](common::LogLevel, std::string_view) {});
  EXPECT_EQ(std::to_string(kSchemaVersion), Query("PRAGMA user_version"));
  ASSERT_EQ(1u, logged.size());
  EXPECT_NE(std::string::npos, logged[0].find("from=3 to=" + std::to_string(kSchemaVersion))) << logged[0];
  EXPECT_EQ("no row", Query("PRAGMA foreign_key_check"));

  // The new columns, with their defaults on the old rows.
  EXPECT_EQ("12|<null>|0|<null>|<null>",
            Query("SELECT id, COALESCE(target, '<null>'), priority, "
                  "COALESCE(max_concurrency, '<null>'), "
                  "COALESCE(max_errors, '<null>') FROM jobs ORDER BY id",
                  5));
  EXPECT_EQ("web-1|{}", Query("SELECT name, labels FROM players", 2));
  EXPECT_EQ("0", Query("SELECT COUNT(*) FROM tasks WHERE cpu_s IS NOT NULL "
                       "OR memory_peak_bytes IS NOT NULL"));
  JobRecord old = Load(12);
  EXPECT_EQ("backup", old.score);
  EXPECT_EQ((std::vector<std::string>{"web-1", "web-2"}), old.players);
  EXPECT_EQ("", old.target);
  EXPECT_EQ(0, old.priority);
  EXPECT_FALSE(old.max_concurrency.has_value());
  EXPECT_FALSE(old.max_errors.has_value());
  ASSERT_EQ(2u, old.tasks.size());
  std::vector<StoredPlayer> known = KnownPlayers();
  ASSERT_EQ(1u, known.size());
  EXPECT_TRUE(known[0].labels.empty());
  EXPECT_EQ(4, known[0].slots);
  Result<std::vector<JobRecord>> unfinished = store_->LoadUnfinishedJobs();
  ASSERT_OK(unfinished.status());
  ASSERT_EQ(1u, unfinished.value().size());
  EXPECT_EQ(13, unfinished.value()[0].id);
  EXPECT_EQ(0, unfinished.value()[0].priority);
  Result<std::optional<JobId>> alice = store_->FindJobByKey("alice", "k");
  ASSERT_OK(alice.status());
  EXPECT_EQ(std::optional<JobId>(12), alice.value());

  // A SKIPPED task (no CHECK refuses it) counts in job_summary.
  ASSERT_OK(store_->database()->Exec(
      "UPDATE tasks SET state = 'SKIPPED' WHERE id = 51"));
  EXPECT_EQ("12|2|0|1|1|0",
            Query("SELECT id, tasks, ok, fail, other_failures, unfinished "
                  "FROM job_summary WHERE id = 12",
                  6));
  EXPECT_EQ("<null>|0", Query("SELECT COALESCE(target, '<null>'), priority "
                              "FROM job_summary WHERE id = 12",
                              2));

  // New jobs keep every new field, and ids go on from the old ones.
  JobRecord rollout = FullJob();
  ASSERT_OK(store_->InsertJob(&rollout, ""));
  ASSERT_OK(store_->Commit());
  EXPECT_EQ(14, rollout.id);
  ExpectSameJob(rollout, Load(rollout.id));
  EXPECT_EQ("role=db dc=syd,mel|-42|10%|0",
            Query("SELECT target, priority, max_concurrency, max_errors "
                  "FROM jobs WHERE id = 14",
                  4));
  EXPECT_EQ("role=db dc=syd,mel|-42",
            Query("SELECT target, priority FROM job_summary WHERE id = 14", 2));
}

// Retention deletes the newest jobs too; their ids must never come back,
// or a client's old job id would name another job and a task id could
// reach a player that still remembers it.
TEST_F(JobStoreTest, IdsOfDeletedJobsAndTasksAreNeverReused) {
  JobRecord job = Job(Scope::kAll, {"web-1", "web-2"});
  ASSERT_OK(store_->InsertJob(&job, ""));
  job.state = JobState::kOk;
  job.finished_at = kT0;
  ASSERT_OK(store_->UpdateJobState(job));
  ASSERT_OK(store_->Commit());
  ASSERT_OK(store_->PurgeFinishedBefore(kT0 + 1, 100).status());
  ASSERT_OK(store_->Commit());
  ASSERT_EQ("0", Query("SELECT count(*) FROM jobs"));
  JobRecord next = Job(Scope::kOne, {"web-1"});
  ASSERT_OK(store_->InsertJob(&next, ""));
  ASSERT_OK(store_->Commit());
  EXPECT_GT(next.id, job.id);
  EXPECT_GT(next.tasks[0].task, job.tasks[1].task);
}

TEST_F(JobStoreTest, DatabaseFileIsInWalMode) {
  std::ifstream file(path(), std::ios::binary);
  char header[20] = {};
  ASSERT_TRUE(file.read(header, sizeof(header)));
  EXPECT_EQ(2, header[18]) << "write version: 2 means WAL";
  EXPECT_EQ(2, header[19]) << "read version: 2 means WAL";
  EXPECT_EQ("wal", Query("PRAGMA journal_mode"));
}

TEST_F(JobStoreTest, ConnectionsUseFullSynchronous) {
  EXPECT_EQ("2", Query("PRAGMA synchronous")) << "2 is FULL";
}

TEST_F(JobStoreTest, ReopenKeepsSchemaAndJobs) {
  JobId id = Insert(Job(Scope::kOne, {"web-1"}));
  Reopen();
  EXPECT_EQ(std::to_string(kSchemaVersion), Query("PRAGMA user_version"));
  EXPECT_EQ("backup", Load(id).score);
}

TEST_F(JobStoreTest, NewerSchemaVersionIsRefused) {
  store_.reset();
  ASSERT_EQ("no row", Query("PRAGMA user_version = " +
                            std::to_string(kSchemaVersion + 1)));
  Result<std::unique_ptr<JobStore>> store = JobStore::Open(path());
  EXPECT_EQ(common::Status::Code::kInvalidArgument, store.status().code());
  EXPECT_NE(std::string::npos, store.status().message().find("upgrade"));
}

TEST_F(JobStoreTest, InsertJobSetsJobAndTaskIds) {
  JobRecord job = Job(Scope::kAll, {"web-1", "web-2"});
  ASSERT_OK(store_->InsertJob(&job, ""));
  EXPECT_GT(job.id, 0);
  EXPECT_GT(job.tasks[0].task, 0);
  EXPECT_NE(job.tasks[0].task, job.tasks[1].task);
}

TEST_F(JobStoreTest, LoadJobRoundTripsEveryJobField) {
  JobRecord job = FullJob();
  ExpectSameJob(job, Load(Insert(job)));
}

TEST_F(JobStoreTest, UnsetOptionalsStayUnset) {
  JobRecord loaded = Load(Insert(Job(Scope::kOne, {"web-1"})));
  EXPECT_FALSE(loaded.timeout_s);
  EXPECT_FALSE(loaded.delivery_timeout_s);
  EXPECT_TRUE(loaded.params.empty());
  ASSERT_EQ(1u, loaded.tasks.size());
  EXPECT_EQ("", loaded.tasks[0].player);
  EXPECT_FALSE(loaded.tasks[0].exit_code);
  EXPECT_EQ(0, loaded.tasks[0].dispatched_at);
}

TEST_F(JobStoreTest, LoadJobReadsTasksInOrderWithTheirPlayers) {
  JobRecord loaded = Load(Insert(Job(Scope::kAll, {"web-2", "web-1"})));
  ASSERT_EQ(2u, loaded.tasks.size());
  EXPECT_EQ("web-2", loaded.tasks[0].player);
  EXPECT_EQ("web-1", loaded.tasks[1].player);
  EXPECT_LT(loaded.tasks[0].task, loaded.tasks[1].task);
  EXPECT_EQ(TaskState::kQueued, loaded.tasks[1].state);
  EXPECT_EQ(1, loaded.tasks[1].attempt);
}

TEST_F(JobStoreTest, LoadJobOfUnknownIdIsEmpty) {
  Result<std::optional<JobRecord>> job = store_->LoadJob(4242);
  ASSERT_OK(job.status());
  EXPECT_FALSE(job.value());
}

TEST_F(JobStoreTest, UpdateTaskRoundTripsEveryTaskField) {
  JobId id = Insert(Job(Scope::kOne, {"web-1"}));
  TaskRecord task = FullTask(Load(id).tasks[0].task);
  ASSERT_OK(store_->UpdateTask(task));
  ASSERT_OK(store_->Commit());
  ExpectSameTask(task, Load(id).tasks[0]);
}

TEST_F(JobStoreTest, SkippedTaskRoundTrips) {
  JobId id = Insert(Job(Scope::kAll, {"web-1", "web-2"}));
  TaskRecord task = Load(id).tasks[1];
  task.state = TaskState::kSkipped;
  task.finished_at = kT0 + 10;
  task.error = "not dispatched: more than 0 tasks failed (max_errors 0)";
  ASSERT_OK(store_->UpdateTask(task));
  ASSERT_OK(store_->Commit());
  ExpectSameTask(task, Load(id).tasks[1]);
  EXPECT_EQ("SKIPPED", Query("SELECT state FROM tasks WHERE id = " +
                             std::to_string(task.task)));
}

TEST_F(JobStoreTest, JobsWithoutTheNewFieldsStoreNullsAndZero) {
  JobId id = Insert(Job(Scope::kOne, {"web-1"}));
  EXPECT_EQ("1|1|1|0",
            Query("SELECT target IS NULL, max_concurrency IS NULL, "
                  "max_errors IS NULL, priority FROM jobs WHERE id = " +
                      std::to_string(id),
                  4));
  JobRecord loaded = Load(id);
  EXPECT_EQ("", loaded.target);
  EXPECT_FALSE(loaded.max_concurrency);
  EXPECT_FALSE(loaded.max_errors);
  EXPECT_EQ(0, loaded.priority);
}

TEST_F(JobStoreTest, UpdateTaskClearsOptionalIntsAndTimes) {
  JobId id = Insert(Job(Scope::kOne, {"web-1"}));
  TaskRecord t = Load(id).tasks[0];
  t.exit_code = 1;
  t.started_at = kT0;
  ASSERT_OK(store_->UpdateTask(t));
  t.exit_code.reset();
  t.started_at = 0;
  ASSERT_OK(store_->UpdateTask(t));
  EXPECT_FALSE(Load(id).tasks[0].exit_code);
  EXPECT_EQ(0, Load(id).tasks[0].started_at);
}

// A page of a finished job reads its header and only the rows it holds.
TEST_F(JobStoreTest, APageReadsTheJobWithoutTasksThenTasksFromAnIndex) {
  JobRecord job = FullJob();
  const JobId id = Insert(job);
  JobRecord whole = Load(id);
  int64_t total = -1;
  Result<std::optional<JobRecord>> header = store_->LoadJobHeader(id, &total);
  ASSERT_OK(header.status());
  ASSERT_TRUE(header.value().has_value());
  EXPECT_EQ(static_cast<int64_t>(whole.tasks.size()), total);
  EXPECT_TRUE(header.value()->tasks.empty());
  JobRecord with_tasks = *header.value();
  with_tasks.tasks = whole.tasks;
  ExpectSameJob(whole, with_tasks);

  std::vector<TaskId> seen;
  ASSERT_OK(store_->ForEachTask(id, 1, [&](const TaskRecord& t) {
    seen.push_back(t.task);
    return false;  // the page is full after one
  }));
  EXPECT_EQ(std::vector<TaskId>{whole.tasks[1].task}, seen);
  seen.clear();
  ASSERT_OK(store_->ForEachTask(id, 0, [&](const TaskRecord& t) {
    seen.push_back(t.task);
    return true;
  }));
  EXPECT_EQ(whole.tasks.size(), seen.size());
  ASSERT_OK(store_->ForEachTask(id, 99, [&](const TaskRecord&) {
    ADD_FAILURE() << "no task is past the last";
    return true;
  }));
  EXPECT_FALSE(store_->LoadJobHeader(4242, &total).value().has_value());
}

TEST_F(JobStoreTest, InsertTaskAddsALaterAttempt) {
  JobId id = Insert(Job(Scope::kOne, {"web-1", "web-2"}));
  TaskRecord next;
  next.attempt = 2;
  ASSERT_OK(store_->InsertTask(id, &next));
  ASSERT_OK(store_->Commit());
  JobRecord loaded = Load(id);
  ASSERT_EQ(2u, loaded.tasks.size());
  EXPECT_EQ(next.task, loaded.tasks[1].task);
  EXPECT_EQ(2, loaded.tasks[1].attempt);
}

TEST_F(JobStoreTest, UpdateJobStateStoresStateAndFinishedAt) {
  JobId id = Insert(Job(Scope::kOne, {"web-1"}));
  Finish(id, JobState::kPartialFail);
  JobRecord loaded = Load(id);
  EXPECT_EQ(JobState::kPartialFail, loaded.state);
  EXPECT_EQ(kT0 + 5000, loaded.finished_at);
}

TEST_F(JobStoreTest, FindJobByKeyReturnsTheJobSubmittedWithIt) {
  Insert(Job(Scope::kOne, {"web-1"}), "key-a");
  JobId b = Insert(Job(Scope::kOne, {"web-1"}), "key-b");
  Result<std::optional<JobId>> found = store_->FindJobByKey("", "key-b");
  ASSERT_OK(found.status());
  EXPECT_EQ(std::optional<JobId>(b), found.value());
  Result<std::optional<JobId>> missing = store_->FindJobByKey("", "key-c");
  ASSERT_OK(missing.status());
  EXPECT_FALSE(missing.value());
}

// DESIGN.md section 6: the same key from another submitter is another job.
TEST_F(JobStoreTest, IdempotencyKeysBelongToTheirSubmitter) {
  JobRecord alice = Job(Scope::kOne, {"web-1"});
  alice.submitted_by = "alice";
  JobId a = Insert(alice, "shared");
  JobRecord bob = Job(Scope::kOne, {"web-1"});
  bob.submitted_by = "bob";
  JobId b = Insert(bob, "shared");
  EXPECT_NE(a, b);
  EXPECT_EQ(std::optional<JobId>(a),
            store_->FindJobByKey("alice", "shared").value());
  EXPECT_EQ(std::optional<JobId>(b),
            store_->FindJobByKey("bob", "shared").value());
  EXPECT_FALSE(store_->FindJobByKey("carol", "shared").value());
}

TEST_F(JobStoreTest, JobsWithoutKeyDoNotCollide) {
  Insert(Job(Scope::kOne, {"web-1"}));
  Insert(Job(Scope::kOne, {"web-1"}));
  Result<std::optional<JobId>> found = store_->FindJobByKey("", "");
  ASSERT_OK(found.status());
  EXPECT_FALSE(found.value());
}

TEST_F(JobStoreTest, DuplicateKeyIsConflict) {
  Insert(Job(Scope::kOne, {"web-1"}), "same");
  JobRecord again = Job(Scope::kOne, {"web-1"});
  EXPECT_EQ(common::Status::Code::kConflict,
            store_->InsertJob(&again, "same").code());
}

TEST_F(JobStoreTest, LoadUnfinishedJobsReturnsPendingOnesOldestFirst) {
  JobId a = Insert(Job(Scope::kOne, {"web-1"}));
  JobId b = Insert(Job(Scope::kAll, {"web-1", "web-2"}));
  JobId c = Insert(Job(Scope::kOne, {"web-1"}));
  Finish(b, JobState::kOk);
  Result<std::vector<JobRecord>> jobs = store_->LoadUnfinishedJobs();
  ASSERT_OK(jobs.status());
  ASSERT_EQ(2u, jobs.value().size());
  EXPECT_EQ(a, jobs.value()[0].id);
  EXPECT_EQ(c, jobs.value()[1].id);
  EXPECT_EQ(1u, jobs.value()[1].tasks.size());
  EXPECT_EQ(std::vector<std::string>{"web-1"}, jobs.value()[1].players);
}

TEST_F(JobStoreTest, ListJobsIsNewestFirst) {
  JobId a = Insert(Job(Scope::kOne, {"web-1"}));
  JobId b = Insert(Job(Scope::kOne, {"web-1"}));
  JobId c = Insert(Job(Scope::kOne, {"web-1"}));
  EXPECT_EQ((std::vector<JobId>{c, b, a}), List(JobsRequest()));
}

TEST_F(JobStoreTest, ListJobsFiltersByState) {
  Insert(Job(Scope::kOne, {"web-1"}));
  JobId b = Insert(Job(Scope::kOne, {"web-1"}));
  Finish(b, JobState::kFail);
  JobsRequest filter;
  filter.state = JobState::kFail;
  EXPECT_EQ(std::vector<JobId>{b}, List(filter));
}

TEST_F(JobStoreTest, ListJobsFiltersByScoreAndPlayer) {
  JobId a = Insert(Job(Scope::kOne, {"web-1"}, "backup"));
  JobId b = Insert(Job(Scope::kAll, {"web-1", "web-2"}, "restore"));
  Insert(Job(Scope::kOne, {"web-3"}, "restore"));
  JobsRequest by_score;
  by_score.score = "backup";
  EXPECT_EQ(std::vector<JobId>{a}, List(by_score));
  JobsRequest by_player;
  by_player.player = "web-1";
  EXPECT_EQ((std::vector<JobId>{b, a}), List(by_player));
}

TEST_F(JobStoreTest, ListJobsPagesWithBeforeAndLimit) {
  JobId a = Insert(Job(Scope::kOne, {"web-1"}));
  JobId b = Insert(Job(Scope::kOne, {"web-1"}));
  JobId c = Insert(Job(Scope::kOne, {"web-1"}));
  JobsRequest filter;
  filter.limit = 1;
  EXPECT_EQ(std::vector<JobId>{c}, List(filter));
  filter.before = c;
  filter.limit = 5;
  EXPECT_EQ((std::vector<JobId>{b, a}), List(filter));
}

TEST_F(JobStoreTest, ListJobsCountsTasksByStateAndPlayers) {
  JobRecord job = Job(Scope::kAll, {"web-1", "web-2", "web-3"});
  ASSERT_OK(store_->InsertJob(&job, ""));
  job.tasks[0].state = TaskState::kOk;
  ASSERT_OK(store_->UpdateTask(job.tasks[0]));
  ASSERT_OK(store_->Commit());
  Result<std::vector<JobSummary>> jobs = store_->ListJobs(JobsRequest());
  ASSERT_OK(jobs.status());
  ASSERT_EQ(1u, jobs.value().size());
  EXPECT_EQ(3, jobs.value()[0].players);
  EXPECT_EQ((std::map<std::string, int64_t>{{"OK", 1}, {"QUEUED", 2}}),
            jobs.value()[0].tasks_by_state);
  EXPECT_EQ(kT0, jobs.value()[0].created_at);
  EXPECT_EQ("", jobs.value()[0].target);
  EXPECT_EQ(0, jobs.value()[0].priority);
}

TEST_F(JobStoreTest, ListJobsGivesTargetAndPriority) {
  JobId id = Insert(FullJob());
  Result<std::vector<JobSummary>> jobs = store_->ListJobs(JobsRequest());
  ASSERT_OK(jobs.status());
  ASSERT_EQ(1u, jobs.value().size());
  EXPECT_EQ(id, jobs.value()[0].id);
  EXPECT_EQ("role=db dc=syd,mel", jobs.value()[0].target);
  EXPECT_EQ(-42, jobs.value()[0].priority);
  EXPECT_EQ(2, jobs.value()[0].players);
}

TEST_F(JobStoreTest, UnfinishedJobsComeBackWithTheirRollouts) {
  JobRecord job = FullJob();
  job.max_errors = broker::RolloutLimit{100, true};
  JobId id = Insert(job);
  Reopen();
  Result<std::vector<JobRecord>> unfinished = store_->LoadUnfinishedJobs();
  ASSERT_OK(unfinished.status());
  ASSERT_EQ(1u, unfinished.value().size());
  EXPECT_EQ(id, unfinished.value()[0].id);
  ExpectSameJob(job, unfinished.value()[0]);
}

TEST_F(JobStoreTest, NothingWrittenSurvivesWithoutCommit) {
  JobRecord job = Job(Scope::kOne, {"web-1"});
  ASSERT_OK(store_->InsertJob(&job, "lost"));
  ASSERT_OK(players_->SaveSession("web-1", "1.0", 4, true, kT0));
  Reopen();
  EXPECT_FALSE(Load(job.id).id);
  EXPECT_TRUE(KnownPlayers().empty());
}

TEST_F(JobStoreTest, CommittedTurnSurvivesReopen) {
  JobRecord job = Job(Scope::kOne, {"web-1"});
  ASSERT_OK(store_->InsertJob(&job, "kept"));
  ASSERT_OK(players_->SaveSession("web-1", "1.0", 4, true, kT0));
  ASSERT_OK(store_->Commit());
  Reopen();
  EXPECT_EQ(job.id, Load(job.id).id);
  EXPECT_EQ(1u, KnownPlayers().size());
}

TEST_F(JobStoreTest, CommitWithoutWritesIsOk) {
  EXPECT_OK(store_->Commit());
  EXPECT_OK(store_->Commit());
}

// Reads see what is committed; of the turns not committed, the loop still
// knows a new job's idempotency key and params (a resubmit, a dispatch).
TEST_F(JobStoreTest, ReadsSeeWhatIsCommittedAndTheLoopKnowsItsNewJobs) {
  JobRecord job = Job(Scope::kOne, {"web-1"});
  job.params = {{"path", "/var"}};
  ASSERT_OK(store_->InsertJob(&job, "k"));
  EXPECT_EQ(0, Load(job.id).id) << "not committed";
  Result<std::optional<JobId>> found =
      store_->FindJobByKey(job.submitted_by, "k");
  ASSERT_OK(found.status());
  EXPECT_EQ(std::optional<JobId>(job.id), found.value());
  Result<broker::StringMap> params = store_->LoadParams(job.id);
  ASSERT_OK(params.status());
  EXPECT_EQ(job.params, params.value());
  ASSERT_OK(store_->Commit());
  EXPECT_EQ(job.id, Load(job.id).id);
  params = store_->LoadParams(job.id);
  ASSERT_OK(params.status());
  EXPECT_EQ(job.params, params.value()) << "now from the database";
}

// Task updates of a turn are kept back and each row written once, when
// the turn is sealed: the last update wins, reads see it once committed.
TEST_F(JobStoreTest, LastUpdateOfATaskInATurnIsWhatCommits) {
  JobId id = Insert(Job(Scope::kOne, {"web-1"}));
  TaskRecord t = Load(id).tasks[0];
  t.state = TaskState::kRunning;
  ASSERT_OK(store_->UpdateTask(t));
  t.state = TaskState::kOk;
  t.exit_code = 0;
  ASSERT_OK(store_->UpdateTask(t));
  EXPECT_EQ(TaskState::kQueued, Load(id).tasks[0].state);
  ASSERT_OK(store_->Commit());
  EXPECT_EQ(TaskState::kOk, Load(id).tasks[0].state);
  Reopen();
  EXPECT_EQ(TaskState::kOk, Load(id).tasks[0].state);
}

TEST_F(JobStoreTest, TaskUpdateWithoutCommitIsLost) {
  JobId id = Insert(Job(Scope::kOne, {"web-1"}));
  TaskRecord t = Load(id).tasks[0];
  t.state = TaskState::kRunning;
  ASSERT_OK(store_->UpdateTask(t));
  Reopen();
  EXPECT_EQ(TaskState::kQueued, Load(id).tasks[0].state);
}

TEST_F(JobStoreTest, JobSummaryViewCountsTasksAndDuration) {
  JobRecord job = Job(Scope::kAll, {"web-1", "web-2", "web-3"});
  ASSERT_OK(store_->InsertJob(&job, ""));
  job.tasks[0].state = TaskState::kOk;
  job.tasks[1].state = TaskState::kUnkScore;
  ASSERT_OK(store_->UpdateTask(job.tasks[0]));
  ASSERT_OK(store_->UpdateTask(job.tasks[1]));
  job.finished_at = kT0 + 2500;
  ASSERT_OK(store_->UpdateJobState(job));
  ASSERT_OK(store_->Commit());
  EXPECT_EQ("3|3|1|0|1|1|2.5",
            Query("SELECT players, tasks, ok, fail, other_failures, "
                  "unfinished, duration_s FROM job_summary",
                  7));
}

TEST_F(JobStoreTest, PlayerSummaryViewCountsTasksAndScores) {
  ASSERT_OK(players_->SaveSession("web-1", "1.0", 4, true, kT0));
  ASSERT_OK(
      players_->SaveScores("web-1", {{"backup", std::string(64, 'a'), "env"}}));
  JobRecord job = Job(Scope::kAll, {"web-1"});
  ASSERT_OK(store_->InsertJob(&job, ""));
  job.tasks[0].state = TaskState::kRunning;
  ASSERT_OK(store_->UpdateTask(job.tasks[0]));
  ASSERT_OK(store_->Commit());
  EXPECT_EQ("web-1|1|1.0|4|1|1|0|0|1",
            Query("SELECT name, connected, version, slots, scores, tasks, "
                  "ok, not_ok, running FROM player_summary",
                  9));
}

// Tasks of score `score` that ran `seconds` each and ended `state`, all on
// the day of kT0, in one `all` job.
JobId InsertRuns(JobStore* store, const std::string& score,
                 const std::vector<std::pair<int, TaskState>>& runs) {
  JobRecord job;
  job.score = score;
  job.scope = Scope::kAll;
  job.created_at = kT0;
  for (size_t i = 0; i < runs.size(); ++i) {
    job.players.push_back("web-" + std::to_string(i));
    job.tasks.emplace_back();
    job.tasks.back().player = job.players.back();
  }
  EXPECT_OK(store->InsertJob(&job, ""));
  for (size_t i = 0; i < runs.size(); ++i) {
    TaskRecord& t = job.tasks[i];
    t.state = runs[i].second;
    t.finished_at = kT0 + 600000;
    if (runs[i].first >= 0) t.started_at = t.finished_at - runs[i].first * 1000;
    EXPECT_OK(store->UpdateTask(t));
  }
  EXPECT_OK(store->Commit());
  return job.id;
}

TEST_F(JobStoreTest, ScoreSummaryGivesRunsSuccessRateAndPercentiles) {
  // 20 runs of 1..20 s, every fifth one failed, and one task that never
  // started (duration unknown): it counts as a run, not in the durations.
  std::vector<std::pair<int, TaskState>> runs;
  for (int i = 1; i <= 20; ++i)
    runs.emplace_back(i, i % 5 == 0 ? TaskState::kFail : TaskState::kOk);
  runs.emplace_back(-1, TaskState::kExpired);
  InsertRuns(store_.get(), "backup", runs);
  InsertRuns(store_.get(), "other", {{3, TaskState::kOk}});
  EXPECT_EQ("2026-11-18|backup|21|16|0.7619|10.0|19.0|20.0",
            Query("SELECT day, score, runs, ok, success_rate, median_s, "
                  "p95_s, max_s FROM score_summary WHERE score = 'backup'",
                  8));
  EXPECT_EQ("1|1|1.0|3.0|3.0",
            Query("SELECT runs, ok, success_rate, median_s, p95_s "
                  "FROM score_summary WHERE score = 'other'",
                  5));
}

// A task's cost (DESIGN.md 16) is stored in seconds and read back in the
// microseconds the wire carries; score_summary sums the CPU and keeps the
// largest memory peak, counting only the tasks that had a cost.
TEST_F(JobStoreTest, ATasksCostIsStoredAndSummedPerScore) {
  const JobId id = InsertRuns(
      store_.get(), "build",
      {{2, TaskState::kOk}, {3, TaskState::kOk}, {1, TaskState::kFail}});
  JobRecord job = Load(id);
  ASSERT_EQ(3u, job.tasks.size());
  job.tasks[0].cpu_us = 1250000;
  job.tasks[0].memory_peak_bytes = 64 << 20;
  job.tasks[1].cpu_us = 1;
  job.tasks[1].memory_peak_bytes = 200 << 20;
  ASSERT_OK(store_->UpdateTask(job.tasks[0]));
  ASSERT_OK(store_->UpdateTask(job.tasks[1]));
  ASSERT_OK(store_->Commit());
  JobRecord read = Load(id);
  EXPECT_EQ(1250000, read.tasks[0].cpu_us);
  EXPECT_EQ(int64_t{64} << 20, read.tasks[0].memory_peak_bytes);
  EXPECT_EQ(1, read.tasks[1].cpu_us);
  EXPECT_FALSE(read.tasks[2].cpu_us.has_value());
  EXPECT_FALSE(read.tasks[2].memory_peak_bytes.has_value());
  EXPECT_EQ("1.25|1.25", Query("SELECT cpu_s, cpu_s FROM tasks WHERE id = " +
                                   std::to_string(job.tasks[0].task),
                               2));
  EXPECT_EQ("3|1.25|209715200|2",
            Query("SELECT runs, cpu_s, memory_peak_bytes, measured "
                  "FROM score_summary WHERE score = 'build'",
                  4));
}

TEST_F(JobStoreTest, ScoreSummaryLeavesOutUnfinishedTasks) {
  JobRecord job = Job(Scope::kAll, {"web-1"});
  ASSERT_OK(store_->InsertJob(&job, ""));
  ASSERT_OK(store_->Commit());
  EXPECT_EQ("no row", Query("SELECT * FROM score_summary"));
}

// Retention: finished jobs before the cutoff go, with every row that
// refers to them; unfinished and newer ones stay.
class PurgeTest : public JobStoreTest {
 protected:
  JobId Finished(common::TimeMs finished_at, size_t players = 1) {
    std::vector<std::string> names;
    for (size_t i = 0; i < players; ++i)
      names.push_back("web-" + std::to_string(i));
    JobRecord job = Job(Scope::kAll, names);
    EXPECT_OK(store_->InsertJob(&job, ""));
    job.state = JobState::kOk;
    job.finished_at = finished_at;
    EXPECT_OK(store_->UpdateJobState(job));
    EXPECT_OK(store_->Commit());
    return job.id;
  }
  Purged Purge(common::TimeMs cutoff, int64_t max_rows) {
    Result<Purged> purged = store_->PurgeFinishedBefore(cutoff, max_rows);
    EXPECT_OK(purged.status());
    EXPECT_OK(store_->Commit());
    return purged.ok() ? purged.value() : Purged();
  }
  std::string Rows(JobId job) {
    const std::string id = std::to_string(job);
    return Query(
        "SELECT (SELECT count(*) FROM jobs WHERE id = " + id +
            "), (SELECT count(*) FROM tasks WHERE job_id = " + id +
            "), (SELECT count(*) FROM job_players WHERE job_id = " + id + ")",
        3);
  }
};

TEST_F(PurgeTest, DeletesFinishedJobsBeforeTheCutoffWithTheirRows) {
  JobId old_job = Finished(kT0, 2);
  JobId new_job = Finished(kT0 + 10000, 2);
  Purged purged = Purge(kT0 + 5000, 100);
  EXPECT_EQ(1, purged.jobs);
  EXPECT_EQ(5, purged.rows);  // the job, 2 tasks, 2 target list entries
  EXPECT_EQ(old_job, purged.last_job);
  EXPECT_FALSE(purged.more);
  EXPECT_EQ("0|0|0", Rows(old_job));
  EXPECT_EQ("1|2|2", Rows(new_job));
}

TEST_F(PurgeTest, NeverDeletesAnUnfinishedJob) {
  JobId pending = Insert(Job(Scope::kOne, {"web-1"}));
  Purged purged = Purge(kT0 + 1000000000, 100);
  EXPECT_EQ(0, purged.jobs);
  EXPECT_EQ(0, purged.rows);
  EXPECT_EQ("1|1|1", Rows(pending));
}

TEST_F(PurgeTest, DeletesOldestFirst) {
  JobId later = Finished(kT0 + 2000);
  JobId earlier = Finished(kT0 + 1000);
  Purged purged = Purge(kT0 + 5000, 3);  // one job of 3 rows
  EXPECT_EQ(earlier, purged.last_job);
  EXPECT_TRUE(purged.more);
  EXPECT_EQ("1|1|1", Rows(later));
}

TEST_F(PurgeTest, LargeJobIsDeletedOverSeveralCallsWithinTheBudget) {
  JobId big = Finished(kT0, 10);  // 21 rows
  Purged first = Purge(kT0 + 1, 8);
  EXPECT_EQ(8, first.rows);
  EXPECT_EQ(0, first.jobs);
  EXPECT_TRUE(first.more);
  EXPECT_EQ("1|2|10", Rows(big));
  Purged second = Purge(kT0 + 1, 8);
  EXPECT_EQ(8, second.rows);
  EXPECT_EQ("1|0|4", Rows(big));
  Purged third = Purge(kT0 + 1, 8);
  EXPECT_EQ(5, third.rows);
  EXPECT_EQ(1, third.jobs);
  EXPECT_EQ(big, third.last_job);
  EXPECT_FALSE(third.more);
  EXPECT_EQ("0|0|0", Rows(big));
}

TEST_F(PurgeTest, ReportsMoreWhenTheBudgetEndsExactlyAtAJob) {
  Finished(kT0);
  Finished(kT0);
  Purged first = Purge(kT0 + 1, 3);
  EXPECT_EQ(1, first.jobs);
  EXPECT_TRUE(first.more);
  Purged second = Purge(kT0 + 1, 3);
  EXPECT_EQ(1, second.jobs);
  Purged third = Purge(kT0 + 1, 3);
  EXPECT_EQ(0, third.rows);
  EXPECT_FALSE(third.more);
}

// Reporting tools read the file while the conductor writes it: a reader
// holding a snapshot open never blocks a commit, nor a checkpoint, which
// copies what it can and leaves the rest for later.
TEST_F(JobStoreTest, ReaderWithAnOpenSnapshotNeverBlocksCommitOrCheckpoint) {
  Insert(Job(Scope::kOne, {"web-1"}));
  Result<common::Database> reader = common::Database::OpenReadOnly(path());
  ASSERT_OK(reader.status());
  ASSERT_OK(reader.value().Exec("BEGIN"));
  Result<common::Statement> count =
      reader.value().Prepare("SELECT count(*) FROM jobs");
  ASSERT_OK(count.status());
  ASSERT_TRUE(count.value().Step().value());
  EXPECT_EQ(1, count.value().Int(0));
  count.value().Reset();

  for (int i = 0; i < 20; ++i) Insert(Job(Scope::kOne, {"web-1"}));
  Result<common::CheckpointResult> checkpoint = store_->Checkpoint();
  ASSERT_OK(checkpoint.status());
  EXPECT_LT(checkpoint.value().checkpointed, checkpoint.value().wal_frames)
      << "the reader's snapshot holds back part of the WAL";

  ASSERT_TRUE(count.value().Step().value());
  EXPECT_EQ(1, count.value().Int(0)) << "the reader keeps its snapshot";
  count.value().Reset();
  ASSERT_OK(reader.value().Exec("COMMIT"));
  ASSERT_TRUE(count.value().Step().value());
  EXPECT_EQ(21, count.value().Int(0));
  count.value().Reset();

  checkpoint = store_->Checkpoint();
  ASSERT_OK(checkpoint.status());
  EXPECT_EQ(checkpoint.value().wal_frames, checkpoint.value().checkpointed);
}

TEST_F(JobStoreTest, ReadOnlyConnectionCannotWrite) {
  Result<common::Database> reader = common::Database::OpenReadOnly(path());
  ASSERT_OK(reader.status());
  EXPECT_FALSE(reader.value().Exec("DELETE FROM jobs").ok());
}

// A turn abandoned (its commit failed) leaves nothing: not its job, not
// its idempotency key; its ids are not given again.
TEST_F(JobStoreTest, AbandonDropsTheTurnsWrites) {
  JobRecord job = Job(Scope::kOne, {"web-1"});
  ASSERT_OK(store_->InsertJob(&job, "key-1"));
  Result<std::optional<JobId>> kept =
      store_->FindJobByKey(job.submitted_by, "key-1");
  ASSERT_OK(kept.status());
  EXPECT_EQ(std::optional<JobId>(job.id), kept.value()) << "known at once";
  store_->Abandon();
  kept = store_->FindJobByKey(job.submitted_by, "key-1");
  ASSERT_OK(kept.status());
  EXPECT_FALSE(kept.value().has_value());
  EXPECT_OK(store_->Commit());
  EXPECT_EQ(0u, List(JobsRequest{}).size());
  const JobId again = Insert(Job(Scope::kOne, {"web-1"}), "key-1");
  EXPECT_GT(again, job.id);
}

// The store on a small tmpfs that a filler fills to the last byte: SQLite
// meets the kernel's ENOSPC when a commit appends to the WAL.
class JobStoreOnAFullDiskTest : public testing::Test {
 protected:
  void SetUp() override {
    if (!disk_.error().empty()) GTEST_SKIP() << disk_.error();
    common::SetLogSinkForTest([](common::LogLevel, std::string_view) {});
    Result<std::unique_ptr<JobStore>> store =
        JobStore::Open(disk_.File("conductor.db"));
    ASSERT_OK(store.status());
    store_ = std::move(store.value());
  }
  void TearDown() override { common::SetLogSinkForTest(nullptr); }

  // Inserts a job with a large parameter (it needs new pages).
  common::Status Insert(JobRecord* job) {
    job->score = "backup";
    job->scope = Scope::kOne;
    job->players = {"web-1"};
    job->params = {{"big", std::string(50000, 'x')}};
    job->created_at = kT0;
    job->tasks.resize(1);
    common::Status s = store_->InsertJob(job, "");
    return s.ok() ? store_->Commit() : s;
  }
  size_t Jobs() {
    Result<std::vector<JobSummary>> jobs = store_->ListJobs(JobsRequest{});
    EXPECT_OK(jobs.status());
    return jobs.ok() ? jobs.value().size() : 0;
  }

  test::SmallDisk disk_{2 << 20};
  std::unique_ptr<JobStore> store_;
};

TEST_F(JobStoreOnAFullDiskTest, CommitFailsSayingDiskFullAndKeepsWhatWasThere) {
  JobRecord before;
  ASSERT_OK(Insert(&before));
  ASSERT_TRUE(disk_.Fill());
  JobRecord job;
  common::Status s = Insert(&job);
  EXPECT_EQ(common::Status::Code::kIoError, s.code()) << s.ToString();
  EXPECT_EQ("disk full", s.what());
  EXPECT_EQ(1u, Jobs());
  Result<std::optional<JobRecord>> kept = store_->LoadJob(before.id);
  ASSERT_OK(kept.status());
  EXPECT_TRUE(kept.value().has_value());
}

TEST_F(JobStoreOnAFullDiskTest, AProbeCommitsOnlyOnceTheDiskHasRoom) {
  ASSERT_TRUE(disk_.Fill());
  store_->Probe();
  EXPECT_EQ("disk full", store_->Commit().what());
  store_->Probe();
  EXPECT_EQ("disk full", store_->Commit().what());  // still full
  disk_.Free();
  store_->Probe();
  EXPECT_OK(store_->Commit());
  JobRecord job;
  EXPECT_OK(Insert(&job));
  EXPECT_EQ(1u, Jobs());
}

}  // namespace
}  // namespace orchestra::conductor
