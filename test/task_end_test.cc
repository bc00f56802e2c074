// Tests of player/task_end.h: the one rule that turns how a score's run
// ended into its task's final state, case by case (DESIGN.md section 5).

#include "player/task_end.h"

#include <signal.h>

#include "test/test_util.h"

namespace orchestra::player {
namespace {

using broker::TaskResult;
using broker::TaskState;

TEST(TaskEndTest, ExitZeroIsOk) {
  TaskResult r = ResultFor(7, TaskEnd::Exited(0));
  EXPECT_EQ(7, r.task);
  EXPECT_EQ(TaskState::kOk, r.state);
  EXPECT_EQ(0, r.exit_code.value_or(-1));
  EXPECT_FALSE(r.signal.has_value());
  EXPECT_EQ("", r.error);
}

TEST(TaskEndTest, NonZeroExitIsFailWithTheExitCode) {
  TaskResult r = ResultFor(7, TaskEnd::Exited(3));
  EXPECT_EQ(TaskState::kFail, r.state);
  EXPECT_EQ(3, r.exit_code.value_or(-1));
  EXPECT_EQ("", r.error);
}

TEST(TaskEndTest, SignalThePlayerDidNotSendIsFailWithTheSignal) {
  TaskResult r = ResultFor(7, TaskEnd::Signalled(SIGSEGV));
  EXPECT_EQ(TaskState::kFail, r.state);
  EXPECT_EQ(SIGSEGV, r.signal.value_or(0));
  EXPECT_FALSE(r.exit_code.has_value());
}

// A time limit ran out (TIMEOUT) or the audience cancelled it (CANCELLED).
TEST(TaskEndTest, SignalThePlayerSentEndsInTheStateItWasSentFor) {
  for (TaskState stopped_for : {TaskState::kTimeout, TaskState::kCancelled}) {
    TaskResult r = ResultFor(7, TaskEnd::Signalled(SIGKILL, stopped_for));
    EXPECT_EQ(stopped_for, r.state);
    EXPECT_EQ(SIGKILL, r.signal.value_or(0));
    EXPECT_EQ("", r.error);
  }
}

TEST(TaskEndTest, SignalForThePlayersStopIsLostSayingSo) {
  TaskResult r = ResultFor(7, TaskEnd::Signalled(SIGTERM, TaskState::kLost));
  EXPECT_EQ(TaskState::kLost, r.state);
  EXPECT_EQ(SIGTERM, r.signal.value_or(0));
  EXPECT_EQ("player stopped while the score ran", r.error);
}

// A score that traps SIGTERM and exits 0 was still stopped by the player.
TEST(TaskEndTest, ExitAfterThePlayersSignalKeepsTheStateItWasStoppedFor) {
  TaskResult r = ResultFor(7, TaskEnd::Exited(0, TaskState::kTimeout));
  EXPECT_EQ(TaskState::kTimeout, r.state);
  EXPECT_EQ(0, r.exit_code.value_or(-1));
  EXPECT_EQ(TaskState::kCancelled,
            ResultFor(7, TaskEnd::Exited(1, TaskState::kCancelled)).state);
}

TEST(TaskEndTest, FailedSpawnIsHostErrorWithWhy) {
  TaskResult r =
      ResultFor(7, TaskEnd::NotStarted("exec /scores/a: Permission denied"));
  EXPECT_EQ(TaskState::kHostError, r.state);
  EXPECT_EQ("exec /scores/a: Permission denied", r.error);
  EXPECT_FALSE(r.exit_code.has_value());
  EXPECT_FALSE(r.signal.has_value());
}

TEST(TaskEndTest, RunCutShortByARestartIsLostSayingSo) {
  TaskResult r = ResultFor(7, TaskEnd::PlayerRestarted());
  EXPECT_EQ(TaskState::kLost, r.state);
  EXPECT_EQ("player restarted while the score ran", r.error);
  EXPECT_FALSE(r.exit_code.has_value());
}

TEST(TaskEndTest, WaitStatusGivesTheExitCodeOrTheSignal) {
  TaskEnd exited = TaskEnd::FromWaitStatus(3 << 8, std::nullopt);
  EXPECT_EQ(TaskEnd::How::kExited, exited.how);
  EXPECT_EQ(3, exited.number);
  TaskEnd killed = TaskEnd::FromWaitStatus(SIGKILL, TaskState::kCancelled);
  EXPECT_EQ(TaskEnd::How::kSignalled, killed.how);
  EXPECT_EQ(SIGKILL, killed.number);
  EXPECT_EQ(TaskState::kCancelled, killed.stopped_for);
}

TEST(TaskEndTest, RunTheKernelKilledForMemoryIsFailNamingTheLimit) {
  TaskEnd end = TaskEnd::Signalled(SIGKILL);
  end.out_of_memory = "256M";
  TaskResult r = ResultFor(7, end);
  EXPECT_EQ(TaskState::kFail, r.state);
  EXPECT_EQ("out of memory (memory max 256M)", r.error);
  EXPECT_EQ(SIGKILL, r.signal.value_or(0));
}

TEST(TaskEndTest, OutOfMemoryEvenWithExitZeroIsFail) {
  TaskEnd end = TaskEnd::Exited(0);
  end.out_of_memory = "";
  TaskResult r = ResultFor(7, end);
  EXPECT_EQ(TaskState::kFail, r.state);
  EXPECT_EQ("out of memory", r.error);
}

TEST(TaskEndTest, TimeLimitWinsOverOutOfMemory) {
  TaskEnd end = TaskEnd::Signalled(SIGKILL, TaskState::kTimeout);
  end.out_of_memory = "1G";
  EXPECT_EQ(TaskState::kTimeout, ResultFor(7, end).state);
}

}  // namespace
}  // namespace orchestra::player
