// End-to-end: every task in a cgroup of its own (DESIGN.md section 16), with
// the real kernel's cgroup v2 hierarchy. Each test gives its player a fresh
// directory under the v2 mount (`cgroup = DIR`) and removes it afterwards;
// without a writable v2 hierarchy the tests are skipped, and one test checks
// that a player without cgroups says so once and runs as before.
//
// The escape every test tries: the score starts a sleeper through a
// subshell and setsid (a new session and process group, reparented away
// from the score), which keeps the score's stdout open; process-group kills
// never reach it. It writes its pid to the file the test names.

#include <dirent.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <set>
#include <thread>

#include "broker/audience_protocol.h"
#include "test/cluster.h"
#include "test/file_watch.h"

namespace orchestra::test {
namespace {

using broker::JobId;
using broker::JobRecord;
using broker::JobState;
using broker::TaskState;

const char kCgroupRoot[] = "/sys/fs/cgroup/unified";

// Starts the sleeper, waits for its pid file, then ends as $ORC_END says:
// "ok" (exit 0 once the file PIDFILE.go exists), "hold" (runs until
// stopped).
const char kEscape[] =
    "#!/bin/sh\n"
    "( setsid sh -c 'echo $$ > \"$ORC_PIDFILE\"; exec sleep 1000' & )\n"
    "while [ ! -s \"$ORC_PIDFILE\" ]; do sleep 0.01; done\n"
    "echo escaped\n"
    "[ \"$ORC_END\" = hold ] && exec sleep 1000\n"
    "while [ ! -e \"$ORC_PIDFILE.go\" ]; do sleep 0.01; done\n"
    "exit 0\n";

// About a second of CPU, whatever the machine's speed: a busy loop for one
// second of wall time.
const char kBusy[] =
    "#!/bin/sh\n"
    "timeout 1 sh -c 'while :; do :; done'\n"
    "exit 0\n";

bool Exists(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0;
}

// True while `pid` is a live process (a zombie is gone: it runs nothing).
bool Alive(pid_t pid) {
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  if (!std::getline(stat, line)) return false;
  const size_t close = line.rfind(')');
  return close != std::string::npos && close + 2 < line.size() &&
         line[close + 2] != 'Z';
}

// Polls `condition` until it holds or `timeout` passes.
template <typename Condition>
bool Eventually(Condition condition, std::chrono::milliseconds timeout = 10s) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    if (condition()) return true;
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(20ms);
  }
}

// Kills what is left in `dir` and its children, then removes them all.
void RemoveCgroupTree(const std::string& dir) {
  std::vector<std::string> children;
  if (DIR* d = ::opendir(dir.c_str())) {
    while (struct dirent* e = ::readdir(d)) {
      const std::string name = e->d_name;
      if (e->d_type == DT_DIR && name != "." && name != "..")
        children.push_back(dir + "/" + name);
    }
    ::closedir(d);
  }
  for (const std::string& child : children) RemoveCgroupTree(child);
  std::ofstream(dir + "/cgroup.kill") << "1";
  Eventually([&] { return ::rmdir(dir.c_str()) == 0 || errno == ENOENT; });
}

class CgroupTest : public testing::Test {
 protected:
  void SetUp() override {
    static int count = 0;
    base_ = std::string(kCgroupRoot) + "/orchestra-e2e-" +
            std::to_string(::getpid()) + "-" + std::to_string(++count);
    if (!Exists(std::string(kCgroupRoot) + "/cgroup.procs") ||
        ::mkdir(base_.c_str(), 0755) != 0) {
      base_.clear();
      GTEST_SKIP() << "no writable cgroup v2 hierarchy at " << kCgroupRoot;
    }
    cluster_.AddPlayer("p1");
    cluster_.WriteScore("p1", "escape", kEscape);
    cluster_.WriteScore("p1", "busy", kBusy);
    ASSERT_TRUE(cluster_.StartConductor());
  }
  void TearDown() override {
    if (Process* p = cluster_.player("p1")) {
      p->Signal(SIGTERM);
      p->Wait(20s);
    }
    if (!base_.empty()) RemoveCgroupTree(base_);
  }

  void StartPlayer() {
    ASSERT_TRUE(cluster_.StartPlayer("p1", "cgroup = " + base_ + "\n"));
    client_ = cluster_.Client();
    ASSERT_NE(nullptr, client_);
  }
  JobId Submit(const std::string& score, broker::StringMap params = {},
               std::optional<int64_t> timeout_s = std::nullopt) {
    broker::SubmitRequest r;
    r.score = score;
    r.scope = broker::Scope::kAll;
    r.players = {"p1"};
    r.params = std::move(params);
    r.timeout_s = timeout_s;
    auto reply = client_->Call(r, 10000);
    EXPECT_TRUE(reply.ok()) << reply.status().ToString();
    auto* submitted =
        reply.ok() ? std::get_if<broker::SubmitReply>(&reply.value().body)
                   : nullptr;
    EXPECT_NE(nullptr, submitted);
    return submitted ? submitted->job : 0;
  }
  JobRecord Wait(JobId job) {
    auto reply = client_->Call(broker::WaitRequest{job, 25000}, 30000);
    EXPECT_TRUE(reply.ok()) << reply.status().ToString();
    auto* record = reply.ok()
                       ? std::get_if<broker::JobReply>(&reply.value().body)
                       : nullptr;
    EXPECT_NE(nullptr, record);
    return record ? record->job : JobRecord{};
  }
  // Submits the escaping score; returns the job and the sleeper's pid once
  // the sleeper runs.
  std::pair<JobId, pid_t> Escape(const std::string& end,
                                 std::optional<int64_t> timeout_s = {}) {
    const std::string pidfile = cluster_.dir() + "/sleeper-" + end + ".pid";
    const JobId job =
        Submit("escape", {{"PIDFILE", pidfile}, {"END", end}}, timeout_s);
    pid_t pid = 0;
    EXPECT_TRUE(Eventually([&] {
      std::ifstream(pidfile) >> pid;
      return pid > 0;
    })) << "the sleeper never started";
    EXPECT_TRUE(Alive(pid));
    return {job, pid};
  }
  std::string TaskDir(const JobRecord& job) const {
    return base_ + "/task-" + std::to_string(job.tasks.at(0).task);
  }
  // Every process of the task is gone and so is its cgroup.
  void ExpectContained(const JobRecord& job, pid_t sleeper) {
    EXPECT_TRUE(Eventually([&] { return !Alive(sleeper); }))
        << "the sleeper " << sleeper << " outlived its task";
    EXPECT_TRUE(Eventually([&] { return !Exists(TaskDir(job)); }))
        << TaskDir(job) << " was left behind";
  }

  Cluster cluster_;
  std::unique_ptr<broker::AudienceClient> client_;
  std::string base_;
};

TEST_F(CgroupTest, WhatATaskStartedIsGoneWhenItEndsOk) {
  StartPlayer();
  auto [job, sleeper] = Escape("ok");
  std::ofstream(cluster_.dir() + "/sleeper-ok.pid.go") << "go";
  const JobRecord record = Wait(job);
  ASSERT_EQ(1u, record.tasks.size());
  EXPECT_EQ(TaskState::kOk, record.tasks[0].state);
  EXPECT_EQ("escaped\n", record.tasks[0].stdout_text);
  ExpectContained(record, sleeper);
  EXPECT_TRUE(record.tasks[0].cpu_us.has_value());
}

TEST_F(CgroupTest, WhatATaskStartedIsGoneWhenItTimesOut) {
  StartPlayer();
  auto [job, sleeper] = Escape("hold", 1);
  const JobRecord record = Wait(job);
  ASSERT_EQ(1u, record.tasks.size());
  EXPECT_EQ(TaskState::kTimeout, record.tasks[0].state);
  ExpectContained(record, sleeper);
}

TEST_F(CgroupTest, WhatATaskStartedIsGoneWhenItIsCancelled) {
  StartPlayer();
  auto [job, sleeper] = Escape("hold");
  auto cancelled = client_->Call(broker::CancelRequest{job}, 10000);
  ASSERT_TRUE(cancelled.ok()) << cancelled.status().ToString();
  const JobRecord record = Wait(job);
  ASSERT_EQ(1u, record.tasks.size());
  EXPECT_EQ(TaskState::kCancelled, record.tasks[0].state);
  ExpectContained(record, sleeper);
}

// About one second of CPU is reported as such (the bounds).
TEST_F(CgroupTest, AResultSaysWhatCpuItsTaskUsed) {
  StartPlayer();
  const JobRecord record = Wait(Submit("busy"));
  ASSERT_EQ(1u, record.tasks.size());
  EXPECT_EQ(TaskState::kOk, record.tasks[0].state);
  ASSERT_TRUE(record.tasks[0].cpu_us.has_value());
  EXPECT_GE(*record.tasks[0].cpu_us, 500000);
  EXPECT_LE(*record.tasks[0].cpu_us, 2000000);
  const std::string status =
      cluster_.Cli({"status", std::to_string(record.id)}).out;
  EXPECT_NE(std::string::npos, status.find("CPU")) << status;
}

// After the player's kill -9 its task's processes run on in their cgroup;
// the restarted player kills them, removes the cgroup and reports the task
// LOST.
TEST_F(CgroupTest, ARestartedPlayerEndsWhatItsKilledSelfLeftBehind) {
  StartPlayer();
  auto [job, sleeper] = Escape("hold");
  auto status = client_->Call(broker::StatusRequest{job}, 10000);
  ASSERT_TRUE(status.ok()) << status.status().ToString();
  const JobRecord running = std::get<broker::JobReply>(status.value().body).job;
  ASSERT_EQ(1u, running.tasks.size());
  const std::string procs = ReadText(TaskDir(running) + "/cgroup.procs");
  EXPECT_NE(std::string::npos, procs.find(std::to_string(sleeper) + "\n"))
      << "the sleeper is not in its task's cgroup: " << procs;
  cluster_.player("p1")->Signal(SIGKILL);
  cluster_.player("p1")->Wait(10s);
  EXPECT_TRUE(Alive(sleeper)) << "nothing was left to clean up";
  EXPECT_TRUE(Exists(TaskDir(running)));
  StartPlayer();
  const JobRecord record = Wait(job);
  ASSERT_EQ(1u, record.tasks.size());
  EXPECT_EQ(TaskState::kLost, record.tasks[0].state);
  ExpectContained(record, sleeper);
}

// A score run as another user (`user =`) is contained the same way, and
// runs as that user only: the switch is the child's alone.
TEST_F(CgroupTest, AScoreRunAsAnotherUserIsContainedToo) {
  cluster_.WriteScore("p1", "who", "#!/bin/sh\nid -u\ncat /proc/self/cgroup\n",
                      "user = nobody\ndir = /\n");
  StartPlayer();
  const JobRecord record = Wait(Submit("who"));
  ASSERT_EQ(1u, record.tasks.size());
  ASSERT_EQ(TaskState::kOk, record.tasks[0].state) << record.tasks[0].error;
  const std::string task = "/task-" + std::to_string(record.tasks[0].task);
  EXPECT_NE(std::string::npos, record.tasks[0].stdout_text.find("65534\n"));
  EXPECT_NE(std::string::npos, record.tasks[0].stdout_text.find(task + "\n"))
      << record.tasks[0].stdout_text;
  // Every thread of the player (its ZeroMQ threads too) is still root.
  const std::string tasks =
      "/proc/" + std::to_string(cluster_.player("p1")->pid()) + "/task";
  int threads = 0;
  if (DIR* d = ::opendir(tasks.c_str())) {
    while (struct dirent* e = ::readdir(d)) {
      if (e->d_name[0] == '.') continue;
      ++threads;
      const std::string status = ReadText(tasks + "/" + e->d_name + "/status");
      EXPECT_NE(std::string::npos, status.find("\nUid:\t0\t0\t0\t0\n"))
          << "thread " << e->d_name;
    }
    ::closedir(d);
  }
  EXPECT_GT(threads, 1);
}

// The score's limits need the memory and pids controllers in the v2
// hierarchy. Where they are on, a score past `memory max` ends FAIL for
// being out of memory; where they are not, the score still runs and the
// player says why its limit is not applied.
TEST_F(CgroupTest, ScoreLimitsApplyWhereTheirControllersAre) {
  cluster_.WriteScore("p1", "hog",
                      "#!/bin/sh\nhead -c 200M /dev/zero | tail > /dev/null\n"
                      "echo survived\n",
                      "memory max = 64M\ntasks max = 100\n");
  StartPlayer();
  const std::string offered =
      ReadText(std::string(kCgroupRoot) + "/cgroup.controllers");
  const JobRecord record = Wait(Submit("hog"));
  ASSERT_EQ(1u, record.tasks.size());
  if (offered.find("memory") != std::string::npos) {
    EXPECT_EQ(TaskState::kFail, record.tasks[0].state);
    EXPECT_EQ("out of memory (memory max 64M)", record.tasks[0].error);
  } else {
    EXPECT_EQ(TaskState::kOk, record.tasks[0].state);
    EXPECT_TRUE(cluster_.player("p1")
                    ->WaitForLog("score limit not applied score=hog "
                                 "key=\"memory max\"",
                                 10s)
                    .has_value());
  }
  if (offered.find("pids") == std::string::npos) {
    EXPECT_TRUE(cluster_.player("p1")
                    ->WaitForLog("score limit not applied score=hog "
                                 "key=\"tasks max\"",
                                 10s)
                    .has_value());
  }
}

// A player without a cgroup to use says so once at start, and tasks run
// as before (process groups), without a cost: the sleeper that left its
// score's session outlives the task, which is what the tests above show
// cgroups prevent.
TEST(CgroupOffTest, APlayerWithoutCgroupsSaysSoAndRunsAsBefore) {
  Cluster cluster;
  cluster.AddPlayer("p1");
  cluster.WriteScore("p1", "escape", kEscape);
  ASSERT_TRUE(cluster.StartConductor());
  ASSERT_TRUE(cluster.StartPlayer("p1", "cgroup = off\n"));
  EXPECT_TRUE(cluster.player("p1")
                  ->WaitForLog("tasks not contained in cgroups reason=", 10s)
                  .has_value());
  auto client = cluster.Client();
  ASSERT_NE(nullptr, client);
  const std::string pidfile = cluster.dir() + "/sleeper.pid";
  broker::SubmitRequest r;
  r.score = "escape";
  r.scope = broker::Scope::kAll;
  r.players = {"p1"};
  r.params = {{"PIDFILE", pidfile}, {"END", "ok"}};
  auto submitted = client->Call(r, 10000);
  ASSERT_TRUE(submitted.ok());
  const JobId job = std::get<broker::SubmitReply>(submitted.value().body).job;
  pid_t sleeper = 0;
  ASSERT_TRUE(Eventually([&] {
    std::ifstream(pidfile) >> sleeper;
    return sleeper > 0;
  }));
  std::ofstream(pidfile + ".go") << "go";
  auto waited = client->Call(broker::WaitRequest{job, 25000}, 30000);
  ASSERT_TRUE(waited.ok());
  const JobRecord record = std::get<broker::JobReply>(waited.value().body).job;
  EXPECT_EQ(JobState::kOk, record.state);
  EXPECT_FALSE(record.tasks.at(0).cpu_us.has_value());
  EXPECT_TRUE(Alive(sleeper)) << "process groups reached the sleeper";
  ::kill(sleeper, SIGKILL);
  EXPECT_EQ(1u, cluster.player("p1")->CountLog("tasks not contained"));
}

}  // namespace
}  // namespace orchestra::test
