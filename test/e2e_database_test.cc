// End-to-end: the conductor's database as operators use it. The reporting
// queries of the README run through `sqlite3 -readonly` while the conductor
// writes, and a reader holding a snapshot open never holds the conductor
// up; with a short `retention days` the database file stays bounded while
// jobs keep coming (a short soak here; `make soak` runs a long one, sized
// by ORCHESTRA_SOAK_ROUNDS, ORCHESTRA_SOAK_JOBS and ORCHESTRA_SOAK_OUTPUT,
// the bytes a task writes to stdout and again to stderr).

#include <signal.h>
#include <sys/stat.h>

#include <cstdio>
#include <cstdlib>
#include <utility>

#include "broker/audience_protocol.h"
#include "common/files.h"
#include "common/sqlite.h"
#include "test/cluster.h"

namespace orchestra::test {
namespace {

using broker::JobId;
using broker::JobRecord;
using broker::JobState;

const char kHello[] = "#!/bin/sh\necho \"hello from $ORC_PLAYER\"\n";
// OUTPUT bytes on stdout and on stderr, so that each task row weighs
// something.
std::string ChattyScore(int output) {
  const std::string head =
      "head -c " + std::to_string(output) + " /dev/zero | tr '\\0' x";
  return "#!/bin/sh\n" + head + "\n" + head + " >&2\n";
}

// The reporting queries of the README, as an operator types them.
const char kReportingQueries[] =
    "SELECT state, count(*) AS jobs FROM job_summary GROUP BY state;\n"
    "SELECT name, tasks, ok, not_ok FROM player_summary ORDER BY name;\n"
    "SELECT day, score, runs, ok, success_rate, median_s, p95_s\n"
    "  FROM score_summary ORDER BY day DESC, score;\n";

int EnvInt(const char* name, int fallback) {
  const char* value = std::getenv(name);
  return value != nullptr && std::atoi(value) > 0 ? std::atoi(value) : fallback;
}

int64_t FileSize(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 ? static_cast<int64_t>(st.st_size) : 0;
}

class DatabaseTest : public testing::Test {
 protected:
  void Start(const std::string& score, const std::string& script,
             const std::string& extra = "") {
    cluster_.AddPlayer("p1");
    cluster_.AddPlayer("p2");
    cluster_.WriteScoreEverywhere(score, script);
    ASSERT_TRUE(cluster_.StartConductor(extra));
    ASSERT_TRUE(cluster_.StartPlayer("p1", "slots = 8\n"));
    ASSERT_TRUE(cluster_.StartPlayer("p2", "slots = 8\n"));
    client_ = cluster_.Client();
    ASSERT_NE(nullptr, client_);
  }
  std::string db() const { return cluster_.dir() + "/conductor.db"; }

  // Submits `count` `all` jobs of `score` on both players; their ids.
  std::vector<JobId> Submit(const std::string& score, int count) {
    std::vector<JobId> ids;
    for (int i = 0; i < count; ++i) {
      broker::SubmitRequest request;
      request.score = score;
      request.scope = broker::Scope::kAll;
      request.players = {"p1", "p2"};
      auto reply = client_->Call(request, 10000);
      EXPECT_TRUE(reply.ok()) << reply.status().ToString();
      if (!reply.ok()) break;
      auto* submitted = std::get_if<broker::SubmitReply>(&reply.value().body);
      EXPECT_NE(nullptr, submitted);
      if (submitted) ids.push_back(submitted->job);
    }
    return ids;
  }
  // Waits (at most 60 s each) for the jobs' final records.
  std::vector<JobRecord> Wait(const std::vector<JobId>& ids) {
    std::vector<JobRecord> jobs;
    for (JobId id : ids) {
      auto reply = client_->Call(broker::WaitRequest{id, 60000}, 65000);
      EXPECT_TRUE(reply.ok()) << reply.status().ToString();
      if (!reply.ok()) break;
      auto* job = std::get_if<broker::JobReply>(&reply.value().body);
      auto* error = std::get_if<broker::ErrorReply>(&reply.value().body);
      EXPECT_NE(nullptr, job)
          << "job " << id << ": " << (error ? error->error.message : "?");
      if (job) jobs.push_back(job->job);
    }
    return jobs;
  }
  // Submits `count` `all` jobs of `score` on both players at once (so
  // they share commits) and sends a `wait` for each as soon as its id is
  // known, so that no job can be swept by retention before its final
  // record is seen. The final records, in the order the jobs finished.
  std::vector<JobRecord> SubmitAndWait(const std::string& score, int count) {
    broker::SubmitRequest request;
    request.score = score;
    request.scope = broker::Scope::kAll;
    request.players = {"p1", "p2"};
    for (int i = 0; i < count; ++i) EXPECT_TRUE(client_->Send(request).ok());
    std::vector<JobRecord> jobs;
    while (jobs.size() < static_cast<size_t>(count)) {
      auto reply = client_->Receive(65000);
      EXPECT_TRUE(reply.ok() && reply.value().has_value())
          << "a request was never answered";
      if (!reply.ok() || !reply.value()) break;
      const broker::AudienceReplyBody& body = reply.value()->body;
      if (auto* submitted = std::get_if<broker::SubmitReply>(&body)) {
        EXPECT_TRUE(
            client_->Send(broker::WaitRequest{submitted->job, 60000}).ok());
      } else if (auto* job = std::get_if<broker::JobReply>(&body)) {
        jobs.push_back(job->job);
      } else {
        ADD_FAILURE() << "unexpected reply";
        break;
      }
    }
    return jobs;
  }
  // Changes `retention days` in the conductor's config and reloads it.
  void SetRetention(const std::string& days) {
    const std::string path = cluster_.dir() + "/conductor.conf";
    common::Result<std::string> text = common::ReadFile(path);
    ASSERT_OK(text.status());
    std::string config = text.value();
    const size_t at = config.find("retention days = ");
    ASSERT_NE(std::string::npos, at);
    config.replace(at, config.find('\n', at) - at, "retention days = " + days);
    ASSERT_OK(common::WriteFileAtomically(path, config, 0644));
    const size_t mark = cluster_.conductor()->LogSize();
    cluster_.conductor()->Signal(SIGHUP);
    ASSERT_TRUE(
        cluster_.conductor()->WaitForLog("reloaded players=", 10s, mark));
  }
  CommandResult Sqlite(const std::string& sql) {
    return RunCommand("/usr/bin/sqlite3", {"-readonly", "-header", db(), sql},
                      30s);
  }

  Cluster cluster_;
  std::unique_ptr<broker::AudienceClient> client_;
};

// A reporting tool that opens a read transaction and keeps it open while
// jobs come and finish: every job still ends in time (the conductor's
// commits never wait for the reader) and the reader keeps its snapshot.
TEST_F(DatabaseTest, ReaderHoldingASnapshotNeverBlocksTheConductor) {
  Start("hello", kHello);
  Wait(Submit("hello", 1));
  common::Result<common::Database> reader =
      common::Database::OpenReadOnly(db());
  ASSERT_OK(reader.status());
  ASSERT_OK(reader.value().Exec("BEGIN"));
  common::Result<common::Statement> count = reader.value().Prepare(
      "SELECT count(*), sum(state = 'OK') FROM job_summary");
  ASSERT_OK(count.status());
  ASSERT_TRUE(count.value().Step().value());
  EXPECT_EQ(1, count.value().Int(0));
  count.value().Reset();

  std::vector<JobRecord> jobs = Wait(Submit("hello", 30));
  ASSERT_EQ(30u, jobs.size());
  for (const JobRecord& job : jobs) EXPECT_EQ(JobState::kOk, job.state);

  ASSERT_TRUE(count.value().Step().value());
  EXPECT_EQ(1, count.value().Int(0)) << "the snapshot was held throughout";
  count.value().Reset();
  ASSERT_OK(reader.value().Exec("COMMIT"));
  ASSERT_TRUE(count.value().Step().value());
  EXPECT_EQ(31, count.value().Int(0));
  EXPECT_EQ(31, count.value().Int(1));
  count.value().Reset();
  EXPECT_EQ(0u, cluster_.conductor()->CountLog("store failed"));
}

TEST_F(DatabaseTest, ReadmeReportingQueriesRunWhileTheConductorWrites) {
  Start("hello", kHello);
  std::vector<JobId> first = Submit("hello", 20);
  CommandResult during = Sqlite(kReportingQueries);  // jobs are running
  EXPECT_EQ(0, during.exit_code) << during.err;
  std::vector<JobId> second = Submit("hello", 20);
  EXPECT_EQ(40u, Wait(first).size() + Wait(second).size());

  CommandResult after = Sqlite(kReportingQueries);
  EXPECT_EQ(0, after.exit_code) << after.err;
  EXPECT_EQ("", after.err);
  EXPECT_NE(std::string::npos, after.out.find("state|jobs\nOK|40\n"))
      << after.out;
  EXPECT_NE(std::string::npos,
            after.out.find("name|tasks|ok|not_ok\np1|40|40|0\np2|40|40|0\n"))
      << after.out;
  EXPECT_NE(std::string::npos, after.out.find("|hello|80|80|1.0|"))
      << after.out;
  std::printf("%s", after.out.c_str());
}

// Original defect 7: the original never cleaned up old jobs, so its
// database grew for ever. The first round of jobs (8 KiB of output a
// task) is kept whole, so the file grows to hold one round; then a reload
// sets a retention of ~1.7 s and more rounds follow, each swept before the
// next.
// The swept rows' pages are reused: the file stays at the first round's
// size, where keeping every job would add a round's worth each time.
TEST_F(DatabaseTest, RetentionKeepsTheDatabaseBoundedUnderLoad) {
  const int rounds = EnvInt("ORCHESTRA_SOAK_ROUNDS", 4);
  const int per_round = EnvInt("ORCHESTRA_SOAK_JOBS", 30);
  const int output = EnvInt("ORCHESTRA_SOAK_OUTPUT", 4096);
  Start("chatty", ChattyScore(output), "retention days = 0\n");
  int64_t first_db = 0, largest_db = 0, largest_wal = 0, longest_tick_ms = 0;
  for (int round = 1; round <= rounds; ++round) {
    std::vector<JobRecord> jobs = SubmitAndWait("chatty", per_round);
    ASSERT_EQ(static_cast<size_t>(per_round), jobs.size());
    // The last job to be swept: the newest finished_at, then the highest id.
    const JobRecord* last = &jobs[0];
    for (const JobRecord& job : jobs) {
      EXPECT_EQ(JobState::kOk, job.state);
      if (std::make_pair(job.finished_at, job.id) >
          std::make_pair(last->finished_at, last->id))
        last = &job;
    }
    if (round == 1) SetRetention("0.00002");
    ASSERT_TRUE(cluster_.conductor()
                    ->WaitForLog("retention swept jobs=[0-9]+ rows=[0-9]+ "
                                 "last_job=" +
                                     std::to_string(last->id) + " ",
                                 60s)
                    .has_value())
        << cluster_.conductor()->Log();
    std::optional<std::string> longest = cluster_.conductor()->WaitForLog(
        "last_job=" + std::to_string(last->id) +
            " ticks=[0-9]+ longest_tick_ms=([0-9]+)",
        1s);
    longest_tick_ms =
        std::max<int64_t>(longest_tick_ms, std::stoll(longest.value_or("0")));
    const int64_t db_bytes = FileSize(db());
    const int64_t wal_bytes = FileSize(db() + "-wal");
    std::printf("[ soak     ] round=%d jobs=%d db_bytes=%lld wal_bytes=%lld\n",
                round, round * per_round, static_cast<long long>(db_bytes),
                static_cast<long long>(wal_bytes));
    if (round == 1) first_db = db_bytes;
    largest_db = std::max(largest_db, db_bytes);
    largest_wal = std::max(largest_wal, wal_bytes);
  }
  std::printf("[ soak     ] longest retention tick: %lld ms\n",
              static_cast<long long>(longest_tick_ms));
  CommandResult left = Sqlite(
      "SELECT count(*) AS jobs FROM jobs; "
      "SELECT count(*) AS tasks FROM tasks;");
  EXPECT_EQ("jobs\n0\ntasks\n0\n", left.out) << left.err;
  // Kept for ever, the outputs alone would add this much a round.
  const int64_t round_output = int64_t{per_round} * 2 * 2 * output;
  EXPECT_GE(first_db, round_output) << "the first round was kept whole";
  EXPECT_LE(largest_db, first_db + first_db / 10 + 65536)
      << "the database grows round after round";
  // The WAL is checkpointed (auto-checkpoint, and after each sweep), so it
  // starts over instead of growing; journal_size_limit bounds its file.
  EXPECT_LE(largest_wal, 16 << 20);
}

}  // namespace
}  // namespace orchestra::test
