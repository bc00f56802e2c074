// Tests of broker/audience_client.h against a fake conductor: a ROUTER on
// its own thread that answers each request with canned replies.

#include "broker/audience_client.h"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <chrono>
#include <future>

#include "broker/authenticator.h"
#include "broker/curve_keys.h"
#include "broker/endpoint.h"
#include "test/fake_conductor.h"
#include "test/test_util.h"

namespace orchestra::broker {
namespace {

using common::Result;
using common::Status;

using test::FakeConductor;

JobRecord Job(JobId id) {
  JobRecord job;
  job.id = id;
  job.score = "backup";
  return job;
}

JobId JobOf(const AudienceOp& op) {
  if (auto* s = std::get_if<StatusRequest>(&op)) return s->job;
  if (auto* w = std::get_if<WaitRequest>(&op)) return w->job;
  return 1;
}

// Answers every request with the job it names.
std::vector<AudienceReply> EchoJob(const AudienceRequest& request) {
  return {{request.req, JobReply{Job(JobOf(request.op)), false}}};
}

JobId ReplyJob(const AudienceReply& reply) {
  const JobReply* body = std::get_if<JobReply>(&reply.body);
  return body ? body->job.id : -1;
}

int64_t ReplyReq(const AudienceReply& reply) {
  const int64_t* req = std::get_if<int64_t>(&reply.req);
  return req ? *req : -1;
}

int64_t MillisecondsSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now() - start)
      .count();
}

class AudienceClientTest : public testing::Test {
 protected:
  void StartIpc(FakeConductor::Answer answer) {
    Start({"ipc://" + dir_.File("conductor.sock"), {}}, std::move(answer));
  }

  // A Curve tcp fake; our keys are "client", its keys "conductor".
  void StartCurve(FakeConductor::Answer answer, bool authenticate = false) {
    Result<CurveKeyPair> conductor = WriteKeys("conductor");
    ASSERT_OK(WriteKeys("client").status());
    FakeConductor::Setup setup{"tcp://127.0.0.1:*", {}, authenticate};
    setup.options.curve_server_secret = &conductor.value().secret_key;
    if (authenticate) setup.options.zap_domain = kAudienceDomain;
    Start(setup, std::move(answer));
    options_.secret_key_file = dir_.File("client.key");
    options_.server_key_file = dir_.File("conductor.pub");
  }

  void Start(const FakeConductor::Setup& setup, FakeConductor::Answer answer) {
    fake_ = std::make_unique<FakeConductor>(setup, std::move(answer));
    ASSERT_FALSE(fake_->endpoint().empty());
    options_.endpoint = fake_->endpoint();
  }

  Result<CurveKeyPair> WriteKeys(const std::string& name) {
    Result<CurveKeyPair> keys = GenerateKeyPair();
    if (!keys.ok()) return keys;
    Status s = WriteKeyPair(dir_.path(), name, keys.value());
    if (!s.ok()) return s;
    return keys;
  }

  std::unique_ptr<AudienceClient> Connect() {
    Result<std::unique_ptr<AudienceClient>> client =
        AudienceClient::Connect(options_);
    EXPECT_OK(client.status());
    return client.ok() ? std::move(client.value()) : nullptr;
  }

  test::TempDir dir_;
  ClientOptions options_;
  std::vector<AudienceRequest> held_;    // Touched by the fake's thread only.
  std::promise<void> asked_;             // Set by the fake's thread.
  std::unique_ptr<FakeConductor> fake_;  // Last: stopped before the above go.
};

TEST_F(AudienceClientTest, CallReturnsTheReplyToItsRequest) {
  StartIpc(EchoJob);
  std::unique_ptr<AudienceClient> client = Connect();
  ASSERT_TRUE(client);
  Result<AudienceReply> reply = client->Call(StatusRequest{42}, 5000);
  ASSERT_OK(reply.status());
  EXPECT_EQ(42, ReplyJob(reply.value()));
}

TEST_F(AudienceClientTest, RepliesArrivingOutOfOrderMatchTheirRequests) {
  StartIpc([this](const AudienceRequest& request) {  // Last first, at 3.
    held_.push_back(request);
    std::vector<AudienceReply> replies;
    for (auto it = held_.rbegin(); held_.size() == 3 && it != held_.rend();
         ++it)
      replies.push_back(EchoJob(*it)[0]);
    return replies;
  });
  std::unique_ptr<AudienceClient> client = Connect();
  ASSERT_TRUE(client);
  std::map<int64_t, JobId> sent;
  for (JobId job : {10, 20, 30})
    sent[client->Send(StatusRequest{job}).value()] = job;
  for (int i = 0; i < 3; ++i) {
    Result<std::optional<AudienceReply>> reply = client->Receive(5000);
    ASSERT_TRUE(reply.ok() && reply.value());
    EXPECT_EQ(sent[ReplyReq(*reply.value())], ReplyJob(*reply.value()));
  }
}

TEST_F(AudienceClientTest, CallKeepsRepliesToOtherRequestsForReceive) {
  StartIpc([this](const AudienceRequest& request) {  // Both at the second.
    held_.push_back(request);
    if (held_.size() < 2) return std::vector<AudienceReply>();
    return std::vector<AudienceReply>{EchoJob(held_[0])[0],
                                      EchoJob(held_[1])[0]};
  });
  std::unique_ptr<AudienceClient> client = Connect();
  ASSERT_TRUE(client);
  ASSERT_OK(client->Send(StatusRequest{7}).status());
  EXPECT_EQ(8, ReplyJob(client->Call(StatusRequest{8}, 5000).value()));
  Result<std::optional<AudienceReply>> first = client->Receive(0);
  ASSERT_TRUE(first.ok() && first.value());
  EXPECT_EQ(7, ReplyJob(*first.value()));
}

TEST_F(AudienceClientTest, CallPassesProgressBeforeTheFinalReply) {
  StartIpc([](const AudienceRequest& request) {
    Progress half{1, 2, {{"OK", 1}, {"RUNNING", 1}}};
    return std::vector<AudienceReply>{{request.req, ProgressReply{half}},
                                      EchoJob(request)[0]};
  });
  std::unique_ptr<AudienceClient> client = Connect();
  ASSERT_TRUE(client);
  std::vector<Progress> seen;
  Result<AudienceReply> reply =
      client->Call(WaitRequest{5, 0, true}, 5000,
                   [&](const Progress& p) { seen.push_back(p); });
  ASSERT_OK(reply.status());
  EXPECT_EQ(5, ReplyJob(reply.value()));
  ASSERT_EQ(1u, seen.size());
  EXPECT_EQ(1, seen[0].by_state["RUNNING"]);
}

TEST_F(AudienceClientTest, KeepsTheBytesOfTheLastReply) {
  StartIpc(EchoJob);
  std::unique_ptr<AudienceClient> client = Connect();
  ASSERT_TRUE(client);
  ASSERT_OK(client->Call(StatusRequest{3}, 5000).status());
  Result<AudienceReply> decoded =
      DecodeAudienceReply(client->last_reply_bytes());
  ASSERT_OK(decoded.status());
  EXPECT_EQ(3, ReplyJob(decoded.value()));
}

TEST_F(AudienceClientTest, MissingIpcSocketIsUnavailableAtOnce) {
  options_.endpoint = "ipc://" + dir_.File("absent.sock");
  options_.connect_timeout_ms = 60000;
  auto start = std::chrono::steady_clock::now();
  Result<std::unique_ptr<AudienceClient>> client =
      AudienceClient::Connect(options_);
  EXPECT_EQ(Status::Code::kUnavailable, client.status().code());
  EXPECT_LT(MillisecondsSince(start), 5000);
}

TEST_F(AudienceClientTest, StaleIpcSocketIsUnavailableAtOnce) {
  const std::string path = dir_.File("stale.sock");
  int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  path.copy(address.sun_path, sizeof(address.sun_path) - 1);
  ASSERT_EQ(0,
            ::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)));
  ::close(fd);  // The file stays; nobody listens on it.
  options_.endpoint = "ipc://" + path;
  options_.connect_timeout_ms = 60000;
  auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(Status::Code::kUnavailable,
            AudienceClient::Connect(options_).status().code());
  EXPECT_LT(MillisecondsSince(start), 5000);
}

TEST_F(AudienceClientTest, ClosedTcpPortIsUnavailableWithinTheTimeout) {
  StartCurve(EchoJob);
  fake_.reset();  // Its port is closed now.
  options_.connect_timeout_ms = 300;
  auto start = std::chrono::steady_clock::now();
  Result<std::unique_ptr<AudienceClient>> client =
      AudienceClient::Connect(options_);
  EXPECT_EQ(Status::Code::kUnavailable, client.status().code());
  EXPECT_LT(MillisecondsSince(start), 3000);
}

TEST_F(AudienceClientTest, ConnectsOverCurveTcp) {
  StartCurve(EchoJob);
  std::unique_ptr<AudienceClient> client = Connect();
  ASSERT_TRUE(client);
  Result<AudienceReply> reply = client->Call(StatusRequest{9}, 5000);
  ASSERT_OK(reply.status());
  EXPECT_EQ(9, ReplyJob(reply.value()));
}

TEST_F(AudienceClientTest, WrongServerKeyIsUnavailable) {
  StartCurve(EchoJob);
  ASSERT_OK(WriteKeys("impostor").status());
  options_.server_key_file = dir_.File("impostor.pub");
  options_.connect_timeout_ms = 500;
  Result<std::unique_ptr<AudienceClient>> client =
      AudienceClient::Connect(options_);
  EXPECT_EQ(Status::Code::kUnavailable, client.status().code());
}

TEST_F(AudienceClientTest, RefusedKeyIsUnavailableAtOnce) {
  StartCurve(EchoJob, /*authenticate=*/true);
  options_.connect_timeout_ms = 60000;
  auto start = std::chrono::steady_clock::now();
  Result<std::unique_ptr<AudienceClient>> client =
      AudienceClient::Connect(options_);
  EXPECT_EQ(Status::Code::kUnavailable, client.status().code());
  EXPECT_NE(std::string::npos,
            client.status().message().find("refused our key"));
  EXPECT_LT(MillisecondsSince(start), 5000);
}

TEST_F(AudienceClientTest, TcpWithoutKeysIsInvalidArgument) {
  options_.endpoint = "tcp://127.0.0.1:2258";
  EXPECT_EQ(Status::Code::kInvalidArgument,
            AudienceClient::Connect(options_).status().code());
}

TEST_F(AudienceClientTest, LostConnectionWhileWaitingIsUnavailable) {
  StartIpc([this](const AudienceRequest&) {
    asked_.set_value();
    return std::vector<AudienceReply>();  // Never answers.
  });
  std::unique_ptr<AudienceClient> client = Connect();
  ASSERT_TRUE(client);
  ASSERT_OK(client->Send(WaitRequest{1, 0, false}).status());
  ASSERT_EQ(std::future_status::ready,
            asked_.get_future().wait_for(std::chrono::seconds(5)));
  fake_.reset();
  EXPECT_EQ(Status::Code::kUnavailable, client->Receive(5000).status().code());
}

TEST_F(AudienceClientTest, ReceiveTimesOutWithNothing) {
  StartIpc([](const AudienceRequest&) { return std::vector<AudienceReply>(); });
  std::unique_ptr<AudienceClient> client = Connect();
  ASSERT_TRUE(client);
  Result<std::optional<AudienceReply>> reply = client->Receive(50);
  ASSERT_OK(reply.status());
  EXPECT_FALSE(reply.value());
}

}  // namespace
}  // namespace orchestra::broker
