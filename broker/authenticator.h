// Authenticator is the conductor's ZAP handler (RFC 27). It decides who may
// connect: on the "players" domain only Curve keys listed in the players
// file and not revoked, with the ZAP user id set to the player's name; on
// the "audience" domain, listed audience keys over Curve and local clients
// over ipc. Owned by the conductor's loop thread, which polls handle().

#ifndef ORCHESTRA_BROKER_AUTHENTICATOR_H_
#define ORCHESTRA_BROKER_AUTHENTICATOR_H_

#include <chrono>
#include <map>
#include <set>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <zmq.hpp>

#include "broker/context.h"
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
  // public key -> audience key name.
  void SetPlayers(std::unordered_map<std::string, std::string> players);
  void SetRevoked(std::unordered_set<std::string> revoked);
  void SetAudienceKeys(std::unordered_map<std::string, std::string> keys);

  // The decision for one request (pure; the tests call it directly).
  ZapDecision Decide(const ZapRequest& request) const;

  // Answers every waiting ZAP request. Never blocks.
  void HandleRequests();

  void* handle() { return socket_.handle(); }

 private:
  void Answer(const std::vector<zmq::message_t>& frames);
  // Logs a refusal: the first of a key at once, then one line a minute
  // with the count, so a refused peer retrying cannot flood the log.
  void LogRefusal(const ZapRequest& request, const std::string& reason);

  struct Refusals {
    std::chrono::steady_clock::time_point logged;
    int64_t unlogged = 0;
  };

  zmq::socket_t socket_;
  std::unordered_map<std::string, Refusals> refusals_;  // by domain + key
  std::unordered_map<std::string, std::string> players_;
  std::unordered_set<std::string> revoked_;
  std::unordered_map<std::string, std::string> audience_keys_;
};

}  // namespace orchestra::broker

#endif  // ORCHESTRA_BROKER_AUTHENTICATOR_H_
