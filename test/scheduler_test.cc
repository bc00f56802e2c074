// Tests for conductor/scheduler.h: dispatch order by priority then job id,
// rollout limits, why a task waits; first come first served by job id, never
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

// ---- priority (DESIGN.md 13) ----

TEST_F(SchedulerTest, HigherPriorityGoesFirstThenJobIdWithinAPriority) {
  scheduler_.Connect("web-1", 1, 1);
  scheduler_.SetJob(1, 0, 0);
  scheduler_.SetJob(2, 5, 0);
  scheduler_.SetJob(3, -5, 0);
  scheduler_.SetJob(4, 5, 0);
  scheduler_.EnqueueFor(1, 10, "web-1");
  scheduler_.EnqueueFor(3, 30, "web-1");
  scheduler_.EnqueueFor(4, 40, "web-1");
  scheduler_.EnqueueAny(2, 20, {"web-1", "web-2"});
  std::vector<std::string> order;
  for (int i = 0; i < 4; ++i) {
    scheduler_.Release("web-1");
    for (const std::string& t : Taken()) order.push_back(t);
  }
  EXPECT_EQ((Names{"20@web-1", "40@web-1", "10@web-1", "30@web-1"}), order);
}

TEST_F(SchedulerTest, JobsWithoutAPriorityAreFifoAtZero) {
  scheduler_.Connect("web-1", 1, 1);
  scheduler_.SetJob(5, -1, 0);
  scheduler_.EnqueueFor(5, 50, "web-1");
  scheduler_.EnqueueFor(7, 70, "web-1");  // never given: 0
  scheduler_.EnqueueFor(6, 60, "web-1");
  scheduler_.Release("web-1");
  EXPECT_EQ(Names{"60@web-1"}, Taken());
  scheduler_.Release("web-1");
  EXPECT_EQ(Names{"70@web-1"}, Taken());
  scheduler_.Release("web-1");
  EXPECT_EQ(Names{"50@web-1"}, Taken());
}

// ---- rollout limit ----

TEST_F(SchedulerTest, LimitBoundsAJobsTasksAssignedAtOnceInTaskOrder) {
  for (const char* p : {"a", "b", "c", "d"}) scheduler_.Connect(p, 2, 0);
  scheduler_.SetJob(1, 0, 2);
  scheduler_.EnqueueFor(1, 10, "a");
  scheduler_.EnqueueFor(1, 11, "b");
  scheduler_.EnqueueFor(1, 12, "c");
  scheduler_.EnqueueFor(1, 13, "d");
  EXPECT_EQ((Names{"10@a", "11@b"}), Taken());
  // Another job is not held back by it.
  scheduler_.EnqueueFor(2, 20, "c");
  EXPECT_EQ(Names{"20@c"}, Taken());
  scheduler_.Release("b", 1);
  EXPECT_EQ(Names{"12@c"}, Taken());
  scheduler_.Release("a", 1);
  EXPECT_EQ(Names{"13@d"}, Taken());
  scheduler_.Release("c", 1);
  scheduler_.Release("d", 1);
  EXPECT_TRUE(Taken().empty());
  EXPECT_EQ(0u, scheduler_.queued());
}

TEST_F(SchedulerTest, ATaskOfAJobAtItsLimitDoesNotBlockLaterJobs) {
  scheduler_.Connect("a", 1, 0);
  scheduler_.Connect("b", 1, 0);
  scheduler_.SetJob(1, 0, 1);
  scheduler_.EnqueueFor(1, 10, "a");
  scheduler_.EnqueueFor(1, 11, "b");
  scheduler_.EnqueueFor(2, 20, "b");
  EXPECT_EQ((Names{"10@a", "20@b"}), Taken());
  scheduler_.Release("a", 1);  // 11 waits for b's slot, first in line
  EXPECT_TRUE(Taken().empty());
  scheduler_.Release("b", 2);
  EXPECT_EQ(Names{"11@b"}, Taken());
}

TEST_F(SchedulerTest, RecoveredTasksInFlightHoldTheLimit) {
  scheduler_.SetJob(1, 0, 2);
  scheduler_.Hold(1);
  scheduler_.Hold(1);
  scheduler_.EnqueueFor(1, 12, "c");
  scheduler_.Connect("c", 4, 0);
  EXPECT_TRUE(Taken().empty());
  EXPECT_EQ(broker::WaitReason::kRollout, scheduler_.WhyWaiting(12));
  scheduler_.Release("a", 1);
  EXPECT_EQ(Names{"12@c"}, Taken());
}

// Offline and busy players' tasks are passed over (and not looked at again
// at each release); each is taken up, in task order, once its player has a
// slot and the limit allows.
TEST_F(SchedulerTest, ARolloutPassesOverAwayPlayersAndTakesThemUpLater) {
  scheduler_.SetJob(1, 0, 2);
  scheduler_.Connect("busy", 1, 1);
  for (const char* p : {"d", "e", "f"}) scheduler_.Connect(p, 1, 0);
  scheduler_.EnqueueFor(1, 10, "a");  // a and b offline
  scheduler_.EnqueueFor(1, 11, "b");
  scheduler_.EnqueueFor(1, 12, "busy");
  scheduler_.EnqueueFor(1, 13, "d");
  scheduler_.EnqueueFor(1, 14, "e");
  scheduler_.EnqueueFor(1, 15, "f");
  EXPECT_EQ((Names{"13@d", "14@e"}), Taken());
  scheduler_.Connect("b", 1, 0);  // at the limit: it waits
  EXPECT_TRUE(Taken().empty());
  EXPECT_EQ(broker::WaitReason::kRollout, scheduler_.WhyWaiting(11));
  scheduler_.Release("d", 1);
  EXPECT_EQ(Names{"11@b"}, Taken());
  scheduler_.Release("busy", 2);  // a slot, the limit reached: it waits
  EXPECT_TRUE(Taken().empty());
  scheduler_.Release("e", 1);
  EXPECT_EQ(Names{"12@busy"}, Taken());
  scheduler_.Release("b", 1);
  EXPECT_EQ(Names{"15@f"}, Taken());
  EXPECT_EQ(broker::WaitReason::kPlayerOffline, scheduler_.WhyWaiting(10));
  scheduler_.Release("busy", 1);
  scheduler_.Connect("a", 1, 0);
  EXPECT_EQ(Names{"10@a"}, Taken());
  EXPECT_EQ(0u, scheduler_.queued());
}

TEST_F(SchedulerTest, ForgetJobDropsItsLimit) {
  scheduler_.SetJob(1, 0, 1);
  scheduler_.Hold(1);
  scheduler_.ForgetJob(1);
  scheduler_.Connect("a", 1, 0);
  scheduler_.EnqueueFor(1, 10, "a");
  EXPECT_EQ(Names{"10@a"}, Taken());
}

// ---- why a task waits ----

TEST_F(SchedulerTest, WhyWaitingIsNothingForATaskNotQueued) {
  scheduler_.Connect("web-1", 1, 0);
  scheduler_.EnqueueFor(1, 10, "web-1");
  EXPECT_EQ(std::nullopt, scheduler_.WhyWaiting(10));
  EXPECT_EQ(std::nullopt, scheduler_.WhyWaiting(99));
}

TEST_F(SchedulerTest, WhyWaitingIsPlayerOfflineWhenNoPlayerIsConnected) {
  scheduler_.Connect("web-2", 1, 1);
  scheduler_.Disconnect("web-2");
  scheduler_.EnqueueAny(1, 10, {"web-1", "web-2"});
  EXPECT_EQ(broker::WaitReason::kPlayerOffline, scheduler_.WhyWaiting(10));
}

TEST_F(SchedulerTest, WhyWaitingIsBusyFirstInLineElseEarlierJobs) {
  scheduler_.Connect("full", 1, 1);
  scheduler_.EnqueueFor(2, 20, "full");
  scheduler_.EnqueueFor(3, 30, "full");
  EXPECT_EQ(broker::WaitReason::kPlayerBusy, scheduler_.WhyWaiting(20));
  EXPECT_EQ(broker::WaitReason::kEarlierJobs, scheduler_.WhyWaiting(30));
  // A `one` task first in line on one of its players is only busy.
  scheduler_.Connect("spare", 1, 1);
  scheduler_.EnqueueAny(4, 40, {"full", "spare", "off"});
  EXPECT_EQ(broker::WaitReason::kPlayerBusy, scheduler_.WhyWaiting(40));
}

TEST_F(SchedulerTest, WhyWaitingIsRolloutWhenItsJobIsAtItsLimit) {
  scheduler_.Connect("free", 4, 0);
  scheduler_.SetJob(5, 0, 1);
  scheduler_.EnqueueFor(5, 50, "free");
  scheduler_.EnqueueFor(5, 51, "free");
  EXPECT_EQ(Names{"50@free"}, Taken());
  EXPECT_EQ(broker::WaitReason::kRollout, scheduler_.WhyWaiting(51));
}

}  // namespace
}  // namespace orchestra::conductor
