// Authenticator is the conductor's ZAP handler (RFC 27). It decides who may
// connect: on the "players" domain only Curve keys listed in the players
// file and not revoked, with the ZAP user id set to the player's name; on
// the "audience" domain, listed audience keys over Curve and local clients
// over ipc. Every connection it admits is bound to what admitted it: the
// reply's metadata names the Curve key (kKeyProperty) and the trust epoch
// of the decision (kEpochProperty), which libzmq attaches to every message
// of that connection, and gives the connection a routing id of ours that
// no peer can predict (DESIGN.md section 6). Each refusal is told to the
// refusal hook, for the conductor's metrics. Owned by the conductor's loop
// thread, which polls handle().

#ifndef ORCHESTRA_BROKER_AUTHENTICATOR_H_
#define ORCHESTRA_BROKER_AUTHENTICATOR_H_

#include <chrono>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <zmq.hpp>

#include "broker/context.h"
#include "broker/endpoint.h"
#include "common/rate_limit.h"
#include "common/status.h"

namespace orchestra::broker {

constexpr const char* kPlayerDomain = "players";
constexpr const char* kAudienceDomain = "audience";

struct ZapRequest {
  std::string domain;
  std::string address;     // peer address as libzmq gives it
  std::string mechanism;   // "CURVE" or "NULL"
  std::string public_key;  // Z85; empty unless CURVE
};

struct ZapDecision {
  bool allow = false;
  std::string user_id;  // the player's or audience key's name
  std::string reason;   // why not, for the log
};

class Authenticator {
 public:
  explicit Authenticator(Context* context);

  // Binds the ZAP endpoint. Must run before any Curve socket binds.
  common::Status Start();

  // Replaces the trusted keys: public key -> player name, revoked keys,
  // public key -> audience key name. `epoch` (SetEpoch) says which
  // version of them admitted a connection.
  void SetPlayers(std::unordered_map<std::string, std::string> players);
  void SetRevoked(std::unordered_set<std::string> revoked);
  void SetAudienceKeys(std::unordered_map<std::string, std::string> keys);
  void SetEpoch(int64_t epoch) { epoch_ = epoch; }
  // `refused` is called with each request HandleRequests() refuses.
  void SetRefusalHook(std::function<void(const ZapRequest&)> refused) {
    refused_ = std::move(refused);
  }

  // The decision for one request (pure; the tests call it directly).
  ZapDecision Decide(const ZapRequest& request) const;

  // Answers every waiting ZAP request. Never blocks.
  void HandleRequests();

  void* handle() { return socket_.handle(); }

  // The ZAP reply's metadata frame for an admitted connection: its routing
  // id (the ZMTP "Identity" property, which replaces whatever routing id the
  // peer asked for), its key and the epoch. Public for the tests.
  static std::string Metadata(const std::string& routing_id,
                              const std::string& key, int64_t epoch);

 private:
  void Answer(const std::vector<zmq::message_t>& frames);
  // A routing id for a new connection: 0x01 and 8 random bytes.
  static std::string NextRoutingId();
  // Logs a refusal at a bounded rate in all (kRefusalLines a minute, then
  // a count of those left out), so that peers retrying, or coming with
  // ever new keys, cannot flood the log.
  void LogRefusal(const ZapRequest& request, const std::string& reason);

  zmq::socket_t socket_;
  common::RateLimit refusal_log_{10, 60000};
  std::unordered_map<std::string, std::string> players_;
  std::unordered_set<std::string> revoked_;
  std::unordered_map<std::string, std::string> audience_keys_;
  int64_t epoch_ = 0;
  std::function<void(const ZapRequest&)> refused_;  // may be empty
};

}  // namespace orchestra::broker

#endif  // ORCHESTRA_BROKER_AUTHENTICATOR_H_
