// Tests for conductor/job_store.h on a real SQLite file in a temp dir: the
// schema of DESIGN.md section 8, round trips of every field of a job and its
// tasks, the `jobs` listing, group commit (nothing survives without
// Commit()), what is remembered of players, and the reporting views.

#include "conductor/job_store.h"

#include <gtest/gtest.h>

#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "common/log.h"
#include "common/sqlite.h"
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
  void Reopen() {
    store_.reset();
    Result<std::unique_ptr<JobStore>> store = JobStore::Open(path());
    ASSERT_OK(store.status());
    store_ = std::move(store.value());
  }
  std::string path() const { return dir_.File("conductor.db"); }

  static JobRecord Job(Scope scope, std::vector<std::string> players,
                       const std::string& score = "backup") {
    JobRecord job;
    job.score = score;
    job.scope = scope;
    job.players = std::move(players);
    job.created_at = kT0;
    if (scope == Scope::kAll) {
      for (const std::string& p : job.players) {
        job.tasks.emplace_back();
        job.tasks.back().player = p;
      }
    } else {
      job.tasks.emplace_back();
    }
    return job;
  }
  // A job with every field set, unicode in its parameters.
  static JobRecord FullJob() {
    JobRecord job = Job(Scope::kAll, {"web-2", "web-1"}, "db.dump-2");
    job.params = {
        {"target", "héllo wörld ✓"}, {"empty", ""}, {"q", "\"'\\"}};
    job.submitted_by = "uid=1000";
    job.timeout_s = 90;
    job.delivery_timeout_s = 0;
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
    Result<std::optional<JobRecord>> job = store_->LoadJob(id);
    EXPECT_OK(job.status());
    if (!job.ok() || !job.value()) return JobRecord();
    return *job.value();
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
    Result<common::Database> db = common::Database::Open(path());
    if (!db.ok()) return db.status().ToString();
    Result<common::Statement> stmt = db.value().Prepare(sql.c_str());
    if (!stmt.ok()) return stmt.status().ToString();
    Result<bool> row = stmt.value().Step();
    if (!row.ok()) return row.status().ToString();
    if (!row.value()) return "no row";
    std::string out;
    for (int i = 0; i < columns; ++i)
      out += (i ? "|" : "") + stmt.value().Text(i);
    return out;
  }
  std::vector<StoredPlayer> KnownPlayers() {
    Result<std::vector<StoredPlayer>> players = store_->LoadKnownPlayers();
    EXPECT_OK(players.status());
    return players.ok() ? players.value() : std::vector<StoredPlayer>();
  }

  test::TempDir dir_;
  std::unique_ptr<JobStore> store_;
};

TEST_F(JobStoreTest, NewDatabaseHasSchemaVersionOne) {
  EXPECT_EQ("1", Query("PRAGMA user_version"));
  EXPECT_EQ("8", Query("SELECT count(*) FROM sqlite_master WHERE name IN "
                       "('jobs', 'job_players', 'tasks', 'players', "
                       "'player_scores', 'job_summary', 'player_summary', "
                       "'jobs_pending')"));
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
  EXPECT_EQ("1", Query("PRAGMA user_version"));
  EXPECT_EQ("backup", Load(id).score);
}

TEST_F(JobStoreTest, NewerSchemaVersionIsRefused) {
  store_.reset();
  ASSERT_EQ("no row", Query("PRAGMA user_version = 2"));
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
  ExpectSameTask(task, Load(id).tasks[0]);
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

TEST_F(JobStoreTest, InsertTaskAddsALaterAttempt) {
  JobId id = Insert(Job(Scope::kOne, {"web-1", "web-2"}));
  TaskRecord next;
  next.attempt = 2;
  ASSERT_OK(store_->InsertTask(id, &next));
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
  Result<std::optional<JobId>> found = store_->FindJobByKey("key-b");
  ASSERT_OK(found.status());
  EXPECT_EQ(std::optional<JobId>(b), found.value());
  Result<std::optional<JobId>> missing = store_->FindJobByKey("key-c");
  ASSERT_OK(missing.status());
  EXPECT_FALSE(missing.value());
}

TEST_F(JobStoreTest, JobsWithoutKeyDoNotCollide) {
  Insert(Job(Scope::kOne, {"web-1"}));
  Insert(Job(Scope::kOne, {"web-1"}));
  Result<std::optional<JobId>> found = store_->FindJobByKey("");
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
}

TEST_F(JobStoreTest, NothingWrittenSurvivesWithoutCommit) {
  JobRecord job = Job(Scope::kOne, {"web-1"});
  ASSERT_OK(store_->InsertJob(&job, "lost"));
  ASSERT_OK(store_->SavePlayerSession("web-1", "1.0", 4, true, kT0));
  Reopen();
  EXPECT_FALSE(Load(job.id).id);
  EXPECT_TRUE(KnownPlayers().empty());
}

TEST_F(JobStoreTest, CommittedTurnSurvivesReopen) {
  JobRecord job = Job(Scope::kOne, {"web-1"});
  ASSERT_OK(store_->InsertJob(&job, "kept"));
  ASSERT_OK(store_->SavePlayerSession("web-1", "1.0", 4, true, kT0));
  ASSERT_OK(store_->Commit());
  Reopen();
  EXPECT_EQ(job.id, Load(job.id).id);
  EXPECT_EQ(1u, KnownPlayers().size());
}

TEST_F(JobStoreTest, CommitWithoutWritesIsOk) {
  EXPECT_OK(store_->Commit());
  EXPECT_OK(store_->Commit());
}

TEST_F(JobStoreTest, ReadsSeeTheTurnsUncommittedWrites) {
  JobRecord job = Job(Scope::kOne, {"web-1"});
  ASSERT_OK(store_->InsertJob(&job, "k"));
  EXPECT_EQ(job.id, Load(job.id).id);
  Result<std::optional<JobId>> found = store_->FindJobByKey("k");
  ASSERT_OK(found.status());
  EXPECT_EQ(std::optional<JobId>(job.id), found.value());
}

TEST_F(JobStoreTest, KnownPlayersKeepLatestSession) {
  ASSERT_OK(store_->SavePlayerSession("web-1", "1.0", 4, true, kT0));
  ASSERT_OK(store_->SavePlayerSession("web-1", "1.1", 8, false, kT0 + 60000));
  std::vector<StoredPlayer> players = KnownPlayers();
  ASSERT_EQ(1u, players.size());
  EXPECT_EQ("web-1", players[0].name);
  EXPECT_EQ("1.1", players[0].version);
  EXPECT_EQ(8, players[0].slots);
  EXPECT_EQ(kT0 + 60000, players[0].last_seen);
  EXPECT_TRUE(players[0].scores_known);
}

TEST_F(JobStoreTest, PlayerWithOnlyAKeyIsNotAKnownPlayer) {
  ASSERT_OK(store_->SavePlayerKey("web-9", std::string(40, 'a')));
  EXPECT_TRUE(KnownPlayers().empty());
}

TEST_F(JobStoreTest, SavePlayerScoresReplacesTheList) {
  ASSERT_OK(store_->SavePlayerSession("web-1", "1.0", 4, true, kT0));
  ASSERT_OK(store_->SavePlayerScores(
      "web-1", {{"backup", std::string(64, 'a'), "env"},
                {"restore", std::string(64, 'b'), "pipe"}}));
  ASSERT_OK(store_->SavePlayerScores(
      "web-1", {{"restore", std::string(64, 'c'), "env"}}));
  std::vector<StoredPlayer> players = KnownPlayers();
  ASSERT_EQ(1u, players.size());
  ASSERT_EQ(1u, players[0].scores.size());
  EXPECT_EQ("restore", players[0].scores[0].name);
  EXPECT_EQ(std::string(64, 'c'), players[0].scores[0].sha256);
  EXPECT_EQ("env", players[0].scores[0].interface);
}

TEST_F(JobStoreTest, SessionKeepsFirstSeenAndMarkAllDisconnectedClearsIt) {
  ASSERT_OK(store_->SavePlayerSession("web-1", "1.0", 4, true, kT0));
  ASSERT_OK(store_->SavePlayerSession("web-1", "1.0", 4, true, kT0 + 1000));
  ASSERT_OK(store_->MarkAllDisconnected());
  ASSERT_OK(store_->Commit());
  EXPECT_EQ("0|2026-11-18T11:06:40.123Z|2026-11-18T11:06:41.123Z",
            Query("SELECT connected, first_seen, last_seen FROM players", 3));
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
  ASSERT_OK(store_->SavePlayerSession("web-1", "1.0", 4, true, kT0));
  ASSERT_OK(store_->SavePlayerScores(
      "web-1", {{"backup", std::string(64, 'a'), "env"}}));
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

}  // namespace
}  // namespace orchestra::conductor
