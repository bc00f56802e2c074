// PlayerShard simulates many players in one process for the load bench: a
// DEALER each, with its own Curve key, speaking the real player protocol
// (hello with one trivial score, heartbeats when idle, `accepted` and an
// `ok` result at once for every task). Runs in a shard process of its own
// (see Fleet), one thread; reports through ShardCounters.

#ifndef ORCHESTRA_TOOLS_BENCH_PLAYER_SHARD_H_
#define ORCHESTRA_TOOLS_BENCH_PLAYER_SHARD_H_

#include <memory>
#include <string>
#include <vector>

#include "broker/context.h"
#include "broker/curve_keys.h"
#include "broker/endpoint.h"
#include "broker/protocol.h"
#include "common/status.h"
#include "tools/bench/shard_counters.h"

namespace orchestra::bench {

struct ShardSettings {
  std::string endpoint;           // the conductor's player endpoint
  std::string server_public_key;  // the conductor's Curve public key
  int slots = 4;                  // announced in hello
  std::string score = "noop";     // the one score every player has
};

class PlayerShard {
 public:
  // `keys` must outlive the shard.
  PlayerShard(const ShardSettings& settings,
              std::vector<const broker::CurveKeyPair*> keys,
              ShardCounters* counters);
  ~PlayerShard();

  // Connects every player (each sends hello at once) and serves them until
  // `*stop` turns true. IoError when a socket cannot be made.
  common::Status Run(const volatile bool* stop);

 private:
  struct Player {
    std::unique_ptr<broker::Endpoint> dealer;
    bool live = false;  // welcomed
    int heartbeat_ms = 0;
    int64_t last_sent_ns = 0;
  };

  common::Status Connect();
  // Reads and answers everything that waits on `player`.
  void Drain(Player* player);
  void OnMessage(Player* player, const broker::PlayerMessage& message);
  void Send(Player* player, const broker::PlayerMessage& message);
  void SendHeartbeats();

  ShardSettings settings_;
  std::vector<const broker::CurveKeyPair*> keys_;
  ShardCounters* counters_;
  std::unique_ptr<broker::Context> context_;  // before the sockets
  std::vector<Player> players_;
  broker::TaskResult result_;  // the `ok` result, task id set per task
  int epoll_ = -1;
};

}  // namespace orchestra::bench

#endif  // ORCHESTRA_TOOLS_BENCH_PLAYER_SHARD_H_
