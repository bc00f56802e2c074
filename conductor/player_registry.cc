#include "conductor/player_registry.h"

namespace orchestra::conductor {

namespace {
constexpr size_t kMaxDropped = 65536;
}

void PlayerRegistry::Remember(PlayerState state) {
  state.peer.clear();
  state.connection = broker::Connection();
  auto it = players_.find(state.name);
  if (it != players_.end() && !it->second.peer.empty())
    peers_.erase(it->second.peer);
  std::string name = state.name;
  players_[name] = std::move(state);
}

std::string PlayerRegistry::Open(const std::string& name,
                                 const std::string& peer,
                                 const broker::Connection& connection,
                                 const broker::Hello& hello, common::TimeMs now,
                                 common::TimeMs monotonic) {
  PlayerState& state = players_[name];
  std::string replaced;
  if (!state.peer.empty() && state.peer != peer) {
    replaced = state.peer;
    peers_.erase(state.peer);
    Drop(state.peer);
  }
  state.name = name;
  state.peer = peer;
  state.connection = connection;
  state.version = hello.version;
  state.slots = hello.slots;
  state.scores = hello.scores;
  state.scores_known = true;
  state.last_seen = now;
  state.last_heard = monotonic;
  state.last_sent = monotonic;
  peers_[peer] = &state;
  return replaced;
}

broker::Connection PlayerRegistry::Close(const std::string& name, bool drop) {
  auto it = players_.find(name);
  if (it == players_.end() || it->second.peer.empty())
    return broker::Connection();
  peers_.erase(it->second.peer);
  if (drop) Drop(it->second.peer);
  it->second.peer.clear();
  broker::Connection connection = it->second.connection;
  it->second.connection = broker::Connection();
  return connection;
}

PlayerState* PlayerRegistry::FindByPeer(const std::string& peer) {
  auto it = peers_.find(peer);
  return it == peers_.end() ? nullptr : it->second;
}

PlayerState* PlayerRegistry::Find(const std::string& name) {
  auto it = players_.find(name);
  return it == players_.end() ? nullptr : &it->second;
}

bool PlayerRegistry::IsConnected(const std::string& name) const {
  auto it = players_.find(name);
  return it != players_.end() && !it->second.peer.empty();
}

void PlayerRegistry::Heard(PlayerState* state, common::TimeMs now,
                           common::TimeMs monotonic) {
  state->last_seen = now;
  state->last_heard = monotonic;
}

std::vector<std::string> PlayerRegistry::SilentSince(
    common::TimeMs cutoff) const {
  std::vector<std::string> silent;
  for (const auto& [peer, state] : peers_) {
    if (state->last_heard < cutoff) silent.push_back(state->name);
  }
  return silent;
}

bool PlayerRegistry::LacksScore(const std::string& name,
                                const std::string& score) const {
  auto it = players_.find(name);
  if (it == players_.end() || !it->second.scores_known) return false;
  for (const broker::ScoreInfo& s : it->second.scores) {
    if (s.name == score) return false;
  }
  return true;
}

void PlayerRegistry::Drop(const std::string& peer) {
  if (!dropped_.insert(peer).second) return;
  dropped_order_.push_back(peer);
  if (dropped_order_.size() > kMaxDropped) {
    dropped_.erase(dropped_order_.front());
    dropped_order_.pop_front();
  }
}

}  // namespace orchestra::conductor
