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
constexpr int kEvents = 256;

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
  context_ = std::make_unique<broker::Context>(
      1, static_cast<int>(keys_.size()) + 64);
  broker::Hello hello;
  hello.version = "bench";
  hello.slots = settings_.slots;
  hello.scores.push_back(
      broker::ScoreInfo{settings_.score, std::string(64, '0'), "env"});
  const std::string hello_bytes = broker::EncodePlayerMessage(hello);
  players_.resize(keys_.size());
  for (size_t i = 0; i < keys_.size(); ++i) {
    broker::EndpointOptions options;
    options.curve_server_public = settings_.server_public_key;
    options.curve_client = keys_[i];
    options.reconnect_ms = 100;
    options.reconnect_max_ms = 1000;
    auto dealer = broker::Endpoint::Dealer(context_.get(), "player", options);
    if (!dealer.ok()) return dealer.status();
    Player& p = players_[i];
    p.dealer = std::move(dealer.value());
    Status s = p.dealer->Connect(settings_.endpoint);
    if (!s.ok()) return s;
    epoll_event event{};
    event.events = EPOLLIN;
    event.data.u64 = i;
    if (::epoll_ctl(epoll_, EPOLL_CTL_ADD, p.dealer->fd(), &event) != 0)
      return Status::FromErrno("epoll_ctl", errno);
    s = p.dealer->Send(hello_bytes);  // Queued until the handshake is done.
    if (!s.ok()) return s;
    p.last_sent_ns = MonotonicNs();
  }
  return Status();
}

Status PlayerShard::Run(const volatile bool* stop) {
  Status s = Connect();
  if (!s.ok()) return s;
  for (Player& p : players_) Drain(&p);
  int64_t next_scan = MonotonicNs();
  epoll_event events[kEvents];
  while (!*stop) {
    int n = ::epoll_wait(epoll_, events, kEvents, kHeartbeatScanMs);
    if (n < 0 && errno != EINTR) return Status::FromErrno("epoll", errno);
    for (int i = 0; i < n; ++i) Drain(&players_[events[i].data.u64]);
    if (MonotonicNs() >= next_scan) {
      SendHeartbeats();
      next_scan = MonotonicNs() + kHeartbeatScanMs * 1000000LL;
    }
  }
  return Status();
}

void PlayerShard::Drain(Player* player) {
  while (player->dealer->HasInput()) {
    while (std::optional<broker::Inbound> in = player->dealer->TryReceive()) {
      common::Result<broker::PlayerMessage> message =
          broker::DecodePlayerMessage(in->payload);
      if (message.ok()) OnMessage(player, message.value());
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
  } else if (std::holds_alternative<broker::SessionError>(message)) {
    counters_->refused.fetch_add(1);
    player->live = false;
  }
}

void PlayerShard::Send(Player* player, const broker::PlayerMessage& message) {
  if (player->dealer->Send(broker::EncodePlayerMessage(message)).ok())
    player->last_sent_ns = MonotonicNs();
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

}  // namespace orchestra::bench
