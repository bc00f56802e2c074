#include "player/session.h"

#include <algorithm>

namespace orchestra::player {

using common::TimeMs;

namespace {
constexpr int kMissedBeats = 3;
}  // namespace

Session::Session(TimeMs first_backoff_ms, TimeMs max_backoff_ms,
                 TimeMs answer_wait_ms, TimeMs connect_wait_ms)
    : first_backoff_ms_(first_backoff_ms),
      max_backoff_ms_(max_backoff_ms),
      answer_wait_ms_(answer_wait_ms),
      connect_wait_ms_(connect_wait_ms),
      backoff_ms_(first_backoff_ms) {}

void Session::Restart(TimeMs now, bool at_once) {
  state_ = State::kGreeting;
  backing_off_ = !at_once;
  if (!at_once) connected_ = refused_ = false;  // A new socket follows
  next_hello_ = at_once ? now : now + backoff_ms_;
  greeting_at_ = next_hello_;
  if (!at_once) backoff_ms_ = std::min(backoff_ms_ * 2, max_backoff_ms_);
}

void Session::MoveOn(TimeMs now, TimeMs delay_ms) {
  backoff_ms_ = first_backoff_ms_;
  Restart(now, /*at_once=*/true);
  connected_ = refused_ = false;  // A new socket follows
  backing_off_ = delay_ms > 0;
  next_hello_ = greeting_at_ = now + delay_ms;
}

void Session::OnHelloSent(TimeMs now) {
  last_sent_ = now;
  next_hello_ = now + backoff_ms_;
  backoff_ms_ = std::min(backoff_ms_ * 2, max_backoff_ms_);
}

void Session::OnTransportUp(TimeMs now) {
  if (connected_) return;
  connected_ = true;
  connected_at_ = now;
}

void Session::OnConnected(TimeMs now) {
  OnTransportUp(now);
  if (live()) {
    state_ = State::kGreeting;
    next_hello_ = now;
  } else if (!backing_off_) {
    next_hello_ = now;
  }
}

void Session::OnWelcome(TimeMs now, int heartbeat_ms) {
  state_ = State::kLive;
  backing_off_ = false;
  heartbeat_ms_ = heartbeat_ms;
  backoff_ms_ = first_backoff_ms_;
  last_received_ = now;
}

bool Session::HelloDue(TimeMs now) const {
  return state_ == State::kGreeting && now >= next_hello_;
}

bool Session::HeartbeatDue(TimeMs now) const {
  return live() && now - last_sent_ >= heartbeat_ms_;
}

bool Session::ConductorGone(TimeMs now) const {
  return live() && now - last_received_ >= kMissedBeats * heartbeat_ms_;
}

bool Session::HellosUnanswered(TimeMs now) const {
  return state_ == State::kGreeting && now >= GiveUpAt();
}

TimeMs Session::GiveUpAt() const {
  if (connected_) return connected_at_ + answer_wait_ms_;
  return refused_ ? greeting_at_ : greeting_at_ + connect_wait_ms_;
}

TimeMs Session::NextDeadline() const {
  if (!live()) return std::min(next_hello_, GiveUpAt());
  return std::min(last_sent_ + heartbeat_ms_,
                  last_received_ + kMissedBeats * heartbeat_ms_);
}

}  // namespace orchestra::player
