// Tests for conductor/outbox.h with real sockets in process (a ROUTER for
// the audience and one for players, a DEALER client of each): what leaves
// after a commit, and what is left of a turn whose commit failed.

#include "conductor/outbox.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "broker/poller.h"
#include "broker/protocol.h"
#include "test/test_util.h"

namespace orchestra::conductor {
namespace {

using broker::AudienceReply;
using broker::ErrorCode;

class OutboxTest : public testing::Test {
 protected:
  void SetUp() override {
    audience_ = Router("inproc://outbox-audience");
    players_ = Router("inproc://outbox-players");
    client_ = Dealer("inproc://outbox-audience");
    player_ = Dealer("inproc://outbox-players");
    ASSERT_TRUE(audience_ && players_ && client_ && player_);
    // Each DEALER says who it is, so the ROUTERs know their routing ids.
    ASSERT_OK(client_->Send("hi"));
    ASSERT_OK(player_->Send("hi"));
    client_peer_ = Receive(audience_.get())->peer;
    player_peer_ = Receive(players_.get())->peer;
  }
  std::unique_ptr<broker::Endpoint> Router(const std::string& address) {
    auto router = broker::Endpoint::Router(&context_, address, {});
    if (!router.ok() || !router.value()->Bind(address).ok()) return nullptr;
    return std::move(router.value());
  }
  std::unique_ptr<broker::Endpoint> Dealer(const std::string& address) {
    auto dealer = broker::Endpoint::Dealer(&context_, address, {});
    if (!dealer.ok() || !dealer.value()->Connect(address).ok()) return nullptr;
    return std::move(dealer.value());
  }
  // The next message on `endpoint`, waiting at most 5 s (1 ms: `quick`).
  static std::optional<broker::Inbound> Receive(broker::Endpoint* endpoint,
                                                bool quick = false) {
    broker::Poller poller;
    poller.AddSocket(endpoint->handle());
    EXPECT_OK(poller.Wait(quick ? 1 : 5000));
    return endpoint->TryReceive();
  }
  AudienceReply NextReply() {
    std::optional<broker::Inbound> in = Receive(client_.get());
    EXPECT_TRUE(in.has_value()) << "no reply";
    if (!in) return {};
    auto reply = broker::DecodeAudienceReply(in->payload);
    EXPECT_OK(reply.status());
    return reply.ok() ? reply.value() : AudienceReply{};
  }
  void Flush() {
    outbox_.Flush(players_.get(), {audience_.get()}, &registry_, 0);
  }
  // A job id `job` in reply to request `req`.
  void JobIdReply(int64_t req, int64_t job) {
    outbox_.ToAudience(0, client_peer_, false, {req, broker::SubmitReply{job}});
  }
  // A turn's messages: a job id, a progress message and a task.
  void QueueATurn() {
    outbox_.ToAudience(0, client_peer_, false,
                       {int64_t{7}, broker::SubmitReply{42}});
    outbox_.ToAudience(0, client_peer_, false,
                       {int64_t{8}, broker::ProgressReply{{1, 2, {}}}});
    broker::RunTask task;
    task.task = 5;
    outbox_.ToPeer(player_peer_, broker::EncodePlayerMessage(task));
  }

  broker::Context context_;
  std::unique_ptr<broker::Endpoint> audience_, players_, client_, player_;
  std::string client_peer_, player_peer_;
  PlayerRegistry registry_;
  Outbox outbox_;
};

TEST_F(OutboxTest, ATurnLeavesOnlyOnceReleasedThenInOrder) {
  QueueATurn();
  outbox_.Seal(1);
  Flush();
  EXPECT_FALSE(Receive(client_.get(), true).has_value()) << "not committed";
  EXPECT_FALSE(Receive(player_.get(), true).has_value());
  outbox_.Release(1);
  Flush();
  EXPECT_EQ(42, std::get<broker::SubmitReply>(NextReply().body).job);
  EXPECT_TRUE(std::holds_alternative<broker::ProgressReply>(NextReply().body));
  EXPECT_TRUE(Receive(player_.get()).has_value());
}

// Turns in flight leave in turn order, each once its own commit is back;
// what rests on nothing uncommitted (a read) leaves at once.
TEST_F(OutboxTest, TurnsInFlightLeaveInTheirOrderAndReadsAtOnce) {
  JobIdReply(1, 101);
  outbox_.Seal(1);
  JobIdReply(2, 102);
  outbox_.Seal(2);
  outbox_.set_committed_only(true);
  JobIdReply(3, 103);
  outbox_.set_committed_only(false);
  EXPECT_GT(outbox_.sealed_bytes(), 0u);
  Flush();
  EXPECT_EQ(103, std::get<broker::SubmitReply>(NextReply().body).job);
  EXPECT_FALSE(Receive(client_.get(), true).has_value());
  outbox_.Release(1);
  Flush();
  EXPECT_EQ(101, std::get<broker::SubmitReply>(NextReply().body).job);
  EXPECT_FALSE(Receive(client_.get(), true).has_value());
  outbox_.Release(2);
  Flush();
  EXPECT_EQ(102, std::get<broker::SubmitReply>(NextReply().body).job);
  EXPECT_EQ(0u, outbox_.sealed_bytes());
}

// A commit that fails undoes every turn in flight, not only its own.
TEST_F(OutboxTest, AbandonUndoesEveryTurnNotReleased) {
  JobIdReply(1, 101);
  outbox_.Seal(1);
  JobIdReply(2, 102);
  outbox_.Seal(2);
  outbox_.Release(1);
  outbox_.Abandon("database: disk full");
  Flush();
  EXPECT_EQ(101, std::get<broker::SubmitReply>(NextReply().body).job);
  AudienceReply second = NextReply();
  EXPECT_EQ(2, std::get<int64_t>(second.req));
  EXPECT_EQ(ErrorCode::kUnavailable,
            std::get<broker::ErrorReply>(second.body).error.code);
}

TEST_F(OutboxTest, AnAbandonedTurnAnswersEachRequestUnavailableAndNothingElse) {
  QueueATurn();
  outbox_.Seal(1);
  outbox_.Abandon("database: disk full; try again later");
  Flush();
  AudienceReply reply = NextReply();
  EXPECT_EQ(7, std::get<int64_t>(reply.req));
  const broker::AudienceError& e =
      std::get<broker::ErrorReply>(reply.body).error;
  EXPECT_EQ(ErrorCode::kUnavailable, e.code);
  EXPECT_EQ("database: disk full; try again later", e.message);
  EXPECT_FALSE(Receive(client_.get(), true).has_value());  // no progress
  EXPECT_FALSE(Receive(player_.get(), true).has_value());  // no task
}

TEST_F(OutboxTest, WhatIsQueuedAfterAbandonLeavesAsItIs) {
  QueueATurn();
  outbox_.Abandon("database: disk full");
  outbox_.ToPeer(player_peer_,
                 broker::EncodePlayerMessage(broker::Heartbeat{}));
  outbox_.Seal(1);
  outbox_.Release(1);
  Flush();
  NextReply();
  std::optional<broker::Inbound> in = Receive(player_.get());
  ASSERT_TRUE(in.has_value());
  auto message = broker::DecodePlayerMessage(in->payload);
  ASSERT_OK(message.status());
  EXPECT_TRUE(std::holds_alternative<broker::Heartbeat>(message.value()));
}

}  // namespace
}  // namespace orchestra::conductor
