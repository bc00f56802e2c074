// Tests for conductor/descriptor_budget.h: where accepting stops and starts
// again, from the descriptor limit, the listen queues and what is open.

#include "conductor/descriptor_budget.h"

#include <gtest/gtest.h>

namespace orchestra::conductor {
namespace {

using Change = DescriptorBudget::Change;

TEST(DescriptorBudgetTest, ReserveIsASixteenthOfTheLimitAndAtLeast64) {
  EXPECT_EQ(64, DescriptorBudget(512).reserve());
  EXPECT_EQ(64, DescriptorBudget(1024).reserve());
  EXPECT_EQ(4096, DescriptorBudget(65536).reserve());
}

TEST(DescriptorBudgetTest, ListenQueuesAreAtMostAnEighthOfTheLimit) {
  EXPECT_EQ(128, DescriptorBudget(1024).Backlog(8192));
  EXPECT_EQ(100, DescriptorBudget(1024).Backlog(100));
  EXPECT_EQ(8192, DescriptorBudget(524288).Backlog(8192));
}

TEST(DescriptorBudgetTest, ListenQueuesMoveThePauseMarkDown) {
  DescriptorBudget budget(1024);
  EXPECT_EQ(1024 - 64, budget.pause_at());
  budget.AddListener(128);
  budget.AddListener(100);
  EXPECT_EQ(1024 - 64 - 129 - 101, budget.pause_at());
  EXPECT_EQ(budget.pause_at() - 64, budget.resume_at());
}

TEST(DescriptorBudgetTest, AnAcceptAtThePauseMarkStopsAccepting) {
  DescriptorBudget budget(1024);
  EXPECT_EQ(Change::kNone, budget.Counted(20));
  EXPECT_EQ(Change::kNone, budget.Accepted(958));  // 959 open
  EXPECT_EQ(Change::kPause, budget.Accepted(959));
  EXPECT_TRUE(budget.paused());
  EXPECT_EQ(Change::kNone, budget.Accepted(960));  // once
}

TEST(DescriptorBudgetTest, AcceptsIntoLowDescriptorsAddUpToo) {
  DescriptorBudget budget(1024);
  (void)budget.Counted(959);
  EXPECT_EQ(Change::kPause, budget.Accepted(3));  // a hole low down
}

TEST(DescriptorBudgetTest, ClosesCountDown) {
  DescriptorBudget budget(1024);
  (void)budget.Counted(958);
  budget.Closed();
  EXPECT_EQ(Change::kNone, budget.Accepted(3));
  EXPECT_EQ(958, budget.open());
}

TEST(DescriptorBudgetTest, AcceptingStartsAgainOnlyAtTheResumeMark) {
  DescriptorBudget budget(1024);
  (void)budget.Counted(20);
  ASSERT_EQ(Change::kPause, budget.Accepted(959));
  EXPECT_EQ(Change::kNone, budget.Counted(budget.resume_at() + 1));
  EXPECT_TRUE(budget.paused());
  EXPECT_EQ(Change::kResume, budget.Counted(budget.resume_at()));
  EXPECT_FALSE(budget.paused());
}

TEST(DescriptorBudgetTest, ACountPastThePauseMarkStopsAccepting) {
  DescriptorBudget budget(1024);
  EXPECT_EQ(Change::kPause, budget.Counted(960));
}

TEST(DescriptorBudgetTest, CountsOnlyWhenNearThePauseMarkOrPaused) {
  DescriptorBudget budget(1024);
  (void)budget.Counted(20);
  EXPECT_FALSE(budget.WantsCount());
  (void)budget.Counted(480);
  EXPECT_TRUE(budget.WantsCount());
  (void)budget.Counted(960);
  (void)budget.Counted(20);
  EXPECT_FALSE(budget.WantsCount());
}

}  // namespace
}  // namespace orchestra::conductor
