// Retention deletes finished jobs older than `retention days` (DESIGN.md
// section 3) with their tasks, a few hundred rows a tick, so that a large
// backlog never stalls the conductor's loop, and checkpoints the WAL when
// a sweep is done. Driven by a timer of the loop; owned by its thread.

#ifndef ORCHESTRA_CONDUCTOR_RETENTION_H_
#define ORCHESTRA_CONDUCTOR_RETENTION_H_

#include "common/clock.h"
#include "common/result.h"
#include "conductor/config.h"
#include "conductor/job_store.h"

namespace orchestra::conductor {

// Rows (jobs, tasks, target list entries) deleted at most per tick.
constexpr int64_t kRetentionRowsPerTick = 500;
// Ticks while a backlog lasts come this often; otherwise a tenth of the
// retention period, between these bounds.
constexpr common::TimeMs kRetentionBusyMs = 50;
constexpr common::TimeMs kRetentionMinIdleMs = 100;
constexpr common::TimeMs kRetentionMaxIdleMs = 60 * 1000;

class Retention {
 public:
  Retention(const ConductorConfig* config, JobStore* store,
            const common::Clock* clock);
  void set_config(const ConductorConfig* config) { config_ = config; }

  // Deletes one batch of expired jobs; when the sweep is done, commits,
  // checkpoints the WAL and logs what the sweep deleted. Returns the
  // milliseconds until the next tick. Errors are the store's.
  common::Result<common::TimeMs> Tick();

  // Milliseconds between ticks when there is no backlog.
  common::TimeMs IdlePeriod() const;

 private:
  common::Status EndSweep();

  const ConductorConfig* config_;
  JobStore* store_;
  const common::Clock* clock_;
  Purged sweep_;                       // what this sweep deleted so far
  common::TimeMs sweep_started_ = 0;   // monotonic, when it began
  int64_t sweep_ticks_ = 0;            // ticks that deleted something
  common::TimeMs longest_tick_ms_ = 0;  // the longest of them
};

}  // namespace orchestra::conductor

#endif  // ORCHESTRA_CONDUCTOR_RETENTION_H_
