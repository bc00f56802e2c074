// Every write of a turn joins the store's one transaction, and nothing the
// turn produced leaves before CommitTurn() has committed it: a player never
// sees a task, and a client never sees a job id, that a crash could take
// back.
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
//
// Metrics: the events a turn records count once its commit succeeded (in
// CommitTurn() or Reconcile()); an undone turn's are dropped (see
// conductor/metrics.cc).

#include "conductor/core.h"

#include <algorithm>
#include <chrono>

#include "broker/protocol.h"
#include "common/log.h"
#include "common/version.h"

namespace orchestra::conductor {

using common::Result;
using common::Status;

namespace {

constexpr common::TimeMs kWaitTickMs = 50;
constexpr common::TimeMs kExpiryTickMs = 1000;

}  // namespace

Result<std::unique_ptr<Core>> Core::Open(const ConductorConfig& config,
                                         const common::Clock* clock) {
  Result<std::unique_ptr<JobStore>> store =
      JobStore::Open(config.database_path);
  if (!store.ok()) return store.status();
  Result<std::unique_ptr<PlayerStore>> player_store =
      PlayerStore::Create(store.value()->database(), store.value()->turn());
  if (!player_store.ok()) return player_store.status();
  return std::unique_ptr<Core>(new Core(config, clock, std::move(store.value()),
                                        std::move(player_store.value())));
}

Core::Core(const ConductorConfig& config, const common::Clock* clock,
           std::unique_ptr<JobStore> store,
           std::unique_ptr<PlayerStore> player_store)
    : config_(std::make_unique<ConductorConfig>(config)),
      clock_(clock),
      store_(std::move(store)),
      player_store_(std::move(player_store)),
      board_(store_.get(), &scheduler_, clock_, trust_.listed(), &metrics_),
      player_channel_(config_.get(), &trust_, &registry_, &board_,
                      player_store_.get(), &health_, &outbox_, clock_,
                      &metrics_),
      audience_channel_(config_.get(), &trust_, &registry_, &board_,
                        store_.get(), &health_, &outbox_, clock_, &metrics_),
      retention_(config_.get(), store_.get(), clock_) {}

std::vector<std::string> Core::InstallTrust(TrustFiles files) {
  std::vector<std::string> cut = trust_.Install(std::move(files));
  audience_channel_.TrustChanged();
  return cut;
}

Status Core::ApplyTrust(TrustFiles files) {
  std::vector<std::string> cut = InstallTrust(std::move(files));
  Status s = health_.writable() ? SavePlayerKeys() : Status();
  for (const std::string& name : cut) {
    common::LogWarning("player cut off player=%s reason=removed-or-revoked",
                       name.c_str());
    Status aborted = health_.writable() ? board_.AbortPlayer(name) : Status();
    Status ended = player_channel_.CutOff(name, "removed-or-revoked");
    if (s.ok()) s = aborted.ok() ? ended : aborted;
  }
  return s;
}

Status Core::SavePlayerKeys() {
  for (const auto& [name, key] : trust_.files().players) {
    if (!trust_.listed()->count(name)) continue;  // Revoked
    const Labels* labels = trust_.LabelsOf(name);
    Status s = player_store_->SaveKey(name, key, labels ? *labels : Labels());
    if (!s.ok()) return s;
  }
  return Status();
}

Status Core::RememberPlayers() {
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

// A database it can read but not write does not keep the conductor from
// starting: it starts with the store failed.
Status Core::Recover() {
  Status s = RememberPlayers();
  if (!s.ok()) return s;
  s = Reconcile();
  if (s.ok()) s = CommitTurn();
  if (!s.ok()) s = StoreFailed(s);
  if (!s.ok()) return s;
  common::LogInfo("recovered jobs=%zu queued=%zu", board_.active_jobs(),
                  scheduler_.queued());
  return Status();
}

void Core::StartTimers() {
  const common::TimeMs now = clock_->Monotonic();
  timers_.Every("sessions", config_->heartbeat_interval_ms / 2, now,
                [this] { return player_channel_.Tick(); });
  timers_.Every("waits", kWaitTickMs, now, [this] {
    audience_channel_.Tick();
    return Status();
  });
  timers_.Every("resends", config_->dispatch_retry_ms / 4 + 1, now, [this] {
    return board_.ResendUnaccepted(config_->dispatch_retry_ms);
  });
  timers_.Every("expiry", kExpiryTickMs, now, [this] {
    if (!health_.writable()) return Status();  // They expire once it is
    return board_.ExpireUndelivered([this](const std::string& name) {
      return registry_.IsConnected(name);
    });
  });
  timers_.Every("retention", retention_.IdlePeriod(), now, [this] {
    if (!health_.writable()) return Status();
    Result<common::TimeMs> next = retention_.Tick();
    if (!next.ok()) return next.status();
    timers_.SetPeriod("retention", next.value());
    return Status();
  });
  timers_.Every("store", kStoreRetryMs, now, [this] {
    RetryStore();
    return Status();
  });
}

Status Core::CommitTurn() {
  Status s = player_channel_.SaveScoreLists();
  if (!s.ok()) return s;
  audience_channel_.Finished(board_.TakeFinishedJobs());
  for (PlayerOrder& order : board_.TakeOrders())
    outbox_.ToPlayer(order.player, broker::EncodePlayerMessage(order.message));
  s = CommitTimed();
  if (!s.ok()) return s;
  metrics_.TurnCommitted(clock_->Now());
  player_channel_.TurnCommitted();
  return Status();
}

// A turn without writes commits nothing and is not timed: it would only
// crowd the lowest bucket. The Clock seam counts milliseconds, too coarse
// for a commit, so this one measure reads the steady clock itself.
Status Core::CommitTimed() {
  if (!store_->HasWrites()) return store_->Commit();
  const auto start = std::chrono::steady_clock::now();
  Status s = store_->Commit();
  const std::chrono::duration<double> took =
      std::chrono::steady_clock::now() - start;
  metrics_.StoreCommitted(took.count());
  return s;
}

void Core::Flush(broker::Endpoint* players,
                 const std::vector<broker::Endpoint*>& audience) {
  outbox_.Flush(players, audience, &registry_, clock_->Monotonic());
}

// Start-up recovery, and the same again (with the keys) once a failed
// store takes writes: all of it commits, or none.
Status Core::Reconcile() {
  Status s = SavePlayerKeys();
  if (s.ok()) s = player_store_->MarkAllDisconnected();
  if (s.ok()) s = board_.Recover();
  if (s.ok()) s = player_channel_.Reconcile();
  if (s.ok()) s = store_->Probe();  // A real write, even with nothing to do
  if (s.ok()) s = store_->Commit();
  if (!s.ok()) return s;
  metrics_.TurnCommitted(clock_->Now());
  player_channel_.Reconciled();
  return s;
}

// Nothing the turn produced may leave: each of its messages rests on
// writes the database does not have. Memory goes back to what is
// committed; the players greet again (see the top of this file).
Status Core::StoreFailed(const Status& error) {
  store_->Rollback();
  const bool changed = health_.Failed(error, clock_->Monotonic());
  outbox_.Abandon(health_.reason() + "; try again later");
  metrics_.TurnUndone(/*replies_abandoned=*/true);
  player_channel_.StoreFailed();
  Status s = board_.Reload();
  if (changed)
    common::LogError("store failed error=%s jobs=%zu",
                     common::LogQuote(error.ToString()).c_str(),
                     board_.active_jobs());
  if (!s.ok())
    common::LogError("jobs could not be read back error=%s",
                     common::LogQuote(s.ToString()).c_str());
  return s;
}

// The probe costs one failed commit a second while the disk stays full,
// and changes nothing in memory; Reconcile() runs once it commits. A retry
// that fails logs nothing: the state did not change.
void Core::RetryStore() {
  if (health_.writable()) return;
  Status s = store_->Probe();
  if (s.ok()) s = store_->Commit();
  if (!s.ok()) {
    store_->Rollback();
    health_.Failed(s, clock_->Monotonic());
    return;
  }
  s = Reconcile();
  if (!s.ok()) {
    store_->Rollback();
    metrics_.TurnUndone(/*replies_abandoned=*/false);
    health_.Failed(s, clock_->Monotonic());
    Status reloaded = board_.Reload();
    if (!reloaded.ok())
      common::LogError("jobs could not be read back error=%s",
                       common::LogQuote(reloaded.ToString()).c_str());
    return;
  }
  const common::TimeMs failed_ms = clock_->Monotonic() - health_.failed_at();
  health_.Recovered();
  common::LogInfo("store writable again after_ms=%lld jobs=%zu",
                  static_cast<long long>(failed_ms), board_.active_jobs());
}

void Core::Reconfigure(const ConductorConfig& config) {
  auto fresh = std::make_unique<ConductorConfig>(config);
  player_channel_.set_config(fresh.get());
  audience_channel_.set_config(fresh.get());
  retention_.set_config(fresh.get());
  timers_.SetPeriod("retention", retention_.IdlePeriod());
  timers_.SetPeriod("sessions", fresh->heartbeat_interval_ms / 2);
  timers_.SetPeriod("resends", fresh->dispatch_retry_ms / 4 + 1);
  config_ = std::move(fresh);
}

Gauges Core::MetricGauges() const {
  Gauges g;
  for (broker::TaskState state :
       {broker::TaskState::kQueued, broker::TaskState::kDispatched,
        broker::TaskState::kRunning})
    g.tasks[broker::TaskStateName(state)] =
        static_cast<int64_t>(board_.CountInState(state));
  if (std::optional<common::TimeMs> since = board_.OldestQueuedSince())
    g.oldest_queued_task_age_seconds =
        static_cast<double>(
            std::max<common::TimeMs>(0, clock_->Now() - *since)) /
        1000;
  int64_t listed_connected = 0;
  registry_.ForEachConnected([&](const std::string& name) {
    ++g.players_connected;
    if (board_.Unfinished(name) > 0) ++g.players_busy;
    if (trust_.listed()->count(name)) ++listed_connected;
  });
  g.players_offline =
      static_cast<int64_t>(trust_.listed()->size()) - listed_connected;
  g.store_writable = health_.writable();
  g.version = common::kVersion;
  g.process = ReadProcessStats();
  return g;
}

std::string Core::Describe() const {
  return "players=" + std::to_string(trust_.listed()->size()) +
         " connected=" + std::to_string(registry_.connected()) +
         " jobs=" + std::to_string(board_.active_jobs());
}

}  // namespace orchestra::conductor
