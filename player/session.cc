#include "player/session.h"

#include <algorithm>

namespace orchestra::player {

using common::TimeMs;

namespace {
constexpr int kMissedBeats = 3;
// With the back-off from 100 ms, a silent conductor is given up about
// 0.7 s after the first hello; a refused connection costs no more.
constexpr int kHellosPerConductor = 3;
}  // namespace

Session::Session(TimeMs first_backoff_ms, TimeMs max_backoff_ms)
    : first_backoff_ms_(first_backoff_ms),
      max_backoff_ms_(max_backoff_ms),
      backoff_ms_(first_backoff_ms) {}

void Session::Restart(TimeMs now, bool at_once) {
  state_ = State::kGreeting;
  backing_off_ = !at_once;
  hellos_ = 0;
  next_hello_ = at_once ? now : now + backoff_ms_;
  if (!at_once) backoff_ms_ = std::min(backoff_ms_ * 2, max_backoff_ms_);
}

void Session::MoveOn(TimeMs now) {
  backoff_ms_ = first_backoff_ms_;
  Restart(now, /*at_once=*/true);
}

void Session::OnHelloSent(TimeMs now) {
  last_sent_ = now;
  ++hellos_;
  next_hello_ = now + backoff_ms_;
  backoff_ms_ = std::min(backoff_ms_ * 2, max_backoff_ms_);
}

void Session::OnConnected(TimeMs now) {
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
  hellos_ = 0;
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
  return HelloDue(now) && hellos_ >= kHellosPerConductor;
}

TimeMs Session::NextDeadline() const {
  if (!live()) return next_hello_;
  return std::min(last_sent_ + heartbeat_ms_,
                  last_received_ + kMissedBeats * heartbeat_ms_);
}

}  // namespace orchestra::player
