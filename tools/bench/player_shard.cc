// One thread serves all the shard's players through one epoll set of their
// sockets' ZMQ_FD descriptors (zmq_poll over thousands of sockets would
// cost O(players) a turn). ZMQ_FD only signals that the socket may have
// news, so every wake-up, and every send, drains the socket until
// ZMQ_EVENTS says nothing waits.

#include "tools/bench/player_shard.h"

#include <sys/epoll.h>
#include <unistd.h>

#include <cerrno>

namespace orchestra::bench {

using common::Status;

namespace {

constexpr int kHeartbeatScanMs = 100;
// A cell's players run their session timers (hello back-off from 100 ms)
// and read their monitors this often: each scan costs a few libzmq calls a
// player, so more often would make the shard, not the conductor, the
// bottleneck.
constexpr int kCellScanMs = 50;
constexpr int kEvents = 256;

common::TimeMs NowMs() { return MonotonicNs() / 1000000; }

}  // namespace

PlayerShard::PlayerShard(const ShardSettings& settings,
                         std::vector<const broker::CurveKeyPair*> keys,
                         ShardCounters* counters)
    : settings_(settings), keys_(std::move(keys)), counters_(counters) {
  result_.state = broker::TaskState::kOk;
  result_.exit_code = 0;
}

PlayerShard::~PlayerShard() {
  players_.clear();  // sockets before the context
  context_.reset();
  if (epoll_ >= 0) ::close(epoll_);
}

Status PlayerShard::Connect() {
  epoll_ = ::epoll_create1(EPOLL_CLOEXEC);
  if (epoll_ < 0) return Status::FromErrno("epoll", errno);
  // A cell's player has a second socket (its monitor) and libzmq one more
  // (the monitor's other end), and sockets closed by a move count until
  // libzmq has reaped them.
  context_ = std::make_unique<broker::Context>(
      1, static_cast<int>(keys_.size()) * (cell() ? 6 : 1) + 1024);
  broker::Hello hello;
  hello.version = "bench";
  hello.slots = settings_.slots;
  hello.scores.push_back(
      broker::ScoreInfo{settings_.score, std::string(64, '0'), "env"});
  hello_ = broker::EncodePlayerMessage(hello);
  players_.reserve(keys_.size());
  for (size_t i = 0; i < keys_.size(); ++i) {
    players_.emplace_back(settings_.endpoints);
    Status s = Open(i);
    if (!s.ok()) return s;
  }
  return Status();
}

Status PlayerShard::Open(size_t i) {
  Player& p = players_[i];
  broker::EndpointOptions options;
  options.curve_server_public = settings_.server_public_key;
  options.curve_client = keys_[i];
  options.reconnect_ms = 100;
  options.reconnect_max_ms = 1000;
  // As the real player: hellos are not queued for a conductor not there.
  options.immediate = cell();
  auto dealer = broker::Endpoint::Dealer(context_.get(), "player", options);
  if (!dealer.ok()) return dealer.status();
  p.dealer = std::move(dealer.value());
  if (cell()) {
    auto monitor = broker::SocketMonitor::Attach(
        context_.get(), p.dealer.get(),
        ZMQ_EVENT_CONNECTED | ZMQ_EVENT_CONNECT_RETRIED |
            ZMQ_EVENT_HANDSHAKE_SUCCEEDED | ZMQ_EVENT_DISCONNECTED);
    if (!monitor.ok()) {
      p.dealer.reset();
      return monitor.status();
    }
    p.monitor = std::move(monitor.value());
  }
  Status s = p.dealer->Connect(p.conductors.current());
  epoll_event event{};
  event.events = EPOLLIN;
  event.data.u64 = i;
  if (s.ok() && ::epoll_ctl(epoll_, EPOLL_CTL_ADD, p.dealer->fd(), &event) != 0)
    s = Status::FromErrno("epoll_ctl", errno);
  if (!s.ok()) {
    Close(i);
    return s;
  }
  if (!cell()) {
    s = p.dealer->Send(hello_);  // Queued until the handshake is done.
    if (!s.ok()) return s;
    p.last_sent_ns = MonotonicNs();
  }
  return Status();
}

void PlayerShard::Close(size_t i) {
  Player& p = players_[i];
  if (!p.dealer) return;
  if (p.monitor) {
    broker::SocketMonitor::Detach(p.dealer.get());
    p.monitor.reset();
  }
  ::epoll_ctl(epoll_, EPOLL_CTL_DEL, p.dealer->fd(), nullptr);
  p.dealer.reset();
}

Status PlayerShard::Run(const volatile bool* stop) {
  Status s = Connect();
  if (!s.ok()) return s;
  for (Player& p : players_) Drain(&p);
  const int scan_ms = cell() ? kCellScanMs : kHeartbeatScanMs;
  int64_t next_scan = MonotonicNs();
  epoll_event events[kEvents];
  while (!*stop) {
    int n = ::epoll_wait(epoll_, events, kEvents, scan_ms);
    if (n < 0 && errno != EINTR) return Status::FromErrno("epoll", errno);
    for (int i = 0; i < n; ++i) Drain(&players_[events[i].data.u64]);
    if (MonotonicNs() >= next_scan) {
      if (cell()) {
        for (size_t i = 0; i < players_.size(); ++i) RunTimers(i);
      } else {
        SendHeartbeats();
      }
      next_scan = MonotonicNs() + scan_ms * 1000000LL;
    }
  }
  return Status();
}

void PlayerShard::Drain(Player* player) {
  while (player->dealer && player->dealer->HasInput()) {
    while (std::optional<broker::Inbound> in = player->dealer->TryReceive()) {
      player->session.OnReceived(NowMs());
      common::Result<broker::PlayerMessage> message =
          broker::DecodePlayerMessage(in->payload);
      if (message.ok()) OnMessage(player, message.value());
      if (!player->dealer) return;  // moved on: a new socket
    }
  }
}

void PlayerShard::OnMessage(Player* player,
                            const broker::PlayerMessage& message) {
  const int64_t now = MonotonicNs();
  if (const auto* welcome = std::get_if<broker::Welcome>(&message)) {
    if (!player->live) counters_->welcomed.fetch_add(1);
    player->live = true;
    player->heartbeat_ms = welcome->heartbeat_ms;
    player->conductors.OnWelcome();
    player->session.OnWelcome(now / 1000000, welcome->heartbeat_ms);
    StoreMax(&counters_->last_welcome_ns, now);
  } else if (const auto* task = std::get_if<broker::RunTask>(&message)) {
    counters_->tasks.fetch_add(1);
    StoreMax(&counters_->last_task_ns, now);
    Send(player, broker::Accepted{task->task});
    result_.task = task->task;
    result_.started_at = result_.finished_at = common::SystemClock().Now();
    Send(player, result_);
  } else if (std::holds_alternative<broker::ResultAck>(message)) {
    counters_->acks.fetch_add(1);
    StoreMax(&counters_->last_ack_ns, now);
  } else if (const auto* error = std::get_if<broker::SessionError>(&message)) {
    OnSessionError(player, *error);
  }
}

void PlayerShard::OnSessionError(Player* player,
                                 const broker::SessionError& error) {
  player->live = false;
  if (!cell()) {
    counters_->refused.fetch_add(1);
    return;
  }
  const common::TimeMs now = NowMs();
  if (error.code == "hello_required") {
    player->session.Restart(now, /*at_once=*/true);
  } else if (error.code == "not_leader") {
    MoveOn(player - players_.data(), error.leader);
  } else {
    counters_->refused.fetch_add(1);
    player->session.Restart(now, /*at_once=*/false);
  }
}

void PlayerShard::Send(Player* player, const broker::PlayerMessage& message) {
  if (player->dealer &&
      player->dealer->Send(broker::EncodePlayerMessage(message)).ok()) {
    player->last_sent_ns = MonotonicNs();
    player->session.OnSent(player->last_sent_ns / 1000000);
  }
}

// The player protocol's own liveness: a heartbeat after heartbeat_ms
// without sending anything.
void PlayerShard::SendHeartbeats() {
  const int64_t now = MonotonicNs();
  for (Player& p : players_) {
    if (!p.live || p.heartbeat_ms <= 0 ||
        now - p.last_sent_ns < p.heartbeat_ms * 1000000LL)
      continue;
    Send(&p, broker::Heartbeat{});
    counters_->heartbeats.fetch_add(1);
    Drain(&p);
  }
}

// A completed handshake greets at once; a dropped connection moves on at
// once (the conductor died or was deposed).
void PlayerShard::WatchConnection(size_t i) {
  Player& p = players_[i];
  if (!p.dealer || !p.monitor) return;
  int event = 0, value = 0;
  bool dropped = false;
  while (p.monitor->TryRead(&event, &value)) {
    dropped |= broker::SocketMonitor::IsDisconnected(event);
    if (event == ZMQ_EVENT_CONNECTED) p.session.OnTransportUp(NowMs());
    if (event == ZMQ_EVENT_CONNECT_RETRIED) p.session.OnRefused();
    if (broker::SocketMonitor::IsHandshakeSucceeded(event))
      p.session.OnConnected(NowMs());
  }
  if (dropped) {
    p.live = false;
    MoveOn(i, "");
  }
}

// A move that found no socket (libzmq had not reaped enough closed ones
// yet) tries again here.
void PlayerShard::RunTimers(size_t i) {
  Player& p = players_[i];
  if (!p.dealer && !Open(i).ok()) return;
  WatchConnection(i);
  if (!p.dealer) return;  // Moved on, and found no socket yet
  const common::TimeMs now = NowMs();
  if (p.session.ConductorGone(now) || p.session.HellosUnanswered(now)) {
    p.live = false;
    MoveOn(i, "");
    return;
  }
  bool sent = false;
  if (p.session.HelloDue(now)) {
    if (p.dealer->Send(hello_).ok()) p.last_sent_ns = MonotonicNs();
    p.session.OnHelloSent(now);
    sent = true;
  }
  if (p.session.HeartbeatDue(now)) {
    Send(&p, broker::Heartbeat{});
    counters_->heartbeats.fetch_add(1);
    sent = true;
  }
  if (sent) Drain(&p);  // A send may take ZMQ_FD's signal
}

void PlayerShard::MoveOn(size_t i, const std::string& hint) {
  Player& p = players_[i];
  counters_->moves.fetch_add(1);
  if (hint.empty() || !p.conductors.Follow(hint).ok()) p.conductors.Next();
  const common::TimeMs now = NowMs();
  p.session.MoveOn(now, p.conductors.NextGreetingDelay());
  Close(i);
  if (!Open(i).ok()) counters_->open_failures.fetch_add(1);
}

}  // namespace orchestra::bench
