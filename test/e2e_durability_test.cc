// End-to-end fault tests: crashes, restarts, reconnects, removals and
// revocations of the real conductor and players, with score scripts that
// append to a file so that every run can be counted.

#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <fstream>
#include <map>
#include <sstream>

#include "broker/audience_protocol.h"
#include "common/sqlite.h"
#include "test/cluster.h"
#include "test/file_watch.h"

namespace orchestra::test {
namespace {

using broker::JobId;
using broker::JobRecord;
using broker::JobState;
using broker::TaskState;

class DurabilityTest : public testing::Test {
 protected:
  void SetUp() override {
    runs_ = cluster_.dir() + "/runs.log";
    cluster_.AddPlayer("p1");
    cluster_.AddPlayer("p2");
    // Appends "TASK PLAYER" to the run log and its process group to the
    // pid log, then takes SLEEP seconds (on player SLEEP_ON only, if set).
    cluster_.WriteScoreEverywhere(
        "count",
        "#!/bin/sh\necho \"$ORC_TASK_ID $ORC_PLAYER\" >> " + runs_ +
            "\necho $$ >> " + runs_ +
            ".pids\n"
            "if [ -n \"$ORC_STARTED\" ]; then echo $$ > \"$ORC_STARTED\"; fi\n"
            "if [ -z \"$ORC_SLEEP_ON\" ] || [ \"$ORC_SLEEP_ON\" = "
            "\"$ORC_PLAYER\" ]; then sleep \"${ORC_SLEEP:-0}\"; fi\n"
            "echo done\n");
  }
  // Scores of a killed player outlive it (systemd's KillMode would end
  // them); end them with the test.
  void TearDown() override {
    std::ifstream pids(runs_ + ".pids");
    for (pid_t pid; pids >> pid;) kill(-pid, SIGKILL);
    if (started_ >= 0) close(started_);
  }

  void Start(const std::string& conductor_extra = "") {
    ASSERT_TRUE(cluster_.StartConductor(conductor_extra));
    ASSERT_TRUE(cluster_.StartPlayer("p1"));
    ASSERT_TRUE(cluster_.StartPlayer("p2"));
    Connect();
  }
  void Connect() {
    client_ = cluster_.Client();
    ASSERT_NE(nullptr, client_);
  }

  JobId Submit(broker::Scope scope, std::vector<std::string> players,
               const std::string& sleep = "0",
               std::optional<int64_t> delivery_timeout_s = std::nullopt,
               const std::string& sleep_on = "") {
    broker::SubmitRequest r;
    if (started_ >= 0) r.params["STARTED"] = cluster_.dir() + "/started";
    r.score = "count";
    r.scope = scope;
    r.players = std::move(players);
    r.params["SLEEP"] = sleep;
    r.params["SLEEP_ON"] = sleep_on;
    r.delivery_timeout_s = delivery_timeout_s;
    auto reply = client_->Call(r, 10000);
    EXPECT_TRUE(reply.ok()) << reply.status().ToString();
    auto* id = reply.ok()
                   ? std::get_if<broker::SubmitReply>(&reply.value().body)
                   : nullptr;
    EXPECT_NE(nullptr, id);
    return id ? id->job : 0;
  }
  JobRecord Wait(JobId job, int timeout_ms = 30000) {
    auto reply =
        client_->Call(broker::WaitRequest{job, timeout_ms}, timeout_ms + 5000);
    EXPECT_TRUE(reply.ok()) << reply.status().ToString();
    auto* record = reply.ok()
                       ? std::get_if<broker::JobReply>(&reply.value().body)
                       : nullptr;
    EXPECT_NE(nullptr, record);
    if (record == nullptr) return {};
    EXPECT_FALSE(record->timed_out) << "job " << job << " still pending";
    return record->job;
  }
  // How many times each task ran, from the run log.
  std::map<std::string, int> Runs() {
    std::map<std::string, int> runs;
    std::ifstream in(runs_);
    for (std::string line; std::getline(in, line);) ++runs[line];
    return runs;
  }
  // Makes the next Submit()'s score announce its start through a FIFO.
  void AnnounceStarts() {
    const std::string path = cluster_.dir() + "/started";
    ASSERT_EQ(0, mkfifo(path.c_str(), 0600));
    started_ = open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    ASSERT_GE(started_, 0);
  }
  // The pid (and process group) of a score once it is running, or 0.
  pid_t WaitForScoreStart() {
    struct pollfd p = {started_, POLLIN, 0};
    if (poll(&p, 1, 20000) != 1) return 0;
    char buf[32] = {};
    if (read(started_, buf, sizeof(buf) - 1) <= 0) return 0;
    return static_cast<pid_t>(std::atol(buf));
  }
  // True while a process of group `pgid` runs (zombies do not count).
  static bool GroupAlive(pid_t pgid) {
    DIR* proc = opendir("/proc");
    bool alive = false;
    while (struct dirent* entry = proc ? readdir(proc) : nullptr) {
      std::ifstream stat(std::string("/proc/") + entry->d_name + "/stat");
      std::string line;
      if (!std::getline(stat, line) || line.rfind(')') == std::string::npos)
        continue;
      std::istringstream fields(line.substr(line.rfind(')') + 2));
      char state;
      pid_t ppid, group;
      fields >> state >> ppid >> group;
      if (group == pgid && state != 'Z') alive = true;
    }
    if (proc) closedir(proc);
    return alive;
  }
  // Rows in a player's journal as committed, read beside the player; -1
  // if it cannot be read.
  static int JournalRows(const std::string& path) {
    auto db = common::Database::OpenReadOnly(path);
    if (!db.ok()) return -1;
    auto count = db.value().Prepare("SELECT count(*) FROM tasks");
    if (!count.ok()) return -1;
    common::Result<bool> row = count.value().Step();
    if (!row.ok() || !row.value()) return -1;
    return static_cast<int>(count.value().Int(0));
  }
  bool WaitForPlayerLog(const std::string& player, const std::string& pattern,
                        size_t from = 0) {
    return cluster_.player(player)->WaitForLog(pattern, 20s, from).has_value();
  }

  Cluster cluster_;
  std::string runs_;
  int started_ = -1;  // FIFO the scores announce their start on
  std::unique_ptr<broker::AudienceClient> client_;
};

TEST_F(DurabilityTest,
       ConductorKilledMidStreamLosesNothingAndRunsEachTaskOnce) {
  Start();
  std::vector<JobId> jobs;
  for (int i = 0; i < 30; ++i)
    jobs.push_back(Submit(broker::Scope::kAll, {"p1", "p2"}, "0.05"));
  ASSERT_TRUE(cluster_.conductor()->WaitForLog("job finished job=5 ", 30s));
  cluster_.KillConductor(SIGKILL);
  ASSERT_TRUE(cluster_.RestartConductor());
  // The kill came mid-stream: the new conductor took over unfinished jobs.
  EXPECT_TRUE(cluster_.conductor()
                  ->WaitForLog("recovered jobs=[1-9][0-9]* ", 10s)
                  .has_value());
  Connect();
  for (JobId job : jobs) EXPECT_EQ(JobState::kOk, Wait(job).state) << job;
  std::map<std::string, int> runs = Runs();
  EXPECT_EQ(60u, runs.size());
  for (const auto& [task, count] : runs) EXPECT_EQ(1, count) << task;
}

// Original defect 9: the player kept its tasks in memory only, so after a
// restart the conductor's retransmissions made it run them again.
TEST_F(DurabilityTest,
       PlayerKilledDuringALongTaskReportsItLostNeverRunsItAgain) {
  Start();
  AnnounceStarts();
  JobId job = Submit(broker::Scope::kAll, {"p1"}, "30");
  ASSERT_NE(0, WaitForScoreStart());
  cluster_.player("p1")->Signal(SIGKILL);
  cluster_.player("p1")->Wait(10s);
  ASSERT_TRUE(cluster_.StartPlayer("p1"));
  JobRecord record = Wait(job);
  EXPECT_EQ(JobState::kFail, record.state);
  EXPECT_EQ(TaskState::kLost, record.tasks[0].state);
  EXPECT_EQ(1u, Runs().size());
  EXPECT_EQ(1, Runs().begin()->second);
}

// A player commits the forgetting of an acknowledged result with its next
// journal write (or a second later), not on its own: a crash in between
// only makes it resend a result the conductor already has, which the
// conductor acknowledges again. Nothing is lost and nothing runs twice.
TEST_F(DurabilityTest, PlayerKilledRightAfterAnAcknowledgedResultKeepsTheJob) {
  Start();
  JobId job = Submit(broker::Scope::kAll, {"p1"});
  ASSERT_EQ(JobState::kOk, Wait(job).state);
  cluster_.player("p1")->Signal(SIGKILL);
  cluster_.player("p1")->Wait(10s);
  ASSERT_TRUE(cluster_.StartPlayer("p1"));
  const std::string journal = cluster_.dir() + "/p1.db";
  EXPECT_TRUE(WaitForFiles(cluster_.dir(), [&] {
    return JournalRows(journal) == 0;  // Acknowledged (again), forgotten
  }));
  EXPECT_EQ(JobState::kOk, Wait(job).state);
  EXPECT_EQ(1u, Runs().size());
  EXPECT_EQ(1, Runs().begin()->second);
}

TEST_F(DurabilityTest, ResultsFinishedWhileTheConductorWasDownArrive) {
  Start();
  JobId job = Submit(broker::Scope::kAll, {"p1", "p2"}, "1");
  ASSERT_TRUE(WaitForPlayerLog("p1", "task started task="));
  ASSERT_TRUE(WaitForPlayerLog("p2", "task started task="));
  cluster_.KillConductor(SIGTERM);
  ASSERT_TRUE(WaitForPlayerLog("p1", "task finished task=.*state=OK"));
  ASSERT_TRUE(WaitForPlayerLog("p2", "task finished task=.*state=OK"));
  ASSERT_TRUE(cluster_.RestartConductor());
  Connect();
  JobRecord record = Wait(job);
  EXPECT_EQ(JobState::kOk, record.state);
  for (const broker::TaskRecord& task : record.tasks)
    EXPECT_EQ("done\n", task.stdout_text);
}

TEST_F(DurabilityTest, ResultsSurviveAPlayerRestartWhileTheConductorIsDown) {
  Start();
  JobId job = Submit(broker::Scope::kAll, {"p1"}, "1");
  ASSERT_TRUE(WaitForPlayerLog("p1", "task started task="));
  cluster_.KillConductor(SIGKILL);
  ASSERT_TRUE(WaitForPlayerLog("p1", "task finished task=.*state=OK"));
  cluster_.StopPlayer("p1");
  ASSERT_TRUE(cluster_.RestartConductor());
  ASSERT_TRUE(cluster_.StartPlayer("p1"));
  Connect();
  EXPECT_EQ(JobState::kOk, Wait(job).state);
  EXPECT_EQ(1u, Runs().size());
}

TEST_F(DurabilityTest, SigtermStopsTheConductorCleanlyWithEverythingKept) {
  Start();
  JobId job = Submit(broker::Scope::kAll, {"p1", "p2"});
  EXPECT_EQ(JobState::kOk, Wait(job).state);
  cluster_.conductor()->Signal(SIGTERM);
  std::optional<int> status = cluster_.conductor()->Wait(20s);
  ASSERT_TRUE(status.has_value());
  EXPECT_TRUE(WIFEXITED(*status) && WEXITSTATUS(*status) == 0);
  ASSERT_TRUE(cluster_.RestartConductor());
  Connect();
  EXPECT_EQ(JobState::kOk, Wait(job).state);
}

TEST_F(DurabilityTest, PlayerStoppedBySigtermEndsItsScoreAndReportsItLost) {
  Start();
  AnnounceStarts();
  JobId job = Submit(broker::Scope::kAll, {"p1"}, "30");
  const pid_t score = WaitForScoreStart();
  ASSERT_NE(0, score);
  cluster_.player("p1")->Signal(SIGTERM);
  std::optional<int> status = cluster_.player("p1")->Wait(20s);
  ASSERT_TRUE(status.has_value());
  EXPECT_TRUE(WIFEXITED(*status) && WEXITSTATUS(*status) == 0);
  EXPECT_FALSE(GroupAlive(score)) << "the score outlived its player";
  ASSERT_TRUE(cluster_.StartPlayer("p1"));
  JobRecord record = Wait(job);
  EXPECT_EQ(TaskState::kLost, record.tasks[0].state);
  EXPECT_EQ(1u, Runs().size());
}

// Original defect 6: removing a player from the players file and sending
// SIGHUP deleted its pending tasks, and the jobs waiting on it dangled.
TEST_F(DurabilityTest, RemovedPlayersTasksEndAbortedAndTheJobsFinish) {
  Start();
  JobId all = Submit(broker::Scope::kAll, {"p1", "p2"}, "30", {}, "p1");
  ASSERT_TRUE(WaitForPlayerLog("p1", "task started task="));
  cluster_.Unlist("p1");
  ASSERT_TRUE(cluster_.ReloadConductor());
  JobRecord record = Wait(all, 60000);
  EXPECT_EQ(JobState::kPartialFail, record.state);
  EXPECT_EQ(TaskState::kAborted, record.tasks[0].state);
  EXPECT_EQ(TaskState::kOk, record.tasks[1].state);
  EXPECT_EQ(
      broker::ErrorCode::kInvalidPlayer,
      std::get<broker::ErrorReply>(
          client_
              ->Call(
                  broker::SubmitRequest{
                      "count", broker::Scope::kOne, {"p1"}, {}, {}, {}, ""},
                  10000)
              .value()
              .body)
          .error.code);
}

// Original defect 12: there was no way to revoke a key.
TEST_F(DurabilityTest, RevokedKeyIsCutOffMidSessionAndCannotComeBack) {
  Start();
  JobId job = Submit(broker::Scope::kAll, {"p1"}, "1");
  ASSERT_TRUE(WaitForPlayerLog("p1", "task started task="));
  cluster_.Revoke("p1");
  ASSERT_TRUE(cluster_.ReloadConductor());
  JobRecord record = Wait(job);
  EXPECT_EQ(TaskState::kAborted, record.tasks[0].state);
  // Its result and its attempts to come back are refused.
  EXPECT_TRUE(WaitForPlayerLog("p1", "task finished task="));
  EXPECT_TRUE(cluster_.conductor()
                  ->WaitForLog("connection refused domain=players .*"
                               "reason=\"revoked key\"",
                               30s)
                  .has_value());
  EXPECT_EQ(TaskState::kAborted, Wait(job).tasks[0].state);
  EXPECT_EQ(1u, cluster_.conductor()->CountLog("player joined player=p1 "));
}

// Original defect 10: a configuration error on SIGHUP killed the conductor.
TEST_F(DurabilityTest, BrokenConfigOnSighupKeepsTheOldSettings) {
  Start();
  std::ofstream(cluster_.dir() + "/conductor.conf", std::ios::app)
      << "hartbeat interval = 5\n";
  cluster_.conductor()->Signal(SIGHUP);
  EXPECT_TRUE(cluster_.conductor()
                  ->WaitForLog("reload failed, old settings kept .*"
                               "unknown key 'hartbeat interval'",
                               10s)
                  .has_value());
  EXPECT_EQ(JobState::kOk,
            Wait(Submit(broker::Scope::kAll, {"p1", "p2"})).state);
}

TEST_F(DurabilityTest, PlayerOfflinePastTheDeliveryTimeoutEndsExpired) {
  ASSERT_TRUE(cluster_.StartConductor());
  ASSERT_TRUE(cluster_.StartPlayer("p1"));
  Connect();
  JobId job = Submit(broker::Scope::kAll, {"p1", "p2"}, "0", 1);
  JobRecord record = Wait(job);
  EXPECT_EQ(JobState::kPartialFail, record.state);
  EXPECT_EQ(TaskState::kOk, record.tasks[0].state);
  EXPECT_EQ(TaskState::kExpired, record.tasks[1].state);
}

TEST_F(DurabilityTest, OneJobMovesOnWhenItsPlayerNeverAcceptedTheTask) {
  Start();
  cluster_.player("p1")->Signal(SIGSTOP);  // Connected, but deaf.
  JobId job = Submit(broker::Scope::kOne, {"p1", "p2"});
  JobRecord record = Wait(job);
  cluster_.player("p1")->Signal(SIGKILL);
  EXPECT_EQ(JobState::kOk, record.state);
  ASSERT_EQ(2u, record.tasks.size());
  EXPECT_EQ("p1", record.tasks[0].player);
  EXPECT_EQ(TaskState::kExpired, record.tasks[0].state);
  EXPECT_EQ("p2", record.tasks[1].player);
  EXPECT_EQ(TaskState::kOk, record.tasks[1].state);
}

TEST_F(DurabilityTest, SilentPlayerIsNoticedAndWelcomedBack) {
  Start();
  const size_t mark = cluster_.conductor()->LogSize();
  cluster_.player("p1")->Signal(SIGSTOP);
  EXPECT_TRUE(cluster_.conductor()
                  ->WaitForLog("player left player=p1 reason=silent", 20s, mark)
                  .has_value());
  cluster_.player("p1")->Signal(SIGCONT);
  EXPECT_TRUE(cluster_.conductor()
                  ->WaitForLog("player joined player=p1 ", 20s, mark)
                  .has_value());
  EXPECT_EQ(JobState::kOk, Wait(Submit(broker::Scope::kAll, {"p1"})).state);
}

// A restarted conductor knows no session until a player's hello. Players
// greet each new connection at once; before, they waited for their next
// heartbeat to be answered with hello_required, which kept a whole fleet
// away for up to a heartbeat interval (here a minute) after a restart.
TEST_F(DurabilityTest, PlayersGreetARestartedConductorAtOnce) {
  Start("heartbeat interval = 60000\nplayer timeout = 120000\n");
  cluster_.KillConductor(SIGKILL);
  ASSERT_TRUE(cluster_.RestartConductor());
  const size_t mark = 0;
  EXPECT_TRUE(cluster_.conductor()
                  ->WaitForLog("player joined player=p1 ", 20s, mark)
                  .has_value());
  EXPECT_TRUE(cluster_.conductor()
                  ->WaitForLog("player joined player=p2 ", 20s, mark)
                  .has_value());
}

}  // namespace
}  // namespace orchestra::test
