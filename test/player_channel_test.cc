// Tests for conductor/player_channel.h driven through a Core on a temp file
// with a FakeClock, and real sockets in process (the player a DEALER of an
// inproc ROUTER; its Curve name, key and trust epoch set as the
// authenticator would): sessions, results, and what happens while the
// store fails and once it takes writes again.

#include "conductor/player_channel.h"

#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <string>

#include "broker/poller.h"
#include "test/conductor_samples.h"
#include "test/core_fixture.h"
#include "test/test_util.h"

namespace orchestra::conductor {
namespace {

using broker::PlayerMessage;
using broker::TaskState;

constexpr char kAddress[] = "inproc://player-channel-test";

// Each DEALER is a connection of player web-1.
class PlayerChannelTest : public test::CoreFixture {
 protected:
  void SetUp() override {
    ASSERT_NO_FATAL_FAILURE(Open({"web-1"}, kAddress));
    store_ = core_->store();
    board_ = core_->board();
    channel_ = core_->player_channel();
    registry_ = core_->registry();
  }

  // The player says `message` (on connection `from`, by default the
  // first); the channel handles it; the turn ends.
  void Say(const PlayerMessage& message, broker::Endpoint* from = nullptr) {
    ASSERT_NO_FATAL_FAILURE(Hand(message, from));
    EndTurn();
  }
  // Say() without ending the turn.
  void Hand(const PlayerMessage& message, broker::Endpoint* from = nullptr) {
    from = from ? from : dealer_.get();
    ASSERT_OK(from->Send(broker::EncodePlayerMessage(message)));
    broker::Poller poller;
    poller.AddSocket(router_->handle());
    ASSERT_OK(poller.Wait(5000));
    std::optional<broker::Inbound> in = router_->TryReceive();
    ASSERT_TRUE(in.has_value());
    in->user_id = "web-1";  // what the authenticator would say
    in->key = "key-web-1";
    in->epoch = core_->trust().epoch();
    ASSERT_OK(channel_->Handle(*in));
  }
  void EndTurn() {
    ASSERT_OK(core_->CommitTurn());
    ASSERT_OK(core_->Settle());
    core_->Flush(router_.get(), {});
  }
  // Time passes by `ms` as the loop lives it: due timers run, each time
  // in a turn of their own.
  void Pass(common::TimeMs ms) {
    const common::TimeMs end = clock_.Monotonic() + ms;
    while (clock_.Monotonic() < end) {
      const common::TimeMs now = clock_.Monotonic();
      clock_.Advance(std::min(core_->TimeUntilNextTimer(now), end - now));
      ASSERT_OK(core_->RunTimers());
      EndTurn();
    }
  }
  // The next message to the player (on connection `to`, by default the
  // first) other than a heartbeat, or nullopt after 5 s (100 ms when
  // `none_expected`).
  std::optional<PlayerMessage> Heard(bool none_expected = false,
                                     broker::Endpoint* to = nullptr) {
    to = to ? to : dealer_.get();
    const auto give_up = std::chrono::steady_clock::now() +
                         std::chrono::milliseconds(none_expected ? 100 : 5000);
    while (std::chrono::steady_clock::now() < give_up) {
      broker::Poller poller;
      poller.AddSocket(to->handle());
      EXPECT_OK(poller.Wait(50));
      std::optional<broker::Inbound> in = to->TryReceive();
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
  T HeardIs(broker::Endpoint* to = nullptr) {
    std::optional<PlayerMessage> message = Heard(false, to);
    EXPECT_TRUE(message.has_value()) << "nothing came";
    const T* wanted = message ? std::get_if<T>(&*message) : nullptr;
    EXPECT_NE(nullptr, wanted)
        << "got " << (message ? broker::MessageType(*message) : "nothing");
    return wanted ? *wanted : T{};
  }
  broker::Hello HelloHolding(std::vector<broker::HeldTask> held = {}) {
    return test::SampleHello(2, std::move(held));
  }
  JobId Submit() {
    common::Result<JobId> id = board_->Submit(
        test::SampleSubmit(broker::Scope::kAll, {"web-1"}), "tester", 0);
    EXPECT_OK(id.status());
    EndTurn();
    return id.ok() ? id.value() : 0;
  }
  // A job for web-1 (its id in `*job`), then web-1's hello: the task sent.
  TaskId Greeted(JobId* job) {
    *job = Submit();
    Say(HelloHolding());
    HeardIs<broker::Welcome>();
    return HeardIs<broker::RunTask>().task;
  }
  broker::TaskResult ResultOf(TaskId task) {
    return test::SampleResult(task, TaskState::kOk, clock_.Now());
  }
  // The first row of `sql`, as a reporting tool reads it.
  std::string Query(const std::string& sql) {
    return test::FirstRow(dir_.File("conductor.db"), sql);
  }
  TaskRecord StoredTask(JobId job) {
    std::optional<JobRecord> record = test::StoredJob(store_, job);
    return record ? record->tasks.at(0) : TaskRecord();
  }
  // A commit fails, as the conductor's loop meets it; then the retry that
  // finds the store writable again.
  void FailStore() {
    ASSERT_OK(core_->StoreFailed(
        common::Status::IoError("sqlite /x.db", "disk full")));
    core_->Flush(router_.get(), {});
  }
  void RecoverStore() {
    core_->RetryStore();
    ASSERT_TRUE(core_->health().writable());
    EndTurn();
  }

  JobStore* store_ = nullptr;
  JobBoard* board_ = nullptr;
  PlayerChannel* channel_ = nullptr;
  PlayerRegistry* registry_ = nullptr;
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
  EXPECT_FALSE(registry_->IsConnected("web-1"));
  Say(HelloHolding());
  HeardIs<broker::Welcome>();
  EXPECT_TRUE(registry_->IsConnected("web-1"));
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
  Say(HelloHolding());
  HeardIs<broker::Welcome>();
  common::Result<JobId> job = board_->Submit(
      test::SampleSubmit(broker::Scope::kOne, {"web-1"}), "tester", 0);
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

TEST_F(PlayerChannelTest, AMessageBeforeHelloIsAnsweredHelloRequired) {
  Say(broker::Heartbeat{});
  EXPECT_EQ("hello_required", HeardIs<broker::SessionError>().code);
  EXPECT_FALSE(registry_->IsConnected("web-1"));
}

// DESIGN.md section 4: a second session for the same name replaces the
// first, which is told so and is not heard any more.
TEST_F(PlayerChannelTest, ASecondHelloReplacesTheFirstSession) {
  JobId job = 0;
  const TaskId task = Greeted(&job);
  std::unique_ptr<broker::Endpoint> second = Connect();
  ASSERT_NE(nullptr, second);
  Say(HelloHolding({{task, false}}), second.get());
  HeardIs<broker::Welcome>(second.get());
  EXPECT_EQ("replaced", HeardIs<broker::SessionError>().code);
  EXPECT_TRUE(registry_->IsConnected("web-1"));
  Say(ResultOf(task));  // on the replaced session: ignored
  EXPECT_FALSE(Heard(/*none_expected=*/true).has_value());
  EXPECT_FALSE(Heard(/*none_expected=*/true, second.get()).has_value());
  EXPECT_EQ(TaskState::kRunning, StoredTask(job).state);
}

// DESIGN.md section 8: a result is acknowledged only once it is committed.
TEST_F(PlayerChannelTest, AResultIsStoredThenAcknowledged) {
  JobId job = 0;
  const TaskId task = Greeted(&job);
  Say(ResultOf(task));
  EXPECT_EQ(task, HeardIs<broker::ResultAck>().task);
  EXPECT_EQ("OK", Query("SELECT state FROM tasks WHERE id = " +
                        std::to_string(task)));
  EXPECT_EQ(TaskState::kOk, StoredTask(job).state);
}

// The turn that handled a result fails to commit: its result_ack never
// leaves; the player, asked to greet again, still holds the result.
TEST_F(PlayerChannelTest, AResultWhoseCommitFailsIsNotAcknowledged) {
  JobId job = 0;
  const TaskId task = Greeted(&job);
  Hand(ResultOf(task));
  FailStore();
  EXPECT_EQ("hello_required", HeardIs<broker::SessionError>().code);
  EXPECT_FALSE(Heard(/*none_expected=*/true).has_value());
  EXPECT_EQ(TaskState::kDispatched, StoredTask(job).state);
}

// DESIGN.md section 3: after `player timeout` without a word from it, a
// player counts as gone (at the next check of the sessions, every half
// heartbeat interval); what it says next needs a hello first.
TEST_F(PlayerChannelTest, ASilentPlayersSessionEndsAfterThePlayerTimeout) {
  core_->StartTimers();
  Say(HelloHolding());
  HeardIs<broker::Welcome>();
  Pass(core_->config().player_timeout_ms);
  EXPECT_TRUE(registry_->IsConnected("web-1"));
  Pass(core_->config().heartbeat_interval_ms / 2);
  EXPECT_FALSE(registry_->IsConnected("web-1"));
  EXPECT_EQ("0", Query("SELECT connected FROM players WHERE name = 'web-1'"));
  Say(broker::Heartbeat{});
  EXPECT_EQ("hello_required", HeardIs<broker::SessionError>().code);
}

}  // namespace
}  // namespace orchestra::conductor
