// PlayerShard simulates many players in one process for the load bench: a
// DEALER each, with its own Curve key, speaking the real player protocol
// (hello with one trivial score, heartbeats when idle, `accepted` and an
// `ok` result at once for every task). Runs in a shard process of its own
// (see Fleet), one thread; reports through ShardCounters.
//
// Given a cell's endpoints (more than one), each player finds the active
// conductor as a real player does (player/player.cc): the same Session
// and ConductorList, a socket monitor for its connection, and it moves on
// when the conductor answers not_leader (to the hint), drops the
// connection, refuses it, leaves the hellos unanswered or falls silent
// (see kConnectWaitMs for the one difference). Given one
// endpoint, it says hello once and keeps the connection, as before.

#ifndef ORCHESTRA_TOOLS_BENCH_PLAYER_SHARD_H_
#define ORCHESTRA_TOOLS_BENCH_PLAYER_SHARD_H_

#include <memory>
#include <string>
#include <vector>

#include "broker/context.h"
#include "broker/curve_keys.h"
#include "broker/endpoint.h"
#include "broker/protocol.h"
#include "broker/socket_monitor.h"
#include "common/status.h"
#include "player/conductor_list.h"
#include "player/session.h"
#include "tools/bench/shard_counters.h"

namespace orchestra::bench {

struct ShardSettings {
  std::vector<std::string> endpoints;  // the conductors' player endpoints
  std::string server_public_key;       // the conductor's Curve public key
  int slots = 4;                       // announced in hello
  std::string score = "noop";          // the one score every player has
};

class PlayerShard {
 public:
  // The real player gives a conductor it cannot connect to 0.7 s; here
  // thousands of players share one libzmq I/O thread, whose connection
  // events lag that much in a storm, so a player waits longer before it
  // moves on (a refused connect still moves it on at once).
  static constexpr common::TimeMs kConnectWaitMs = 3000;

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
    explicit Player(std::vector<std::string> endpoints)
        : conductors(std::move(endpoints)),
          session(100, 5000, 10000, kConnectWaitMs) {}
    std::unique_ptr<broker::Endpoint> dealer;
    std::unique_ptr<broker::SocketMonitor> monitor;  // a cell's only
    bool live = false;                               // welcomed
    int heartbeat_ms = 0;
    int64_t last_sent_ns = 0;
    player::ConductorList conductors;
    player::Session session;  // a cell's only
  };

  bool cell() const { return settings_.endpoints.size() > 1; }
  common::Status Connect();
  // A new socket (and, in a cell, its monitor) to the player's current
  // conductor, in the epoll set as index `i`.
  common::Status Open(size_t i);
  void Close(size_t i);
  // Reads and answers everything that waits on `player`.
  void Drain(Player* player);
  void OnMessage(Player* player, const broker::PlayerMessage& message);
  void OnSessionError(Player* player, const broker::SessionError& error);
  void Send(Player* player, const broker::PlayerMessage& message);
  void SendHeartbeats();
  // A cell's player: its monitor's events (read every scan: the monitor's
  // ZMQ_FD did not wake epoll), then its session's timers.
  void WatchConnection(size_t i);
  void RunTimers(size_t i);
  // To the hint, else the next listed conductor, on a new socket.
  void MoveOn(size_t i, const std::string& hint);

  ShardSettings settings_;
  std::vector<const broker::CurveKeyPair*> keys_;
  ShardCounters* counters_;
  std::unique_ptr<broker::Context> context_;  // before the sockets
  std::vector<Player> players_;
  broker::TaskResult result_;  // the `ok` result, task id set per task
  std::string hello_;          // encoded once
  int epoll_ = -1;
};

}  // namespace orchestra::bench

#endif  // ORCHESTRA_TOOLS_BENCH_PLAYER_SHARD_H_
