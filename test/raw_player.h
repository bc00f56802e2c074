// RawPlayer speaks the player channel by hand, for end-to-end tests that
// play a hostile or broken player: a DEALER with a player's Curve keys that
// says whatever the test tells it.

#ifndef ORCHESTRA_TEST_RAW_PLAYER_H_
#define ORCHESTRA_TEST_RAW_PLAYER_H_

#include <gtest/gtest.h>
#include <zmq.h>

#include <chrono>
#include <optional>
#include <string>
#include <zmq.hpp>

#include "broker/curve_keys.h"
#include "broker/protocol.h"
#include "test/test_util.h"

namespace orchestra::test {

// A player session spoken by hand. It never reconnects (unless told to),
// so a connection the conductor closed stays closed, and a monitor tells
// when that happened. One told to reconnect greets on every completed
// handshake instead, as a real player does.
class RawPlayer {
 public:
  // Connects to `endpoint` as the holder of `keys_dir`/`name`.key. A
  // non-empty `routing_id` asks the ROUTER for that routing id.
  RawPlayer(const std::string& endpoint, const std::string& keys_dir,
            const std::string& name, const std::string& routing_id = "",
            bool reconnect = false)
      : socket_(context_, ZMQ_DEALER), monitor_(context_, ZMQ_PAIR) {
    auto keys = broker::ReadSecretKeyFile(keys_dir + "/" + name + ".key");
    auto server = broker::ReadPublicKeyFile(keys_dir + "/conductor.pub");
    EXPECT_OK(keys.status());
    EXPECT_OK(server.status());
    if (!keys.ok() || !server.ok()) return;
    socket_.set(zmq::sockopt::linger, 0);
    socket_.set(zmq::sockopt::reconnect_ivl, reconnect ? 100 : -1);
    socket_.set(zmq::sockopt::curve_serverkey, server.value());
    socket_.set(zmq::sockopt::curve_publickey, keys.value().public_key);
    socket_.set(zmq::sockopt::curve_secretkey, keys.value().secret_key.view());
    if (!routing_id.empty()) socket_.set(zmq::sockopt::routing_id, routing_id);
    const std::string address =
        "inproc://raw-player-monitor-" + std::to_string(++count_);
    reconnect_ = reconnect;
    EXPECT_EQ(0, zmq_socket_monitor(socket_.handle(), address.c_str(),
                                    reconnect ? ZMQ_EVENT_HANDSHAKE_SUCCEEDED
                                              : ZMQ_EVENT_DISCONNECTED));
    monitor_.connect(address);
    endpoint_ = endpoint;
    socket_.connect(endpoint);
  }

  void Send(const broker::PlayerMessage& message) {
    SendBytes(broker::EncodePlayerMessage(message));
  }
  // One frame of whatever bytes the test made (test/msgpack_builder.h).
  void SendBytes(const std::string& bytes) {
    socket_.send(zmq::buffer(bytes), zmq::send_flags::dontwait);
  }
  // The next message, or nullopt after `timeout_ms`.
  std::optional<broker::PlayerMessage> Receive(int timeout_ms) {
    zmq::pollitem_t item{socket_.handle(), 0, ZMQ_POLLIN, 0};
    if (zmq::poll(&item, 1, std::chrono::milliseconds(timeout_ms)) <= 0)
      return std::nullopt;
    zmq::message_t frame;
    if (!socket_.recv(frame, zmq::recv_flags::dontwait)) return std::nullopt;
    auto message = broker::DecodePlayerMessage(frame.to_string());
    EXPECT_OK(message.status());
    if (!message.ok()) return std::nullopt;
    return std::move(message.value());
  }
  // Says hello with no tasks held; true when the conductor says welcome.
  bool Greet() {
    if (reconnect_) return GreetEachHandshake(10000);
    Send(SampleHello());
    for (;;) {
      std::optional<broker::PlayerMessage> m = Receive(10000);
      if (!m) return false;
      if (std::holds_alternative<broker::Welcome>(*m)) return true;
      if (std::holds_alternative<broker::SessionError>(*m)) return false;
    }
  }
  // Says hello after each handshake until a welcome, for `timeout_ms`: a
  // connection the conductor refuses takes its hello with it, and the
  // next one needs its own. A connection left without an answer for
  // kReconnectMs is replaced: libzmq's ROUTER keeps a connection whose
  // routing id is in use open but deaf, so only a new one can be served.
  bool GreetEachHandshake(int timeout_ms) {
    constexpr auto kReconnectMs = std::chrono::milliseconds(2000);
    const auto deadline = std::chrono::steady_clock::now() +
                          std::chrono::milliseconds(timeout_ms);
    auto greeted = std::chrono::steady_clock::now();
    while (std::chrono::steady_clock::now() < deadline) {
      zmq::pollitem_t items[] = {{socket_.handle(), 0, ZMQ_POLLIN, 0},
                                 {monitor_.handle(), 0, ZMQ_POLLIN, 0}};
      zmq::poll(items, 2, std::chrono::milliseconds(100));
      if (items[1].revents & ZMQ_POLLIN) {
        zmq::message_t event, endpoint;
        if (monitor_.recv(event, zmq::recv_flags::dontwait) &&
            monitor_.recv(endpoint, zmq::recv_flags::dontwait)) {
          Send(SampleHello());
          greeted = std::chrono::steady_clock::now();
        }
      } else if (std::chrono::steady_clock::now() - greeted > kReconnectMs) {
        socket_.disconnect(endpoint_);
        socket_.connect(endpoint_);
        greeted = std::chrono::steady_clock::now();
      }
      if (!(items[0].revents & ZMQ_POLLIN)) continue;
      std::optional<broker::PlayerMessage> m = Receive(0);
      if (m && std::holds_alternative<broker::Welcome>(*m)) return true;
    }
    return false;
  }
  // True once the conductor closed the connection (within `timeout_ms`).
  bool WaitDisconnected(int timeout_ms) {
    zmq::pollitem_t item{monitor_.handle(), 0, ZMQ_POLLIN, 0};
    if (zmq::poll(&item, 1, std::chrono::milliseconds(timeout_ms)) <= 0)
      return false;
    zmq::message_t event;
    return monitor_.recv(event, zmq::recv_flags::dontwait).has_value();
  }

 private:
  static broker::Hello SampleHello() {
    broker::Hello hello;
    hello.proto = broker::kProtocolVersion;
    hello.version = "raw";
    hello.slots = 4;
    hello.scores = {{"hello", std::string(64, '0'), "env"}};
    return hello;
  }

  static inline int count_ = 0;
  bool reconnect_ = false;
  std::string endpoint_;
  zmq::context_t context_;
  zmq::socket_t socket_;
  zmq::socket_t monitor_;
};

}  // namespace orchestra::test

#endif  // ORCHESTRA_TEST_RAW_PLAYER_H_
