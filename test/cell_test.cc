// Tests of the cell as one conductor sees it (conductor/cell.h): real
// dqlite nodes of this process on free loopback ports, each in a
// directory of its own. Node 1 starts the cell, the next joins it; the
// store opened on the cell writes through the engine and reads through the
// remote reader, and the epoch and the hints are what the others read.

#include "conductor/cell.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <chrono>
#include <thread>

#include "common/unique_fd.h"
#include "test/conductor_samples.h"
#include "test/test_util.h"

namespace orchestra::conductor {
namespace {

using common::Result;
using common::Status;
using Clock = std::chrono::steady_clock;

std::string FreeAddress() {
  common::UniqueFd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t size = sizeof addr;
  EXPECT_EQ(0, ::bind(fd.get(), reinterpret_cast<sockaddr*>(&addr), size));
  EXPECT_EQ(0,
            ::getsockname(fd.get(), reinterpret_cast<sockaddr*>(&addr), &size));
  return "127.0.0.1:" + std::to_string(ntohs(addr.sin_port));
}

// Calls `done` until it is true or 10 s pass; polls, as a node has no
// event to wait on from outside.
template <typename Done>
bool Eventually(Done done) {
  const auto end = Clock::now() + std::chrono::seconds(10);
  while (Clock::now() < end) {
    if (done()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return false;
}

TEST(CellNodeIdTest, TheFirstAddressIsNodeOneAndTheOthersAgree) {
  const std::vector<std::string> all = {"10.0.0.2:9001", "10.0.0.1:9001",
                                        "10.0.0.3:9001"};
  EXPECT_EQ(1u, CellNodeId("10.0.0.1:9001", all));
  const uint64_t second = CellNodeId("10.0.0.2:9001", all);
  const uint64_t third = CellNodeId("10.0.0.3:9001", all);
  EXPECT_GT(second, 1u);
  EXPECT_GT(third, 1u);
  EXPECT_NE(second, third);
  EXPECT_LT(second, 1ULL << 63);
  // Every node computes the same ids, whatever order it lists them in.
  EXPECT_EQ(second,
            CellNodeId("10.0.0.2:9001",
                       {"10.0.0.3:9001", "10.0.0.2:9001", "10.0.0.1:9001"}));
}

class CellTest : public testing::Test {
 protected:
  void SetUp() override {
    addresses_ = {FreeAddress(), FreeAddress()};
    std::sort(addresses_.begin(), addresses_.end());  // [0] is node 1
  }

  ConductorConfig Config(size_t i) {
    ConductorConfig c;
    c.database_engine = "dqlite";
    c.cell_address = addresses_[i];
    c.cell_peers = {addresses_[1 - i]};
    c.database_path = dir_.path() + "/cell-" + std::to_string(i);
    return c;
  }

  std::unique_ptr<Cell> Start(size_t i) {
    Result<std::unique_ptr<Cell>> cell = Cell::Start(Config(i));
    EXPECT_TRUE(cell.ok()) << cell.status().ToString();
    return cell.ok() ? std::move(cell.value()) : nullptr;
  }

  test::TempDir dir_;
  std::vector<std::string> addresses_;
};

TEST_F(CellTest, TheFirstNodeLeadsTakesOverAndItsStoreWritesAndReads) {
  std::unique_ptr<Cell> first = Start(0);
  ASSERT_NE(nullptr, first);
  EXPECT_EQ(1u, first->id());
  ASSERT_TRUE(Eventually([&] { return first->Leads(); }));
  Result<int64_t> epoch = first->TakeOver("tcp://127.0.0.1:1", "");
  ASSERT_OK(epoch.status());
  EXPECT_EQ(1, epoch.value());
  ASSERT_OK(first->Advertise(1, "tcp://10.0.0.1:2258", "tcp://10.0.0.1:2260"));

  Result<std::unique_ptr<JobStore>> store = first->OpenStore();
  ASSERT_OK(store.status());
  JobRecord job = test::SampleJob(broker::Scope::kAll, {"web-1", "web-2"},
                                  1700000000000, "backup");
  job.params = {{"WHERE", "it's \"here\""}};
  ASSERT_OK(store.value()->InsertJob(&job, "key-1"));
  ASSERT_OK(store.value()->Commit());
  Result<std::optional<JobRecord>> loaded = store.value()->LoadJob(job.id);
  ASSERT_OK(loaded.status());
  ASSERT_TRUE(loaded.value().has_value());
  EXPECT_EQ("backup", loaded.value()->score);
  EXPECT_EQ((std::vector<std::string>{"web-1", "web-2"}),
            loaded.value()->players);
  EXPECT_EQ(2u, loaded.value()->tasks.size());
  EXPECT_EQ("it's \"here\"", loaded.value()->params.at("WHERE"));
  Result<std::optional<JobId>> by_key =
      store.value()->FindJobByKey(job.submitted_by, "key-1");
  ASSERT_OK(by_key.status());
  EXPECT_EQ(std::optional<JobId>(job.id), by_key.value());

  // A second take-over (a new leader) is the next epoch.
  Result<int64_t> next = first->TakeOver("tcp://127.0.0.1:1", "");
  ASSERT_OK(next.status());
  EXPECT_EQ(2, next.value());
}

TEST_F(CellTest, ASecondNodeJoinsAndReadsTheActiveConductorsHints) {
  std::unique_ptr<Cell> first = Start(0);
  ASSERT_NE(nullptr, first);
  ASSERT_TRUE(Eventually([&] { return first->Leads(); }));
  ASSERT_OK(first->TakeOver("", "").status());
  ASSERT_OK(first->Advertise(1, "tcp://10.0.0.1:2258", "tcp://10.0.0.1:2260"));

  std::unique_ptr<Cell> second = Start(1);
  ASSERT_NE(nullptr, second);
  EXPECT_NE(1u, second->id());
  ASSERT_TRUE(Eventually([&] { return second->Join().ok(); }));
  EXPECT_FALSE(second->Leads());
  Result<DqliteNode> leader = second->Leader();
  ASSERT_OK(leader.status());
  EXPECT_EQ(first->id(), leader.value().id);
  Result<CellLeader> active = second->Active();
  ASSERT_OK(active.status());
  EXPECT_EQ(1, active.value().epoch);
  EXPECT_EQ(addresses_[0], active.value().address);
  EXPECT_EQ("tcp://10.0.0.1:2258", active.value().player_endpoint);
  EXPECT_EQ("tcp://10.0.0.1:2260", active.value().audience_endpoint);
  // Joining again is a no-op once a voter.
  EXPECT_OK(second->Join());
}

TEST_F(CellTest, AStoreOnANodeThatDoesNotLeadCommitsNothing) {
  std::unique_ptr<Cell> first = Start(0);
  ASSERT_NE(nullptr, first);
  ASSERT_TRUE(Eventually([&] { return first->Leads(); }));
  ASSERT_OK(first->TakeOver("", "").status());
  std::unique_ptr<Cell> second = Start(1);
  ASSERT_NE(nullptr, second);
  ASSERT_TRUE(Eventually([&] { return second->Join().ok(); }));

  Result<std::unique_ptr<JobStore>> store = second->OpenStore();
  // Its first read (the next ids) already goes to a node that refuses it.
  if (store.ok()) {
    JobRecord job =
        test::SampleJob(broker::Scope::kOne, {"web-1"}, 1700000000000);
    ASSERT_OK(store.value()->InsertJob(&job, ""));
    Status s = store.value()->Commit();
    EXPECT_FALSE(s.ok());
    EXPECT_TRUE(DqliteClient::IsNotLeader(s)) << s.ToString();
  } else {
    EXPECT_TRUE(DqliteClient::IsNotLeader(store.status()))
        << store.status().ToString();
  }
}

TEST_F(CellTest, ASecondConductorOnOneDirectoryIsRefused) {
  std::unique_ptr<Cell> first = Start(0);
  ASSERT_NE(nullptr, first);
  Result<std::unique_ptr<Cell>> again = Cell::Start(Config(0));
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(Status::Code::kConflict, again.status().code());
}

// Node 1 with an empty directory while its peer already has a cell: a
// second cell would split the record, so it refuses, naming the fix.
TEST_F(CellTest, AnEmptiedFirstNodeDoesNotStartASecondCell) {
  std::unique_ptr<Cell> first = Start(0);
  ASSERT_NE(nullptr, first);
  ASSERT_TRUE(Eventually([&] { return first->Leads(); }));
  std::unique_ptr<Cell> second = Start(1);
  ASSERT_NE(nullptr, second);
  ASSERT_TRUE(Eventually([&] { return second->Join().ok(); }));
  first.reset();
  // Long enough for the second to know it has no leader any more.
  ASSERT_TRUE(Eventually([&] {
    Result<DqliteNode> leader = second->Leader();
    return leader.ok() && leader.value().id == 0;
  }));
  ConductorConfig emptied = Config(0);
  emptied.database_path = dir_.path() + "/cell-0-emptied";
  Result<std::unique_ptr<Cell>> again = Cell::Start(emptied);
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(Status::Code::kConflict, again.status().code());
  EXPECT_NE(std::string::npos,
            again.status().message().find("already belongs to one"))
      << again.status().ToString();
}

}  // namespace
}  // namespace orchestra::conductor
