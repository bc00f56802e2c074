// Tests for player/task_cgroups.cc: what it writes and reads, against a
// fake cgroup directory (a temporary directory with the interface files
// the test creates), and with the real kernel through PosixProcessRunner,
// in a fresh cgroup under /sys/fs/cgroup/unified (skipped where one cannot
// be created). Every wait is on an event or a pidfd, bounded by a deadline.

#include "player/task_cgroups.h"

#include <dirent.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <fstream>
#include <functional>
#include <string>
#include <vector>

#include "common/log.h"
#include "player/posix_process_runner.h"
#include "player/score_file.h"
#include "player/trusted_directory.h"
#include "test/file_watch.h"
#include "test/test_util.h"

namespace orchestra::player {
namespace {

using broker::TaskResult;
using broker::TaskState;

bool Exists(const std::string& path) {
  return ::access(path.c_str(), F_OK) == 0;
}

// Logs into a vector for the test's life.
class LogCapture {
 public:
  LogCapture() {
    common::SetLogSinkForTest([this](common::LogLevel, std::string_view line) {
      lines_.emplace_back(line);
    });
  }
  ~LogCapture() { common::SetLogSinkForTest(nullptr); }
  size_t Count(const std::string& text) const {
    return std::count_if(lines_.begin(), lines_.end(), [&](const auto& l) {
      return l.find(text) != std::string::npos;
    });
  }

 private:
  std::vector<std::string> lines_;
};

class TaskCgroupsTest : public testing::Test {
 protected:
  // A fake base offering `controllers`, opened.
  std::unique_ptr<TaskCgroups> Fake(const std::string& controllers) {
    dir_.MakeFile("cgroup.controllers", controllers + "\n", 0644);
    dir_.MakeFile("cgroup.subtree_control", "", 0644);
    auto cgroups = TaskCgroups::Open(dir_.path());
    EXPECT_OK(cgroups.status());
    return cgroups.ok() ? std::move(cgroups.value()) : nullptr;
  }
  std::string Read(const std::string& name) {
    return test::ReadText(dir_.File(name));
  }
  static CgroupLimits Limits(int64_t memory, const std::string& text,
                             int64_t tasks) {
    CgroupLimits limits;
    limits.memory_max = memory;
    limits.memory_max_text = text;
    limits.tasks_max = tasks;
    return limits;
  }

  LogCapture log_;
  test::TempDir dir_;
};

TEST_F(TaskCgroupsTest, EnablesMemoryAndPidsWhereOffered) {
  auto cgroups = Fake("cpuset cpu io memory hugetlb pids rdma");
  cgroups->EnableControllers();
  EXPECT_EQ("+memory +pids", Read("cgroup.subtree_control"));
  EXPECT_TRUE(cgroups->memory_on());
  EXPECT_TRUE(cgroups->pids_on());
}

TEST_F(TaskCgroupsTest, EnablesOnlyWhatIsOfferedAndSaysWhyNot) {
  auto cgroups = Fake("cpu pids");
  cgroups->EnableControllers();
  EXPECT_EQ("+pids", Read("cgroup.subtree_control"));
  EXPECT_FALSE(cgroups->memory_on());
  EXPECT_TRUE(cgroups->pids_on());
  EXPECT_EQ(1u, log_.Count("controller=memory reason=\"the memory controller "
                           "is not available in " +
                           dir_.path()));
}

TEST_F(TaskCgroupsTest, NothingOfferedWritesNoSubtreeControl) {
  auto cgroups = Fake("");
  cgroups->EnableControllers();
  EXPECT_EQ("", Read("cgroup.subtree_control"));
  EXPECT_FALSE(cgroups->memory_on());
  EXPECT_FALSE(cgroups->pids_on());
}

TEST_F(TaskCgroupsTest, CreateWritesTheLimits) {
  auto cgroups = Fake("memory pids");
  cgroups->EnableControllers();
  auto dir = cgroups->Create(5, "big", Limits(256 << 20, "256M", 10));
  ASSERT_OK(dir.status());
  EXPECT_TRUE(dir.value().valid());
  EXPECT_EQ("268435456", Read("task-5/memory.max"));
  EXPECT_EQ("10", Read("task-5/pids.max"));
  EXPECT_EQ(dir_.File("task-5"), cgroups->TaskPath(5));
}

TEST_F(TaskCgroupsTest, LimitWithoutItsControllerIsLoggedOnceAndTaskRuns) {
  auto cgroups = Fake("pids");
  cgroups->EnableControllers();
  for (broker::TaskId task : {1, 2}) {
    auto dir = cgroups->Create(task, "big", Limits(1 << 20, "1M", 3));
    ASSERT_OK(dir.status());
  }
  EXPECT_FALSE(Exists(dir_.File("task-1/memory.max")));
  EXPECT_EQ("3", Read("task-2/pids.max"));
  EXPECT_EQ(1u, log_.Count("score limit not applied score=big "
                           "key=\"memory max\""));
  EXPECT_EQ(0u, log_.Count("key=\"tasks max\""));
}

TEST_F(TaskCgroupsTest, CostReadsCpuPeakAndOomKill) {
  auto cgroups = Fake("memory");
  cgroups->EnableControllers();
  ASSERT_OK(cgroups->Create(9, "s", CgroupLimits()).status());
  dir_.MakeFile("task-9/cpu.stat", "usage_usec 1234567\nuser_usec 1000\n",
                0644);
  dir_.MakeFile("task-9/memory.peak", "8192\n", 0644);
  dir_.MakeFile("task-9/memory.events",
                "low 0\nhigh 0\nmax 4\noom 1\n"
                "oom_kill 1\noom_group_kill 0\n",
                0644);
  TaskCost cost = cgroups->Cost(9);
  EXPECT_EQ(1234567, cost.cpu_us.value_or(-1));
  EXPECT_EQ(8192, cost.memory_peak_bytes.value_or(-1));
  EXPECT_TRUE(cost.out_of_memory);
}

TEST_F(TaskCgroupsTest, WithoutMemoryControllerCostIsCpuOnly) {
  auto cgroups = Fake("");
  ASSERT_OK(cgroups->Create(9, "s", CgroupLimits()).status());
  dir_.MakeFile("task-9/cpu.stat", "usage_usec 42\n", 0644);
  dir_.MakeFile("task-9/memory.peak", "8192\n", 0644);
  TaskCost cost = cgroups->Cost(9);
  EXPECT_EQ(42, cost.cpu_us.value_or(-1));
  EXPECT_FALSE(cost.memory_peak_bytes.has_value());
  EXPECT_FALSE(cost.out_of_memory);
}

TEST_F(TaskCgroupsTest, AdoptPlayerWritesThePidIntoPlayer) {
  auto cgroups = Fake("");
  ASSERT_OK(cgroups->AdoptPlayer(4242));
  EXPECT_EQ("4242", Read("player/cgroup.procs"));
}

TEST_F(TaskCgroupsTest, ADirectoryWithoutControllersIsNoCgroup) {
  EXPECT_FALSE(TaskCgroups::Open(dir_.path()).ok());
}

TEST_F(TaskCgroupsTest, OffIsOffWithItsReason) {
  std::string why;
  auto base = FindCgroupBase("off", "/proc", &why);
  ASSERT_OK(base.status());
  EXPECT_EQ("", base.value());
  EXPECT_EQ("cgroup = off in player.conf", why);
}

// A fake /proc saying the player is in `own` of a cgroup2 mount at
// `mount`.
void FakeProc(const test::TempDir& proc, const std::string& own,
              const std::string& mount) {
  ::mkdir(proc.File("self").c_str(), 0755);
  proc.MakeFile("self/cgroup", "1:name=systemd:/\n0::" + own + "\n", 0644);
  proc.MakeFile("self/mountinfo",
                "22 1 0:21 / /proc rw - proc proc rw\n"
                "41 31 0:38 / " +
                    mount + " rw,relatime - cgroup2 cgroup2 rw\n",
                0644);
}

TEST_F(TaskCgroupsTest, AutoIsOffInTheRootCgroup) {
  FakeProc(dir_, "/", "/sys/fs/cgroup");
  std::string why;
  auto base = FindCgroupBase("auto", dir_.path(), &why);
  ASSERT_OK(base.status());
  EXPECT_EQ("", base.value());
  EXPECT_NE(std::string::npos, why.find("root cgroup v2")) << why;
}

TEST_F(TaskCgroupsTest, AutoIsOffWithoutCgroupV2) {
  ::mkdir(dir_.File("self").c_str(), 0755);
  dir_.MakeFile("self/cgroup", "4:memory:/x\n", 0644);
  dir_.MakeFile("self/mountinfo", "", 0644);
  std::string why;
  auto base = FindCgroupBase("auto", dir_.path(), &why);
  ASSERT_OK(base.status());
  EXPECT_EQ("", base.value());
  EXPECT_NE(std::string::npos, why.find("no cgroup v2")) << why;
}

TEST_F(TaskCgroupsTest, AutoIsThePlayersOwnCgroupWhereItMayCreateChildren) {
  test::TempDir proc;
  FakeProc(proc, "/system.slice/orchestra-player.service", dir_.path());
  ::mkdir(dir_.File("system.slice").c_str(), 0755);
  ::mkdir(dir_.File("system.slice/orchestra-player.service").c_str(), 0755);
  std::string why;
  auto base = FindCgroupBase("auto", proc.path(), &why);
  ASSERT_OK(base.status());
  EXPECT_EQ(dir_.File("system.slice/orchestra-player.service"), base.value());
  EXPECT_TRUE(Exists(base.value() + "/player"));
}

TEST_F(TaskCgroupsTest, AnExplicitPathOutsideCgroupV2IsAnError) {
  std::string why;
  auto base = FindCgroupBase(dir_.path(), "/proc", &why);
  EXPECT_FALSE(base.ok());
  EXPECT_NE(std::string::npos,
            base.status().message().find("not in a cgroup v2 hierarchy"));
}

// With the real kernel: a fresh cgroup v2 directory as the base, removed
// after the test with whatever is left in it.
class TaskCgroupsKernelTest : public testing::Test {
 protected:
  void SetUp() override {
    static int made = 0;
    base_ = "/sys/fs/cgroup/unified/orchestra-test-" +
            std::to_string(::getpid()) + "-" + std::to_string(++made);
    if (::mkdir(base_.c_str(), 0755) != 0) {
      base_.clear();
      GTEST_SKIP() << "no cgroup v2 directory to create: "
                   << std::strerror(errno);
    }
    auto cgroups = TaskCgroups::Open(base_);
    ASSERT_OK(cgroups.status());
    cgroups_ = std::move(cgroups.value());
    cgroups_->EnableControllers();
    RunnerOptions options;
    options.kill_grace_ms = kGraceMs;
    options.cgroups = cgroups_.get();
    auto runner = PosixProcessRunner::Create(options);
    ASSERT_OK(runner.status());
    runner_ = std::move(runner.value());
  }
  void TearDown() override {
    runner_.reset();
    cgroups_.reset();
    if (base_.empty()) return;
    for (const std::string& name : Children()) {
      std::ofstream(base_ + "/" + name + "/cgroup.kill") << "1";
      WaitFor([&] { return ::rmdir((base_ + "/" + name).c_str()) == 0; });
    }
    EXPECT_EQ(0, ::rmdir(base_.c_str())) << std::strerror(errno);
  }

  std::vector<std::string> Children() const {
    std::vector<std::string> names;
    if (DIR* dir = ::opendir(base_.c_str())) {
      while (struct dirent* e = ::readdir(dir))
        if (e->d_type == DT_DIR && e->d_name[0] != '.')
          names.push_back(e->d_name);
      ::closedir(dir);
    }
    return names;
  }

  // Waits at most 5 s for `done()`, turning the runner (its events and
  // deadlines) meanwhile; results it returns are kept in results_.
  bool WaitFor(const std::function<bool()>& done) {
    const auto give_up =
        std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (!done()) {
      if (std::chrono::steady_clock::now() >= give_up) return false;
      Turn();
    }
    return true;
  }
  void Turn() {
    if (!runner_) return;
    common::TimeMs wait = 100;
    if (runner_->NextDeadline() > 0)
      wait = std::clamp<common::TimeMs>(
          runner_->NextDeadline() - clock_.Monotonic(), 0, 100);
    struct pollfd item = {runner_->fd(), POLLIN, 0};
    ::poll(&item, 1, static_cast<int>(wait));
    for (TaskResult& r : runner_->Collect()) results_.push_back(r);
  }
  TaskResult WaitForResult() {
    EXPECT_TRUE(WaitFor([&] { return !results_.empty(); }));
    if (results_.empty()) return TaskResult();
    TaskResult first = results_.front();
    results_.erase(results_.begin());
    return first;
  }

  ScoreRun Shell(const std::string& script) {
    const std::string name = "score" + std::to_string(++last_task_);
    std::ofstream(scores_.File(name)) << "#!/bin/sh\n" << script << "\n";
    EXPECT_EQ(0, ::chmod(scores_.File(name).c_str(), 0755));
    auto dir = TrustedDirectory::Open(scores_.path(), ::geteuid());
    EXPECT_OK(dir.status());
    ScoreRun run;
    run.task = last_task_;
    run.job = 1;
    run.score = name;
    run.path = scores_.File(name);
    if (dir.ok()) {
      auto file = ScoreFile::Open(dir.value(), name);
      EXPECT_OK(file.status());
      if (file.ok()) run.file = file.value();
    }
    return run;
  }
  // A score that starts `setsid sleep 1000` through a double fork, writes
  // its pid to pid_file() and then runs `rest`.
  ScoreRun Escaping(const std::string& rest) {
    return Shell("(setsid sh -c 'echo $$ > " + pid_file() +
                 "; exec sleep 1000' </dev/null >/dev/null 2>&1 &)\n"
                 "while [ ! -s " +
                 pid_file() + " ]; do sleep 0.01; done\n" + rest);
  }
  std::string pid_file() const { return scores_.File("escaped.pid"); }
  pid_t EscapedPid() {
    std::vector<std::string> lines = test::WaitForLines(pid_file(), 1);
    return lines.empty() ? 0 : std::stoi(lines[0]);
  }
  // The task's cgroup is gone and `pid` has ended.
  void ExpectNothingLeft(const ScoreRun& run, pid_t pid) {
    ASSERT_NE(0, pid);
    EXPECT_TRUE(test::ProcessEnds(pid)) << pid;
    EXPECT_TRUE(WaitFor([&] { return !Exists(cgroups_->TaskPath(run.task)); }))
        << cgroups_->TaskPath(run.task);
  }

  static constexpr common::TimeMs kGraceMs = 300;
  common::SystemClock clock_;
  LogCapture log_;
  std::string base_;
  test::TempDir scores_;
  std::unique_ptr<TaskCgroups> cgroups_;
  std::unique_ptr<PosixProcessRunner> runner_;
  std::vector<TaskResult> results_;
  broker::TaskId last_task_ = 0;
};

TEST_F(TaskCgroupsKernelTest, ScoreRunsInItsTaskCgroupFromTheStart) {
  ScoreRun run = Shell("cat /proc/self/cgroup");
  ASSERT_OK(runner_->Start(run));
  TaskResult result = WaitForResult();
  EXPECT_EQ(TaskState::kOk, result.state);
  const std::string own =
      base_.substr(std::string("/sys/fs/cgroup/unified").size());
  EXPECT_NE(std::string::npos,
            result.stdout_text.find("0::" + own + "/task-1\n"))
      << result.stdout_text;
}

TEST_F(TaskCgroupsKernelTest, EscapedProcessIsGoneWhenTheScoreEndsOk) {
  ScoreRun run = Escaping("exit 0");
  ASSERT_OK(runner_->Start(run));
  TaskResult result = WaitForResult();
  EXPECT_EQ(TaskState::kOk, result.state);
  ExpectNothingLeft(run, EscapedPid());
}

TEST_F(TaskCgroupsKernelTest, EscapedProcessIsGoneWhenTheScoreTimesOut) {
  ScoreRun run = Escaping("exec sleep 30");
  run.timeout_ms = 300;
  ASSERT_OK(runner_->Start(run));
  TaskResult result = WaitForResult();
  EXPECT_EQ(TaskState::kTimeout, result.state);
  ExpectNothingLeft(run, EscapedPid());
}

TEST_F(TaskCgroupsKernelTest, EscapedProcessIsGoneWhenTheScoreIsCancelled) {
  ScoreRun run = Escaping("exec sleep 30");
  ASSERT_OK(runner_->Start(run));
  const pid_t escaped = EscapedPid();
  runner_->Stop(run.task, TaskState::kCancelled);
  TaskResult result = WaitForResult();
  EXPECT_EQ(TaskState::kCancelled, result.state);
  ExpectNothingLeft(run, escaped);
}

TEST_F(TaskCgroupsKernelTest, EscapedProcessIsGoneWhenTheRunnerGoes) {
  ScoreRun run = Escaping("exec sleep 30");
  ASSERT_OK(runner_->Start(run));
  const pid_t escaped = EscapedPid();
  runner_.reset();
  cgroups_.reset();  // Waits for the cgroup to empty, then removes it
  EXPECT_TRUE(test::ProcessEnds(escaped));
  EXPECT_FALSE(Exists(base_ + "/task-1"));
}

TEST_F(TaskCgroupsKernelTest, ResultSaysWhatTheCpuCost) {
  ScoreRun run = Shell(
      "exec python3 -c 'import time\nwhile time.process_time() < 1.0: pass'");
  ASSERT_OK(runner_->Start(run));
  TaskResult result = WaitForResult();
  EXPECT_EQ(TaskState::kOk, result.state) << result.stderr_text;
  ASSERT_TRUE(result.cpu_us.has_value());
  EXPECT_GE(*result.cpu_us, 500000);
  EXPECT_LE(*result.cpu_us, 2000000);
}

TEST_F(TaskCgroupsKernelTest, StartUpKillsAndRemovesLeftovers) {
  const std::string left = base_ + "/task-77";
  ASSERT_EQ(0, ::mkdir(left.c_str(), 0755));
  ASSERT_EQ(0, ::mkdir((base_ + "/task-78").c_str(), 0755));
  int joined[2];
  ASSERT_EQ(0, ::pipe2(joined, O_CLOEXEC));
  pid_t pid = ::fork();
  if (pid == 0) {  // Joins task-77, as a score of a killed player would be
    std::ofstream(left + "/cgroup.procs") << "0";
    ::setsid();
    if (::write(joined[1], "j", 1) != 1) ::_exit(126);
    ::execl("/bin/sleep", "sleep", "1000", static_cast<char*>(nullptr));
    ::_exit(127);
  }
  ASSERT_GT(pid, 0);
  ::close(joined[1]);
  struct pollfd item = {joined[0], POLLIN, 0};
  ASSERT_EQ(1, ::poll(&item, 1, 5000));
  ::close(joined[0]);
  ASSERT_NE("", test::ReadText(left + "/cgroup.procs"));
  EXPECT_EQ(2u, cgroups_->CleanLeftovers({77}, 5000));
  int status = 0;
  ASSERT_EQ(pid, ::waitpid(pid, &status, 0));
  EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
  EXPECT_FALSE(Exists(left));
  EXPECT_FALSE(Exists(base_ + "/task-78"));
  EXPECT_EQ(1u, log_.Count("task cgroup of a lost task cleaned"));
  EXPECT_EQ(1u, log_.Count("task-78 reason=\"not in the journal\""));
}

}  // namespace
}  // namespace orchestra::player
