// Core is the conductor without its sockets: the stores (JobStore and
// PlayerStore on one database, committing on the store's thread), Trust,
// Scheduler, StoreHealth, PlayerRegistry, Outbox, JobBoard, both
// channels, Retention, Metrics and the loop's timers, wired from a config
// and a clock. CommitTurn() ends a turn and hands its writes to the
// store's thread; TakeCommits() acts on the commits that came back, and
// only then may Flush() send what their turns produced. Owned by the loop
// thread.

#ifndef ORCHESTRA_CONDUCTOR_CORE_H_
#define ORCHESTRA_CONDUCTOR_CORE_H_

#include <deque>
#include <memory>
#include <string>
#include <vector>

#include "broker/endpoint.h"
#include "common/clock.h"
#include "common/result.h"
#include "common/status.h"
#include "common/timers.h"
#include "conductor/audience_channel.h"
#include "conductor/config.h"
#include "conductor/job_board.h"
#include "conductor/job_store.h"
#include "conductor/metrics.h"
#include "conductor/outbox.h"
#include "conductor/player_channel.h"
#include "conductor/player_registry.h"
#include "conductor/player_store.h"
#include "conductor/retention.h"
#include "conductor/scheduler.h"
#include "conductor/store_health.h"
#include "conductor/trust.h"

namespace orchestra::conductor {

class Core {
 public:
  // Opens (creating if needed) the database at `config.database_path` and
  // wires the rest on it; nothing is read or recovered yet. `clock` must
  // outlive the core. A cell's conductor passes its store on the cell
  // (Cell::OpenStore()) instead.
  static common::Result<std::unique_ptr<Core>> Open(
      const ConductorConfig& config, const common::Clock* clock,
      std::unique_ptr<JobStore> cell_store = nullptr);

  Core(const Core&) = delete;
  Core& operator=(const Core&) = delete;

  // Makes `files` the trust lists; returns the players whose key was taken
  // back. Waits of audience keys taken back, or of jobs their key may no
  // longer see, are answered.
  std::vector<std::string> InstallTrust(TrustFiles files);
  // InstallTrust(), then records the listed players' keys; the players
  // cut off lose their sessions at once and their unfinished tasks end
  // ABORTED. While the store fails, the keys and the aborts wait for
  // Reconcile() (which records every key and aborts what unlisted players
  // hold); the sessions end all the same.
  common::Status ApplyTrust(TrustFiles files);

  // The start: remembers the players the store knows, then Reconcile()
  // and CommitTurn(). A store it can read but not write leaves the core
  // with its store failed. Non-OK when the store could not be read.
  common::Status Recover();

  // Starts the timers: sessions, waits, resends, delivery expiry,
  // retention and the retry of a failed store.
  void StartTimers();
  // Milliseconds until a timer is due (0: one is due now).
  common::TimeMs TimeUntilNextTimer(common::TimeMs now) const {
    return timers_.TimeUntilNext(now);
  }
  // Runs the due timers. A non-OK status is a failed store write.
  common::Status RunTimers() { return timers_.RunDue(clock_->Monotonic()); }

  // Ends a turn: saves the changed score lists, queues the board's orders
  // and hands the turn's writes to the store's thread; then
  // TakeCommits(). What the turn produced leaves (Flush()) once its
  // commit is back. Non-OK: a commit failed (StoreFailed() next).
  common::Status CommitTurn();
  // Acts on the commits back from the store's thread (store_fd() is
  // readable): their turns' messages may leave, the waits of their
  // finished jobs are answered. Never blocks. Non-OK: a commit failed.
  common::Status TakeCommits();
  // Waits until every turn ended so far is committed, then
  // TakeCommits(): a start, a stop, a test.
  common::Status Settle();
  // Readable while commits wait for TakeCommits().
  int store_fd() const { return store_->done_fd(); }
  // Turns whose writes are not committed yet.
  size_t turns_in_flight() const { return settling_.size(); }
  // Sends what the outbox holds: to players through `players` (null only
  // while no player has a session), to the audience through `audience`.
  void Flush(broker::Endpoint* players,
             const std::vector<broker::Endpoint*>& audience);

  // A write or commit failed with `error`: what committed before it is
  // acted on, every turn after it is undone and the store counts as
  // failed. Non-OK if the jobs could not be read back.
  common::Status StoreFailed(const common::Status& error);
  // While the store fails: a probe, then Reconcile() once it commits.
  void RetryStore();

  // New settings (SIGHUP), applied to every part and timer.
  void Reconfigure(const ConductorConfig& config);

  // "players=N connected=N jobs=N", for systemd's status line.
  std::string Describe() const;
  // The gauges of /metrics as they are now; costs a look at each connected
  // player and /proc, not a scan of the tasks.
  Gauges MetricGauges() const;

  const ConductorConfig& config() const { return *config_; }
  JobStore* store() { return store_.get(); }
  PlayerStore* player_store() { return player_store_.get(); }
  const Trust& trust() const { return trust_; }
  const Scheduler& scheduler() const { return scheduler_; }
  const StoreHealth& health() const { return health_; }
  PlayerRegistry* registry() { return &registry_; }
  Outbox* outbox() { return &outbox_; }
  JobBoard* board() { return &board_; }
  PlayerChannel* player_channel() { return &player_channel_; }
  AudienceChannel* audience_channel() { return &audience_channel_; }
  Retention* retention() { return &retention_; }
  Metrics* metrics() { return &metrics_; }

 private:
  Core(const ConductorConfig& config, const common::Clock* clock,
       std::unique_ptr<JobStore> store,
       std::unique_ptr<PlayerStore> player_store);
  // What the loop keeps of a turn until its commit is back.
  struct Settling {
    uint64_t turn = 0;
    bool writes = false;  // else settled once the turns before it are
    std::vector<JobId> finished;
  };
  // Turn `t` is committed: its messages may leave, its waits are answered.
  void Settled(Settling* t);
  // Outbox and Metrics: what is said and counted now rests on nothing
  // uncommitted (replies read from what is committed).
  void CommittedOnly(bool on);
  // Seals the store's open turn alone (no messages rest on it) and waits
  // for its commit.
  common::Status CommitNow();
  // Undoes every turn not committed; reloads the jobs when `reload`.
  common::Status Undo(const common::Status& error, bool reload);
  common::Status SavePlayerKeys();
  common::Status RememberPlayers();
  // The writes that make memory and the database one again, in one
  // transaction: at start, and when the store takes writes again.
  common::Status Reconcile();

  std::unique_ptr<ConductorConfig> config_;  // replaced on Reconfigure()
  const common::Clock* clock_;
  std::unique_ptr<JobStore> store_;
  std::unique_ptr<PlayerStore> player_store_;  // on store_'s database
  Trust trust_;
  Scheduler scheduler_;
  StoreHealth health_;
  Metrics metrics_;
  PlayerRegistry registry_;
  Outbox outbox_;
  JobBoard board_;
  PlayerChannel player_channel_;
  AudienceChannel audience_channel_;
  Retention retention_;
  common::Timers timers_;
  std::deque<Settling> settling_;  // in turn order
  uint64_t committed_ = 0;         // the last turn reported committed
};

}  // namespace orchestra::conductor

#endif  // ORCHESTRA_CONDUCTOR_CORE_H_
