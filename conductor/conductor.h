// Conductor is the daemon: it binds the player endpoint (CurveZMQ) and the
// audience endpoints, answers ZAP requests, and runs the loop around its
// Core (conductor/core.h), which holds everything but the sockets: each
// message goes to the Core's PlayerChannel or AudienceChannel, the Core's
// timers run, and each turn ends with the Core's commit, then the sending of
// what the turn produced. One thread owns every socket (DescriptorGuard's
// thread reads only the monitors of their descriptors). A store that fails
// a write does not stop it: it serves what is committed until a retry
// writes again (DESIGN.md section 15). SIGHUP reloads the configuration and
// trust lists; SIGTERM and SIGINT stop it cleanly. Under systemd it reports
// READY, RELOADING, STOPPING and watchdog keep-alives.

#ifndef ORCHESTRA_CONDUCTOR_CONDUCTOR_H_
#define ORCHESTRA_CONDUCTOR_CONDUCTOR_H_

#include <memory>
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
#include "common/unique_fd.h"
#include "conductor/cell.h"
#include "conductor/config.h"
#include "conductor/core.h"
#include "conductor/descriptor_guard.h"
#include "conductor/http_server.h"
#include "conductor/web_site.h"

namespace orchestra::conductor {

class Conductor {
 public:
  // Opens the database, loads the trust lists and binds every endpoint.
  // `signals` reports SIGTERM, SIGINT and SIGHUP. With `cell` (which, like
  // `signals`, outlives us) it is the active conductor of a cell: its store
  // is on the cell, and it stops, deposed(), once its node no longer leads.
  static common::Result<std::unique_ptr<Conductor>> Create(
      const std::string& config_path, const ConductorConfig& config,
      common::SignalFd* signals, Cell* cell = nullptr);

  // Runs until SIGTERM or SIGINT. Non-OK when polling failed.
  common::Status Run();

  // False while the store fails writes and the conductor refuses them.
  bool store_writable() const { return core_->health().writable(); }
  // Run() returned because another node of the cell leads now.
  bool deposed() const { return deposed_; }

 private:
  Conductor(const std::string& config_path, common::SignalFd* signals,
            Cell* cell);
  // A cell's conductor: tells the others where it is, and stops when its
  // node no longer leads (checked every kLeadCheckMs).
  common::Status Advertise();
  void CheckLead();
  common::Status Start(const ConductorConfig& config);
  common::Status LockDatabase(const std::string& database_path);
  // Tells the authenticator the keys the Core's trust lists hold now.
  void UpdateAuthenticator();
  common::Status BindEndpoints();
  common::Status BindPlayers(const broker::CurveKeyPair& keys);
  // The web page (`http endpoint`), when it is not empty.
  common::Status StartHttp();
  // The users file's users, or null without one.
  common::Result<std::unique_ptr<HttpUsers>> LoadHttpUsers(
      const ConductorConfig& config);
  // Serves the web requests that are ready, after the turn's commit.
  void ServeHttp(bool ready);
  common::Status BindAudience(const std::string& address,
                              const broker::CurveKeyPair& keys);
  common::Result<std::string> BindAudienceSocket(broker::Endpoint* endpoint,
                                                 const std::string& address);
  common::Status Turn();
  common::Status Serve(size_t player_item,
                       const std::vector<size_t>& audience_items);
  common::Status Drain(broker::Endpoint* endpoint, size_t audience_index);
  common::Status EndTurn();
  void Send();
  // Core::StoreFailed(), then Send(): what the undone turn answered.
  common::Status StoreFailed(const common::Status& error);
  void HandleSignals();
  common::Status Reload();
  // Answers every wait and queued audience request with `unavailable`.
  void AnswerBeforeStopping();
  const ConductorConfig& config() const { return core_->config(); }

  std::string config_path_;
  common::SystemClock clock_;
  common::SignalFd* signals_;
  Cell* cell_;                          // null: one conductor on SQLite
  common::TimeMs next_lead_check_ = 0;  // monotonic
  bool deposed_ = false;
  std::string bound_players_, bound_audience_;  // tcp endpoints, as bound
  common::UniqueFd lock_;    // flock on the database: one conductor per file
  broker::Context context_;  // before the sockets that use it
  broker::Authenticator authenticator_;
  std::unique_ptr<broker::Endpoint> players_;
  std::vector<std::unique_ptr<broker::Endpoint>> audience_;
  // Watches the sockets above: destroyed before them.
  std::unique_ptr<DescriptorGuard> guard_;
  std::vector<std::string> ipc_paths_;  // removed at exit
  std::unique_ptr<Core> core_;
  std::unique_ptr<WebSite> web_;      // uses core_
  std::unique_ptr<HttpServer> http_;  // calls web_: destroyed first
  common::TimeMs http_due_ = -1;      // monotonic; -1: no timeout
  common::SystemdNotifier notifier_{clock_.Monotonic()};
  broker::Poller poller_;
  bool stop_ = false;
  bool reload_ = false;
};

}  // namespace orchestra::conductor

#endif  // ORCHESTRA_CONDUCTOR_CONDUCTOR_H_
