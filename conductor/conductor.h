// Conductor is the daemon: it binds the player endpoint (CurveZMQ) and the
// audience endpoints, answers ZAP requests, and runs the loop that hands
// each message to PlayerChannel or AudienceChannel, runs the timers, and
// ends each turn by committing the store and then sending what the turn
// produced. One thread owns every socket (DescriptorGuard's thread reads
// only the monitors of their descriptors). A store that fails a write does
// not stop it: it serves what is committed until a retry writes again
// (DESIGN.md section 15). SIGHUP reloads the configuration and trust
// lists; SIGTERM and SIGINT stop it cleanly. Under systemd it reports
// READY, RELOADING, STOPPING and watchdog keep-alives.

#ifndef ORCHESTRA_CONDUCTOR_CONDUCTOR_H_
#define ORCHESTRA_CONDUCTOR_CONDUCTOR_H_

#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "broker/authenticator.h"
#include "broker/context.h"
#include "broker/curve_keys.h"
#include "broker/endpoint.h"
#include "broker/poller.h"
#include "common/clock.h"
#include "common/result.h"
#include "common/signal_fd.h"
#include "common/systemd_notifier.h"
#include "common/timers.h"
#include "common/unique_fd.h"
#include "conductor/audience_channel.h"
#include "conductor/audience_keys.h"
#include "conductor/config.h"
#include "conductor/descriptor_guard.h"
#include "conductor/job_board.h"
#include "conductor/job_store.h"
#include "conductor/outbox.h"
#include "conductor/player_channel.h"
#include "conductor/player_registry.h"
#include "conductor/player_store.h"
#include "conductor/retention.h"
#include "conductor/scheduler.h"
#include "conductor/store_health.h"
#include "conductor/trust.h"

namespace orchestra::conductor {

class Conductor {
 public:
  // Opens the database, loads the trust lists and binds every endpoint.
  // `signals` reports SIGTERM, SIGINT and SIGHUP.
  static common::Result<std::unique_ptr<Conductor>> Create(
      const std::string& config_path, const ConductorConfig& config,
      common::SignalFd signals);

  // Runs until SIGTERM or SIGINT. Non-OK when polling failed.
  common::Status Run();

  // False while the store fails writes and the conductor refuses them.
  bool store_writable() const { return health_.writable(); }

 private:
  Conductor(const std::string& config_path, const ConductorConfig& config,
            common::SignalFd signals);
  common::Status Start();
  common::Status LockDatabase();
  std::vector<std::string> InstallTrust(TrustFiles files);
  common::Status ApplyTrust(TrustFiles files);
  common::Status SavePlayerKeys();
  common::Status BindEndpoints();
  common::Status BindPlayers(const broker::CurveKeyPair& keys);
  common::Status BindAudience(const std::string& address,
                              const broker::CurveKeyPair& keys);
  common::Result<std::string> BindAudienceSocket(broker::Endpoint* endpoint,
                                                 const std::string& address);
  common::Status RememberPlayers();
  void StartTimers();
  common::Status Turn();
  common::Status Serve(size_t player_item,
                       const std::vector<size_t>& audience_items);
  common::Status Drain(broker::Endpoint* endpoint, size_t audience_index);
  common::Status EndTurn();
  void Send();
  // The writes that make memory and the database one again, in one
  // transaction: at start, and when the store takes writes again.
  common::Status Reconcile();
  // A write or commit failed with `error`: the turn is undone and the
  // store counts as failed. Non-OK if the jobs could not be read back.
  common::Status StoreFailed(const common::Status& error);
  // Every second while failed: a probe, then Reconcile().
  void RetryStore();
  void HandleSignals();
  common::Status Reload();
  // Answers every wait and queued audience request with `unavailable`.
  void AnswerBeforeStopping();
  std::string Describe() const;

  std::string config_path_;
  std::unique_ptr<ConductorConfig> config_;
  common::SystemClock clock_;
  common::SignalFd signals_;
  common::UniqueFd lock_;    // flock on the database: one conductor per file
  broker::Context context_;  // before the sockets that use it
  broker::Authenticator authenticator_;
  std::unique_ptr<broker::Endpoint> players_;
  std::vector<std::unique_ptr<broker::Endpoint>> audience_;
  // Watches the sockets above: destroyed before them.
  std::unique_ptr<DescriptorGuard> guard_;
  std::vector<std::string> ipc_paths_;  // removed at exit
  std::unique_ptr<JobStore> store_;
  std::unique_ptr<PlayerStore> player_store_;  // on store_'s database
  Trust trust_;
  Scheduler scheduler_;
  StoreHealth health_;
  PlayerRegistry registry_;
  Outbox outbox_;
  std::unique_ptr<JobBoard> board_;
  std::unique_ptr<PlayerChannel> player_channel_;
  std::unique_ptr<AudienceChannel> audience_channel_;
  std::unique_ptr<Retention> retention_;
  common::SystemdNotifier notifier_{clock_.Monotonic()};
  common::Timers timers_;
  broker::Poller poller_;
  bool stop_ = false;
  bool reload_ = false;
};

}  // namespace orchestra::conductor

#endif  // ORCHESTRA_CONDUCTOR_CONDUCTOR_H_
