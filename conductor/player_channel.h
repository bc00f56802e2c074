// PlayerChannel speaks the player channel of DESIGN.md section 4 on the
// conductor's side: sessions (hello/welcome, heartbeats, silence), and the
// messages that move tasks (accepted, result, scores), handed to JobBoard.
// Every message is first held to Trust: a connection whose key was taken
// back is refused and closed, whatever it sends (Metrics counts an auth
// denial). One small On() per message type. While the store is unwritable
// (StoreHealth) nothing here writes: results wait unacknowledged, hellos
// are answered and kept until Reconcile(). Owned by the conductor's loop
// thread.

#ifndef ORCHESTRA_CONDUCTOR_PLAYER_CHANNEL_H_
#define ORCHESTRA_CONDUCTOR_PLAYER_CHANNEL_H_

#include <map>
#include <set>
#include <string>
#include <vector>

#include "broker/endpoint.h"
#include "broker/protocol.h"
#include "common/clock.h"
#include "common/rate_limit.h"
#include "common/status.h"
#include "conductor/config.h"
#include "conductor/job_board.h"
#include "conductor/metrics.h"
#include "conductor/outbox.h"
#include "conductor/player_registry.h"
#include "conductor/player_store.h"
#include "conductor/store_health.h"
#include "conductor/trust.h"

namespace orchestra::conductor {

constexpr size_t kScoreListsPerTurn = 8;
constexpr common::TimeMs kScoreListMs = 1000;

class PlayerChannel {
 public:
  PlayerChannel(const ConductorConfig* config, const Trust* trust,
                PlayerRegistry* registry, JobBoard* board, PlayerStore* store,
                const StoreHealth* health, Outbox* outbox,
                const common::Clock* clock, Metrics* metrics);

  // Handles one message from the player endpoint. A non-OK status is a
  // failed store write; bad input is logged and dropped.
  common::Status Handle(const broker::Inbound& in);

  // Sends heartbeats to quiet sessions and ends silent ones.
  common::Status Tick();

  // Stores the score lists that changed, at most kScoreListsPerTurn a turn
  // and one a player every kScoreListMs: a player sending list after list
  // costs the loop one list a second, and an unchanged list costs nothing.
  // Called once a turn, before its commit.
  common::Status SaveScoreLists();

  // Ends `name`'s session at once and closes its connection: nothing more
  // it sends is accepted.
  common::Status CutOff(const std::string& name, const std::string& why);

  // Every turn ended so far is committed: the sessions they ended are
  // settled.
  void TurnCommitted() { ended_this_turn_.clear(); }
  // The store failed and the JobBoard went back to what is committed:
  // every live session that no hello has opened since ends, and its player
  // is told `hello_required`, so that its hello says what it holds now.
  void StoreFailed();
  // The store takes writes again and the JobBoard was recovered: the
  // sessions opened meanwhile are reconciled as at their hello, those that
  // ended are settled, and each is recorded. Writes; Reconciled() after
  // the commit.
  common::Status Reconcile();
  void Reconciled();

  void set_config(const ConductorConfig* config) { config_ = config; }

 private:
  // Routes a session's message to its handler (dispatch is placing tasks).
  common::Status Route(PlayerState* player, const broker::Inbound& in,
                       broker::PlayerMessage& message);
  // Refuses a message from a connection Trust no longer admits: logs it
  // (at a bounded rate) and closes the connection.
  void Refuse(const broker::Inbound& in);
  common::Status OnHello(const broker::Inbound& in, const broker::Hello& m);
  common::Status On(PlayerState* p, const broker::Accepted& m);
  common::Status On(PlayerState* p, const broker::TaskResult& m);
  common::Status On(PlayerState* p, const broker::ScoreList& m);
  common::Status EndSession(const std::string& name, bool drop,
                            const std::string& why);
  void Send(const std::string& peer, const broker::PlayerMessage& message);

  const ConductorConfig* config_;
  const Trust* trust_;
  PlayerRegistry* registry_;
  JobBoard* board_;
  PlayerStore* store_;
  const StoreHealth* health_;
  Outbox* outbox_;
  const common::Clock* clock_;
  Metrics* metrics_;
  common::RateLimit refusal_log_{10, 60000};  // lines a minute, in all
  std::set<std::string> unsaved_scores_;      // players whose list changed
  common::RateLimit scores_log_{60, 60000};
  // Players whose sessions ended in turns not committed yet (a set: at
  // most the listed players, however long turns stay in flight).
  std::set<std::string> ended_this_turn_;
  // Since the store failed: hellos not reconciled yet, by player, and
  // players whose session ended.
  std::map<std::string, broker::Hello> greeted_;
  std::set<std::string> left_;
};

}  // namespace orchestra::conductor

#endif  // ORCHESTRA_CONDUCTOR_PLAYER_CHANNEL_H_
