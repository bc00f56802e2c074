// Tests for broker/endpoint.h over loopback TCP: binding a wildcard port,
// DEALER and REQ clients, ZMQ_MAXMSGSIZE, and sends that never block.

#include "broker/endpoint.h"

#include <gtest/gtest.h>
#include <zmq.h>

#include <cstring>
#include <memory>
#include <string>
#include <vector>
#include <zmq.hpp>  // raw REQ/DEALER peers and the socket monitor

#include "broker/poller.h"
#include "common/clock.h"
#include "common/text.h"
#include "test/test_util.h"

namespace orchestra::broker {
namespace {

using common::Status;

constexpr common::TimeMs kDeadlineMs = 10000;

class EndpointTest : public testing::Test {
 protected:
  // Binds a ROUTER with `options` on tcp://127.0.0.1:*.
  void StartRouter(const EndpointOptions& options = EndpointOptions()) {
    auto router = Endpoint::Router(&context_, "test router", options);
    ASSERT_OK(router.status());
    router_ = std::move(router.value());
    auto bound = router_->Bind("tcp://127.0.0.1:*");
    ASSERT_OK(bound.status());
    address_ = bound.value();
  }
  std::unique_ptr<Endpoint> ConnectDealer(
      const EndpointOptions& options = EndpointOptions()) {
    auto dealer = Endpoint::Dealer(&context_, "test dealer", options);
    EXPECT_OK(dealer.status());
    if (!dealer.ok()) return nullptr;
    EXPECT_OK(dealer.value()->Connect(address_));
    return std::move(dealer.value());
  }
  // Waits until `handle` is readable; false at the deadline.
  static bool WaitReadable(void* handle) {
    common::SystemClock clock;
    const common::TimeMs deadline = clock.Monotonic() + kDeadlineMs;
    Poller poller;
    const size_t index = poller.AddSocket(handle);
    for (;;) {
      const common::TimeMs left = deadline - clock.Monotonic();
      if (left <= 0 || !poller.Wait(left).ok()) return false;
      if (poller.IsReady(index)) return true;
    }
  }
  // The next message on `endpoint`, waiting up to the deadline.
  static std::optional<Inbound> Receive(Endpoint* endpoint) {
    for (;;) {
      if (std::optional<Inbound> in = endpoint->TryReceive()) return in;
      if (!WaitReadable(endpoint->handle())) return std::nullopt;
    }
  }
  // Every message on the router up to and including one with `payload`.
  std::vector<Inbound> ReceiveThrough(const std::string& payload) {
    std::vector<Inbound> got;
    while (std::optional<Inbound> in = Receive(router_.get())) {
      got.push_back(std::move(*in));
      if (got.back().payload == payload) break;
    }
    return got;
  }
  // Makes `monitor_` report the router's dropped connections.
  void WatchDisconnects() {
    ASSERT_EQ(0, zmq_socket_monitor(router_->handle(), "inproc://endpoint-test",
                                    ZMQ_EVENT_DISCONNECTED));
    monitor_ = zmq::socket_t(context_.zmq(), zmq::socket_type::pair);
    monitor_.connect("inproc://endpoint-test");
  }
  bool WaitForDisconnect() {
    if (!WaitReadable(monitor_.handle())) return false;
    zmq::message_t event, address;
    if (!monitor_.recv(event) || !monitor_.recv(address)) return false;
    uint16_t id = 0;
    std::memcpy(&id, event.data(), sizeof(id));
    return id == ZMQ_EVENT_DISCONNECTED;
  }

  Context context_;
  std::unique_ptr<Endpoint> router_;
  std::string address_;
  zmq::socket_t monitor_;
};

TEST_F(EndpointTest, BindResolvesTheWildcardPort) {
  StartRouter();
  const std::string prefix = "tcp://127.0.0.1:";
  ASSERT_EQ(0u, address_.rfind(prefix, 0)) << address_;
  int64_t port = 0;
  EXPECT_TRUE(
      common::ParseInt64(address_.substr(prefix.size()), 1, 65535, &port))
      << address_;
}

TEST_F(EndpointTest, BindingATakenPortFails) {
  StartRouter();
  auto other = Endpoint::Router(&context_, "second", EndpointOptions());
  ASSERT_OK(other.status());
  auto bound = other.value()->Bind(address_);
  EXPECT_FALSE(bound.ok());
  EXPECT_NE(std::string::npos, bound.status().message().find(address_));
}

TEST_F(EndpointTest, BadAddressesAreRefused) {
  StartRouter();
  EXPECT_FALSE(router_->Bind("tcp://no-such-interface-x:1").ok());
  EXPECT_FALSE(router_->Bind("carrier-pigeon://x").ok());
  std::unique_ptr<Endpoint> dealer = ConnectDealer();
  EXPECT_FALSE(dealer->Connect("not an endpoint").ok());
}

TEST_F(EndpointTest, NothingWaitingMeansNoMessage) {
  StartRouter();
  EXPECT_FALSE(router_->TryReceive().has_value());
}

TEST_F(EndpointTest, DealerMessageArrivesWithItsPeerAndAddress) {
  StartRouter();
  std::unique_ptr<Endpoint> dealer = ConnectDealer();
  ASSERT_OK(dealer->Send("hello"));
  std::optional<Inbound> in = Receive(router_.get());
  ASSERT_TRUE(in.has_value());
  EXPECT_EQ("hello", in->payload);
  EXPECT_FALSE(in->peer.empty());
  EXPECT_FALSE(in->request_style);
  EXPECT_FALSE(in->malformed);
  EXPECT_EQ("127.0.0.1", in->peer_address);
}

TEST_F(EndpointTest, RouterRepliesToTheDealer) {
  StartRouter();
  std::unique_ptr<Endpoint> dealer = ConnectDealer();
  ASSERT_OK(dealer->Send("ping"));
  std::optional<Inbound> in = Receive(router_.get());
  ASSERT_TRUE(in.has_value());
  ASSERT_OK(router_->SendTo(in->peer, in->request_style, "pong"));
  std::optional<Inbound> reply = Receive(dealer.get());
  ASSERT_TRUE(reply.has_value());
  EXPECT_EQ("pong", reply->payload);
  EXPECT_EQ("", reply->peer);
}

TEST_F(EndpointTest, ReqClientGetsItsReply) {
  StartRouter();
  zmq::socket_t req(context_.zmq(), zmq::socket_type::req);
  req.set(zmq::sockopt::linger, 0);
  req.connect(address_);
  req.send(zmq::str_buffer("status"), zmq::send_flags::none);
  std::optional<Inbound> in = Receive(router_.get());
  ASSERT_TRUE(in.has_value());
  EXPECT_TRUE(in->request_style);
  EXPECT_EQ("status", in->payload);
  ASSERT_OK(router_->SendTo(in->peer, in->request_style, "done"));
  ASSERT_TRUE(WaitReadable(req.handle()));
  zmq::message_t reply;
  ASSERT_TRUE(req.recv(reply, zmq::recv_flags::dontwait));
  EXPECT_EQ("done", reply.to_string());
}

TEST_F(EndpointTest, MultiFrameMessageIsMarkedMalformed) {
  StartRouter();
  zmq::socket_t raw(context_.zmq(), zmq::socket_type::dealer);
  raw.set(zmq::sockopt::linger, 0);
  raw.connect(address_);
  raw.send(zmq::str_buffer("a"), zmq::send_flags::sndmore);
  raw.send(zmq::str_buffer("b"), zmq::send_flags::sndmore);
  raw.send(zmq::str_buffer("c"), zmq::send_flags::none);
  std::optional<Inbound> in = Receive(router_.get());
  ASSERT_TRUE(in.has_value());
  EXPECT_TRUE(in->malformed);
  EXPECT_EQ("", in->payload);
}

TEST_F(EndpointTest, SendToAnUnknownPeerIsNotFound) {
  StartRouter();
  Status s = router_->SendTo("no-such-peer", false, "hello");
  EXPECT_EQ(Status::Code::kNotFound, s.code()) << s.ToString();
  s = router_->SendTo("no-such-peer", true, "hello");
  EXPECT_EQ(Status::Code::kNotFound, s.code()) << s.ToString();
}

TEST_F(EndpointTest, SendToAPeerThatStopsReadingIsUnavailableWhenFull) {
  EndpointOptions tight;
  tight.send_hwm = 1;
  tight.receive_hwm = 1;
  StartRouter(tight);
  std::unique_ptr<Endpoint> dealer = ConnectDealer(tight);
  ASSERT_OK(dealer->Send("hello"));
  std::optional<Inbound> in = Receive(router_.get());
  ASSERT_TRUE(in.has_value());
  const std::string chunk(1 << 20, 'x');
  Status s;
  for (int i = 0; i < 200 && s.ok(); ++i)
    s = router_->SendTo(in->peer, false, chunk);
  EXPECT_EQ(Status::Code::kUnavailable, s.code()) << s.ToString();
}

TEST_F(EndpointTest, DealerWithImmediateDoesNotQueueWithoutAConnection) {
  EndpointOptions options;
  options.immediate = true;
  auto dealer = Endpoint::Dealer(&context_, "lonely", options);
  ASSERT_OK(dealer.status());
  EXPECT_EQ(Status::Code::kUnavailable, dealer.value()->Send("x").code());
}

// ZMQ_MAXMSGSIZE: an oversized message drops its sender's connection before
// anything is delivered, and the other players carry on.
TEST_F(EndpointTest, OversizedMessageDropsOnlyItsConnection) {
  EndpointOptions small;
  small.max_message_bytes = 1024;
  StartRouter(small);
  WatchDisconnects();
  std::unique_ptr<Endpoint> big = ConnectDealer();
  std::unique_ptr<Endpoint> good = ConnectDealer();
  ASSERT_OK(big->Send(std::string(2048, 'B')));
  ASSERT_TRUE(WaitForDisconnect());
  ASSERT_OK(good->Send(std::string(1024, 'g')));
  std::vector<Inbound> got = ReceiveThrough(std::string(1024, 'g'));
  ASSERT_EQ(1u, got.size());
  EXPECT_EQ(std::string(1024, 'g'), got[0].payload);
}

}  // namespace
}  // namespace orchestra::broker
