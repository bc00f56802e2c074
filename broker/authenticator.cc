// ZAP requests arrive on inproc://zeromq.zap.01 from libzmq's I/O thread
// while a Curve handshake waits; libzmq does not block on us, so answering
// them from the conductor's loop (not a thread of their own) is safe.
//
// Routing ids. A ROUTER takes the routing id a peer asks for in its
// handshake, and numbers the others itself with a counter that starts at
// a random value and never checks for a clash: a peer that asked for the
// id the counter later reaches made libzmq 4.3 abort the whole conductor
// (an assertion in router.cpp), and one that asked for a live peer's id
// had that peer's next connection refused. A ZAP reply's "Identity"
// property replaces the peer's wish, because libzmq reads it after the
// peer's handshake metadata, so every connection gets an id of ours: a
// byte 0x01 (libzmq's own start with 0x00) and 8 random bytes, which no
// peer can predict. One race remains in libzmq: when this thread answers
// before the I/O thread has read the peer's metadata (it looks for the
// reply once, right after asking), the peer's wish wins for that
// connection. The peer cannot steer that timing, and with ids it cannot
// predict, the clashes above need a guess of 64 random bits.

#include "broker/authenticator.h"

#include <sodium.h>
#include <zmq.h>

#include <vector>

#include "broker/curve_keys.h"
#include "common/log.h"

namespace orchestra::broker {

using common::Status;

Authenticator::Authenticator(Context* context)
    : socket_(context->zmq(), ZMQ_REP) {
  socket_.set(zmq::sockopt::linger, 0);
}

Status Authenticator::Start() {
  try {
    socket_.bind("inproc://zeromq.zap.01");
    return Status();
  } catch (const zmq::error_t& e) {
    return Status::IoError("authenticator", e.what());
  }
}

void Authenticator::SetPlayers(
    std::unordered_map<std::string, std::string> players) {
  players_ = std::move(players);
}

void Authenticator::SetRevoked(std::unordered_set<std::string> revoked) {
  revoked_ = std::move(revoked);
}

void Authenticator::SetAudienceKeys(
    std::unordered_map<std::string, std::string> keys) {
  audience_keys_ = std::move(keys);
}

ZapDecision Authenticator::Decide(const ZapRequest& request) const {
  ZapDecision d;
  if (request.mechanism == "CURVE") {
    if (!IsCurveKey(request.public_key)) {  // never match a bad map entry
      d.reason = "malformed key";
      return d;
    }
    if (revoked_.count(request.public_key)) {
      d.reason = "revoked key";
      return d;
    }
    const auto& keys =
        request.domain == kPlayerDomain ? players_ : audience_keys_;
    if (request.domain != kPlayerDomain && request.domain != kAudienceDomain) {
      d.reason = "unknown domain";
      return d;
    }
    auto it = keys.find(request.public_key);
    if (it == keys.end()) {
      d.reason = "unknown key";
      return d;
    }
    d.allow = true;
    d.user_id = it->second;
    return d;
  }
  if (request.mechanism == "NULL" && request.domain == kAudienceDomain) {
    d.allow = true;  // ipc: the socket's file mode and group guard it
    return d;
  }
  d.reason = "mechanism " + request.mechanism + " not allowed";
  return d;
}

std::string Authenticator::NextRoutingId() {
  std::string id(9, '\x01');
  randombytes_buf(&id[1], 8);
  return id;
}

namespace {

// One ZMTP metadata property: name length (1 byte), name, value length
// (4 bytes, big-endian), value.
void AppendProperty(std::string* out, const std::string& name,
                    const std::string& value) {
  out->push_back(static_cast<char>(name.size()));
  out->append(name);
  const uint32_t size = static_cast<uint32_t>(value.size());
  for (int shift = 24; shift >= 0; shift -= 8)
    out->push_back(static_cast<char>((size >> shift) & 0xff));
  out->append(value);
}

}  // namespace

std::string Authenticator::Metadata(const std::string& routing_id,
                                    const std::string& key, int64_t epoch) {
  std::string metadata;
  AppendProperty(&metadata, "Identity", routing_id);
  AppendProperty(&metadata, kKeyProperty, key);
  AppendProperty(&metadata, kEpochProperty, std::to_string(epoch));
  return metadata;
}

void Authenticator::HandleRequests() {
  for (;;) {
    std::vector<zmq::message_t> frames;
    try {
      do {
        zmq::message_t frame;
        if (!socket_.recv(frame, zmq::recv_flags::dontwait)) return;
        frames.push_back(std::move(frame));
      } while (frames.back().more() && frames.size() < 16);
    } catch (const zmq::error_t& e) {
      common::LogError("authenticator receive failed error=%s", e.what());
      return;
    }
    Answer(frames);
  }
}

void Authenticator::LogRefusal(const ZapRequest& request,
                               const std::string& reason) {
  const auto now = std::chrono::duration_cast<std::chrono::milliseconds>(
                       std::chrono::steady_clock::now().time_since_epoch())
                       .count();
  if (!refusal_log_.Allow(now)) return;
  common::LogWarning(
      "connection refused domain=%s key=%s address=%s "
      "reason=%s suppressed=%lld",
      request.domain.c_str(), KeyFingerprint(request.public_key).c_str(),
      request.address.c_str(), common::LogQuote(reason).c_str(),
      static_cast<long long>(refusal_log_.TakeSuppressed()));
}

void Authenticator::Answer(const std::vector<zmq::message_t>& frames) {
  ZapRequest request;
  std::string request_id = frames.size() > 1 ? frames[1].to_string() : "";
  if (frames.size() >= 6) {
    request.domain = frames[2].to_string();
    request.address = frames[3].to_string();
    request.mechanism = frames[5].to_string();
  }
  if (request.mechanism == "CURVE" && frames.size() >= 7 &&
      frames[6].size() == 32) {
    char z85[41];
    zmq_z85_encode(z85, static_cast<const uint8_t*>(frames[6].data()), 32);
    request.public_key = z85;
  }
  ZapDecision d = Decide(request);
  if (!d.allow) {
    LogRefusal(request, d.reason);
    if (refused_) refused_(request);
  }
  const std::string status = d.allow ? "200" : "400";
  const std::string text = d.allow ? "OK" : d.reason;
  const std::string metadata =
      d.allow ? Metadata(NextRoutingId(), request.public_key, epoch_) : "";
  try {
    auto more = zmq::send_flags::sndmore;
    socket_.send(zmq::buffer(std::string("1.0")), more);
    socket_.send(zmq::buffer(request_id), more);
    socket_.send(zmq::buffer(status), more);
    socket_.send(zmq::buffer(text), more);
    socket_.send(zmq::buffer(d.user_id), more);
    socket_.send(zmq::buffer(metadata), zmq::send_flags::none);
  } catch (const zmq::error_t& e) {
    common::LogError("authenticator reply failed error=%s", e.what());
  }
}

}  // namespace orchestra::broker
