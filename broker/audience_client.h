// AudienceClient is the audience's side of DESIGN.md section 4: one DEALER
// connected to the conductor, many requests in flight, each matched to its
// reply by "req". It notices an unreachable conductor (a libzmq socket
// monitor) instead of waiting for ever. Used by the orchestra CLI and the
// end-to-end tests. Owns its sockets; use it from one thread.

#ifndef ORCHESTRA_BROKER_AUDIENCE_CLIENT_H_
#define ORCHESTRA_BROKER_AUDIENCE_CLIENT_H_

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <set>
#include <string>

#include "broker/audience_protocol.h"
#include "common/result.h"
#include "common/status.h"

namespace orchestra::broker {

class Context;
class Endpoint;
class SocketMonitor;

struct ClientOptions {
  // "ipc://PATH" or "tcp://HOST:PORT" (tcp needs both key files).
  std::string endpoint = "ipc:///run/orchestra/conductor.sock";
  std::string secret_key_file;  // Our Curve secret key (mode 0600)
  std::string server_key_file;  // The conductor's public key (.pub)
  int connect_timeout_ms = 5000;
  int heartbeat_ms = 2000;  // ZMQ heartbeats; a silent peer is lost in 3x
};

class AudienceClient {
 public:
  // Connects and waits for the handshake. Unavailable when no handshake
  // succeeds within connect_timeout_ms (at once for a missing ipc socket);
  // InvalidArgument or PermissionDenied for a bad endpoint or key file.
  static common::Result<std::unique_ptr<AudienceClient>> Connect(
      const ClientOptions& options);
  ~AudienceClient();

  // Sends `op` with the next request id and returns that id. Waits for a
  // reconnection first if the connection was lost.
  common::Result<int64_t> Send(const AudienceOp& op);

  // The next reply to any request; nullopt after `timeout_ms` (-1: no
  // limit). Unavailable when the connection drops while waiting.
  common::Result<std::optional<AudienceReply>> Receive(int timeout_ms);

  // Sends `op` and waits up to `timeout_ms` (-1: no limit) for its final
  // reply, passing its interim progress replies to `on_progress`. Replies
  // to other requests are kept for Receive(). Unavailable on timeout.
  common::Result<AudienceReply> Call(
      const AudienceOp& op, int timeout_ms,
      const std::function<void(const Progress&)>& on_progress = {});

  // The msgpack bytes of the reply last returned by Receive() or Call().
  const std::string& last_reply_bytes() const { return last_reply_bytes_; }
  const std::string& endpoint() const { return options_.endpoint; }

 private:
  struct Received {
    AudienceReply reply;
    std::string bytes;
  };

  explicit AudienceClient(const ClientOptions& options);
  common::Status Open();
  common::Status WaitForHandshake(int timeout_ms);
  // Applies the monitor's queued events to the connection state.
  void ReadMonitorEvents();
  void OnSocketEvent(int event, int value);
  common::Result<std::optional<Received>> ReceiveOne(int timeout_ms);
  common::Result<std::optional<Received>> TakeReply();
  AudienceReply Deliver(Received received);
  common::Status Unavailable(const std::string& what) const;

  ClientOptions options_;
  std::unique_ptr<Context> context_;  // First: destroyed after the sockets.
  std::unique_ptr<Endpoint> dealer_;
  std::unique_ptr<SocketMonitor> monitor_;  // the DEALER's socket events
  bool connected_ = false;     // The handshake succeeded; not lost since.
  bool transport_up_ = false;  // A transport connection was ever made.
  bool lost_ = false;          // Disconnected with replies outstanding.
  std::string last_problem_;   // Why the connection is not up.
  std::string refusal_;        // A failure that retrying cannot fix.
  int64_t next_req_ = 1;
  std::set<int64_t> awaiting_;    // Requests without their final reply.
  std::deque<Received> pending_;  // Replies Call() set aside.
  std::string last_reply_bytes_;
};

}  // namespace orchestra::broker

#endif  // ORCHESTRA_BROKER_AUDIENCE_CLIENT_H_
