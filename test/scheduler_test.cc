// Tests for conductor/scheduler.h: first come first served by job id, never
// more than `slots` tasks on a player, `one` tasks prefer the player with the
// most free slots, and the original's dispatcher crash (DESIGN.md 12.2).

#include "conductor/scheduler.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace orchestra::conductor {
namespace {

class SchedulerTest : public testing::Test {
 protected:
  // The assignments since the last call, as "task@player".
  std::vector<std::string> Taken() {
    std::vector<std::string> out;
    for (const Scheduler::Assignment& a : scheduler_.TakeAssignments())
      out.push_back(std::to_string(a.task) + "@" + a.player);
    return out;
  }
  using Names = std::vector<std::string>;

  Scheduler scheduler_;
};

TEST_F(SchedulerTest, TaskForConnectedPlayerWithFreeSlotIsAssignedAtOnce) {
  scheduler_.Connect("web-1", 2, 0);
  scheduler_.EnqueueFor(1, 10, "web-1");
  EXPECT_EQ(Names{"10@web-1"}, Taken());
  EXPECT_FALSE(scheduler_.IsQueued(10));
  EXPECT_EQ(1, scheduler_.Busy("web-1"));
}

TEST_F(SchedulerTest, AssignmentCarriesJobAndTask) {
  scheduler_.Connect("web-1", 1, 0);
  scheduler_.EnqueueFor(7, 70, "web-1");
  std::vector<Scheduler::Assignment> taken = scheduler_.TakeAssignments();
  ASSERT_EQ(1u, taken.size());
  EXPECT_EQ(7, taken[0].job);
  EXPECT_EQ(70, taken[0].task);
  EXPECT_EQ("web-1", taken[0].player);
  EXPECT_TRUE(scheduler_.TakeAssignments().empty());
}

TEST_F(SchedulerTest, NeverMoreThanSlotsTasksOnAPlayer) {
  scheduler_.Connect("web-1", 2, 0);
  for (int task = 1; task <= 5; ++task)
    scheduler_.EnqueueFor(task, task, "web-1");
  EXPECT_EQ((Names{"1@web-1", "2@web-1"}), Taken());
  EXPECT_EQ(2, scheduler_.Busy("web-1"));
  EXPECT_EQ(3u, scheduler_.queued());
}

TEST_F(SchedulerTest, ReleaseFillsFreedSlotWithOldestWaitingTask) {
  scheduler_.Connect("web-1", 1, 0);
  scheduler_.EnqueueFor(1, 11, "web-1");
  scheduler_.EnqueueFor(3, 31, "web-1");
  scheduler_.EnqueueFor(2, 21, "web-1");
  Taken();
  scheduler_.Release("web-1");
  EXPECT_EQ(Names{"21@web-1"}, Taken());
  scheduler_.Release("web-1");
  EXPECT_EQ(Names{"31@web-1"}, Taken());
}

TEST_F(SchedulerTest, FifoByJobIdAcrossBoundAndOneTasks) {
  scheduler_.Connect("web-1", 1, 1);
  scheduler_.EnqueueAny(3, 30, {"web-1", "web-2"});
  scheduler_.EnqueueFor(2, 20, "web-1");
  scheduler_.EnqueueAny(1, 10, {"web-1"});
  scheduler_.Release("web-1");
  EXPECT_EQ(Names{"10@web-1"}, Taken());
  scheduler_.Release("web-1");
  EXPECT_EQ(Names{"20@web-1"}, Taken());
  scheduler_.Release("web-1");
  EXPECT_EQ(Names{"30@web-1"}, Taken());
}

TEST_F(SchedulerTest, OneTaskPrefersPlayerWithMostFreeSlots) {
  scheduler_.Connect("web-1", 4, 3);
  scheduler_.Connect("web-2", 4, 1);
  scheduler_.Connect("web-3", 4, 2);
  scheduler_.EnqueueAny(1, 10, {"web-1", "web-2", "web-3"});
  EXPECT_EQ(Names{"10@web-2"}, Taken());
}

TEST_F(SchedulerTest, OneTaskIgnoresPlayersItDoesNotList) {
  scheduler_.Connect("web-1", 1, 1);
  scheduler_.Connect("idle", 8, 0);
  scheduler_.EnqueueAny(1, 10, {"web-1"});
  EXPECT_TRUE(Taken().empty());
  EXPECT_TRUE(scheduler_.IsQueued(10));
}

TEST_F(SchedulerTest, OneTaskWaitsOnEveryListedPlayerAndRunsOnFirstFree) {
  scheduler_.Connect("web-1", 1, 1);
  scheduler_.Connect("web-2", 1, 1);
  scheduler_.EnqueueAny(1, 10, {"web-1", "web-2"});
  scheduler_.Release("web-2");
  EXPECT_EQ(Names{"10@web-2"}, Taken());
  scheduler_.Release("web-1");
  EXPECT_TRUE(Taken().empty()) << "the task ran twice";
}

TEST_F(SchedulerTest, DisconnectedPlayerGetsNothingAndItsTasksWait) {
  scheduler_.Connect("web-1", 2, 0);
  scheduler_.Disconnect("web-1");
  scheduler_.EnqueueFor(1, 10, "web-1");
  scheduler_.EnqueueAny(2, 20, {"web-1"});
  EXPECT_TRUE(Taken().empty());
  EXPECT_EQ(2u, scheduler_.queued());
}

TEST_F(SchedulerTest, ReconnectDeliversTheWaitingTasks) {
  scheduler_.EnqueueFor(1, 10, "web-1");
  scheduler_.EnqueueAny(2, 20, {"web-1", "web-2"});
  scheduler_.Connect("web-1", 4, 0);
  EXPECT_EQ((Names{"10@web-1", "20@web-1"}), Taken());
  EXPECT_EQ(0u, scheduler_.queued());
}

TEST_F(SchedulerTest, ReleaseOnDisconnectedPlayerAssignsNothing) {
  scheduler_.Connect("web-1", 1, 1);
  scheduler_.EnqueueFor(1, 10, "web-1");
  scheduler_.Disconnect("web-1");
  scheduler_.Release("web-1");
  EXPECT_TRUE(Taken().empty());
  EXPECT_TRUE(scheduler_.IsQueued(10));
}

TEST_F(SchedulerTest, ReconnectWithFewerSlotsThanBusyAssignsNothing) {
  scheduler_.EnqueueFor(1, 10, "web-1");
  scheduler_.Connect("web-1", 1, 3);
  EXPECT_TRUE(Taken().empty());
  scheduler_.Release("web-1");
  scheduler_.Release("web-1");
  EXPECT_TRUE(Taken().empty()) << "busy 1 of 1 slot";
  scheduler_.Release("web-1");
  EXPECT_EQ(Names{"10@web-1"}, Taken());
}

TEST_F(SchedulerTest, RemoveTakesQueuedTaskOutOfEveryWaitingSet) {
  scheduler_.Connect("web-1", 1, 1);
  scheduler_.Connect("web-2", 1, 1);
  scheduler_.EnqueueAny(1, 10, {"web-1", "web-2"});
  scheduler_.EnqueueFor(2, 20, "web-2");
  scheduler_.Remove(10);
  EXPECT_FALSE(scheduler_.IsQueued(10));
  scheduler_.Release("web-1");
  scheduler_.Release("web-2");
  EXPECT_EQ(Names{"20@web-2"}, Taken());
}

TEST_F(SchedulerTest, RemoveOfUnknownOrAssignedTaskIsIgnored) {
  scheduler_.Connect("web-1", 1, 0);
  scheduler_.EnqueueFor(1, 10, "web-1");
  scheduler_.Remove(10);
  scheduler_.Remove(99);
  EXPECT_EQ(1, scheduler_.Busy("web-1"));
  EXPECT_EQ(Names{"10@web-1"}, Taken());
}

TEST_F(SchedulerTest, ReleaseNeverMakesBusyNegative) {
  scheduler_.Connect("web-1", 1, 0);
  scheduler_.Release("web-1");
  scheduler_.Release("unknown");
  EXPECT_EQ(0, scheduler_.Busy("web-1"));
  scheduler_.EnqueueFor(1, 10, "web-1");
  scheduler_.EnqueueFor(2, 20, "web-1");
  EXPECT_EQ(Names{"10@web-1"}, Taken());
}

// Regression, DESIGN.md 12.2: the original dispatcher walked the sorted list
// of connected players and a job's sorted target list side by side. When every
// target sorted before an idle player's name, the index into the target list
// ran past its end: the dispatcher read garbage, gave the job to the idle
// player that was never listed, or crashed the conductor. A `one` job listing
// only "alpha" and "beta", with only "zulu" idle, must wait for its own
// players and go to one of them.
TEST_F(SchedulerTest, OneJobIsNeverGivenToAnIdlePlayerItDoesNotList) {
  scheduler_.Connect("zulu", 4, 0);
  scheduler_.EnqueueAny(1, 10, {"alpha", "beta"});
  scheduler_.EnqueueAny(2, 20, {"beta"});
  EXPECT_TRUE(Taken().empty());
  scheduler_.Release("zulu");
  EXPECT_TRUE(Taken().empty());
  scheduler_.Connect("beta", 1, 0);
  EXPECT_EQ(Names{"10@beta"}, Taken());
}

TEST_F(SchedulerTest, OneJobWithEmptyPlayerListWaitsWithoutCrashing) {
  scheduler_.Connect("zulu", 4, 0);
  scheduler_.EnqueueAny(1, 10, {});
  EXPECT_TRUE(Taken().empty());
  scheduler_.Remove(10);
  EXPECT_EQ(0u, scheduler_.queued());
}

}  // namespace
}  // namespace orchestra::conductor
