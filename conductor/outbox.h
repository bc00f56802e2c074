// Outbox holds what one turn of the conductor's loop will send, until that
// turn's writes are committed: a player never sees a task, and a client
// never sees a job id, that a crash could take back. When the commit fails
// the turn's messages are abandoned instead. Sends never block: a message
// for a peer that is gone or too far behind is dropped (tasks are resent,
// results are resent by players, clients time out).

#ifndef ORCHESTRA_CONDUCTOR_OUTBOX_H_
#define ORCHESTRA_CONDUCTOR_OUTBOX_H_

#include <string>
#include <vector>

#include "broker/audience_protocol.h"
#include "broker/endpoint.h"
#include "conductor/player_registry.h"

namespace orchestra::conductor {

class Outbox {
 public:
  // A message for the player session on routing id `peer`.
  void ToPeer(const std::string& peer, std::string payload);
  // A message for player `name`'s live session, whichever it is at Flush().
  void ToPlayer(const std::string& name, std::string payload);
  // A reply on audience endpoint number `endpoint`.
  void ToAudience(size_t endpoint, const std::string& peer, bool request_style,
                  const broker::AudienceReply& reply);

  // The turn's commit failed: nothing that rests on its writes may leave.
  // Messages to players are dropped (tasks are sent again, players resend
  // results), progress messages too, and every final reply becomes an
  // `unavailable` error saying `why`: each request still gets one answer.
  void Abandon(const std::string& why);

  // Sends everything, in order, and empties the outbox.
  void Flush(broker::Endpoint* players,
             const std::vector<broker::Endpoint*>& audience,
             PlayerRegistry* registry, common::TimeMs monotonic);

 private:
  struct Message {
    enum Kind { kPeer, kPlayer, kAudience } kind;
    size_t endpoint;
    std::string to;  // routing id or player name
    bool request_style;
    std::string payload;
    bool final_reply = false;  // to the audience, not a progress message
    broker::RequestId req;     // of a final reply
  };
  std::vector<Message> messages_;
};

}  // namespace orchestra::conductor

#endif  // ORCHESTRA_CONDUCTOR_OUTBOX_H_
