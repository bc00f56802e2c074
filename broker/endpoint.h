// Endpoint is one ZeroMQ socket: a ROUTER that binds (the conductor's player
// and audience sockets) or a DEALER that connects (players, clients). Sends
// never block; receives are polled. Owned by one thread.

#ifndef ORCHESTRA_BROKER_ENDPOINT_H_
#define ORCHESTRA_BROKER_ENDPOINT_H_

#include <memory>
#include <optional>
#include <string>
#include <zmq.hpp>

#include "broker/context.h"
#include "broker/curve_keys.h"
#include "broker/secret_key.h"
#include "common/result.h"
#include "common/status.h"

namespace orchestra::broker {

// Message properties that the authenticator sets on every connection it
// admits (see broker/authenticator.h). A peer cannot set them itself:
// libzmq lets properties from the ZAP reply win over those a peer sends in
// its handshake.
constexpr const char* kKeyProperty = "Orchestra-Key";      // Z85; "" on ipc
constexpr const char* kEpochProperty = "Orchestra-Epoch";  // decimal

// The keys are referred to, not copied: they must outlive only the call
// that makes the socket (Router() or Dealer()), which hands them to libzmq.
struct EndpointOptions {
  // CurveZMQ server: our secret key. Null for none (ipc).
  const SecretKey* curve_server_secret = nullptr;
  // CurveZMQ client: the server's public key and our key pair (or null).
  std::string curve_server_public;
  const CurveKeyPair* curve_client = nullptr;
  std::string zap_domain;               // Authenticator domain (servers)
  int64_t max_message_bytes = 4 << 20;  // ZMQ_MAXMSGSIZE, inbound
  int heartbeat_ms = 0;                 // ZMQ heartbeats; 0 = off
  int handshake_ms = 0;                 // ZMQ_HANDSHAKE_IVL; 0: libzmq's 30 s
  int send_hwm = 100000;
  int receive_hwm = 100000;
  int reconnect_ms = 100;       // first reconnect delay (DEALER)
  int reconnect_max_ms = 5000;  // back-off ceiling (DEALER)
  bool immediate = false;       // queue only on live connections
  int backlog = 0;  // ZMQ_BACKLOG, pending connections (binds); 0: libzmq's 100
  int linger_ms = 0;
};

// A message received on a ROUTER or DEALER.
struct Inbound {
  std::string peer;            // ROUTER routing id (empty on a DEALER)
  bool request_style = false;  // came through a REQ socket (empty delimiter)
  std::string payload;
  std::string user_id;  // set by the authenticator; empty if none
  std::string key;      // the Curve key that opened the connection
  int64_t epoch = -1;   // the trust epoch that admitted it; -1: none
  std::string peer_address;
  int fd = -1;             // the connection's socket (ZMQ_SRCFD); -1: none
  bool malformed = false;  // wrong frame count; `payload` is empty
};

class Endpoint {
 public:
  static common::Result<std::unique_ptr<Endpoint>> Router(
      Context* context, const std::string& name,
      const EndpointOptions& options);
  static common::Result<std::unique_ptr<Endpoint>> Dealer(
      Context* context, const std::string& name,
      const EndpointOptions& options);

  // Binds `address` and returns the address really bound, with the port a
  // wildcard ("tcp://127.0.0.1:*") resolved to.
  common::Result<std::string> Bind(const std::string& address);
  common::Status Connect(const std::string& address);

  // One message if one is waiting, else nullopt. Never blocks.
  std::optional<Inbound> TryReceive();

  // Sends `payload` to `peer` (ROUTER). NotFound when the peer is gone,
  // Unavailable when its queue is full; never blocks.
  common::Status SendTo(const std::string& peer, bool request_style,
                        const std::string& payload);
  // Sends `payload` (DEALER). Unavailable when it would block.
  common::Status Send(const std::string& payload);

  const std::string& name() const { return name_; }
  // The libzmq socket handle, for Poller.
  void* handle() { return socket_.handle(); }
  // The socket's signalling descriptor (ZMQ_FD), for an epoll set: it turns
  // readable when the socket may have news; then call HasInput() and drain.
  int fd();
  // True when a message waits (ZMQ_EVENTS); resets fd()'s signal.
  bool HasInput();

 private:
  Endpoint(Context* context, int type, std::string name);
  common::Status Configure(const EndpointOptions& options);
  common::Status ConfigureCurve(const EndpointOptions& options);

  zmq::socket_t socket_;
  std::string name_;  // For messages: "player endpoint", "audience", ...
};

}  // namespace orchestra::broker

#endif  // ORCHESTRA_BROKER_ENDPOINT_H_
