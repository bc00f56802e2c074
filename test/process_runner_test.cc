// Tests for player/posix_process_runner.cc (and child_process.cc,
// output_capture.cc, score_file.cc) with real score scripts in a temporary
// directory, each opened as a scan opens it. Every wait is on the runner's
// descriptor, bounded by a deadline.

#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "common/log.h"
#include "player/posix_process_runner.h"
#include "player/score_file.h"
#include "player/trusted_directory.h"
#include "test/fake_clock.h"
#include "test/file_watch.h"
#include "test/test_util.h"

namespace orchestra::player {
namespace {

using broker::TaskResult;
using broker::TaskState;

class PosixProcessRunnerTest : public testing::Test {
 protected:
  void SetUp() override {
    common::SetLogSinkForTest([this](common::LogLevel, std::string_view line) {
      log_.emplace_back(line);
    });
    MakeRunner(/*output_limit=*/65536);
  }
  void TearDown() override { common::SetLogSinkForTest(nullptr); }

  // `clock` (null: the system clock) is the runner's, for its deadlines.
  void MakeRunner(size_t output_limit, const common::Clock* clock = nullptr) {
    runner_clock_ = clock ? clock : &clock_;
    RunnerOptions options;
    options.output_limit = output_limit;
    options.kill_grace_ms = kGraceMs;
    options.clock = clock;
    auto runner = PosixProcessRunner::Create(options);
    ASSERT_OK(runner.status());
    runner_ = std::move(runner.value());
  }

  // Writes score `name` with `body` and returns a run of it, opened as
  // a scan opens it.
  ScoreRun Score(const std::string& name, const std::string& body) {
    std::ofstream(dir_.File(name)) << body;
    EXPECT_EQ(0, ::chmod(dir_.File(name).c_str(), 0755));
    ScoreRun run;
    run.task = ++last_task_;
    run.job = 7;
    run.score = name;
    run.path = dir_.File(name);
    run.file = Open(name);
    run.player = "test-player";
    return run;
  }
  std::shared_ptr<const ScoreFile> Open(const std::string& name) {
    auto dir = TrustedDirectory::Open(dir_.path(), ::geteuid());
    EXPECT_OK(dir.status());
    if (!dir.ok()) return nullptr;
    auto file = ScoreFile::Open(dir.value(), name);
    EXPECT_OK(file.status());
    return file.ok() ? file.value() : nullptr;
  }
  ScoreRun Shell(const std::string& script) {
    return Score("score" + std::to_string(last_task_ + 1),
                 "#!/bin/sh\n" + script + "\n");
  }

  // Starts `run` and waits (at most 20 s) for its result.
  TaskResult Run(const ScoreRun& run) {
    EXPECT_OK(runner_->Start(run));
    return WaitForResult();
  }
  TaskResult WaitForResult() {
    const auto give_up =
        std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (std::chrono::steady_clock::now() < give_up) {
      common::TimeMs wait = 1000;
      if (runner_->NextDeadline() > 0)
        wait = std::clamp<common::TimeMs>(
            runner_->NextDeadline() - runner_clock_->Monotonic(), 0, 1000);
      struct pollfd item = {runner_->fd(), POLLIN, 0};
      ::poll(&item, 1, static_cast<int>(wait));
      std::vector<TaskResult> done = runner_->Collect();
      if (!done.empty()) return done[0];
    }
    ADD_FAILURE() << "no result within 20 s";
    return TaskResult();
  }

  size_t CountLogged(const std::string& text) const {
    return std::count_if(log_.begin(), log_.end(), [&](const std::string& l) {
      return l.find(text) != std::string::npos;
    });
  }
  // "DEV:INODE" of `path`, as stat -c %d:%i prints it.
  static std::string DevIno(const std::string& path) {
    struct stat st;
    if (::stat(path.c_str(), &st) != 0) return "none";
    return std::to_string(st.st_dev) + ":" + std::to_string(st.st_ino);
  }
  static int Count(const std::string& text, const std::string& needle) {
    int count = 0;
    for (size_t at = text.find(needle); at != std::string::npos;
         at = text.find(needle, at + 1))
      ++count;
    return count;
  }
  static std::vector<std::string> Lines(const std::string& text) {
    std::vector<std::string> lines;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);) lines.push_back(line);
    return lines;
  }

  static constexpr common::TimeMs kGraceMs = 300;
  common::SystemClock clock_;
  const common::Clock* runner_clock_ = &clock_;
  test::TempDir dir_;
  std::vector<std::string> log_;
  std::unique_ptr<PosixProcessRunner> runner_;
  broker::TaskId last_task_ = 0;
};

TEST_F(PosixProcessRunnerTest, ExitZeroIsOk) {
  TaskResult result = Run(Shell("echo hello; echo oops >&2"));
  EXPECT_EQ(TaskState::kOk, result.state);
  EXPECT_EQ(0, result.exit_code.value_or(-1));
  EXPECT_EQ("hello\n", result.stdout_text);
  EXPECT_EQ("oops\n", result.stderr_text);
  EXPECT_LE(result.started_at, result.finished_at);
}

TEST_F(PosixProcessRunnerTest, NonZeroExitIsFailWithExitCode) {
  TaskResult result = Run(Shell("exit 3"));
  EXPECT_EQ(TaskState::kFail, result.state);
  EXPECT_EQ(3, result.exit_code.value_or(-1));
  EXPECT_FALSE(result.signal.has_value());
}

TEST_F(PosixProcessRunnerTest, KilledBySignalIsFailWithSignal) {
  TaskResult result = Run(Shell("kill -KILL $$"));
  EXPECT_EQ(TaskState::kFail, result.state);
  EXPECT_EQ(SIGKILL, result.signal.value_or(0));
  EXPECT_FALSE(result.exit_code.has_value());
}

TEST_F(PosixProcessRunnerTest, EnvironmentIsExactlyTheDesignedOne) {
  std::ifstream env_binary("/usr/bin/env", std::ios::binary);
  std::stringstream copy;
  copy << env_binary.rdbuf();
  ScoreRun run = Score("printenv", copy.str());
  run.params = {{"greeting", "hello world"}, {"COUNT", "3"}};
  std::vector<std::string> env = Lines(Run(run).stdout_text);
  std::sort(env.begin(), env.end());
  std::vector<std::string> expected = {
      "ORC_COUNT=3",
      "ORC_JOB_ID=7",
      "ORC_PLAYER=test-player",
      "ORC_TASK_ID=" + std::to_string(run.task),
      "ORC_greeting=hello world",
      "PATH=/usr/bin:/usr/sbin:/bin:/sbin"};
  EXPECT_EQ(expected, env);
}

TEST_F(PosixProcessRunnerTest, ArgvHoldsOnlyTheScoreName) {
  // coreutils name themselves after argv[0] in their error messages.
  std::ifstream binary("/usr/bin/basename", std::ios::binary);
  std::stringstream copy;
  copy << binary.rdbuf();
  TaskResult result = Run(Score("argv0-check", copy.str()));
  EXPECT_EQ(0u, result.stderr_text.rfind("argv0-check: missing operand", 0))
      << result.stderr_text;
}

TEST_F(PosixProcessRunnerTest, StdinIsDevNull) {
  EXPECT_EQ("/dev/null\n", Run(Shell("readlink /proc/$$/fd/0")).stdout_text);
}

TEST_F(PosixProcessRunnerTest, UmaskIs022) {
  mode_t old = ::umask(077);  // The player's own umask must not leak
  std::string umask = Run(Shell("umask")).stdout_text;
  ::umask(old);
  EXPECT_EQ("0022\n", umask);
}

TEST_F(PosixProcessRunnerTest, SignalMaskAndIgnoredSignalsAreReset) {
  sigset_t term, old_mask;
  sigemptyset(&term);
  sigaddset(&term, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &term, &old_mask);  // As the player's loop does
  struct sigaction ignore = {}, old_action;
  ignore.sa_handler = SIG_IGN;
  sigaction(SIGUSR1, &ignore, &old_action);
  // Read by the shell itself: while it forks a reader such as grep, the
  // shell may block every signal for a moment, and the reader saw that.
  std::string status =
      Run(Shell("while read -r line; do case $line in Sig[BI][lg]*) "
                "echo \"$line\";; esac; done < /proc/$$/status"))
          .stdout_text;
  pthread_sigmask(SIG_SETMASK, &old_mask, nullptr);
  sigaction(SIGUSR1, &old_action, nullptr);
  std::vector<std::string> lines = Lines(status);
  ASSERT_EQ(2u, lines.size()) << status;
  EXPECT_EQ("SigBlk:\t0000000000000000", lines[0]);
  // glibc's posix_spawn leaves its two internal signals (32, 33) ignored;
  // no standard signal may stay ignored.
  EXPECT_EQ(0u, std::stoull(lines[1].substr(8), nullptr, 16) & 0x7fffffffu)
      << lines[1];
}

TEST_F(PosixProcessRunnerTest, RunsInItsOwnProcessGroup) {
  std::vector<std::string> ids =
      Lines(Run(Shell("echo $$; cut -d' ' -f5 /proc/$$/stat")).stdout_text);
  ASSERT_EQ(2u, ids.size());
  EXPECT_EQ(ids[0], ids[1]);
  EXPECT_NE(std::to_string(::getpgrp()), ids[1]);
}

// fd 3 is the score itself (ScriptSeesItselfReadOnlyOnFd3AsItsDollarZero).
TEST_F(PosixProcessRunnerTest, NoDescriptorOfThePlayerLeaks) {
  int sentinel = ::open(dir_.path().c_str(), O_RDONLY);  // No O_CLOEXEC
  ASSERT_GE(sentinel, 0);
  ScoreRun run = Shell("ls -l /proc/$$/fd/");
  std::string fds = Run(run).stdout_text;
  ::close(sentinel);
  EXPECT_NE(std::string::npos, fds.find(" 3 -> " + run.path + "\n")) << fds;
  EXPECT_EQ(std::string::npos, fds.find("-> " + dir_.path() + "\n")) << fds;
  EXPECT_EQ(std::string::npos, fds.find("socket:")) << fds;
  EXPECT_EQ(std::string::npos, fds.find("anon_inode")) << fds;
  EXPECT_EQ(2, Count(fds, "pipe:")) << fds;  // stdout and stderr
}

// A score runs through the descriptor its scan opened, as fd 3: for a
// script the kernel hands the interpreter "/proc/self/fd/3", which is $0.
// That descriptor is the score's own file, read-only.
TEST_F(PosixProcessRunnerTest, ScriptSeesItselfReadOnlyOnFd3AsItsDollarZero) {
  ScoreRun run = Shell(
      "echo \"$0\"; stat -L -c %d:%i /proc/$$/fd/3; "
      "sed -n 's/^flags:[[:space:]]*//p' /proc/$$/fdinfo/3");
  std::vector<std::string> lines = Lines(Run(run).stdout_text);
  ASSERT_EQ(3u, lines.size());
  EXPECT_EQ("/proc/self/fd/3", lines[0]);
  EXPECT_EQ(DevIno(run.path), lines[1]);
  EXPECT_EQ(O_RDONLY, std::stoi(lines[2], nullptr, 8) & O_ACCMODE) << lines[2];
}

// Issue 11: a score was checked at the scan and run later by its name, so
// a file renamed over it in between ran instead, as the player's user (or
// root). Now the checked file runs, and the player says the name changed.
TEST_F(PosixProcessRunnerTest, ScoreReplacedAfterTheScanRunsTheCheckedFile) {
  const std::string out = dir_.File("ran");
  ScoreRun run = Score("swapped", "#!/bin/sh\necho old >> " + out + "\n");
  dir_.MakeFile("swapped.new", "#!/bin/sh\necho new >> " + out + "\n", 0755);
  ASSERT_EQ(0, ::rename(dir_.File("swapped.new").c_str(), run.path.c_str()));
  EXPECT_EQ(TaskState::kOk, Run(run).state);
  run.task = ++last_task_;
  EXPECT_EQ(TaskState::kOk, Run(run).state);
  EXPECT_EQ("old\nold\n", test::ReadText(out));
  EXPECT_EQ(1u, CountLogged("score changed on disk since the scan "
                            "name=swapped"));  // Once per score
}

TEST_F(PosixProcessRunnerTest, ScoreMadeWritableAfterTheScanDoesNotStart) {
  ScoreRun run = Shell("echo ran");
  ASSERT_EQ(0, ::chmod(run.path.c_str(), 0777));
  common::Status s = runner_->Start(run);
  EXPECT_FALSE(s.ok());
  EXPECT_NE(std::string::npos,
            s.message().find("changed since the scan: file is writable by "
                             "group or others"))
      << s.message();
  EXPECT_EQ(0u, runner_->running());
}

TEST_F(PosixProcessRunnerTest, WorkingDirectoryDefaultsToRoot) {
  EXPECT_EQ("/\n", Run(Shell("pwd")).stdout_text);
}

TEST_F(PosixProcessRunnerTest, WorkingDirectoryComesFromTheRun) {
  ScoreRun run = Shell("pwd");
  run.dir = dir_.path();
  EXPECT_EQ(dir_.path() + "\n", Run(run).stdout_text);
}

TEST_F(PosixProcessRunnerTest, MissingWorkingDirectoryFailsToStart) {
  ScoreRun run = Shell("pwd");
  run.dir = dir_.File("absent");
  common::Status s = runner_->Start(run);
  EXPECT_FALSE(s.ok());
  EXPECT_NE(std::string::npos, s.message().find("absent")) << s.message();
}

TEST_F(PosixProcessRunnerTest, ExecFailureIsAnErrorWithErrnoText) {
  common::Status s =
      runner_->Start(Score("broken", "#!/no/such/interpreter\n"));
  EXPECT_FALSE(s.ok());
  EXPECT_NE(std::string::npos, s.message().find("No such file")) << s.message();
  EXPECT_EQ(0u, runner_->running());
}

TEST_F(PosixProcessRunnerTest, OutputKeepsTheTailAndFlagsTruncation) {
  MakeRunner(/*output_limit=*/1000);
  TaskResult result = Run(
      Shell("i=0; while [ $i -lt 300 ]; do echo \"line $i\"; i=$((i+1)); done; "
            "echo END"));
  EXPECT_TRUE(result.stdout_truncated);
  EXPECT_LE(result.stdout_text.size(), 1000u);
  EXPECT_EQ("line 299\nEND\n",
            result.stdout_text.substr(result.stdout_text.size() - 13));
  EXPECT_FALSE(result.stderr_truncated);
}

TEST_F(PosixProcessRunnerTest, InvalidUtf8OutputIsSanitized) {
  TaskResult result = Run(Shell("printf 'a\\377b'"));
  EXPECT_EQ(
      "a\xEF\xBF\xBD"
      "b",
      result.stdout_text);
}

TEST_F(PosixProcessRunnerTest, PipeInterfaceReadsResponseAfterMegabytes) {
  ScoreRun run = Shell(
      "head -c 3000000 /dev/zero | tr '\\0' x; echo; echo status=done; "
      "printf 'answer=forty=two\\nno equals sign\\nlast=line'");
  run.pipe_interface = true;
  TaskResult result = Run(run);
  broker::StringMap expected = {
      {"answer", "forty=two"}, {"last", "line"}, {"status", "done"}};
  EXPECT_EQ(expected, result.response);
  EXPECT_TRUE(result.stdout_truncated);
}

TEST_F(PosixProcessRunnerTest, EnvInterfaceHasNoResponse) {
  EXPECT_TRUE(Run(Shell("echo key=value")).response.empty());
}

TEST_F(PosixProcessRunnerTest, TimeLimitKillsScoreThatIgnoresTerm) {
  ScoreRun run = Shell("trap '' TERM; echo started; sleep 30");
  run.timeout_ms = 200;
  TaskResult result = Run(run);
  EXPECT_EQ(TaskState::kTimeout, result.state);
  EXPECT_EQ(SIGKILL, result.signal.value_or(0));
  EXPECT_EQ("started\n", result.stdout_text);
}

TEST_F(PosixProcessRunnerTest, TimeLimitTermsScoreThatHonoursTerm) {
  ScoreRun run = Shell("exec sleep 30");
  run.timeout_ms = 100;
  TaskResult result = Run(run);
  EXPECT_EQ(TaskState::kTimeout, result.state);
  EXPECT_EQ(SIGTERM, result.signal.value_or(0));
}

TEST_F(PosixProcessRunnerTest, StopEndsTheTaskInTheGivenState) {
  ScoreRun run = Shell("exec sleep 30");
  ASSERT_OK(runner_->Start(run));
  runner_->Stop(run.task, TaskState::kCancelled);
  TaskResult result = WaitForResult();
  EXPECT_EQ(TaskState::kCancelled, result.state);
  EXPECT_EQ(SIGTERM, result.signal.value_or(0));
}

// Waits (at most 5 s) for process `pid`, not our child, to end.
bool EndsSoon(const std::string& pid) {
  common::UniqueFd fd(
      static_cast<int>(::syscall(SYS_pidfd_open, std::stoi(pid), 0)));
  if (!fd.valid()) return errno == ESRCH;  // Already gone
  struct pollfd item = {fd.get(), POLLIN, 0};
  return ::poll(&item, 1, 5000) == 1;
}

TEST_F(PosixProcessRunnerTest, ChildLeftBehindIsKilledWhenScoreExits) {
  TaskResult result = Run(Shell("sleep 30 & echo $!; exit 0"));
  EXPECT_EQ(TaskState::kOk, result.state);
  ASSERT_FALSE(result.stdout_text.empty());
  EXPECT_TRUE(EndsSoon(Lines(result.stdout_text)[0]));
}

TEST_F(PosixProcessRunnerTest, EscapedProcessHoldingOutputDelaysOnlyByGrace) {
  TaskResult result = Run(Shell("setsid sleep 30 & echo $!; exit 0"));
  EXPECT_EQ(TaskState::kOk, result.state);
  ASSERT_FALSE(result.stdout_text.empty());
  ::kill(std::stoi(Lines(result.stdout_text)[0]), SIGKILL);
}

TEST_F(PosixProcessRunnerTest, TimeLimitRunsOnTheRunnersClock) {
  test::FakeClock fake;
  MakeRunner(65536, &fake);
  ScoreRun run = Shell("exec sleep 30");
  run.timeout_ms = 5000;
  ASSERT_OK(runner_->Start(run));
  EXPECT_EQ(fake.Monotonic() + 5000, runner_->NextDeadline());
  fake.Advance(4999);
  EXPECT_TRUE(runner_->Collect().empty());
  fake.Advance(1);  // The limit: the next Collect() sends SIGTERM
  TaskResult result = WaitForResult();
  EXPECT_EQ(TaskState::kTimeout, result.state);
  EXPECT_EQ(SIGTERM, result.signal.value_or(0));
}

TEST_F(PosixProcessRunnerTest, KillFollowsTermAfterTheGraceOnTheRunnersClock) {
  test::FakeClock fake;
  MakeRunner(65536, &fake);
  const std::string log = dir_.File("log");
  ScoreRun run = Shell("trap 'echo TERM >> " + log + "' TERM\necho ready > " +
                       log + "\nwhile :; do sleep 1; done");
  ASSERT_OK(runner_->Start(run));
  ASSERT_EQ(1u, test::WaitForLines(log, 1).size());  // The trap is set
  runner_->Stop(run.task, TaskState::kCancelled);
  EXPECT_EQ(fake.Monotonic() + kGraceMs, runner_->NextDeadline());
  ASSERT_EQ(2u, test::WaitForLines(log, 2).size());  // TERM handled, alive
  EXPECT_TRUE(runner_->Collect().empty());
  fake.Advance(kGraceMs);
  TaskResult result = WaitForResult();
  EXPECT_EQ(TaskState::kCancelled, result.state);
  EXPECT_EQ(SIGKILL, result.signal.value_or(0));
}

TEST_F(PosixProcessRunnerTest, StopSignalsTheScoresWholeProcessGroup) {
  const std::string pid_file = dir_.File("child.pid");
  ScoreRun run = Shell("sleep 30 &\necho $! > " + pid_file + "\nwait");
  ASSERT_OK(runner_->Start(run));
  std::vector<std::string> pid = test::WaitForLines(pid_file, 1);
  ASSERT_EQ(1u, pid.size());
  runner_->Stop(run.task, TaskState::kCancelled);
  TaskResult result = WaitForResult();
  EXPECT_EQ(TaskState::kCancelled, result.state);
  EXPECT_TRUE(test::ProcessEnds(std::stoi(pid[0])));
}

TEST_F(PosixProcessRunnerTest, DestroyingTheRunnerKillsWhatItRuns) {
  const std::string pid_file = dir_.File("pids");
  ScoreRun run =
      Shell("trap '' TERM\nsleep 30 &\necho $$ $! > " + pid_file + "\nwait");
  ASSERT_OK(runner_->Start(run));
  std::vector<std::string> pids = test::WaitForLines(pid_file, 1);
  ASSERT_EQ(1u, pids.size());
  runner_.reset();
  std::istringstream in(pids[0]);
  for (pid_t pid; in >> pid;) EXPECT_TRUE(test::ProcessEnds(pid)) << pid;
}

TEST_F(PosixProcessRunnerTest, RunsAsTheConfiguredUser) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root";
  ASSERT_EQ(0, ::chmod(dir_.path().c_str(), 0755));
  ScoreRun run = Shell("id -u; id -g");
  run.user = "nobody";
  std::vector<std::string> ids = Lines(Run(run).stdout_text);
  ASSERT_EQ(2u, ids.size());
  EXPECT_EQ("65534", ids[0]);
}

// The working directory is entered as the score's user, so `dir` cannot
// give a score a directory that its user may not enter.
TEST_F(PosixProcessRunnerTest, WorkingDirectoryIsEnteredAsTheScoresUser) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root";
  ASSERT_EQ(0, ::chmod(dir_.path().c_str(), 0755));
  ASSERT_EQ(0, ::mkdir(dir_.File("private").c_str(), 0700));
  ScoreRun run = Shell("pwd");
  run.user = "nobody";
  run.dir = dir_.File("private");
  common::Status s = runner_->Start(run);
  EXPECT_FALSE(s.ok());
  EXPECT_NE(std::string::npos, s.message().find("working directory"))
      << s.message();
  EXPECT_NE(std::string::npos, s.message().find("Permission denied"))
      << s.message();
}

// fork+exec (for `user =`) runs the score the same way posix_spawn does.
TEST_F(PosixProcessRunnerTest, ScoreRunAsAUserSeesItselfOnFd3Too) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root";
  ASSERT_EQ(0, ::chmod(dir_.path().c_str(), 0755));
  ScoreRun run = Shell("echo \"$0\"; stat -L -c %d:%i /proc/$$/fd/3");
  run.user = "nobody";
  TaskResult result = Run(run);
  std::vector<std::string> lines = Lines(result.stdout_text);
  ASSERT_EQ(2u, lines.size()) << result.stderr_text;
  EXPECT_EQ("/proc/self/fd/3", lines[0]);
  EXPECT_EQ(DevIno(run.path), lines[1]);
}

TEST_F(PosixProcessRunnerTest, UnknownUserFailsToStart) {
  ScoreRun run = Shell("true");
  run.user = "no-such-user-here";
  EXPECT_FALSE(runner_->Start(run).ok());
}

}  // namespace
}  // namespace orchestra::player
