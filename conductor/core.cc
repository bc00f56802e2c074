// Every write of a turn is recorded in the store's batch for that turn;
// CommitTurn() hands the batch to the store's thread and nothing the turn
// produced leaves before that batch is committed: a player never sees a
// task, and a client never sees a job id, that a crash could take back.
// Turns commit in order, several at once when the loop is ahead of the
// disk (group commit), while the loop serves the next ones (pipelining):
// TakeCommits() releases each turn's messages once its commit is back, and
// answers what had to read its writes (waits of the jobs it finished, a
// cancel's reply). Reads (status, jobs, players) answer from what is
// committed at once. At most kMaxTurnsInFlight turns, or kMaxSealedBytes
// of their messages, wait for commits; past that the loop waits.
//
// When a commit fails (disk full, I/O error, read-only file system), or a
// read the turn needed, the turns not committed are undone rather than the
// process ended: the store's thread drops the rest of their epoch, their
// messages are abandoned (no job id, result_ack or task that rests on them
// leaves; each request they answered is told `unavailable`), the JobBoard
// reloads what is committed, and every player session ends with
// `hello_required`, so that each player's next hello says what it holds.
// The store then counts as failed (StoreHealth): nothing writes, submits
// and cancels are `unavailable`, results and `accepted` go unacknowledged
// (players resend them), reads answer from what is committed. Every second
// a probe commits one page; once one does, Reconcile() does in one
// transaction what a start does (keys, sessions, recovery of the jobs) and
// reconciles the sessions opened meanwhile as at their hello. A failed
// start-up recovery starts the conductor in the same state.
//
// Metrics: the events a turn records count once its commit is back (see
// conductor/metrics.cc); an undone turn's are dropped.

#include "conductor/core.h"

#include <algorithm>

#include "broker/protocol.h"
#include "common/log.h"
#include "common/version.h"

namespace orchestra::conductor {

using common::Result;
using common::Status;

namespace {

constexpr common::TimeMs kWaitTickMs = 50;
constexpr common::TimeMs kExpiryTickMs = 1000;
// Turns, and bytes of their messages, that may wait for their commits
// before the loop waits for them.
constexpr size_t kMaxTurnsInFlight = 16;
constexpr size_t kMaxSealedBytes = 16 << 20;

void LogCheckpoint(const Result<common::CheckpointResult>& checkpoint) {
  if (!checkpoint.ok()) {
    common::LogWarning(
        "wal checkpoint deferred error=%s",
        common::LogQuote(checkpoint.status().ToString()).c_str());
    return;
  }
  common::LogInfo("wal checkpoint wal_frames=%d checkpointed=%d",
                  checkpoint.value().wal_frames,
                  checkpoint.value().checkpointed);
}

}  // namespace

Result<std::unique_ptr<Core>> Core::Open(const ConductorConfig& config,
                                         const common::Clock* clock,
                                         std::unique_ptr<JobStore> cell_store) {
  Result<std::unique_ptr<JobStore>> store =
      cell_store ? std::move(cell_store) : JobStore::Open(config.database_path);
  if (!store.ok()) return store.status();
  Result<std::unique_ptr<PlayerStore>> player_store =
      PlayerStore::Create(store.value()->reader(), store.value()->writes());
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
      retention_(config_.get(), store_.get(), clock_) {
  board_.set_epoch(config.epoch);
}

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
  if (s.ok()) s = Settle();
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
  std::vector<JobId> finished = board_.TakeFinishedJobs();
  audience_channel_.Finishing(finished);
  for (PlayerOrder& order : board_.TakeOrders())
    outbox_.ToPlayer(order.player, broker::EncodePlayerMessage(order.message));
  const JobStore::Sealed sealed = store_->Seal();
  outbox_.Seal(sealed.turn);
  metrics_.SealTurn(sealed.turn);
  audience_channel_.Seal(sealed.turn);
  settling_.push_back(
      Settling{sealed.turn, sealed.writes, std::move(finished)});
  // What waits for commits is bounded: past these, the loop waits for them.
  if (settling_.size() > kMaxTurnsInFlight ||
      outbox_.sealed_bytes() > kMaxSealedBytes)
    return Settle();
  return TakeCommits();
}

// Reports of an older epoch belong to turns already undone. Turns that
// committed before a failure settle before it is returned: their messages
// rest on nothing lost.
Status Core::TakeCommits() {
  Status failed;
  for (StoreDone& done : store_->TakeDone()) {
    if (done.epoch != store_->epoch()) continue;
    if (!done.status.ok()) {
      if (failed.ok()) failed = done.status;
      continue;
    }
    if (!failed.ok()) continue;
    if (done.commit_seconds > 0) metrics_.StoreCommitted(done.commit_seconds);
    if (done.checkpoint) LogCheckpoint(*done.checkpoint);
    committed_ = std::max(committed_, done.turn);
  }
  while (!settling_.empty() &&
         (!settling_.front().writes || settling_.front().turn <= committed_)) {
    if (!failed.ok() && settling_.front().turn > committed_) break;
    Settled(&settling_.front());
    settling_.pop_front();
  }
  if (settling_.empty()) player_channel_.TurnCommitted();
  return failed;
}

// The replies made here read what is now committed: they leave at once.
void Core::Settled(Settling* t) {
  outbox_.Release(t->turn);
  metrics_.TurnCommitted(t->turn, clock_->Now());
  store_->Committed(t->turn);
  CommittedOnly(true);
  audience_channel_.Finished(t->finished);
  audience_channel_.Committed(t->turn);
  CommittedOnly(false);
}

void Core::CommittedOnly(bool on) {
  outbox_.set_committed_only(on);
  metrics_.set_committed_only(on, clock_->Now());
}

Status Core::Settle() {
  store_->WaitUntilIdle();
  return TakeCommits();
}

Status Core::CommitNow() {
  const JobStore::Sealed sealed = store_->Seal();
  settling_.push_back(Settling{sealed.turn, sealed.writes, {}});
  return Settle();
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
  if (s.ok()) store_->Probe();  // A real write, even with nothing to do
  if (s.ok()) s = CommitNow();
  if (!s.ok()) return s;
  player_channel_.Reconciled();
  return s;
}

// Nothing the undone turns produced may leave: each of their messages
// rests on writes the database does not have. Memory goes back to what is
// committed; the players greet again (see the top of this file).
Status Core::StoreFailed(const Status& error) {
  const bool changed = health_.Failed(error, clock_->Monotonic());
  Status s = Undo(error, /*reload=*/true);
  if (changed)
    common::LogError("store failed error=%s jobs=%zu",
                     common::LogQuote(error.ToString()).c_str(),
                     board_.active_jobs());
  return s;
}

// First what committed before the failure settles (a failure of the loop's
// own, a read, may come while earlier turns commit fine); the store
// thread then drops the rest of the epoch.
Status Core::Undo(const Status& error, bool reload) {
  (void)Settle();
  store_->Abandon();
  const std::string why = StoreHealth::Describe(error) + "; try again later";
  outbox_.Abandon(why);
  metrics_.TurnUndone(/*replies_abandoned=*/true);
  settling_.clear();
  // What is said now rests on nothing undone: it leaves at the next send.
  CommittedOnly(true);
  audience_channel_.Abandon(why);
  if (reload) player_channel_.StoreFailed();
  CommittedOnly(false);
  if (!reload) return Status();
  Status s = board_.Reload();
  if (!s.ok())
    common::LogError("jobs could not be read back error=%s",
                     common::LogQuote(s.ToString()).c_str());
  return s;
}

// The probe costs one failed commit a second while the disk stays full,
// and changes nothing in memory; Reconcile() runs once it commits. A retry
// that fails logs nothing: the state did not change. What the turn holds
// so far is sealed first, on its own, so that a failed probe undoes
// nothing of it.
void Core::RetryStore() {
  if (health_.writable()) return;
  Status s = CommitTurn();
  if (s.ok()) s = Settle();
  if (!s.ok()) {
    (void)StoreFailed(s);
    return;
  }
  store_->Probe();
  s = CommitNow();
  if (!s.ok()) {
    (void)Undo(s, /*reload=*/false);
    health_.Failed(s, clock_->Monotonic());
    return;
  }
  s = Reconcile();
  if (!s.ok()) {
    (void)Undo(s, /*reload=*/true);
    health_.Failed(s, clock_->Monotonic());
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
