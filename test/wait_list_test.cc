// Tests for conductor/wait_list.h: pending waits bounded per connection
// and in all, found by job and by deadline, and forgotten when taken.

#include "conductor/wait_list.h"

#include <gtest/gtest.h>

namespace orchestra::conductor {
namespace {

Waiter On(broker::JobId job, const std::string& peer,
          common::TimeMs deadline = 0, bool progress = false) {
  Waiter w;
  w.job = job;
  w.caller.peer = peer;
  w.caller.submitter = "key:" + peer;
  w.deadline = deadline;
  w.progress = progress;
  return w;
}

TEST(WaitListTest, ASubmitterHoldsAtMostItsShareOverAllItsConnections) {
  WaitList waits;
  for (size_t i = 0; i < kMaxWaitsPerSubmitter; ++i) {
    Waiter w = On(1, "a");
    w.caller.peer = "connection-" + std::to_string(i % 7);
    ASSERT_EQ(WaitList::Added::kYes, waits.Add(w));
  }
  Waiter another_connection = On(1, "a");
  another_connection.caller.peer = "one-more";
  EXPECT_EQ(WaitList::Added::kSubmitterFull, waits.Add(another_connection));
  EXPECT_EQ(WaitList::Added::kYes, waits.Add(On(1, "b")));
  EXPECT_EQ(kMaxWaitsPerSubmitter, waits.CountOf("key:a"));
  waits.TakeJob(1);
  EXPECT_EQ(0u, waits.size());
  EXPECT_EQ(0u, waits.CountOf("key:a"));
  EXPECT_EQ(WaitList::Added::kYes, waits.Add(On(1, "a")));
}

TEST(WaitListTest, TheWholeListHoldsAtMostItsLimit) {
  WaitList waits;
  const size_t connections = kMaxWaits / kMaxWaitsPerSubmitter;
  for (size_t c = 0; c < connections; ++c) {
    for (size_t i = 0; i < kMaxWaitsPerSubmitter; ++i)
      ASSERT_EQ(WaitList::Added::kYes,
                waits.Add(On(static_cast<broker::JobId>(c + 1),
                             "peer-" + std::to_string(c))));
  }
  EXPECT_EQ(kMaxWaits, waits.size());
  EXPECT_EQ(WaitList::Added::kFull, waits.Add(On(1, "late")));
  EXPECT_EQ(kMaxWaitsPerSubmitter, waits.TakeJob(1).size());
  EXPECT_EQ(WaitList::Added::kYes, waits.Add(On(1, "late")));
}

TEST(WaitListTest, ExpiredWaitsAreTakenInDeadlineOrderAndOnlyThose) {
  WaitList waits;
  waits.Add(On(1, "a", 300));
  waits.Add(On(2, "b", 100));
  waits.Add(On(3, "c", 0));  // no deadline
  waits.Add(On(4, "d", 200));
  std::vector<Waiter> due = waits.TakeExpired(200);
  ASSERT_EQ(2u, due.size());
  EXPECT_EQ(2, due[0].job);
  EXPECT_EQ(4, due[1].job);
  EXPECT_TRUE(waits.TakeExpired(299).empty());
  EXPECT_EQ(1u, waits.TakeExpired(1000000).size());
  EXPECT_EQ(1u, waits.size());
  EXPECT_EQ(1u, waits.TakeJob(3).size());
}

TEST(WaitListTest, ProgressWaitersAreFoundByTheirJob) {
  WaitList waits;
  waits.Add(On(7, "a", 0, true));
  waits.Add(On(7, "b", 0, false));
  waits.Add(On(8, "c", 50, true));
  EXPECT_EQ((std::vector<broker::JobId>{7, 8}), waits.ProgressJobs());
  std::vector<std::string> peers;
  waits.ForEachProgress(
      7, [&](const Waiter& w) { peers.push_back(w.caller.peer); });
  EXPECT_EQ(std::vector<std::string>{"a"}, peers);
  waits.TakeExpired(50);
  EXPECT_EQ(std::vector<broker::JobId>{7}, waits.ProgressJobs());
  waits.TakeIf([](const Waiter& w) { return w.caller.peer == "a"; });
  EXPECT_TRUE(waits.ProgressJobs().empty());
  EXPECT_EQ(1u, waits.size());
}

}  // namespace
}  // namespace orchestra::conductor
