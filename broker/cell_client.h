// CellClient asks a cell of conductors (DESIGN.md section 17) through one
// AudienceClient at a time: it tries the endpoints in turn, follows the
// `leader` hint of an `unavailable` error, and retries a request until a
// conductor answers or its failover time is spent. It gives every submit
// without a key one of its own, kept for all its retries, so a failover
// never makes a second job. Used by the CLI; use it from one thread.

#ifndef ORCHESTRA_BROKER_CELL_CLIENT_H_
#define ORCHESTRA_BROKER_CELL_CLIENT_H_

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "broker/audience_client.h"
#include "broker/audience_protocol.h"
#include "common/clock.h"
#include "common/result.h"

namespace orchestra::broker {

struct CellOptions {
  std::vector<std::string> endpoints;  // Tried in this order; at least one.
  ClientOptions client;       // Keys and timeouts; its `endpoint` is not used.
  int failover_ms = 30000;    // Give up after failing this long in one call.
  int backoff_ms = 100;       // Pause after a round of failures; doubles...
  int max_backoff_ms = 2000;  // ...up to this.
};

// A fresh idempotency key: "auto-" and 32 hex digits (128 random bits).
std::string NewIdempotencyKey();

class CellClient {
 public:
  explicit CellClient(CellOptions options);
  ~CellClient();

  // Like AudienceClient::Call (`timeout_ms` bounds each attempt; a wait's
  // retries get what is left of it), through whichever conductor answers.
  // A reply is returned as it came, error replies included, except an
  // `unavailable` one while other endpoints remain to try. Unavailable
  // naming the endpoints tried and the last failure when none answered.
  // With one endpoint and no hint, fails as AudienceClient does.
  common::Result<AudienceReply> Call(
      const AudienceOp& op, int timeout_ms,
      const std::function<void(const Progress&)>& on_progress = {});

  // The msgpack bytes of the reply last returned by Call().
  const std::string& last_reply_bytes() const { return last_reply_bytes_; }
  // The endpoint of the conductor that answered last (or first listed).
  const std::string& endpoint() const { return current_; }

 private:
  struct Failover;  // The state of one call's retries.

  // One request to `current_`; clears client_ when it failed.
  common::Result<AudienceReply> Attempt(
      const AudienceOp& op, int timeout_ms, int connect_timeout_ms,
      const std::function<void(const Progress&)>& on_progress);
  // Moves current_ to the next endpoint to try (the hint when valid);
  // pauses after each round. False when the failover time is spent.
  bool MoveOn(const std::string& hint, Failover* failover);
  common::Status GiveUp(const Failover& failover) const;

  CellOptions options_;
  std::unique_ptr<AudienceClient> client_;  // Connected to current_.
  std::string current_;
  size_t cursor_ = 0;  // current_'s place in the list (hints aside)
  std::string last_reply_bytes_;
};

}  // namespace orchestra::broker

#endif  // ORCHESTRA_BROKER_CELL_CLIENT_H_
