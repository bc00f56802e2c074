// Session decides when the player greets the conductor, when it beats and
// when it gives the conductor up, from monotonic time alone: no sockets, so
// it is plain logic (the Player loop does the sending). States:
//
//   kGreeting --welcome--> kLive --silence 3 x heartbeat / error--> kGreeting
//   kGreeting: hello now, then again with back-off (100 ms doubling to 5 s)
//   kLive: heartbeat when nothing was sent for heartbeat_ms
//
// A conductor that leaves hellos unanswered may be one of a cell that is
// down or unreachable: HellosUnanswered() tells the player when to try
// another (see ConductorList). Before a TCP connection is made that is
// 0.7 s after the greeting began, or at once after a refused connect:
// nobody is there. After it, the conductor is there and may be busy with
// a whole fleet's handshakes and hellos after a failover: leaving it after
// 0.7 s would send thousands of players to the standbys and back, each
// time with a new handshake for the new leader to make, so the player
// waits `answer_wait_ms` (10 s) for an answer.

#ifndef ORCHESTRA_PLAYER_SESSION_H_
#define ORCHESTRA_PLAYER_SESSION_H_

#include "common/clock.h"

namespace orchestra::player {

class Session {
 public:
  enum class State { kGreeting, kLive };

  Session(common::TimeMs first_backoff_ms, common::TimeMs max_backoff_ms,
          common::TimeMs answer_wait_ms = 10000,
          common::TimeMs connect_wait_ms = 700);

  // Greets again: at once (a first start, `hello_required`) or after the
  // back-off (a new socket after the conductor was lost).
  void Restart(common::TimeMs now, bool at_once);
  // Greets another conductor after `delay_ms` (see
  // ConductorList::NextGreetingDelay), with the first back-off, as a first
  // start does.
  void MoveOn(common::TimeMs now, common::TimeMs delay_ms = 0);
  void OnHelloSent(common::TimeMs now);
  // A connection's handshake completed. A live session greets again at
  // once (a restarted conductor knows no session until a hello), and so
  // does a greeting that only waited for a connection; the back-off after
  // a refusal or a lost conductor is kept.
  void OnConnected(common::TimeMs now);
  // The connection's TCP connect completed: a conductor is there, though
  // its handshake may wait behind a fleet's (see HellosUnanswered).
  void OnTransportUp(common::TimeMs now);
  // A connect attempt failed (refused: nobody listens there): the
  // conductor is given up as soon as the greeting's back-off allows.
  void OnRefused() { refused_ = true; }
  void OnWelcome(common::TimeMs now, int heartbeat_ms);
  // Any message received, or any send attempted.
  void OnReceived(common::TimeMs now) { last_received_ = now; }
  void OnSent(common::TimeMs now) { last_sent_ = now; }

  bool HelloDue(common::TimeMs now) const;
  bool HeartbeatDue(common::TimeMs now) const;
  // Live, and nothing came from the conductor for 3 x heartbeat_ms.
  bool ConductorGone(common::TimeMs now) const;
  // Greeting, and `connect_wait_ms` passed since the greeting began with
  // no connection (none once a connect was refused), or `answer_wait_ms`
  // since the connection was made: time to try another conductor, if
  // there is one.
  bool HellosUnanswered(common::TimeMs now) const;
  // When one of the three above next becomes true.
  common::TimeMs NextDeadline() const;

  bool live() const { return state_ == State::kLive; }

 private:
  // When a greeting without an answer gives the conductor up.
  common::TimeMs GiveUpAt() const;

  common::TimeMs first_backoff_ms_;
  common::TimeMs max_backoff_ms_;
  common::TimeMs answer_wait_ms_;
  common::TimeMs connect_wait_ms_;
  State state_ = State::kGreeting;
  common::TimeMs backoff_ms_;
  common::TimeMs next_hello_ = 0;
  bool backing_off_ = false;  // Restart(at_once = false) until the welcome
  common::TimeMs greeting_at_ = 0;  // When the first hello was due
  bool connected_ = false;  // A connection since the last (re)start
  bool refused_ = false;    // A refused connect since then
  common::TimeMs connected_at_ = 0;
  common::TimeMs heartbeat_ms_ = 0;
  common::TimeMs last_sent_ = 0;
  common::TimeMs last_received_ = 0;
};

}  // namespace orchestra::player

#endif  // ORCHESTRA_PLAYER_SESSION_H_
