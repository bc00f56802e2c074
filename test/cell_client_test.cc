// Tests of broker/cell_client.h against fake conductors: Curve ROUTERs on
// tcp://127.0.0.1:* (sharing the cell's key pair), each answering with
// canned replies, standing for the active and the other conductors.

#include "broker/cell_client.h"

#include <chrono>
#include <mutex>

#include "broker/curve_keys.h"
#include "test/fake_conductor.h"
#include "test/test_util.h"

namespace orchestra::broker {
namespace {

using common::Result;
using common::Status;
using test::FakeConductor;

AudienceReply Unavailable(const AudienceRequest& request,
                          const std::string& leader) {
  return {request.req, ErrorReply{{ErrorCode::kUnavailable,
                                   "the cell has no quorum", leader}}};
}

std::vector<AudienceReply> Accept(const AudienceRequest& request) {
  if (const auto* wait = std::get_if<WaitRequest>(&request.op)) {
    JobRecord job;
    job.id = wait->job;
    job.score = "backup";
    return {{request.req, JobReply{job, false}}};
  }
  return {{request.req, SubmitReply{7}}};
}

std::vector<AudienceReply> Silent(const AudienceRequest&) { return {}; }

SubmitRequest Submit() {
  SubmitRequest submit;
  submit.score = "backup";
  submit.players = {"web-1"};
  return submit;
}

class CellClientTest : public testing::Test {
 protected:
  CellClientTest() {
    Result<CurveKeyPair> cell = GenerateKeyPair();
    EXPECT_OK(cell.status());
    cell_ = std::move(cell.value());
    EXPECT_OK(WriteKeyPair(dir_.path(), "cell", cell_));
    Result<CurveKeyPair> ours = GenerateKeyPair();
    EXPECT_OK(ours.status());
    EXPECT_OK(WriteKeyPair(dir_.path(), "client", ours.value()));
    options_.client.secret_key_file = dir_.File("client.key");
    options_.client.server_key_file = dir_.File("cell.pub");
    options_.client.connect_timeout_ms = 2000;
    options_.backoff_ms = 10;
  }

  // Starts a conductor of the cell answering with `answer`; returns its
  // endpoint.
  std::string Start(FakeConductor::Answer answer) {
    FakeConductor::Setup setup{"tcp://127.0.0.1:*", {}};
    setup.options.curve_server_secret = &cell_.secret_key;
    fakes_.push_back(std::make_unique<FakeConductor>(setup, std::move(answer)));
    EXPECT_FALSE(fakes_.back()->endpoint().empty());
    return fakes_.back()->endpoint();
  }

  // The key of each submit `fake` was asked.
  static std::vector<std::string> KeysSeen(FakeConductor* fake) {
    std::vector<std::string> keys;
    for (const AudienceOp& op : fake->ops()) {
      if (auto* submit = std::get_if<SubmitRequest>(&op))
        keys.push_back(submit->key);
    }
    return keys;
  }

  Result<AudienceReply> Call(const AudienceOp& op, int timeout_ms = 5000) {
    CellClient client(options_);
    return client.Call(op, timeout_ms);
  }

  test::TempDir dir_;
  CurveKeyPair cell_;
  CellOptions options_;
  std::vector<std::unique_ptr<FakeConductor>> fakes_;
};

JobId SubmittedJob(const Result<AudienceReply>& reply) {
  if (!reply.ok()) return -1;
  const SubmitReply* body = std::get_if<SubmitReply>(&reply.value().body);
  return body ? body->job : -1;
}

TEST_F(CellClientTest, FollowsTheLeaderHintWithTheSameSubmitKey) {
  const std::string leader = Start(Accept);
  const std::string follower = Start([leader](const AudienceRequest& r) {
    return std::vector<AudienceReply>{Unavailable(r, leader)};
  });
  // The leader is not listed: only the hint leads there.
  options_.endpoints = {follower, "ipc://" + dir_.File("absent.sock")};
  EXPECT_EQ(7, SubmittedJob(Call(Submit())));
  std::vector<std::string> asked = KeysSeen(fakes_[1].get());
  std::vector<std::string> answered = KeysSeen(fakes_[0].get());
  ASSERT_EQ(1u, asked.size());
  ASSERT_EQ(1u, answered.size());
  EXPECT_EQ(0u, asked[0].find("auto-"));
  EXPECT_EQ(37u, asked[0].size());
  EXPECT_EQ(asked[0], answered[0]);
}

TEST_F(CellClientTest, EverySubmitGetsAKeyOfItsOwn) {
  options_.endpoints = {Start(Accept)};
  CellClient client(options_);
  ASSERT_OK(client.Call(Submit(), 5000).status());
  ASSERT_OK(client.Call(Submit(), 5000).status());
  std::vector<std::string> keys = KeysSeen(fakes_[0].get());
  ASSERT_EQ(2u, keys.size());
  EXPECT_NE(keys[0], keys[1]);
}

TEST_F(CellClientTest, KeepsTheCallersKey) {
  options_.endpoints = {Start(Accept)};
  SubmitRequest submit = Submit();
  submit.key = "deploy-812";
  ASSERT_OK(Call(submit).status());
  EXPECT_EQ(std::vector<std::string>{"deploy-812"}, KeysSeen(fakes_[0].get()));
}

TEST_F(CellClientTest, MovesOnWhenAConductorNeverAnswers) {
  const std::string silent = Start(Silent);
  options_.endpoints = {silent, Start(Accept)};
  EXPECT_EQ(7, SubmittedJob(Call(Submit(), 300)));
  ASSERT_EQ(1u, KeysSeen(fakes_[0].get()).size());
  EXPECT_EQ(KeysSeen(fakes_[0].get()), KeysSeen(fakes_[1].get()));
}

TEST_F(CellClientTest, MovesOnPastAnUnreachableConductor) {
  options_.endpoints = {"ipc://" + dir_.File("absent.sock"), Start(Accept)};
  EXPECT_EQ(7, SubmittedJob(Call(Submit())));
}

TEST_F(CellClientTest, UnavailableWithoutAHintMovesToTheNextEndpoint) {
  const std::string lost = Start([](const AudienceRequest& r) {
    return std::vector<AudienceReply>{Unavailable(r, "")};
  });
  options_.endpoints = {lost, Start(Accept)};
  EXPECT_EQ(7, SubmittedJob(Call(Submit())));
  EXPECT_EQ(1u, fakes_[0]->ops().size());
}

TEST_F(CellClientTest, AWaitRetriedWaitsOnlyForWhatIsLeft) {
  const std::string closed = Start(Accept);
  fakes_.back().reset();  // Its port is closed now: 300 ms go by there.
  options_.client.connect_timeout_ms = 300;
  options_.endpoints = {closed, Start(Accept)};
  ASSERT_OK(Call(WaitRequest{5, 60000, false}, 60000 + 300).status());
  ASSERT_EQ(1u, fakes_[1]->ops().size());
  const WaitRequest wait = std::get<WaitRequest>(fakes_[1]->ops()[0]);
  EXPECT_EQ(5, wait.job);
  EXPECT_GT(wait.timeout_ms, 0);
  EXPECT_LE(wait.timeout_ms, 60000 - 300);
}

TEST_F(CellClientTest, GivesUpAfterTheFailoverTimeNamingWhatItTried) {
  auto no_quorum = [](const AudienceRequest& r) {
    return std::vector<AudienceReply>{Unavailable(r, "")};
  };
  options_.endpoints = {Start(no_quorum), Start(no_quorum)};
  options_.failover_ms = 300;
  const auto start = std::chrono::steady_clock::now();
  Status s = Call(Submit()).status();
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
  EXPECT_EQ(Status::Code::kUnavailable, s.code());
  EXPECT_NE(std::string::npos, s.message().find(options_.endpoints[0]));
  EXPECT_NE(std::string::npos, s.message().find(options_.endpoints[1]));
  EXPECT_NE(std::string::npos, s.message().find("the cell has no quorum"));
  // Both were asked again after a pause, with the same key.
  std::vector<std::string> keys = KeysSeen(fakes_[0].get());
  ASSERT_GE(keys.size(), 2u);
  EXPECT_EQ(keys[0], keys.back());
}

TEST_F(CellClientTest, OneEndpointWithoutAHintFailsAsBefore) {
  options_.endpoints = {Start([](const AudienceRequest& r) {
    return std::vector<AudienceReply>{Unavailable(r, "")};
  })};
  Result<AudienceReply> reply = Call(Submit());
  ASSERT_OK(reply.status());
  const ErrorReply* error = std::get_if<ErrorReply>(&reply.value().body);
  ASSERT_NE(nullptr, error);
  EXPECT_EQ(ErrorCode::kUnavailable, error->error.code);
  EXPECT_EQ(1u, fakes_[0]->ops().size());
}

TEST_F(CellClientTest, AnInvalidHintIsNotFollowed) {
  options_.endpoints = {Start([](const AudienceRequest& r) {
    return std::vector<AudienceReply>{Unavailable(r, "tcp://*:1; rm -rf /")};
  })};
  Result<AudienceReply> reply = Call(Submit());
  ASSERT_OK(reply.status());
  EXPECT_TRUE(std::holds_alternative<ErrorReply>(reply.value().body));
  EXPECT_EQ(1u, fakes_[0]->ops().size());
}

}  // namespace
}  // namespace orchestra::broker
