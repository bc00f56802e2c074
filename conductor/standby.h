// Standby is a conductor of a cell while another one is active (DESIGN.md
// section 17). It binds the same endpoints and admits the same keys, and
// answers every player message with `error` `not_leader` and every
// audience request with `unavailable`, each with the active conductor's
// endpoint when it knows it, so players and clients find the active one
// at once. Meanwhile it keeps its node a voter of the cell, and it returns
// as soon as its node leads (or a signal stops it). It holds nothing a
// peer sends beyond the message it is answering.

#ifndef ORCHESTRA_CONDUCTOR_STANDBY_H_
#define ORCHESTRA_CONDUCTOR_STANDBY_H_

#include <memory>
#include <string>
#include <vector>

#include "broker/authenticator.h"
#include "broker/context.h"
#include "broker/endpoint.h"
#include "broker/poller.h"
#include "common/clock.h"
#include "common/result.h"
#include "common/signal_fd.h"
#include "common/systemd_notifier.h"
#include "conductor/cell.h"
#include "conductor/config.h"

namespace orchestra::conductor {

class Standby {
 public:
  enum class Outcome { kLeads, kStopped };

  // Binds the endpoints of `config`. `cell` and `signals` outlive us.
  static common::Result<std::unique_ptr<Standby>> Create(
      const ConductorConfig& config, Cell* cell, common::SignalFd* signals);
  // Removes its ipc socket files: the active conductor binds them next.
  ~Standby();

  // Serves until this node leads or SIGTERM/SIGINT.
  common::Result<Outcome> Run();

 private:
  Standby(const ConductorConfig& config, Cell* cell, common::SignalFd* signals)
      : config_(config),
        cell_(cell),
        signals_(signals),
        authenticator_(&context_) {}
  common::Status LoadTrust();
  common::Status Bind();
  // Joins the cell, looks up the active conductor: at most once a second.
  void Watch(common::TimeMs now);
  void AnswerPlayers();
  void AnswerAudience(broker::Endpoint* endpoint);
  // False on SIGTERM or SIGINT.
  bool HandleSignals();

  ConductorConfig config_;
  Cell* cell_;
  common::SignalFd* signals_;
  common::SystemClock clock_;
  broker::Context context_;  // before the sockets that use it
  broker::Authenticator authenticator_;
  std::unique_ptr<broker::Endpoint> players_;
  std::vector<std::unique_ptr<broker::Endpoint>> audience_;
  std::vector<std::string> ipc_paths_;  // removed when we go
  common::SystemdNotifier notifier_{clock_.Monotonic()};
  broker::Poller poller_;
  bool joined_ = false;
  common::TimeMs next_watch_ = 0;  // monotonic
  CellLeader active_;              // as last read
};

}  // namespace orchestra::conductor

#endif  // ORCHESTRA_CONDUCTOR_STANDBY_H_
