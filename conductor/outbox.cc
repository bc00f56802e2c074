#include "conductor/outbox.h"

#include "common/log.h"

namespace orchestra::conductor {

void Outbox::ToPeer(const std::string& peer, std::string payload) {
  messages_.push_back({Message::kPeer, 0, peer, false, std::move(payload)});
}

void Outbox::ToPlayer(const std::string& name, std::string payload) {
  messages_.push_back({Message::kPlayer, 0, name, false, std::move(payload)});
}

void Outbox::ToAudience(size_t endpoint, const std::string& peer,
                        bool request_style, std::string payload) {
  messages_.push_back(
      {Message::kAudience, endpoint, peer, request_style, std::move(payload)});
}

void Outbox::Flush(broker::Endpoint* players,
                   const std::vector<broker::Endpoint*>& audience,
                   PlayerRegistry* registry, common::TimeMs monotonic) {
  for (Message& m : messages_) {
    common::Status s;
    if (m.kind == Message::kAudience) {
      s = audience[m.endpoint]->SendTo(m.to, m.request_style, m.payload);
      if (!s.ok()) common::LogDebug("reply dropped error=%s",
                                    common::LogQuote(s.message()).c_str());
      continue;
    }
    PlayerState* player = m.kind == Message::kPlayer ? registry->Find(m.to)
                                                     : registry->FindByPeer(m.to);
    const std::string& peer =
        m.kind == Message::kPlayer ? (player ? player->peer : m.to) : m.to;
    if (peer.empty() || (m.kind == Message::kPlayer && player == nullptr))
      continue;  // Offline: what matters is sent again at its next hello.
    s = players->SendTo(peer, false, m.payload);
    if (!s.ok()) {
      common::LogDebug("message to player dropped player=%s error=%s",
                       m.to.c_str(), common::LogQuote(s.message()).c_str());
    } else if (player != nullptr) {
      player->last_sent = monotonic;
    }
  }
  messages_.clear();
}

}  // namespace orchestra::conductor
