// PlayerRegistry knows every player the conductor has heard of: its live
// session (routing id, liveness times) if it has one, and what its latest
// hello or score list said. A player's name comes from its Curve key, never
// from a message. Owned by the conductor's loop thread.
//
// Session states: none --hello--> live --silence/cut-off/replaced--> none.
// A replaced or cut-off session's routing id is remembered as dropped, so
// nothing more it sends is accepted.

#ifndef ORCHESTRA_CONDUCTOR_PLAYER_REGISTRY_H_
#define ORCHESTRA_CONDUCTOR_PLAYER_REGISTRY_H_

#include <deque>
#include <functional>
#include <map>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "broker/connection.h"
#include "broker/protocol.h"
#include "common/clock.h"

namespace orchestra::conductor {

struct PlayerState {
  std::string name;
  std::string peer;  // routing id of the live session; empty when none
  broker::Connection connection;  // the live session's, when known
  std::string version;
  int slots = 0;
  std::vector<broker::ScoreInfo> scores;
  bool scores_known = false;        // a hello or score list was seen
  common::TimeMs scores_saved = 0;  // monotonic: its list last stored
  common::TimeMs last_seen = 0;     // wall clock, last traffic
  common::TimeMs last_heard = 0;    // monotonic, last traffic (live only)
  common::TimeMs last_sent = 0;     // monotonic, last message sent
};

class PlayerRegistry {
 public:
  // Adds what the database remembers (start-up): no session is live.
  void Remember(PlayerState state);

  // Opens a session for `name` on routing id `peer` (over `connection`)
  // from its hello. Returns the routing id of the session it replaces, or
  // "".
  std::string Open(const std::string& name, const std::string& peer,
                   const broker::Connection& connection,
                   const broker::Hello& hello, common::TimeMs now,
                   common::TimeMs monotonic);
  // Ends the live session of `name` (if any); its routing id is dropped
  // when `drop` is true. Returns the session's connection.
  broker::Connection Close(const std::string& name, bool drop);

  // The player whose live session uses `peer`, or nullptr.
  PlayerState* FindByPeer(const std::string& peer);
  PlayerState* Find(const std::string& name);
  bool IsConnected(const std::string& name) const;
  bool IsDropped(const std::string& peer) const {
    return dropped_.count(peer) != 0;
  }

  // Records traffic from the live session of `state`.
  void Heard(PlayerState* state, common::TimeMs now, common::TimeMs monotonic);

  // Names with a live session silent since before `cutoff` (monotonic).
  std::vector<std::string> SilentSince(common::TimeMs cutoff) const;

  // True when `name`'s latest score list is known and lacks `score`.
  bool LacksScore(const std::string& name, const std::string& score) const;

  // Calls `fn` with the name of each player that has a live session.
  void ForEachConnected(
      const std::function<void(const std::string&)>& fn) const {
    for (const auto& [peer, state] : peers_) fn(state->name);
  }

  const std::map<std::string, PlayerState>& players() const { return players_; }
  size_t connected() const { return peers_.size(); }

 private:
  void Drop(const std::string& peer);

  std::map<std::string, PlayerState> players_;
  // peer -> its player, in players_ (a std::map: its nodes never move)
  std::unordered_map<std::string, PlayerState*> peers_;
  std::unordered_set<std::string> dropped_;
  std::deque<std::string> dropped_order_;  // bounds dropped_
};

}  // namespace orchestra::conductor

#endif  // ORCHESTRA_CONDUCTOR_PLAYER_REGISTRY_H_
