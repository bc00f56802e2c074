// Tests for conductor/player_channel.h with a real JobStore on a temp file,
// a real JobBoard and Scheduler, a FakeClock and real sockets in process
// (the player a DEALER of an inproc ROUTER; its Curve name, key and trust
// epoch set as the authenticator would): sessions and results while the
// store fails, and how they are reconciled once it takes writes again.

#include "conductor/player_channel.h"

#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <string>

#include "broker/poller.h"
#include "common/log.h"
#include "test/conductor_stores.h"
#include "test/fake_clock.h"
#include "test/test_util.h"

namespace orchestra::conductor {
namespace {

using broker::PlayerMessage;
using broker::TaskState;

constexpr char kAddress[] = "inproc://player-channel-test";

class PlayerChannelTest : public testing::Test {
 protected:
  void SetUp() override {
    common::SetLogSinkForTest([](common::LogLevel, std::string_view) {});
    TrustFiles files;
    files.players = {{"web-1", "key-1"}};
    trust_.Install(std::move(files));
    ASSERT_NO_FATAL_FAILURE(
        test::OpenStores(dir_.File("conductor.db"), &store_, &players_));
    board_ = std::make_unique<JobBoard>(store_.get(), &scheduler_, &clock_,
                                        trust_.listed());
    channel_ = std::make_unique<PlayerChannel>(&config_, &trust_, &registry_,
                                               board_.get(), players_.get(),
                                               &health_, &outbox_, &clock_);
    auto router = broker::Endpoint::Router(&context_, "players", {});
    auto dealer = broker::Endpoint::Dealer(&context_, "web-1", {});
    ASSERT_TRUE(router.ok() && dealer.ok());
    router_ = std::move(router.value());
    dealer_ = std::move(dealer.value());
    ASSERT_TRUE(router_->Bind(kAddress).ok());
    ASSERT_OK(dealer_->Connect(kAddress));
  }
  void TearDown() override { common::SetLogSinkForTest(nullptr); }

  // The player says `message`; the channel handles it; the turn ends.
  void Say(const PlayerMessage& message) {
    ASSERT_OK(dealer_->Send(broker::EncodePlayerMessage(message)));
    broker::Poller poller;
    poller.AddSocket(router_->handle());
    ASSERT_OK(poller.Wait(5000));
    std::optional<broker::Inbound> in = router_->TryReceive();
    ASSERT_TRUE(in.has_value());
    in->user_id = "web-1";  // what the authenticator would say
    in->key = "key-1";
    in->epoch = trust_.epoch();
    ASSERT_OK(channel_->Handle(*in));
    EndTurn();
  }
  void EndTurn() {
    for (PlayerOrder& order : board_->TakeOrders())
      outbox_.ToPlayer(order.player,
                       broker::EncodePlayerMessage(order.message));
    ASSERT_OK(store_->Commit());
    channel_->TurnCommitted();
    outbox_.Flush(router_.get(), {}, &registry_, clock_.Monotonic());
  }
  // The next message to the player other than a heartbeat, or nullopt
  // after 5 s (100 ms when `none_expected`).
  std::optional<PlayerMessage> Heard(bool none_expected = false) {
    const auto give_up = std::chrono::steady_clock::now() +
                         std::chrono::milliseconds(none_expected ? 100 : 5000);
    while (std::chrono::steady_clock::now() < give_up) {
      broker::Poller poller;
      poller.AddSocket(dealer_->handle());
      EXPECT_OK(poller.Wait(50));
      std::optional<broker::Inbound> in = dealer_->TryReceive();
      if (!in) continue;
      auto message = broker::DecodePlayerMessage(in->payload);
      EXPECT_OK(message.status());
      if (!message.ok()) return std::nullopt;
      if (!std::holds_alternative<broker::Heartbeat>(message.value()))
        return message.value();
    }
    return std::nullopt;
  }
  template <typename T>
  T HeardIs() {
    std::optional<PlayerMessage> message = Heard();
    EXPECT_TRUE(message.has_value()) << "nothing came";
    const T* wanted = message ? std::get_if<T>(&*message) : nullptr;
    EXPECT_NE(nullptr, wanted)
        << "got " << (message ? broker::MessageType(*message) : "nothing");
    return wanted ? *wanted : T{};
  }
  broker::Hello HelloHolding(std::vector<broker::HeldTask> held = {}) {
    broker::Hello hello;
    hello.version = "1.0";
    hello.slots = 2;
    hello.tasks = std::move(held);
    return hello;
  }
  JobId Submit() {
    broker::SubmitRequest request;
    request.score = "backup";
    request.scope = broker::Scope::kAll;
    request.players = {"web-1"};
    common::Result<JobId> id = board_->Submit(request, "tester", 0);
    EXPECT_OK(id.status());
    EndTurn();
    return id.ok() ? id.value() : 0;
  }
  TaskRecord StoredTask(JobId job) {
    auto record = store_->LoadJob(job);
    EXPECT_OK(record.status());
    return record.ok() && record.value() ? record.value()->tasks.at(0)
                                         : TaskRecord();
  }
  // What the conductor does when a commit fails, then when a retry works.
  void FailStore() {
    store_->Rollback();
    health_.Failed(common::Status::IoError("sqlite /x.db", "disk full"), 0);
    outbox_.Abandon("database: disk full");
    channel_->StoreFailed();
    ASSERT_OK(board_->Reload());
    outbox_.Flush(router_.get(), {}, &registry_, clock_.Monotonic());
  }
  void RecoverStore() {
    ASSERT_OK(board_->Recover());
    ASSERT_OK(channel_->Reconcile());
    ASSERT_OK(store_->Commit());
    channel_->Reconciled();
    health_.Recovered();
    EndTurn();
  }

  test::TempDir dir_;
  test::FakeClock clock_;
  ConductorConfig config_;
  Trust trust_;
  Scheduler scheduler_;
  StoreHealth health_;
  PlayerRegistry registry_;
  Outbox outbox_;
  std::unique_ptr<JobStore> store_;
  std::unique_ptr<PlayerStore> players_;
  std::unique_ptr<JobBoard> board_;
  std::unique_ptr<PlayerChannel> channel_;
  broker::Context context_;
  std::unique_ptr<broker::Endpoint> router_;
  std::unique_ptr<broker::Endpoint> dealer_;
};

TEST_F(PlayerChannelTest, HelloIsWelcomedAndTasksGoOut) {
  const JobId job = Submit();
  Say(HelloHolding());
  HeardIs<broker::Welcome>();
  EXPECT_EQ(StoredTask(job).task, HeardIs<broker::RunTask>().task);
}

// A commit failed: each live session ends with hello_required, so that the
// player's next hello says what it holds now.
TEST_F(PlayerChannelTest, AFailedStoreAsksEachPlayerToGreetAgain) {
  Say(HelloHolding());
  HeardIs<broker::Welcome>();
  FailStore();
  EXPECT_EQ("hello_required", HeardIs<broker::SessionError>().code);
  EXPECT_FALSE(registry_.IsConnected("web-1"));
  Say(HelloHolding());
  HeardIs<broker::Welcome>();
  EXPECT_TRUE(registry_.IsConnected("web-1"));
}

TEST_F(PlayerChannelTest, WhileTheStoreFailsAResultIsNeitherStoredNorAcked) {
  const JobId job = Submit();
  Say(HelloHolding());
  HeardIs<broker::Welcome>();
  const TaskId task = HeardIs<broker::RunTask>().task;
  FailStore();
  HeardIs<broker::SessionError>();
  Say(HelloHolding({{task, true}}));
  HeardIs<broker::Welcome>();
  broker::TaskResult result;
  result.task = task;
  result.state = TaskState::kOk;
  Say(result);
  EXPECT_FALSE(Heard(/*none_expected=*/true).has_value());  // no result_ack
  EXPECT_EQ(TaskState::kDispatched, StoredTask(job).state);
  RecoverStore();
  Say(result);  // the player sends it again
  EXPECT_EQ(task, HeardIs<broker::ResultAck>().task);
  EXPECT_EQ(TaskState::kOk, StoredTask(job).state);
}

// The hello a player sent while the store failed is reconciled once it
// takes writes: a task it holds is running, one it never got is sent.
TEST_F(PlayerChannelTest, AHelloWhileTheStoreFailsIsReconciledLater) {
  const JobId first = Submit();
  Say(HelloHolding());
  HeardIs<broker::Welcome>();
  const TaskId held = HeardIs<broker::RunTask>().task;
  const JobId second = Submit();
  HeardIs<broker::RunTask>();
  FailStore();
  HeardIs<broker::SessionError>();
  Say(HelloHolding({{held, false}}));  // the second task never arrived
  HeardIs<broker::Welcome>();
  EXPECT_EQ(TaskState::kDispatched, StoredTask(first).state);
  RecoverStore();
  EXPECT_EQ(TaskState::kRunning, StoredTask(first).state);
  EXPECT_EQ(StoredTask(second).task, HeardIs<broker::RunTask>().task);
}

// A player whose session ended while the store failed is settled as if it
// had just left: its `one` task it never accepted moves on.
TEST_F(PlayerChannelTest, APlayerThatLeftWhileTheStoreFailedIsSettledLater) {
  broker::SubmitRequest request;
  request.score = "backup";
  request.players = {"web-1"};
  Say(HelloHolding());
  HeardIs<broker::Welcome>();
  common::Result<JobId> job = board_->Submit(request, "tester", 0);
  ASSERT_OK(job.status());
  EndTurn();
  HeardIs<broker::RunTask>();
  FailStore();
  RecoverStore();  // web-1 never greeted again
  auto record = store_->LoadJob(job.value());
  ASSERT_OK(record.status());
  EXPECT_EQ(TaskState::kExpired, record.value()->tasks.at(0).state);
  EXPECT_EQ(broker::JobState::kFail, record.value()->state);
}

}  // namespace
}  // namespace orchestra::conductor
