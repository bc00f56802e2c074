// The loop: poll (until the next timer) -> answer ZAP -> drain the player
// endpoint and each audience endpoint (bounded batches, so one busy peer
// cannot starve the rest) -> run due timers -> end the turn: commit, then
// send. Because every write of a turn shares one transaction, durability
// costs one fsync per turn, not one per message (group commit).
//
// When a write or the commit fails (disk full, I/O error, read-only file
// system), the turn is undone rather than the process ended: its writes
// are rolled back, its outbox is abandoned (no job id, result_ack or task
// that rests on them leaves; each request it answered is told
// `unavailable`), the JobBoard reloads what is committed, and every player
// session ends with `hello_required`, so that each player's next hello says
// what it holds. The store then counts as failed (StoreHealth): nothing
// writes, submits and cancels are `unavailable`, results and `accepted` go
// unacknowledged (players resend them), reads answer from what is
// committed. Every second a probe commits one page; once one does,
// Reconcile() does in one transaction what a start does (keys, sessions,
// recovery of the jobs) and reconciles the sessions opened meanwhile as at
// their hello. A failed start-up recovery starts the conductor in the same
// state.

#include "conductor/conductor.h"

#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>

#include "broker/curve_keys.h"
#include "common/files.h"
#include "common/log.h"
#include "conductor/audience_socket.h"
#include "conductor/players_file.h"

namespace orchestra::conductor {

using common::Result;
using common::Status;

namespace {

constexpr size_t kBatch = 4096;  // messages per endpoint per turn
// A turn ends early once its replies and messages reach this: they are
// held until the turn's commit.
constexpr size_t kTurnBytes = 16 << 20;
// A turn also ends early after this long handling one endpoint's messages,
// so a peer flooding large messages cannot keep the others waiting.
constexpr common::TimeMs kTurnMs = 50;
constexpr common::TimeMs kWaitTickMs = 50;
constexpr common::TimeMs kExpiryTickMs = 1000;
constexpr int kAudienceLingerMs = 1000;  // last replies, when stopping
// Connections the kernel queues before the conductor accepts them. With
// libzmq's 100, a fleet reconnecting at once (a conductor restart)
// overflowed the queue, and the dropped players waited out TCP's SYN
// back-off (1, 3, 7, 15 s...). The kernel caps it at net.core.somaxconn.
// Both shrink under a low descriptor limit (DescriptorBudget::Backlog).
constexpr int kPlayerBacklog = 8192;
constexpr int kAudienceBacklog = 100;  // libzmq's
// What one peer may make a conductor socket hold (DESIGN.md section 6):
// messages libzmq queues to it and from it, and how long a connection that
// has not finished its handshake keeps its descriptor (libzmq: 30 s).
constexpr int kPeerSendHwm = 1000;
constexpr int kPeerReceiveHwm = 100;
constexpr int kHandshakeMs = 5000;
// How soon the loop flushes again while the outbox holds a backlog.
constexpr common::TimeMs kBacklogRetryMs = 10;

// The options every conductor socket shares.
broker::EndpointOptions PeerLimits() {
  broker::EndpointOptions options;
  options.send_hwm = kPeerSendHwm;
  options.receive_hwm = kPeerReceiveHwm;
  options.handshake_ms = kHandshakeMs;
  return options;
}

}  // namespace

Conductor::Conductor(const std::string& config_path,
                     const ConductorConfig& config, common::SignalFd signals)
    : config_path_(config_path),
      config_(std::make_unique<ConductorConfig>(config)),
      signals_(std::move(signals)),
      authenticator_(&context_) {}

Result<std::unique_ptr<Conductor>> Conductor::Create(
    const std::string& config_path, const ConductorConfig& config,
    common::SignalFd signals) {
  std::unique_ptr<Conductor> conductor(
      new Conductor(config_path, config, std::move(signals)));
  Status s = conductor->Start();
  if (!s.ok()) return s;
  return conductor;
}

Status Conductor::Start() {
  Status s = LockDatabase();
  if (!s.ok()) return s;
  Result<std::unique_ptr<JobStore>> store =
      JobStore::Open(config_->database_path);
  if (!store.ok()) return store.status();
  store_ = std::move(store.value());
  Result<std::unique_ptr<PlayerStore>> player_store =
      PlayerStore::Create(store_->database(), store_->turn());
  if (!player_store.ok()) return player_store.status();
  player_store_ = std::move(player_store.value());
  Result<TrustFiles> trust = TrustFiles::Load(*config_);
  if (!trust.ok()) return trust.status();
  board_ = std::make_unique<JobBoard>(store_.get(), &scheduler_, &clock_,
                                      trust_.listed());
  player_channel_ = std::make_unique<PlayerChannel>(
      config_.get(), &trust_, &registry_, board_.get(), player_store_.get(),
      &health_, &outbox_, &clock_);
  audience_channel_ = std::make_unique<AudienceChannel>(
      config_.get(), &trust_, &registry_, board_.get(), store_.get(), &health_,
      &outbox_, &clock_);
  retention_ =
      std::make_unique<Retention>(config_.get(), store_.get(), &clock_);
  InstallTrust(std::move(trust.value()));
  s = RememberPlayers();
  if (!s.ok()) return s;
  // A database it can read but not write does not keep the conductor
  // from starting: it starts with the store failed.
  s = Reconcile();
  if (s.ok()) s = EndTurn();
  if (!s.ok()) s = StoreFailed(s);
  if (!s.ok()) return s;
  common::LogInfo("recovered jobs=%zu queued=%zu", board_->active_jobs(),
                  scheduler_.queued());
  Result<std::unique_ptr<DescriptorGuard>> guard =
      DescriptorGuard::Create(&context_);
  if (!guard.ok()) return guard.status();
  guard_ = std::move(guard.value());
  s = authenticator_.Start();
  if (s.ok()) s = BindEndpoints();
  if (s.ok()) s = guard_->Start();
  if (!s.ok()) return s;
  StartTimers();
  return Status();
}

// Our secret key is read once and dropped (zeroed) when every endpoint has
// it: libzmq keeps its own copy in each socket.
Status Conductor::BindEndpoints() {
  Result<broker::CurveKeyPair> keys =
      broker::ReadSecretKeyFile(config_->secret_key_file);
  if (!keys.ok()) return keys.status();
  Status s = BindPlayers(keys.value());
  for (const std::string& address : config_->audience_endpoints) {
    if (s.ok()) s = BindAudience(address, keys.value());
  }
  return s;
}

Status Conductor::LockDatabase() {
  const std::string path = config_->database_path + ".lock";
  lock_.Reset(::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600));
  if (!lock_.valid()) return Status::FromErrno(path, errno);
  if (::flock(lock_.get(), LOCK_EX | LOCK_NB) != 0)
    return Status::Conflict(config_->database_path,
                            "another conductor is using this database");
  return Status();
}

// Installs new trust lists in memory and in the authenticator; returns the
// players cut off (removed, re-keyed or revoked). Connections of audience
// keys taken back are refused from their next request on.
std::vector<std::string> Conductor::InstallTrust(TrustFiles files) {
  std::vector<std::string> cut = trust_.Install(std::move(files));
  authenticator_.SetPlayers(trust_.PlayerNamesByKey());
  authenticator_.SetRevoked(std::unordered_set<std::string>(
      trust_.files().revoked.begin(), trust_.files().revoked.end()));
  authenticator_.SetAudienceKeys(trust_.AudienceNamesByKey());
  authenticator_.SetEpoch(trust_.epoch());
  audience_channel_->TrustChanged();
  return cut;
}

// Installs new trust lists. Players cut off lose their connections at once
// and their unfinished tasks end ABORTED. While the store fails, the keys
// and the aborts wait for Reconcile() (which records every key and aborts
// what unlisted players hold); the connections are closed all the same.
Status Conductor::ApplyTrust(TrustFiles files) {
  std::vector<std::string> cut = InstallTrust(std::move(files));
  Status s = health_.writable() ? SavePlayerKeys() : Status();
  for (const std::string& name : cut) {
    common::LogWarning("player cut off player=%s reason=removed-or-revoked",
                       name.c_str());
    Status aborted = health_.writable() ? board_->AbortPlayer(name) : Status();
    Status ended = player_channel_->CutOff(name, "removed-or-revoked");
    if (s.ok()) s = aborted.ok() ? ended : aborted;
  }
  return s;
}

Status Conductor::SavePlayerKeys() {
  for (const auto& [name, key] : trust_.files().players) {
    if (!trust_.listed()->count(name)) continue;  // Revoked
    Status s = player_store_->SaveKey(name, key);
    if (!s.ok()) return s;
  }
  return Status();
}

Status Conductor::BindPlayers(const broker::CurveKeyPair& keys) {
  broker::EndpointOptions options = PeerLimits();
  options.curve_server_secret = &keys.secret_key;
  options.zap_domain = broker::kPlayerDomain;
  // No ZMTP heartbeats here: the player protocol's own heartbeats already
  // tell a silent player (player timeout), and libzmq 4.3's timers cancel
  // in time linear in the number of timers, so a heartbeat timer on every
  // session made each message cost O(players) in the I/O thread (40% of
  // its time with 3,000 players, and reconnecting 3,000 players took 30 s).
  options.heartbeat_ms = 0;
  options.backlog = guard_->Backlog(kPlayerBacklog);
  Result<std::unique_ptr<broker::Endpoint>> endpoint =
      broker::Endpoint::Router(&context_, "player endpoint", options);
  if (!endpoint.ok()) return endpoint.status();
  players_ = std::move(endpoint.value());
  Status s =
      guard_->Watch(players_.get(), config_->player_endpoint, options.backlog);
  if (!s.ok()) return s;
  Result<std::string> bound = players_->Bind(config_->player_endpoint);
  if (!bound.ok()) return bound.status();
  common::LogInfo("bound endpoint=%s role=players key=%s",
                  bound.value().c_str(),
                  broker::KeyFingerprint(keys.public_key).c_str());
  return Status();
}

Status Conductor::BindAudience(const std::string& address,
                               const broker::CurveKeyPair& keys) {
  broker::EndpointOptions options = PeerLimits();
  options.zap_domain = broker::kAudienceDomain;
  options.linger_ms = kAudienceLingerMs;
  const bool ipc = !IpcPath(address).empty();
  if (!ipc) options.curve_server_secret = &keys.secret_key;
  options.backlog = guard_->Backlog(kAudienceBacklog);
  Result<std::unique_ptr<broker::Endpoint>> endpoint =
      broker::Endpoint::Router(&context_, "audience endpoint", options);
  if (!endpoint.ok()) return endpoint.status();
  // Kept even if its bind fails (the start then fails): the guard watches
  // it until the guard is destroyed.
  audience_.push_back(std::move(endpoint.value()));
  broker::Endpoint* audience = audience_.back().get();
  Status s = guard_->Watch(audience, address, options.backlog);
  if (!s.ok()) return s;
  Result<std::string> bound =
      ipc ? BindAudienceSocket(audience, address) : audience->Bind(address);
  if (!bound.ok()) return bound.status();
  common::LogInfo("bound endpoint=%s role=audience", bound.value().c_str());
  return Status();
}

// An ipc audience socket: reachable by our user only until it has the
// configured group and mode (see audience_socket.h).
Result<std::string> Conductor::BindAudienceSocket(broker::Endpoint* endpoint,
                                                  const std::string& address) {
  gid_t group = static_cast<gid_t>(-1);
  if (!config_->audience_socket_group.empty()) {
    struct group* g = ::getgrnam(config_->audience_socket_group.c_str());
    if (g == nullptr)
      return Status::InvalidArgument(config_path_,
                                     "audience socket group '" +
                                         config_->audience_socket_group +
                                         "' does not exist");
    group = g->gr_gid;
  }
  Result<std::string> bound =
      BindIpcSocket(endpoint, address, config_->audience_socket_mode, group);
  if (!bound.ok()) {
    const Status& s = bound.status();
    if (s.code() != Status::Code::kInvalidArgument) return s;
    return Status::InvalidArgument(config_path_ + ": 'audience endpoint'",
                                   s.message());
  }
  ipc_paths_.push_back(IpcPath(address));
  return bound;
}

Status Conductor::RememberPlayers() {
  Result<std::vector<StoredPlayer>> players = player_store_->LoadKnown();
  if (!players.ok()) return players.status();
  for (StoredPlayer& p : players.value()) {
    PlayerState state;
    state.name = p.name;
    state.version = p.version;
    state.slots = p.slots;
    state.last_seen = p.last_seen;
    state.scores = std::move(p.scores);
    state.scores_known = p.scores_known;
    registry_.Remember(std::move(state));
  }
  return Status();
}

void Conductor::StartTimers() {
  const common::TimeMs now = clock_.Monotonic();
  timers_.Every("sessions", config_->heartbeat_interval_ms / 2, now,
                [this] { return player_channel_->Tick(); });
  timers_.Every("waits", kWaitTickMs, now, [this] {
    audience_channel_->Tick();
    return Status();
  });
  timers_.Every("resends", config_->dispatch_retry_ms / 4 + 1, now, [this] {
    return board_->ResendUnaccepted(config_->dispatch_retry_ms);
  });
  timers_.Every("expiry", kExpiryTickMs, now, [this] {
    if (!health_.writable()) return Status();  // They expire once it is
    return board_->ExpireUndelivered([this](const std::string& name) {
      return registry_.IsConnected(name);
    });
  });
  timers_.Every("retention", retention_->IdlePeriod(), now, [this] {
    if (!health_.writable()) return Status();
    Result<common::TimeMs> next = retention_->Tick();
    if (!next.ok()) return next.status();
    timers_.SetPeriod("retention", next.value());
    return Status();
  });
  timers_.Every("store", kStoreRetryMs, now, [this] {
    RetryStore();
    return Status();
  });
}

std::string Conductor::Describe() const {
  return "players=" + std::to_string(trust_.listed()->size()) +
         " connected=" + std::to_string(registry_.connected()) +
         " jobs=" + std::to_string(board_->active_jobs());
}

Status Conductor::Run() {
  common::LogInfo("started players=%zu jobs=%zu", trust_.listed()->size(),
                  board_->active_jobs());
  notifier_.Ready("serving " + Describe());
  // A busy turn logs a line per job or player: they leave in one write at
  // the end of the turn (EndTurn) instead of a system call each.
  common::HoldLogLines(true);
  Status s;
  while (!stop_ && s.ok()) s = Turn();
  common::HoldLogLines(false);
  notifier_.Stopping(s.ok() ? "stopping" : "poll failed");
  if (!s.ok()) {
    common::LogError("stopping: poll failed error=%s",
                     common::LogQuote(s.ToString()).c_str());
    return s;
  }
  AnswerBeforeStopping();
  for (const std::string& path : ipc_paths_) ::unlink(path.c_str());
  common::LogInfo("stopped jobs=%zu", board_->active_jobs());
  return Status();
}

Status Conductor::Turn() {
  poller_.Clear();
  const size_t signal_item = poller_.AddFd(signals_.fd());
  const size_t zap_item = poller_.AddSocket(authenticator_.handle());
  const size_t player_item = poller_.AddSocket(players_->handle());
  std::vector<size_t> audience_items;
  for (auto& endpoint : audience_)
    audience_items.push_back(poller_.AddSocket(endpoint->handle()));
  common::TimeMs now = clock_.Monotonic();
  common::TimeMs timeout = timers_.TimeUntilNext(now);
  if (notifier_.NextKeepAlive() > 0)
    timeout = std::min(
        timeout, std::max<common::TimeMs>(0, notifier_.NextKeepAlive() - now));
  if (outbox_.HasBacklog()) timeout = std::min(timeout, kBacklogRetryMs);
  Status s = poller_.Wait(timeout);
  if (!s.ok()) return s;
  notifier_.KeepAlive(clock_.Monotonic());
  guard_->LogReports(clock_.Monotonic());
  if (poller_.IsReady(signal_item)) HandleSignals();
  if (poller_.IsReady(zap_item)) authenticator_.HandleRequests();
  s = Serve(player_item, audience_items);
  if (s.ok()) s = EndTurn();
  if (!s.ok()) (void)StoreFailed(s);  // Logged there; the loop goes on
  return Status();
}

// A non-OK status is a failed store write: the turn is to be undone.
Status Conductor::Serve(size_t player_item,
                        const std::vector<size_t>& audience_items) {
  Status s;
  if (poller_.IsReady(player_item)) s = Drain(players_.get(), SIZE_MAX);
  for (size_t i = 0; s.ok() && i < audience_.size(); ++i) {
    if (poller_.IsReady(audience_items[i])) s = Drain(audience_[i].get(), i);
  }
  if (s.ok()) s = timers_.RunDue(clock_.Monotonic());
  if (s.ok() && reload_) {
    notifier_.Reloading();
    s = Reload();
    notifier_.Ready("serving " + Describe());
  }
  return s;
}

Status Conductor::Drain(broker::Endpoint* endpoint, size_t audience_index) {
  const common::TimeMs end = clock_.Monotonic() + kTurnMs;
  for (size_t n = 0; n < kBatch && outbox_.turn_bytes() < kTurnBytes; ++n) {
    if (n % 64 == 63 && clock_.Monotonic() >= end) break;
    std::optional<broker::Inbound> in = endpoint->TryReceive();
    if (!in) break;
    Status s = audience_index == SIZE_MAX
                   ? player_channel_->Handle(*in)
                   : audience_channel_->Handle(audience_index, *in);
    if (!s.ok()) return s;
  }
  return Status();
}

Status Conductor::EndTurn() {
  if (player_channel_) {
    Status saved = player_channel_->SaveScoreLists();
    if (!saved.ok()) return saved;
  }
  audience_channel_->Finished(board_->TakeFinishedJobs());
  for (PlayerOrder& order : board_->TakeOrders())
    outbox_.ToPlayer(order.player, broker::EncodePlayerMessage(order.message));
  Status s = store_->Commit();
  if (!s.ok()) return s;
  player_channel_->TurnCommitted();
  Send();
  return Status();
}

void Conductor::Send() {
  std::vector<broker::Endpoint*> audience;
  for (auto& endpoint : audience_) audience.push_back(endpoint.get());
  if (players_)
    outbox_.Flush(players_.get(), audience, &registry_, clock_.Monotonic());
  common::FlushLogLines();
}

// Start-up recovery, and the same again (with the keys) once a failed
// store takes writes: all of it commits, or none.
Status Conductor::Reconcile() {
  Status s = SavePlayerKeys();
  if (s.ok()) s = player_store_->MarkAllDisconnected();
  if (s.ok()) s = board_->Recover();
  if (s.ok()) s = player_channel_->Reconcile();
  if (s.ok()) s = store_->Probe();  // A real write, even with nothing to do
  if (s.ok()) s = store_->Commit();
  if (s.ok()) player_channel_->Reconciled();
  return s;
}

// Nothing the turn produced may leave: each of its messages rests on
// writes the database does not have. Memory goes back to what is
// committed; the players greet again (see the top of this file).
Status Conductor::StoreFailed(const Status& error) {
  store_->Rollback();
  const bool changed = health_.Failed(error, clock_.Monotonic());
  outbox_.Abandon(health_.reason() + "; try again later");
  player_channel_->StoreFailed();
  Status s = board_->Reload();
  if (changed)
    common::LogError("store failed error=%s jobs=%zu",
                     common::LogQuote(error.ToString()).c_str(),
                     board_->active_jobs());
  if (!s.ok())
    common::LogError("jobs could not be read back error=%s",
                     common::LogQuote(s.ToString()).c_str());
  Send();
  return s;
}

// The probe costs one failed commit a second while the disk stays full,
// and changes nothing in memory; Reconcile() runs once it commits. A retry
// that fails logs nothing: the state did not change.
void Conductor::RetryStore() {
  if (health_.writable()) return;
  Status s = store_->Probe();
  if (s.ok()) s = store_->Commit();
  if (!s.ok()) {
    store_->Rollback();
    health_.Failed(s, clock_.Monotonic());
    return;
  }
  s = Reconcile();
  if (!s.ok()) {
    store_->Rollback();
    health_.Failed(s, clock_.Monotonic());
    Status reloaded = board_->Reload();
    if (!reloaded.ok())
      common::LogError("jobs could not be read back error=%s",
                       common::LogQuote(reloaded.ToString()).c_str());
    return;
  }
  const common::TimeMs failed_ms = clock_.Monotonic() - health_.failed_at();
  health_.Recovered();
  common::LogInfo("store writable again after_ms=%lld jobs=%zu",
                  static_cast<long long>(failed_ms), board_->active_jobs());
}

// Every request gets one final reply, also when the conductor stops: waits
// and requests already queued get `unavailable`; the audience sockets
// linger briefly so that these replies leave before the process does.
void Conductor::AnswerBeforeStopping() {
  audience_channel_->Stop();
  Status s;
  for (size_t i = 0; s.ok() && i < audience_.size(); ++i)
    s = Drain(audience_[i].get(), i);
  if (s.ok()) s = EndTurn();
  if (!s.ok()) (void)StoreFailed(s);
}

void Conductor::HandleSignals() {
  for (int signal = signals_.Read(); signal != 0; signal = signals_.Read()) {
    if (signal == SIGHUP) {
      reload_ = true;
    } else {
      common::LogInfo("stopping signal=%s", strsignal(signal));
      stop_ = true;
    }
  }
}

// SIGHUP: a broken file is logged and the old settings stay. Endpoints,
// keys and the database need a restart; everything else applies now.
Status Conductor::Reload() {
  reload_ = false;
  Result<ConductorConfig> config = LoadConductorConfig(config_path_);
  if (!config.ok()) {
    common::LogError("reload failed, old settings kept error=%s",
                     common::LogQuote(config.status().ToString()).c_str());
    return Status();
  }
  Result<TrustFiles> trust = TrustFiles::Load(config.value());
  if (!trust.ok()) {
    common::LogError("reload failed, old settings kept error=%s",
                     common::LogQuote(trust.status().ToString()).c_str());
    return Status();
  }
  ConductorConfig& next = config.value();
  if (next.player_endpoint != config_->player_endpoint ||
      next.audience_endpoints != config_->audience_endpoints ||
      next.database_path != config_->database_path ||
      next.secret_key_file != config_->secret_key_file)
    common::LogWarning(
        "reload: endpoints, keys and database path change "
        "only on restart");
  next.player_endpoint = config_->player_endpoint;
  next.audience_endpoints = config_->audience_endpoints;
  next.database_path = config_->database_path;
  next.secret_key_file = config_->secret_key_file;
  auto fresh = std::make_unique<ConductorConfig>(next);
  player_channel_->set_config(fresh.get());
  audience_channel_->set_config(fresh.get());
  retention_->set_config(fresh.get());
  timers_.SetPeriod("retention", retention_->IdlePeriod());
  timers_.SetPeriod("sessions", fresh->heartbeat_interval_ms / 2);
  timers_.SetPeriod("resends", fresh->dispatch_retry_ms / 4 + 1);
  config_ = std::move(fresh);
  common::InitLogging("orchestra-conductor", config_->log_level);
  Status s = ApplyTrust(std::move(trust.value()));
  common::LogInfo(
      "reloaded players=%zu revoked=%zu audience_keys=%zu "
      "epoch=%lld",
      trust_.listed()->size(), trust_.files().revoked.size(),
      trust_.files().audience.size(), static_cast<long long>(trust_.epoch()));
  return s;
}

}  // namespace orchestra::conductor
