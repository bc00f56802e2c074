#include "conductor/outbox.h"

#include "common/log.h"

namespace orchestra::conductor {

void Outbox::ToPeer(const std::string& peer, std::string payload) {
  messages_.push_back(
      {Message::kPeer, 0, peer, false, std::move(payload), false, {}});
}

void Outbox::ToPlayer(const std::string& name, std::string payload) {
  messages_.push_back(
      {Message::kPlayer, 0, name, false, std::move(payload), false, {}});
}

void Outbox::ToAudience(size_t endpoint, const std::string& peer,
                        bool request_style,
                        const broker::AudienceReply& reply) {
  const bool final_reply =
      !std::holds_alternative<broker::ProgressReply>(reply.body);
  messages_.push_back({Message::kAudience, endpoint, peer, request_style,
                       broker::EncodeAudienceReply(reply), final_reply,
                       final_reply ? reply.req : broker::RequestId()});
}

void Outbox::Abandon(const std::string& why) {
  std::vector<Message> kept;
  for (Message& m : messages_) {
    if (m.kind != Message::kAudience || !m.final_reply) continue;
    m.payload = broker::EncodeAudienceReply(
        {m.req, broker::ErrorReply{{broker::ErrorCode::kUnavailable, why}}});
    kept.push_back(std::move(m));
  }
  messages_.swap(kept);
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
