// ConductorList is where the player looks for its conductor: the endpoints
// of player.conf's `conductor endpoint` (one, or a cell's three, DESIGN.md
// section 17), of which the player talks to one at a time, and a detour
// to a `not_leader` error's hint. Plain logic, no sockets.
//
// The player moves on when the conductor it talks to refuses to lead or
// stops answering: to the hint if there is one, else to the next listed
// endpoint (round-robin). A hint need not be listed (a cell's player
// endpoints may change before every player.conf does); it is safe to
// follow because every connection checks the conductor's Curve key, which
// the conductors of a cell share, so an impostor cannot answer.

#ifndef ORCHESTRA_PLAYER_CONDUCTOR_LIST_H_
#define ORCHESTRA_PLAYER_CONDUCTOR_LIST_H_

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.h"
#include "common/result.h"

namespace orchestra::player {

// A cell has three conductors; the bound leaves room for a move between
// cells without letting a typo make a list without end.
constexpr size_t kMaxConductorEndpoints = 16;
constexpr common::TimeMs kFirstRoundBackoffMs = 100;
constexpr common::TimeMs kMaxRoundBackoffMs = 5000;

class ConductorList {
 public:
  // Checks one endpoint: tcp:// or ipc://, an address after it, no blanks,
  // control characters or quotes, at most kMaxEndpointBytes. InvalidArgument
  // naming it otherwise.
  static common::Status CheckEndpoint(std::string_view endpoint);
  // Splits a comma-separated list and checks each endpoint: at least one,
  // at most kMaxConductorEndpoints, none empty or given twice.
  static common::Result<std::vector<std::string>> Parse(std::string_view text);

  // `endpoints` as Parse() returns them: at least one.
  explicit ConductorList(std::vector<std::string> endpoints);

  // The endpoint to talk to now: the first listed one at start.
  const std::string& current() const;
  // Whether there is anywhere else to go: more than one listed endpoint,
  // or a detour to a hint to come back from.
  bool CanMove() const { return endpoints_.size() > 1 || !detour_.empty(); }
  // Moves to the listed endpoint after the last listed one talked to (a
  // detour ends at the one after the endpoint that gave the hint).
  void Next();
  // Moves to `hint`: to it in the list when it is listed, else a detour.
  // InvalidArgument (and no move) when it fails CheckEndpoint.
  common::Status Follow(std::string_view hint);
  // A session opened: every endpoint is worth a try again.
  void OnWelcome() {
    moves_since_welcome_ = 0;
    rounds_ = 0;
  }
  // After a move, how long to wait before greeting: nothing within a
  // round; after as many moves without a welcome as there are listed
  // endpoints (a cell with no leader, or all of it unreachable), a
  // back-off that starts a new round and doubles each round, from
  // kFirstRoundBackoffMs to kMaxRoundBackoffMs.
  common::TimeMs NextGreetingDelay();

 private:
  std::vector<std::string> endpoints_;
  size_t position_ = 0;             // The last listed endpoint talked to
  std::string detour_;              // A hint outside the list; empty: none
  size_t moves_since_welcome_ = 0;  // In this round
  int rounds_ = 0;                  // Rounds done since the last welcome
};

}  // namespace orchestra::player

#endif  // ORCHESTRA_PLAYER_CONDUCTOR_LIST_H_
