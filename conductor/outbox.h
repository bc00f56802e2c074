// Outbox holds what each turn of the conductor's loop will send until that
// turn's writes are committed: a player never sees a task, and a client
// never sees a job id, that a crash could take back. A turn is sealed when
// its writes go to the store's thread and released, in order, when they
// are committed; turns commit in order, so the messages of several turns
// in flight leave in the order they were made. When a commit fails the
// turns not yet released are abandoned instead. Sends never block.
//
// What one peer can make us hold is bounded (DESIGN.md section 6): a peer
// gets at most kPeerBytesPerTurn a turn, and nothing while its connection's
// kernel send queue holds more than kBackedUpBytes (it does not read); the
// rest waits here, in order, at most kMaxBacklogPerPeer per peer and
// kMaxBacklog in all, and is dropped with a log line when those are
// exceeded, when the peer takes nothing for kStuckMs, or when it is gone.
// libzmq itself queues at most its high-water mark of messages per peer.
// Dropped messages are safe to lose: tasks are resent, results are resent
// by players, clients time out. Owned by the conductor's loop thread.

#ifndef ORCHESTRA_CONDUCTOR_OUTBOX_H_
#define ORCHESTRA_CONDUCTOR_OUTBOX_H_

#include <deque>
#include <map>
#include <string>
#include <vector>

#include "broker/audience_protocol.h"
#include "broker/endpoint.h"
#include "common/clock.h"
#include "common/rate_limit.h"
#include "conductor/player_registry.h"

namespace orchestra::conductor {

constexpr size_t kPeerBytesPerTurn = 8 << 20;
constexpr size_t kBackedUpBytes = 1 << 20;
constexpr size_t kMaxBacklogPerPeer = 16 << 20;
constexpr size_t kMaxBacklog = 256 << 20;
constexpr common::TimeMs kStuckMs = 10000;

class Outbox {
 public:
  // A message for the player session on routing id `peer`.
  void ToPeer(const std::string& peer, std::string payload);
  // A message for player `name`'s live session, whichever it is at Flush().
  void ToPlayer(const std::string& name, std::string payload);
  // A reply on audience endpoint number `endpoint`; `fd` is the client's
  // connection (-1: unknown), watched for a backed-up send queue. False
  // when the reply was too large and a `too_large` error goes instead.
  bool ToAudience(size_t endpoint, const std::string& peer, bool request_style,
                  const broker::AudienceReply& reply, int fd = -1);

  // What the open turn holds rests on the writes of turn `turn`.
  void Seal(uint64_t turn);
  // Turns up to `turn` are committed: their messages may leave.
  void Release(uint64_t turn);
  // While set, messages rest on nothing uncommitted (replies read from
  // what is committed) and may leave at the next Flush().
  void set_committed_only(bool on) { committed_only_ = on; }

  // A commit failed: nothing that rests on the turns not yet released
  // (and the open one) may leave.
  // Messages to players are dropped (tasks are sent again, players resend
  // results), progress messages too, and every final reply becomes an
  // `unavailable` error saying `why`: each request still gets one answer.
  void Abandon(const std::string& why);

  // Sends what the backlog and the released turns hold, in order per
  // peer, within the bounds above.
  void Flush(broker::Endpoint* players,
             const std::vector<broker::Endpoint*>& audience,
             PlayerRegistry* registry, common::TimeMs monotonic);

  // Messages waiting for a peer to take them: the loop should flush again
  // soon.
  bool HasBacklog() const { return !backlog_.empty(); }
  size_t backlog_bytes() const { return backlog_bytes_; }
  // Bytes this turn will send: the loop ends a turn early past a bound, so
  // that what a turn holds before its commit stays bounded too.
  size_t turn_bytes() const { return turn_bytes_ + ready_bytes_; }
  // Bytes of sealed turns waiting for their commit.
  size_t sealed_bytes() const { return sealed_bytes_; }
  // True when audience peer `peer` has as much waiting as it may: a reply
  // to it now would only be dropped.
  bool IsFull(size_t endpoint, const std::string& peer) const;

 private:
  struct Message {
    enum Kind { kPeer, kPlayer, kAudience } kind = kPeer;
    size_t endpoint = 0;
    std::string to;  // routing id or player name
    bool request_style = false;
    std::string payload;
    int fd = -1;               // the connection, for its kernel send queue
    bool final_reply = false;  // to the audience, not a progress message
    broker::RequestId req;     // of a final reply
  };
  struct PeerBacklog {
    std::deque<Message> waiting;
    size_t bytes = 0;
    common::TimeMs since = 0;  // monotonic: its last progress
  };
  enum class Sent { kYes, kBlocked, kGone };
  // Per flush: what each peer got, and whether its connection is backed up.
  struct Turn {
    std::map<std::string, size_t> bytes;
    std::map<std::string, bool> backed_up;
  };

  // Queues `m` for this turn's Flush().
  void Add(Message m);
  static std::string KeyOf(const Message& m);
  // The error reply `too_large` for a reply to `req` of `size` bytes.
  static std::string TooLarge(const broker::RequestId& req, size_t size);
  // Resolves a message for a player by name to its session, or false when
  // the player has none (what matters is sent again at its next hello).
  bool Resolve(Message* m, PlayerRegistry* registry) const;
  Sent Send(const Message& m, broker::Endpoint* players,
            const std::vector<broker::Endpoint*>& audience,
            PlayerRegistry* registry, common::TimeMs monotonic, Turn* turn);
  // Sends what `peer` has waiting, in order, until one is not sent: kYes
  // when all left.
  Sent Retry(PeerBacklog* peer, broker::Endpoint* players,
             const std::vector<broker::Endpoint*>& audience,
             PlayerRegistry* registry, common::TimeMs monotonic, Turn* turn);
  // Adds `m` to its peer's backlog, or drops it when the bounds are met.
  void Keep(const std::string& key, Message m, common::TimeMs monotonic);
  static const char* Who(const Message& m);
  void LogDrop(const char* who, const char* why, size_t messages,
               common::TimeMs monotonic);

  struct Sealed {
    uint64_t turn = 0;
    std::vector<Message> messages;
    size_t bytes = 0;
  };
  // Turns the abandoned messages into `unavailable` replies to `why`
  // (final replies only), appended to ready_.
  void AbandonAll(std::vector<Message>* messages, const std::string& why);

  std::vector<Message> messages_;  // the open turn
  size_t turn_bytes_ = 0;
  std::deque<Sealed> sealed_;
  size_t sealed_bytes_ = 0;
  std::vector<Message> ready_;  // to send at the next Flush()
  size_t ready_bytes_ = 0;
  bool committed_only_ = false;
  std::map<std::string, PeerBacklog> backlog_;
  size_t backlog_bytes_ = 0;
  common::RateLimit drop_log_{10, 60000};  // lines a minute, in all
};

}  // namespace orchestra::conductor

#endif  // ORCHESTRA_CONDUCTOR_OUTBOX_H_
