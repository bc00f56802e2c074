// The policy: age is counted from a job's finished_at (wall clock), so a
// PENDING job is never deleted however old. A tick plans at most
// kRetentionRowsPerTick deletions into the loop turn's writes (so its cost
// is one bounded batch of b-tree work on the store's thread, committed
// with the turn), and asks to be called again soon while the budget keeps
// running out or it deleted anything; while a tick's deletions are not
// committed, the next tick waits for them. A sweep ends with the first tick
// that finds nothing more to delete, so its log line follows the commit of
// everything it deleted: then, after its turn's commit, a PASSIVE checkpoint copies
// the WAL into the database without waiting for readers (logged as "wal
// checkpoint"), so the freed pages are reused and, with
// journal_size_limit, the WAL file shrinks back. The database file itself does
// not shrink: its free pages hold the next jobs (VACUUM with the conductor
// stopped shrinks it).

#include "conductor/retention.h"

#include <algorithm>

#include "common/log.h"

namespace orchestra::conductor {

using common::Result;
using common::Status;
using common::TimeMs;

Retention::Retention(const ConductorConfig* config, JobStore* store,
                     const common::Clock* clock)
    : config_(config), store_(store), clock_(clock) {}

TimeMs Retention::IdlePeriod() const {
  if (config_->retention_days <= 0) return kRetentionMaxIdleMs;
  const double tenth_ms = config_->retention_days * 86400.0 * 1000.0 / 10;
  if (tenth_ms >= kRetentionMaxIdleMs) return kRetentionMaxIdleMs;
  return std::max<TimeMs>(kRetentionMinIdleMs, static_cast<TimeMs>(tenth_ms));
}

Result<TimeMs> Retention::Tick() {
  if (config_->retention_days <= 0) return IdlePeriod();
  const TimeMs cutoff =
      clock_->Now() -
      static_cast<TimeMs>(config_->retention_days * 86400.0 * 1000.0);
  if (store_->PurgeInFlight()) return kRetentionBusyMs;
  const TimeMs started = clock_->Monotonic();
  if (sweep_.rows == 0) sweep_started_ = started;
  Result<Purged> purged =
      store_->PurgeFinishedBefore(cutoff, kRetentionRowsPerTick);
  if (!purged.ok()) return purged.status();
  if (purged.value().rows > 0) {
    sweep_ticks_ += 1;
    longest_tick_ms_ =
        std::max(longest_tick_ms_, clock_->Monotonic() - started);
  }
  sweep_.jobs += purged.value().jobs;
  sweep_.rows += purged.value().rows;
  if (purged.value().last_job != 0) sweep_.last_job = purged.value().last_job;
  // Rows planned now are committed with the turn: the sweep ends (and is
  // logged) only at a later tick that finds nothing, after that commit.
  if (purged.value().more || purged.value().rows > 0) return kRetentionBusyMs;
  if (sweep_.rows > 0) {
    Status s = EndSweep();
    if (!s.ok()) return s;
  }
  return IdlePeriod();
}

// A checkpoint that cannot run (another connection is checkpointing)
// waits for the next sweep; it never stops the conductor.
Status Retention::EndSweep() {
  store_->RequestCheckpoint();
  common::LogInfo(
      "retention swept jobs=%lld rows=%lld last_job=%lld ticks=%lld "
      "longest_tick_ms=%lld took_ms=%lld",
      static_cast<long long>(sweep_.jobs), static_cast<long long>(sweep_.rows),
      static_cast<long long>(sweep_.last_job),
      static_cast<long long>(sweep_ticks_),
      static_cast<long long>(longest_tick_ms_),
      static_cast<long long>(clock_->Monotonic() - sweep_started_));
  sweep_ = Purged();
  sweep_ticks_ = 0;
  longest_tick_ms_ = 0;
  return Status();
}

}  // namespace orchestra::conductor
