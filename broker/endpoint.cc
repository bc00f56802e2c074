#include "broker/endpoint.h"

#include <zmq.h>

#include <vector>

#include "common/text.h"

namespace orchestra::broker {

using common::Result;
using common::Status;

namespace {

// User-Id and Peer-Address of a received frame, when libzmq has them.
std::string Property(zmq::message_t& message, const char* name) {
  const char* value = zmq_msg_gets(message.handle(), name);
  return value ? std::string(value) : std::string();
}

}  // namespace

Endpoint::Endpoint(Context* context, int type, std::string name)
    : socket_(context->zmq(), type), name_(std::move(name)) {}

Result<std::unique_ptr<Endpoint>> Endpoint::Router(
    Context* context, const std::string& name, const EndpointOptions& options) {
  try {
    std::unique_ptr<Endpoint> endpoint(new Endpoint(context, ZMQ_ROUTER, name));
    endpoint->socket_.set(zmq::sockopt::router_mandatory, 1);
    Status s = endpoint->Configure(options);
    if (!s.ok()) return s;
    return endpoint;
  } catch (const zmq::error_t& e) {
    return Status::IoError(name, e.what());
  }
}

Result<std::unique_ptr<Endpoint>> Endpoint::Dealer(
    Context* context, const std::string& name, const EndpointOptions& options) {
  try {
    std::unique_ptr<Endpoint> endpoint(new Endpoint(context, ZMQ_DEALER, name));
    Status s = endpoint->Configure(options);
    if (!s.ok()) return s;
    return endpoint;
  } catch (const zmq::error_t& e) {
    return Status::IoError(name, e.what());
  }
}

Status Endpoint::Configure(const EndpointOptions& options) {
  try {
    socket_.set(zmq::sockopt::linger, options.linger_ms);
    socket_.set(zmq::sockopt::maxmsgsize, options.max_message_bytes);
    socket_.set(zmq::sockopt::sndhwm, options.send_hwm);
    socket_.set(zmq::sockopt::rcvhwm, options.receive_hwm);
    if (options.heartbeat_ms > 0) {
      socket_.set(zmq::sockopt::heartbeat_ivl, options.heartbeat_ms);
      socket_.set(zmq::sockopt::heartbeat_timeout, options.heartbeat_ms * 3);
      socket_.set(zmq::sockopt::heartbeat_ttl, options.heartbeat_ms * 3);
    }
    socket_.set(zmq::sockopt::reconnect_ivl, options.reconnect_ms);
    socket_.set(zmq::sockopt::reconnect_ivl_max, options.reconnect_max_ms);
    if (options.immediate) socket_.set(zmq::sockopt::immediate, 1);
    if (options.handshake_ms > 0)
      socket_.set(zmq::sockopt::handshake_ivl, options.handshake_ms);
    if (options.backlog > 0)
      socket_.set(zmq::sockopt::backlog, options.backlog);
    if (!options.zap_domain.empty())
      socket_.set(zmq::sockopt::zap_domain, options.zap_domain);
    return ConfigureCurve(options);
  } catch (const zmq::error_t& e) {
    return Status::InvalidArgument(name_, e.what());
  }
}

// The secret key goes to libzmq from its SecretKey block, as a view: no
// copy of ours. libzmq copies it into a stack buffer, decodes it into the
// socket's options and copies those into every session; we cannot zero
// those copies, which live as long as the socket and its sessions.
Status Endpoint::ConfigureCurve(const EndpointOptions& options) {
  if (options.curve_server_secret != nullptr) {
    if (options.curve_server_secret->empty())
      return Status::InvalidArgument(name_, "no Curve secret key");
    socket_.set(zmq::sockopt::curve_server, 1);
    socket_.set(zmq::sockopt::curve_secretkey,
                options.curve_server_secret->view());
  } else if (options.curve_client != nullptr) {
    if (options.curve_client->secret_key.empty() ||
        options.curve_server_public.empty())
      return Status::InvalidArgument(
          name_, "a Curve client needs our key pair and the server's key");
    socket_.set(zmq::sockopt::curve_serverkey, options.curve_server_public);
    socket_.set(zmq::sockopt::curve_publickey,
                options.curve_client->public_key);
    socket_.set(zmq::sockopt::curve_secretkey,
                options.curve_client->secret_key.view());
  }
  return Status();
}

Result<std::string> Endpoint::Bind(const std::string& address) {
  try {
    socket_.bind(address);
    return socket_.get(zmq::sockopt::last_endpoint);
  } catch (const zmq::error_t& e) {
    return Status::IoError(name_ + " " + address,
                           std::string("cannot bind: ") + e.what());
  }
}

Status Endpoint::Connect(const std::string& address) {
  try {
    socket_.connect(address);
    return Status();
  } catch (const zmq::error_t& e) {
    return Status::InvalidArgument(name_ + " " + address,
                                   std::string("cannot connect: ") + e.what());
  }
}

std::optional<Inbound> Endpoint::TryReceive() {
  try {
    std::vector<zmq::message_t> frames;
    do {
      zmq::message_t frame;
      if (!socket_.recv(frame, zmq::recv_flags::dontwait)) {
        if (frames.empty()) return std::nullopt;
        break;  // Cannot happen: a message arrives whole.
      }
      frames.push_back(std::move(frame));
    } while (frames.back().more() && frames.size() < 64);
    while (frames.back().more()) {  // Drain an absurdly long message.
      zmq::message_t rest;
      if (!socket_.recv(rest, zmq::recv_flags::dontwait) || !rest.more()) break;
    }
    Inbound in;
    const bool router = socket_.get(zmq::sockopt::type) == ZMQ_ROUTER;
    size_t first = 0;
    if (router) in.peer = frames[first++].to_string();
    if (frames.size() == first + 2 && frames[first].size() == 0) {
      in.request_style = true;  // [delimiter][payload] from a REQ socket
      ++first;
    }
    if (frames.size() != first + 1) {
      in.malformed = true;
      return in;
    }
    zmq::message_t& payload = frames[first];
    in.user_id = Property(payload, "User-Id");
    in.key = Property(payload, kKeyProperty);
    const std::string epoch = Property(payload, kEpochProperty);
    if (!common::ParseInt64(epoch, 0, INT64_MAX, &in.epoch)) in.epoch = -1;
    in.peer_address = Property(payload, "Peer-Address");
    in.fd = zmq_msg_get(payload.handle(), ZMQ_SRCFD);
    in.payload = payload.to_string();
    return in;
  } catch (const zmq::error_t& e) {
    return std::nullopt;
  }
}

Status Endpoint::SendTo(const std::string& peer, bool request_style,
                        const std::string& payload) {
  try {
    auto more = zmq::send_flags::dontwait | zmq::send_flags::sndmore;
    if (!socket_.send(zmq::buffer(peer), more))
      return Status::Unavailable(name_, "send queue full");
    if (request_style) socket_.send(zmq::message_t(), more);
    socket_.send(zmq::buffer(payload), zmq::send_flags::dontwait);
    return Status();
  } catch (const zmq::error_t& e) {
    if (e.num() == EHOSTUNREACH)  // ZMQ_ROUTER_MANDATORY: no such peer
      return Status::NotFound(name_, "peer gone");
    return Status::Unavailable(name_, e.what());
  }
}

int Endpoint::fd() {
  try {
    return socket_.get(zmq::sockopt::fd);
  } catch (const zmq::error_t& e) {
    return -1;
  }
}

bool Endpoint::HasInput() {
  try {
    return (socket_.get(zmq::sockopt::events) & ZMQ_POLLIN) != 0;
  } catch (const zmq::error_t& e) {
    return false;
  }
}

Status Endpoint::Send(const std::string& payload) {
  try {
    if (!socket_.send(zmq::buffer(payload), zmq::send_flags::dontwait))
      return Status::Unavailable(name_, "not connected or queue full");
    return Status();
  } catch (const zmq::error_t& e) {
    return Status::IoError(name_, e.what());
  }
}

}  // namespace orchestra::broker
