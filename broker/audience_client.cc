// How an unreachable conductor is noticed. A DEALER never reports a failed
// connection: it retries quietly and queues what it is given. So a libzmq
// socket monitor watches the DEALER: HANDSHAKE_SUCCEEDED means the conductor
// is there, DISCONNECTED after it means the conductor went away (a reply we
// wait for will never come), HANDSHAKE_FAILED_AUTH means our key was refused.
// A missing ipc socket file, or a stale one that refuses connections, fails
// at once; anything else gets connect_timeout_ms. ZMQ heartbeats turn a
// conductor that vanished without closing its connection into DISCONNECTED.

#include "broker/audience_client.h"

#include <sys/stat.h>
#include <unistd.h>
#include <zmq.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <zmq.hpp>

#include "broker/context.h"
#include "broker/curve_keys.h"
#include "broker/endpoint.h"
#include "broker/poller.h"
#include "broker/socket_monitor.h"

namespace orchestra::broker {

using common::Result;
using common::Status;

namespace {

constexpr char kIpcPrefix[] = "ipc://";
constexpr char kTcpPrefix[] = "tcp://";

bool StartsWith(const std::string& text, const char* prefix) {
  return text.compare(0, std::strlen(prefix), prefix) == 0;
}

common::TimeMs Now() { return common::SystemClock().Monotonic(); }

// Checks an ipc socket file before connecting: libzmq would retry a missing
// or forbidden path for ever without a word.
Status CheckIpcPath(const std::string& endpoint) {
  const std::string where = "conductor at " + endpoint;
  const std::string path = endpoint.substr(std::strlen(kIpcPrefix));
  if (path.empty() || path[0] == '@') return Status();  // abstract socket
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) {
    if (errno == ENOENT)
      return Status::Unavailable(
          where, "no such socket; is orchestra-conductor running?");
    return Status::Unavailable(where, std::strerror(errno));
  }
  if (!S_ISSOCK(st.st_mode)) return Status::Unavailable(where, "not a socket");
  if (::access(path.c_str(), R_OK | W_OK) != 0)
    return Status::Unavailable(
        where, std::string(std::strerror(errno)) +
                   " (the socket's group may use it; ask to join it)");
  return Status();
}

// Reads the Curve client keys from the key files, when given, into `keys`
// and points `out` at them.
Status LoadKeys(const ClientOptions& options, CurveKeyPair* keys,
                EndpointOptions* out) {
  const bool secret = !options.secret_key_file.empty();
  const bool server = !options.server_key_file.empty();
  if (secret != server)
    return Status::InvalidArgument(
        options.endpoint,
        "give both our secret key and the conductor's "
        "public key (--key and --server-key)");
  if (!secret) {
    if (StartsWith(options.endpoint, kTcpPrefix))
      return Status::InvalidArgument(
          options.endpoint,
          "tcp endpoints use CurveZMQ: give our secret key "
          "and the conductor's public key (--key FILE "
          "--server-key FILE)");
    return Status();
  }
  Result<CurveKeyPair> ours = ReadSecretKeyFile(options.secret_key_file);
  if (!ours.ok()) return ours.status();
  Result<std::string> theirs = ReadPublicKeyFile(options.server_key_file);
  if (!theirs.ok()) return theirs.status();
  *keys = std::move(ours.value());
  out->curve_client = keys;
  out->curve_server_public = theirs.value();
  return Status();
}

}  // namespace

// The reading end of zmq_socket_monitor: one PAIR socket, two frames per
// event (event id and value; the peer address, which we ignore).
AudienceClient::AudienceClient(const ClientOptions& options)
    : options_(options), context_(std::make_unique<Context>()) {}

AudienceClient::~AudienceClient() {
  if (dealer_) zmq_socket_monitor(dealer_->handle(), nullptr, 0);
}

Result<std::unique_ptr<AudienceClient>> AudienceClient::Connect(
    const ClientOptions& options) {
  std::unique_ptr<AudienceClient> client(new AudienceClient(options));
  Status s = client->Open();
  if (s.ok()) s = client->WaitForHandshake(options.connect_timeout_ms);
  if (!s.ok()) return s;
  return client;
}

Status AudienceClient::Open() {
  const std::string& endpoint = options_.endpoint;
  // Our keys need to live only until the DEALER is made: libzmq keeps
  // its own copy (see Endpoint).
  CurveKeyPair keys;
  EndpointOptions socket_options;
  Status s = LoadKeys(options_, &keys, &socket_options);
  if (!s.ok()) return s;
  if (StartsWith(endpoint, kIpcPrefix)) {
    s = CheckIpcPath(endpoint);
  } else if (!StartsWith(endpoint, kTcpPrefix)) {
    s = Status::InvalidArgument(endpoint,
                                "an endpoint is ipc://PATH or tcp://HOST:PORT");
  }
  if (!s.ok()) return s;
  socket_options.heartbeat_ms = options_.heartbeat_ms;
  socket_options.reconnect_max_ms = 1000;
  Result<std::unique_ptr<Endpoint>> dealer =
      Endpoint::Dealer(context_.get(), "audience client", socket_options);
  if (!dealer.ok()) return dealer.status();
  dealer_ = std::move(dealer.value());
  Result<std::unique_ptr<SocketMonitor>> monitor =
      SocketMonitor::Attach(context_.get(), dealer_.get());
  if (!monitor.ok()) return monitor.status();
  monitor_ = std::move(monitor.value());
  return dealer_->Connect(endpoint);
}

Status AudienceClient::WaitForHandshake(int timeout_ms) {
  const common::TimeMs deadline = Now() + timeout_ms;
  Poller poller;
  poller.AddSocket(monitor_->handle());
  for (;;) {
    ReadMonitorEvents();
    if (connected_) return Status();
    if (!refusal_.empty()) return Unavailable(refusal_);
    const common::TimeMs remaining = deadline - Now();
    if (remaining <= 0) {
      std::string what =
          "no handshake within " + std::to_string(timeout_ms) + " ms";
      if (!last_problem_.empty()) what += " (" + last_problem_ + ")";
      return Unavailable(what);
    }
    Status s = poller.Wait(remaining);
    if (!s.ok()) return s;
  }
}

void AudienceClient::ReadMonitorEvents() {
  int event = 0;
  int value = 0;
  while (monitor_->TryRead(&event, &value)) OnSocketEvent(event, value);
}

void AudienceClient::OnSocketEvent(int event, int value) {
  const bool curve = !options_.server_key_file.empty();
  switch (event) {
    case ZMQ_EVENT_CONNECTED:
      transport_up_ = true;
      break;
    case ZMQ_EVENT_CONNECT_RETRIED:
      if (transport_up_) break;
      last_problem_ = "connection refused; is orchestra-conductor running?";
      if (StartsWith(options_.endpoint, kIpcPrefix)) refusal_ = last_problem_;
      break;
    case ZMQ_EVENT_HANDSHAKE_SUCCEEDED:
      connected_ = true;
      last_problem_.clear();
      refusal_.clear();
      break;
    case ZMQ_EVENT_HANDSHAKE_FAILED_AUTH:
      refusal_ = "the conductor refused our key (ZAP status " +
                 std::to_string(value) +
                 "); is it in the conductor's audience keys file?";
      break;
    case ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL:
    case ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL:
      last_problem_ = "the handshake failed";
      break;
    case ZMQ_EVENT_DISCONNECTED:
      if (connected_) {
        connected_ = false;
        lost_ = !awaiting_.empty();
        last_problem_ = "the conductor closed the connection";
      } else if (last_problem_.empty() || curve) {
        last_problem_ = curve ? "the conductor closed the connection during "
                                "the handshake; check --server-key and that "
                                "our key is in its audience keys file"
                              : "the conductor closed the connection during "
                                "the handshake";
      }
      break;
    default:
      break;
  }
}

Result<int64_t> AudienceClient::Send(const AudienceOp& op) {
  ReadMonitorEvents();
  if (!connected_) {
    Status s = WaitForHandshake(options_.connect_timeout_ms);
    if (!s.ok()) return s;
  }
  const int64_t req = next_req_++;
  Status s = dealer_->Send(EncodeAudienceRequest(AudienceRequest{req, op}));
  if (!s.ok()) return Unavailable(s.message());
  awaiting_.insert(req);
  return req;
}

Result<std::optional<AudienceReply>> AudienceClient::Receive(int timeout_ms) {
  if (!pending_.empty()) {
    Received first = std::move(pending_.front());
    pending_.pop_front();
    return std::optional<AudienceReply>(Deliver(std::move(first)));
  }
  Result<std::optional<Received>> got = ReceiveOne(timeout_ms);
  if (!got.ok()) return got.status();
  if (!got.value()) return std::optional<AudienceReply>();
  return std::optional<AudienceReply>(Deliver(std::move(*got.value())));
}

Result<AudienceReply> AudienceClient::Call(
    const AudienceOp& op, int timeout_ms,
    const std::function<void(const Progress&)>& on_progress) {
  Result<int64_t> req = Send(op);
  if (!req.ok()) return req.status();
  const common::TimeMs deadline = Now() + timeout_ms;
  for (;;) {
    int wait_ms = -1;
    if (timeout_ms >= 0)
      wait_ms = static_cast<int>(std::max<common::TimeMs>(0, deadline - Now()));
    Result<std::optional<Received>> got = ReceiveOne(wait_ms);
    if (!got.ok()) return got.status();
    if (!got.value())
      return Unavailable("no reply within " + std::to_string(timeout_ms) +
                         " ms");
    Received& received = *got.value();
    const int64_t* id = std::get_if<int64_t>(&received.reply.req);
    if (id == nullptr || *id != req.value()) {
      pending_.push_back(std::move(received));
    } else if (auto* p = std::get_if<ProgressReply>(&received.reply.body)) {
      if (on_progress) on_progress(p->progress);
    } else {
      return Deliver(std::move(received));
    }
  }
}

Result<std::optional<AudienceClient::Received>> AudienceClient::ReceiveOne(
    int timeout_ms) {
  const common::TimeMs deadline = Now() + timeout_ms;
  Poller poller;
  poller.AddSocket(dealer_->handle());
  poller.AddSocket(monitor_->handle());
  for (;;) {
    Result<std::optional<Received>> reply = TakeReply();
    if (!reply.ok() || reply.value()) return reply;
    ReadMonitorEvents();
    if (lost_) {
      // A reply sent just before the conductor went away is readable once
      // its DISCONNECTED event is: libzmq queues the reply first.
      reply = TakeReply();
      if (!reply.ok() || reply.value()) return reply;
      lost_ = false;
      awaiting_.clear();  // Their replies died with the connection.
      return Unavailable("lost the connection while waiting for a reply");
    }
    long wait_ms = -1;
    if (timeout_ms >= 0) {
      wait_ms = static_cast<long>(deadline - Now());
      if (wait_ms <= 0) return std::optional<Received>();
    }
    Status s = poller.Wait(wait_ms);
    if (!s.ok()) return s;
  }
}

Result<std::optional<AudienceClient::Received>> AudienceClient::TakeReply() {
  std::optional<Inbound> in = dealer_->TryReceive();
  if (!in) return std::optional<Received>();
  if (in->malformed)
    return Status::InvalidArgument("conductor at " + options_.endpoint,
                                   "reply of more than one frame");
  Result<AudienceReply> reply = DecodeAudienceReply(in->payload);
  if (!reply.ok())
    return Status::InvalidArgument(
        "conductor at " + options_.endpoint,
        "undecodable reply: " + reply.status().message());
  return std::optional<Received>(
      Received{std::move(reply.value()), std::move(in->payload)});
}

AudienceReply AudienceClient::Deliver(Received received) {
  const int64_t* id = std::get_if<int64_t>(&received.reply.req);
  if (id != nullptr &&
      !std::holds_alternative<ProgressReply>(received.reply.body))
    awaiting_.erase(*id);
  last_reply_bytes_ = std::move(received.bytes);
  return std::move(received.reply);
}

Status AudienceClient::Unavailable(const std::string& what) const {
  return Status::Unavailable("conductor at " + options_.endpoint, what);
}

}  // namespace orchestra::broker
