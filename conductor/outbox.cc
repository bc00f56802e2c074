#include "conductor/outbox.h"

#include "broker/connection.h"
#include "common/log.h"

namespace orchestra::conductor {

namespace {

// Whether the kernel holds enough of `fd`'s bytes unsent that the peer is
// not reading: kBackedUpBytes, or half the send buffer when that is less
// (a unix socket's buffer is ~208 KiB: 1 MiB would never be reached, and
// libzmq's pipe would take up to its high-water mark meanwhile).
bool IsBackedUp(int fd) {
  const int64_t unsent = broker::UnsentBytes(fd);
  const int64_t buffer = broker::SendBufferBytes(fd);
  int64_t mark = int64_t{kBackedUpBytes};
  if (buffer > 0 && buffer / 2 < mark) mark = buffer / 2;
  return unsent > mark;
}

}  // namespace

void Outbox::ToPeer(const std::string& peer, std::string payload) {
  Message m;
  m.kind = Message::kPeer;
  m.to = peer;
  m.payload = std::move(payload);
  Add(std::move(m));
}

void Outbox::ToPlayer(const std::string& name, std::string payload) {
  Message m;
  m.kind = Message::kPlayer;
  m.to = name;
  m.payload = std::move(payload);
  Add(std::move(m));
}

// What leaves at the next Flush() counts in turn_bytes() too: the loop
// ends a turn early on it, so that replies read at once (which no commit
// holds back) cannot pile up in one turn either.
void Outbox::Add(Message m) {
  if (committed_only_) {
    ready_bytes_ += m.payload.size();
    ready_.push_back(std::move(m));
    return;
  }
  turn_bytes_ += m.payload.size();
  messages_.push_back(std::move(m));
}

void Outbox::Seal(uint64_t turn) {
  if (messages_.empty()) return;
  sealed_.push_back(Sealed{turn, std::move(messages_), turn_bytes_});
  sealed_bytes_ += turn_bytes_;
  messages_.clear();
  turn_bytes_ = 0;
}

void Outbox::Release(uint64_t turn) {
  while (!sealed_.empty() && sealed_.front().turn <= turn) {
    Sealed& done = sealed_.front();
    if (ready_.empty()) {
      ready_.swap(done.messages);
    } else {
      for (Message& m : done.messages) ready_.push_back(std::move(m));
    }
    ready_bytes_ += done.bytes;
    sealed_bytes_ -= done.bytes;
    sealed_.pop_front();
  }
}

bool Outbox::ToAudience(size_t endpoint, const std::string& peer,
                        bool request_style, const broker::AudienceReply& reply,
                        int fd) {
  const bool final_reply =
      !std::holds_alternative<broker::ProgressReply>(reply.body);
  Message m;
  m.kind = Message::kAudience;
  m.endpoint = endpoint;
  m.to = peer;
  m.request_style = request_style;
  m.payload = broker::EncodeAudienceReply(reply);
  const bool whole = !final_reply || m.payload.size() <= broker::kMaxReplyBytes;
  if (!whole) m.payload = TooLarge(reply.req, m.payload.size());
  m.fd = fd;
  m.final_reply = final_reply;
  if (final_reply) m.req = reply.req;
  Add(std::move(m));
  return whole;
}

// The AudienceChannel fits every reply it makes (RecordPager and the list
// pages); this is the backstop for whatever it did not foresee, so that no
// reply ever exceeds what a client may receive. (A progress message holds
// a count per task state: it is never large.)
std::string Outbox::TooLarge(const broker::RequestId& req, size_t size) {
  common::LogError("reply too large bytes=%zu limit=%zu", size,
                   broker::kMaxReplyBytes);
  return broker::EncodeAudienceReply(
      {req, broker::ErrorReply{{broker::ErrorCode::kTooLarge,
                                "the reply would take " + std::to_string(size) +
                                    " bytes, more than the " +
                                    std::to_string(broker::kMaxReplyBytes) +
                                    " one message may carry; ask for less", {}}}});
}

void Outbox::Abandon(const std::string& why) {
  for (Sealed& turn : sealed_) AbandonAll(&turn.messages, why);
  sealed_.clear();
  sealed_bytes_ = 0;
  AbandonAll(&messages_, why);
  messages_.clear();
  turn_bytes_ = 0;
}

void Outbox::AbandonAll(std::vector<Message>* messages,
                        const std::string& why) {
  for (Message& m : *messages) {
    if (m.kind != Message::kAudience || !m.final_reply) continue;
    m.payload = broker::EncodeAudienceReply(
        {m.req, broker::ErrorReply{{broker::ErrorCode::kUnavailable, why, {}}}});
    ready_bytes_ += m.payload.size();
    ready_.push_back(std::move(m));
  }
}

bool Outbox::IsFull(size_t endpoint, const std::string& peer) const {
  auto it = backlog_.find(std::to_string(endpoint) + "/" + peer);
  return it != backlog_.end() && it->second.bytes >= kMaxBacklogPerPeer / 2;
}

std::string Outbox::KeyOf(const Message& m) {
  return m.kind == Message::kAudience ? std::to_string(m.endpoint) + "/" + m.to
                                      : "p/" + m.to;
}

bool Outbox::Resolve(Message* m, PlayerRegistry* registry) const {
  if (m->kind == Message::kAudience) return true;
  PlayerState* player = m->kind == Message::kPlayer
                            ? registry->Find(m->to)
                            : registry->FindByPeer(m->to);
  if (m->kind == Message::kPlayer) {
    if (player == nullptr || player->peer.empty()) return false;
    m->to = player->peer;
    m->kind = Message::kPeer;
  }
  if (player != nullptr) m->fd = player->connection.fd;
  return true;
}

Outbox::Sent Outbox::Send(const Message& m, broker::Endpoint* players,
                          const std::vector<broker::Endpoint*>& audience,
                          PlayerRegistry* registry, common::TimeMs monotonic,
                          Turn* turn) {
  const std::string key = KeyOf(m);
  size_t& sent = turn->bytes[key];
  if (sent > 0 && sent + m.payload.size() > kPeerBytesPerTurn)
    return Sent::kBlocked;
  auto [backed_up, fresh] = turn->backed_up.try_emplace(key, false);
  if (fresh) backed_up->second = IsBackedUp(m.fd);
  if (backed_up->second) return Sent::kBlocked;
  broker::Endpoint* endpoint =
      m.kind == Message::kAudience ? audience[m.endpoint] : players;
  common::Status s = endpoint->SendTo(m.to, m.request_style, m.payload);
  if (s.code() == common::Status::Code::kNotFound) return Sent::kGone;
  if (!s.ok()) return Sent::kBlocked;
  sent += m.payload.size();
  if (m.kind != Message::kAudience) {
    if (PlayerState* player = registry->FindByPeer(m.to))
      player->last_sent = monotonic;
  }
  return Sent::kYes;
}

void Outbox::LogDrop(const char* who, const char* why, size_t messages,
                     common::TimeMs monotonic) {
  if (!drop_log_.Allow(monotonic)) return;
  common::LogWarning(
      "messages dropped to=%s count=%zu reason=%s "
      "suppressed=%lld",
      who, messages, why, static_cast<long long>(drop_log_.TakeSuppressed()));
}

void Outbox::Keep(const std::string& key, Message m, common::TimeMs monotonic) {
  auto [it, fresh] = backlog_.try_emplace(key);
  PeerBacklog& peer = it->second;
  if (fresh) peer.since = monotonic;
  const size_t size = m.payload.size();
  if (peer.bytes + size > kMaxBacklogPerPeer ||
      backlog_bytes_ + size > kMaxBacklog) {
    LogDrop(Who(m), "backlog-full", 1, monotonic);
    if (peer.waiting.empty()) backlog_.erase(it);
    return;
  }
  peer.bytes += size;
  backlog_bytes_ += size;
  peer.waiting.push_back(std::move(m));
}

Outbox::Sent Outbox::Retry(PeerBacklog* peer, broker::Endpoint* players,
                           const std::vector<broker::Endpoint*>& audience,
                           PlayerRegistry* registry, common::TimeMs monotonic,
                           Turn* turn) {
  while (!peer->waiting.empty()) {
    Message& m = peer->waiting.front();
    const Sent sent = Send(m, players, audience, registry, monotonic, turn);
    if (sent != Sent::kYes) return sent;
    peer->bytes -= m.payload.size();
    backlog_bytes_ -= m.payload.size();
    peer->waiting.pop_front();
    peer->since = monotonic;
  }
  return Sent::kYes;
}

void Outbox::Flush(broker::Endpoint* players,
                   const std::vector<broker::Endpoint*>& audience,
                   PlayerRegistry* registry, common::TimeMs monotonic) {
  Turn turn;
  for (auto it = backlog_.begin(); it != backlog_.end();) {
    PeerBacklog& peer = it->second;
    const Sent sent =
        Retry(&peer, players, audience, registry, monotonic, &turn);
    const bool stuck = monotonic - peer.since >= kStuckMs;
    if (sent == Sent::kYes || sent == Sent::kGone || stuck) {
      if (!peer.waiting.empty())
        LogDrop(Who(peer.waiting.front()),
                sent == Sent::kGone ? "gone" : "not-reading",
                peer.waiting.size(), monotonic);
      backlog_bytes_ -= peer.bytes;
      it = backlog_.erase(it);
    } else {
      ++it;
    }
  }
  for (Message& m : ready_) {
    if (!Resolve(&m, registry)) continue;  // Offline player
    const std::string key = KeyOf(m);
    if (backlog_.count(key)) {  // Keeps the peer's order
      Keep(key, std::move(m), monotonic);
      continue;
    }
    const Sent sent = Send(m, players, audience, registry, monotonic, &turn);
    if (sent == Sent::kBlocked) Keep(key, std::move(m), monotonic);
  }
  ready_.clear();
  ready_bytes_ = 0;
}

const char* Outbox::Who(const Message& m) {
  return m.kind == Message::kAudience ? "audience" : "player";
}

}  // namespace orchestra::conductor
