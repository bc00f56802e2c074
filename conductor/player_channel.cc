#include "conductor/player_channel.h"

#include "broker/connection.h"
#include "broker/curve_keys.h"
#include "common/log.h"

namespace orchestra::conductor {

using broker::PlayerMessage;
using common::LogQuote;
using common::Status;

PlayerChannel::PlayerChannel(const ConductorConfig* config, const Trust* trust,
                             PlayerRegistry* registry, JobBoard* board,
                             PlayerStore* store, const StoreHealth* health,
                             Outbox* outbox, const common::Clock* clock,
                             Metrics* metrics)
    : config_(config),
      trust_(trust),
      registry_(registry),
      board_(board),
      store_(store),
      health_(health),
      outbox_(outbox),
      clock_(clock),
      metrics_(metrics) {}

void PlayerChannel::Send(const std::string& peer,
                         const PlayerMessage& message) {
  outbox_->ToPeer(peer, broker::EncodePlayerMessage(message));
}

Status PlayerChannel::Handle(const broker::Inbound& in) {
  // Trust first: it alone decides whether a key may speak, whatever the
  // registry remembers of replaced sessions.
  if (!trust_->AdmitsPlayer(in.user_id, in.key, in.epoch)) {
    Refuse(in);
    return Status();
  }
  if (registry_->IsDropped(in.peer)) return Status();
  if (in.malformed) {
    common::LogWarning("player message dropped player=%s reason=frames",
                       in.user_id.c_str());
    return Status();
  }
  common::Result<PlayerMessage> message =
      broker::DecodePlayerMessage(in.payload);
  if (!message.ok()) {
    common::LogWarning("player message dropped player=%s error=%s",
                       in.user_id.c_str(),
                       LogQuote(message.status().message()).c_str());
    return Status();
  }
  if (const auto* hello = std::get_if<broker::Hello>(&message.value()))
    return OnHello(in, *hello);
  PlayerState* player = registry_->FindByPeer(in.peer);
  if (player == nullptr || player->name != in.user_id) {
    Send(in.peer, broker::SessionError{
                      "hello_required", "no session: send hello first", {}});
    return Status();
  }
  registry_->Heard(player, clock_->Now(), clock_->Monotonic());
  return Route(player, in, message.value());
}

Status PlayerChannel::Route(PlayerState* player, const broker::Inbound& in,
                            PlayerMessage& message) {
  if (auto* m = std::get_if<broker::Accepted>(&message)) return On(player, *m);
  if (auto* m = std::get_if<broker::TaskResult>(&message))
    return On(player, *m);
  if (auto* m = std::get_if<broker::ScoreList>(&message)) return On(player, *m);
  if (std::holds_alternative<broker::Heartbeat>(message)) return Status();
  common::LogWarning(
      "player message dropped player=%s type=%s "
      "reason=conductor-only",
      in.user_id.c_str(), broker::MessageType(message));
  return Status();
}

void PlayerChannel::Refuse(const broker::Inbound& in) {
  metrics_->AuthDenied(AuthChannel::kPlayer);
  const bool closed = broker::Close(broker::ConnectionOf(in));
  if (!refusal_log_.Allow(clock_->Monotonic())) return;
  common::LogWarning(
      "player message refused player=%s key=%s "
      "reason=key-taken-back connection=%s suppressed=%lld",
      in.user_id.c_str(), broker::KeyFingerprint(in.key).c_str(),
      closed ? "closed" : "open",
      static_cast<long long>(refusal_log_.TakeSuppressed()));
}

Status PlayerChannel::OnHello(const broker::Inbound& in,
                              const broker::Hello& m) {
  const std::string& name = in.user_id;
  if (m.proto != broker::kProtocolVersion) {
    common::LogWarning("session refused player=%s proto=%d", name.c_str(),
                       m.proto);
    Send(in.peer,
         broker::SessionError{"proto",
                              "this conductor speaks protocol " +
                                  std::to_string(broker::kProtocolVersion),
                              {}});
    return Status();
  }
  const PlayerState* known = registry_->Find(name);
  const bool scores_changed =
      known == nullptr || !known->scores_known || known->scores != m.scores;
  std::string replaced =
      registry_->Open(name, in.peer, broker::ConnectionOf(in), m, clock_->Now(),
                      clock_->Monotonic());
  if (scores_changed) unsaved_scores_.insert(name);
  if (!replaced.empty()) {
    common::LogWarning("session replaced player=%s reason=newer-session",
                       name.c_str());
    Send(replaced, broker::SessionError{"replaced",
                                        "a newer session of this player "
                                        "replaced this one",
                                        {}});
  }
  Send(in.peer,
       broker::Welcome{broker::kProtocolVersion, config_->heartbeat_interval_ms,
                       config_->epoch});
  common::LogInfo(
      "player joined player=%s version=%s slots=%d scores=%zu "
      "held=%zu address=%s",
      name.c_str(), LogQuote(m.version).c_str(), m.slots, m.scores.size(),
      m.tasks.size(), in.peer_address.c_str());
  if (!health_->writable()) {
    left_.erase(name);
    greeted_[name] = m;  // Reconciled once the store takes writes
    return Status();
  }
  Status s = store_->SaveSession(name, m.version, m.slots, true, clock_->Now());
  if (!s.ok()) return s;
  return board_->OnHello(name, m);
}

// While the store fails, `accepted` is dropped: the task is still sent
// but not accepted in the database, so it is sent again, and the player
// answers `accepted` again.
Status PlayerChannel::On(PlayerState* p, const broker::Accepted& m) {
  if (!health_->writable()) return Status();
  return board_->OnAccepted(p->name, m.task);
}

// While the store fails, a result is neither stored nor acknowledged: the
// player keeps it and sends it again.
Status PlayerChannel::On(PlayerState* p, const broker::TaskResult& m) {
  if (!health_->writable()) return Status();
  Status s = board_->OnResult(p->name, m);
  if (!s.ok()) return s;
  Send(p->peer, broker::ResultAck{m.task});  // Sent after the commit.
  return Status();
}

Status PlayerChannel::On(PlayerState* p, const broker::ScoreList& m) {
  if (p->scores_known && p->scores == m.scores) return Status();
  p->scores = m.scores;
  p->scores_known = true;
  unsaved_scores_.insert(p->name);
  if (scores_log_.Allow(clock_->Monotonic()))
    common::LogInfo("scores changed player=%s scores=%zu suppressed=%lld",
                    p->name.c_str(), m.scores.size(),
                    static_cast<long long>(scores_log_.TakeSuppressed()));
  return Status();
}

Status PlayerChannel::SaveScoreLists() {
  if (!health_->writable()) return Status();  // Reconcile() stores them
  const common::TimeMs now = clock_->Monotonic();
  size_t saved = 0;
  for (auto it = unsaved_scores_.begin();
       it != unsaved_scores_.end() && saved < kScoreListsPerTurn;) {
    PlayerState* p = registry_->Find(*it);
    if (p == nullptr) {
      it = unsaved_scores_.erase(it);
      continue;
    }
    if (p->scores_saved != 0 && now - p->scores_saved < kScoreListMs) {
      ++it;
      continue;
    }
    Status s = store_->SaveScores(p->name, p->scores);
    if (!s.ok()) return s;
    common::LogInfo("scores saved player=%s scores=%zu", p->name.c_str(),
                    p->scores.size());
    p->scores_saved = now;
    ++saved;
    it = unsaved_scores_.erase(it);
  }
  return Status();
}

Status PlayerChannel::EndSession(const std::string& name, bool drop,
                                 const std::string& why) {
  PlayerState* p = registry_->Find(name);
  if (p == nullptr || p->peer.empty()) return Status();
  const std::string version = p->version;
  const int slots = p->slots;
  broker::Connection connection = registry_->Close(name, drop);
  if (drop) broker::Close(connection);
  common::LogInfo("player left player=%s reason=%s", name.c_str(), why.c_str());
  if (!health_->writable()) {
    greeted_.erase(name);
    left_.insert(name);  // Settled by Reconcile()
    return Status();
  }
  ended_this_turn_.insert(name);
  Status s = board_->OnDisconnect(name);
  if (!s.ok()) return s;
  return store_->SaveSession(name, version, slots, false, clock_->Now());
}

void PlayerChannel::StoreFailed() {
  left_.insert(ended_this_turn_.begin(), ended_this_turn_.end());
  ended_this_turn_.clear();
  std::vector<std::string> live;
  for (const auto& [name, p] : registry_->players()) {
    if (!p.peer.empty() && !greeted_.count(name)) live.push_back(name);
  }
  for (const std::string& name : live) {
    Send(registry_->Find(name)->peer,
         broker::SessionError{"hello_required",
                              "the conductor's database failed; greet again",
                              {}});
    registry_->Close(name, /*drop=*/false);
    left_.insert(name);
  }
}

// Every session live now was opened by a hello while the store failed
// (StoreFailed() ended the others), so each is in greeted_. A player that
// left is settled as if its session had just ended.
Status PlayerChannel::Reconcile() {
  for (const std::string& name : left_) {
    const PlayerState* p = registry_->Find(name);
    if (p == nullptr || !p->peer.empty()) continue;
    Status s = board_->OnDisconnect(name);
    if (s.ok())
      s = store_->SaveSession(name, p->version, p->slots, false, p->last_seen);
    if (!s.ok()) return s;
  }
  for (const auto& [name, hello] : greeted_) {
    const PlayerState* p = registry_->Find(name);
    if (p == nullptr || p->peer.empty()) continue;
    Status s =
        store_->SaveSession(name, p->version, p->slots, true, p->last_seen);
    if (s.ok()) s = store_->SaveScores(name, p->scores);
    if (s.ok()) s = board_->OnHello(name, hello);
    if (!s.ok()) return s;
  }
  return Status();
}

void PlayerChannel::Reconciled() {
  greeted_.clear();
  left_.clear();
  ended_this_turn_.clear();
}

Status PlayerChannel::CutOff(const std::string& name, const std::string& why) {
  return EndSession(name, true, why);
}

Status PlayerChannel::Tick() {
  const common::TimeMs now = clock_->Monotonic();
  for (const std::string& name :
       registry_->SilentSince(now - config_->player_timeout_ms)) {
    Status s = EndSession(name, false, "silent");
    if (!s.ok()) return s;
  }
  const std::string heartbeat =
      broker::EncodePlayerMessage(broker::Heartbeat{});
  for (const auto& [name, p] : registry_->players()) {
    if (!p.peer.empty() && now - p.last_sent >= config_->heartbeat_interval_ms)
      outbox_->ToPeer(p.peer, heartbeat);
  }
  return Status();
}

}  // namespace orchestra::conductor
