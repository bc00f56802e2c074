// Player is the orchestra-player daemon: one thread owns its DEALER to the
// conductor, a signalfd, a stop eventfd and the process runner's descriptor,
// and reacts to whichever is ready (the CZMQ actor shape). Under systemd it
// reports READY, RELOADING (score rescan), STOPPING and watchdog
// keep-alives. Create() on any thread, Run() on one thread; RequestStop()
// may be called from any thread.

#ifndef ORCHESTRA_PLAYER_PLAYER_H_
#define ORCHESTRA_PLAYER_PLAYER_H_

#include <memory>
#include <optional>
#include <string>

#include "broker/context.h"
#include "broker/endpoint.h"
#include "broker/protocol.h"
#include "broker/socket_monitor.h"
#include "common/clock.h"
#include "common/result.h"
#include "common/signal_fd.h"
#include "common/systemd_notifier.h"
#include "common/unique_fd.h"
#include "common/version.h"
#include "player/conductor_list.h"
#include "player/config.h"
#include "player/journal.h"
#include "player/process_runner.h"
#include "player/score_directory.h"
#include "player/session.h"
#include "player/task_board.h"
#include "player/task_cgroups.h"

namespace orchestra::player {

constexpr const char* kPlayerVersion = common::kVersion;

// What tests replace; the defaults are the daemon's.
struct PlayerSeams {
  std::unique_ptr<ProcessRunner> runner;  // Null: a PosixProcessRunner
  // Read SIGTERM, SIGINT and SIGHUP through a signalfd. Create() blocks
  // them in the calling thread, so call it before starting other threads.
  bool watch_signals = true;
  common::TimeMs result_resend_ms = 5000;  // Unacknowledged results resent
  // Forgotten tasks (after result_ack) share the next urgent journal
  // commit, or are committed on their own this long after the first.
  common::TimeMs forget_commit_ms = 1000;
  // A connected conductor that leaves the hellos unanswered this long is
  // left for the next of a cell (see Session).
  common::TimeMs answer_wait_ms = 10000;
};

class Player {
 public:
  // Reads the keys, opens the journal (tasks that were running become
  // LOST), scans the scores and connects. Errors are startup failures.
  static common::Result<std::unique_ptr<Player>> Create(
      const PlayerConfig& config, PlayerSeams seams = PlayerSeams());
  ~Player();

  // Serves the conductor until SIGTERM/SIGINT or RequestStop(), then stops
  // the running scores (they end LOST) and returns OK. A journal that
  // cannot be written does not stop it; an error means the ZeroMQ context
  // failed.
  common::Status Run();

  // Asks Run() to stop as on SIGTERM. Thread-safe.
  void RequestStop();

 private:
  Player(const PlayerConfig& config, PlayerSeams seams);
  common::Status Open();
  common::Status OpenCgroups();
  common::Status Connect();
  // Leaves the conductor talked to for `hint` (when valid) or the next
  // listed one, on a fresh socket; greets it at once in the first round,
  // else (or when `back_off`) after the back-off.
  common::Status MoveOn(const char* reason, const std::string& hint,
                        bool back_off);
  common::Status Turn();
  common::TimeMs PollTimeout(common::TimeMs now) const;
  void HandleSignals();
  void HandleStopRequest();
  common::Status HandleConductorTraffic();
  common::Status HandleSocketEvents();
  // Routes a conductor's message to its handler.
  common::Status Route(const broker::PlayerMessage& message);
  common::Status OnWelcome(const broker::Welcome& welcome);
  void OnTask(const broker::RunTask& task);
  common::Status OnSessionError(const broker::SessionError& error);
  common::Status RunTimers();
  void Settle();
  bool ForgetsDue() const;
  void NoteJournalPending();
  void SendOutbox();
  void Send(const broker::PlayerMessage& message);
  void Rescan();
  void BeginStop(const char* reason);

  const PlayerConfig config_;
  PlayerSeams seams_;
  PlayerKeys keys_;
  common::SystemClock clock_;
  broker::Context context_;  // Before the socket that uses it
  std::unique_ptr<broker::Endpoint> conductor_;
  std::unique_ptr<broker::SocketMonitor> monitor_;  // conductor_'s events
  std::unique_ptr<Journal> journal_;
  std::unique_ptr<TaskCgroups> cgroups_;  // Null: tasks not contained
  std::unique_ptr<ProcessRunner> runner_;
  ScoreDirectory scores_;
  std::unique_ptr<TaskBoard> board_;
  ConductorList conductors_;
  Session session_;
  // Epoch fencing (DESIGN.md section 17): the session's welcome's epoch,
  // and the highest one this process has seen.
  int64_t session_epoch_ = 0;
  int64_t highest_epoch_ = 0;
  std::optional<common::SignalFd> signals_;  // set if seams_.watch_signals
  common::SystemdNotifier notifier_{clock_.Monotonic()};
  common::UniqueFd stop_fd_;  // eventfd written by RequestStop()
  bool stopping_ = false;
  common::TimeMs forgets_since_ = 0;  // Monotonic; 0: no forget pending
};

}  // namespace orchestra::player

#endif  // ORCHESTRA_PLAYER_PLAYER_H_
