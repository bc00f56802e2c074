// The loop. Each turn: wait for the conductor's socket, the signalfd, the
// stop eventfd or the runner, or the next timer; handle what is ready; then
// settle: pick waiting tasks for free slots, commit the turn's journal
// writes in one transaction (group commit), and only then send the turn's
// messages and spawn the picked tasks. So nothing is acknowledged or run
// before it is durable. Forgetting an acknowledged result is the one write
// nothing waits for: it joins the next commit that something does wait
// for, or is committed forget_commit_ms later, so a task costs the player
// two syncs instead of three and the forget's sync no longer lands in the
// middle of the conductor's work on the next job.
//
// A journal that fails a commit (disk full) does not stop the player: see
// task_board.cc. It stays connected, refuses new tasks with a HOST_ERROR
// result, keeps results in memory and sends them, and retries the journal
// every second.
//
// The session follows Session: hello with back-off until welcome; heartbeat
// when idle; after 3 silent heartbeats a fresh socket and hello again.
// Results are resent after each welcome and every result_resend_ms until
// the conductor acknowledges them. Only hello is sent outside a session.
//
// A cell (DESIGN.md section 17): the player talks to one conductor of its
// list at a time and moves on (ConductorList) when that one refuses with
// `not_leader`, leaves 3 hellos unanswered, falls silent, or welcomes with
// an older epoch than this process has already seen (a deposed leader).
// Each move is a fresh socket, so nothing more is heard from the old one.

#include "player/player.h"

#include <signal.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <set>

#include "broker/poller.h"
#include "common/log.h"
#include "player/posix_process_runner.h"

namespace orchestra::player {

using broker::PlayerMessage;
using common::Result;
using common::Status;
using common::TimeMs;

namespace {

constexpr TimeMs kFirstBackoffMs = 100;
constexpr TimeMs kMaxBackoffMs = 5000;
constexpr TimeMs kMaxPollMs = 1000;
constexpr int kMaxMessagesPerTurn = 1000;
constexpr TimeMs kLeftoverWaitMs = 5000;  // A killed leftover cgroup empties

}  // namespace

Player::Player(const PlayerConfig& config, PlayerSeams seams)
    : config_(config),
      seams_(std::move(seams)),
      conductors_(config.conductor_endpoints),
      session_(kFirstBackoffMs, kMaxBackoffMs, seams_.answer_wait_ms) {}

Player::~Player() = default;

Result<std::unique_ptr<Player>> Player::Create(const PlayerConfig& config,
                                               PlayerSeams seams) {
  Result<PlayerKeys> keys = LoadPlayerKeys(config);
  if (!keys.ok()) return keys.status();
  std::optional<common::SignalFd> signals;
  if (seams.watch_signals) {  // Before the context starts its threads
    Result<common::SignalFd> opened =
        common::SignalFd::Open({SIGTERM, SIGINT, SIGHUP});
    if (!opened.ok()) return opened.status();
    signals.emplace(std::move(opened.value()));
  }
  std::unique_ptr<Player> player(new Player(config, std::move(seams)));
  player->keys_ = std::move(keys.value());
  player->signals_ = std::move(signals);
  Status s = player->Open();
  if (!s.ok()) return s;
  return player;
}

Status Player::Open() {
  stop_fd_.Reset(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
  if (!stop_fd_.valid()) return Status::FromErrno("eventfd", errno);
  Result<std::unique_ptr<Journal>> journal = Journal::Open(config_.state_path);
  if (!journal.ok()) return journal.status();
  journal_ = std::move(journal.value());
  runner_ = std::move(seams_.runner);
  if (!runner_) {
    Status contained = OpenCgroups();
    if (!contained.ok()) return contained;
    RunnerOptions options{static_cast<size_t>(config_.output_limit),
                          config_.kill_grace_s * 1000, &clock_, cgroups_.get()};
    Result<std::unique_ptr<PosixProcessRunner>> runner =
        PosixProcessRunner::Create(options);
    if (!runner.ok()) return runner.status();
    runner_ = std::move(runner.value());
  }
  scores_ = ScoreDirectory::Scan(config_.score_directory, ::geteuid());
  board_ = std::make_unique<TaskBoard>(config_, journal_.get(), runner_.get(),
                                       &clock_);
  board_->set_scores(&scores_);
  Status s = board_->Load();
  if (!s.ok()) return s;
  return Connect();
}

// Section 16: the task cgroups' base, the player moved into its `player`
// child, the controllers enabled, and what a previous run left killed and
// removed (the journal's started tasks end LOST in TaskBoard::Load()).
// Without a base, tasks run in process groups only, said once here.
Status Player::OpenCgroups() {
  std::string why_not;
  Result<std::string> base = FindCgroupBase(config_.cgroup, "/proc", &why_not);
  if (!base.ok()) return base.status();
  if (base.value().empty()) {
    common::LogInfo("tasks not contained in cgroups reason=%s",
                    common::LogQuote(why_not).c_str());
    return Status();
  }
  Result<std::unique_ptr<TaskCgroups>> cgroups =
      TaskCgroups::Open(base.value());
  Status s = cgroups.ok() ? cgroups.value()->AdoptPlayer(::getpid())
                          : cgroups.status();
  if (!s.ok() && config_.cgroup != "auto") return s;
  if (!s.ok()) {  // auto: the cgroup is not ours to divide after all
    common::LogInfo("tasks not contained in cgroups reason=%s",
                    common::LogQuote(s.ToString()).c_str());
    return Status();
  }
  cgroups.value()->EnableControllers();
  Result<std::vector<JournalEntry>> entries = journal_->Load();
  if (!entries.ok()) return entries.status();
  std::set<broker::TaskId> started;
  for (const JournalEntry& entry : entries.value())
    if (entry.phase == TaskPhase::kStarted) started.insert(entry.task.task);
  cgroups.value()->CleanLeftovers(started, kLeftoverWaitMs);
  cgroups_ = std::move(cgroups.value());
  common::LogInfo("tasks contained in cgroups base=%s memory=%s pids=%s",
                  cgroups_->base().c_str(),
                  cgroups_->memory_on() ? "on" : "off",
                  cgroups_->pids_on() ? "on" : "off");
  return Status();
}

Status Player::Connect() {
  broker::EndpointOptions options;
  options.curve_server_public = keys_.conductor_public;
  options.curve_client = &keys_.ours;
  options.immediate = true;
  // No ZMTP heartbeats: the protocol's heartbeats already find a dead
  // conductor (3 silent beats), and each ZMTP ping costs the conductor a
  // Curve-encrypted pong and a libzmq timer that is slow to cancel with
  // thousands of sessions (see conductor.cc, BindPlayers).
  options.heartbeat_ms = 0;
  options.reconnect_ms = static_cast<int>(kFirstBackoffMs);
  options.reconnect_max_ms = static_cast<int>(kMaxBackoffMs);
  options.max_message_bytes = kMaxMessageBytes;
  monitor_.reset();
  conductor_.reset();  // The old session goes first
  Result<std::unique_ptr<broker::Endpoint>> dealer =
      broker::Endpoint::Dealer(&context_, "conductor", options);
  if (!dealer.ok()) return dealer.status();
  conductor_ = std::move(dealer.value());
  Result<std::unique_ptr<broker::SocketMonitor>> monitor =
      broker::SocketMonitor::Attach(&context_, conductor_.get());
  if (!monitor.ok()) return monitor.status();
  monitor_ = std::move(monitor.value());
  return conductor_->Connect(conductors_.current());
}

Status Player::MoveOn(const char* reason, const std::string& hint,
                      bool back_off) {
  const std::string from = conductors_.current();
  Status followed = hint.empty() ? Status() : conductors_.Follow(hint);
  if (!followed.ok())
    common::LogWarning("leader hint ignored error=%s",
                       common::LogQuote(followed.message()).c_str());
  if (hint.empty() || !followed.ok()) conductors_.Next();
  const TimeMs now = clock_.Monotonic();
  if (back_off)
    session_.Restart(now, /*at_once=*/false);
  else
    session_.MoveOn(now, conductors_.NextGreetingDelay());
  if (conductors_.current() != from)
    common::LogInfo("conductor changed from=%s to=%s reason=%s", from.c_str(),
                    conductors_.current().c_str(), reason);
  Status s = Connect();
  if (s.ok() || hint.empty()) return s;
  // A hint ZeroMQ cannot connect to must not stop the player
  common::LogWarning("leader hint ignored endpoint=%s error=%s",
                     common::LogQuote(hint).c_str(),
                     common::LogQuote(s.message()).c_str());
  conductors_.Next();
  return Connect();
}

Status Player::Run() {
  common::LogInfo(
      "player started player=%s conductor=%s conductors=%zu slots=%d "
      "scores=%zu version=%s",
      config_.player_name.c_str(), conductors_.current().c_str(),
      config_.conductor_endpoints.size(), config_.slots, scores_.size(),
      kPlayerVersion);
  session_.Restart(clock_.Monotonic(), /*at_once=*/true);
  notifier_.Ready("serving scores=" + std::to_string(scores_.size()));
  while (!stopping_ || board_->running() > 0) {
    Status s = Turn();
    if (!s.ok()) {
      common::LogError("player failed error=%s",
                       common::LogQuote(s.ToString()).c_str());
      return s;
    }
  }
  // Pending forgets; if they are lost, the conductor acknowledges again
  board_->Commit(/*forgets_due=*/true);
  common::LogInfo("player stopped player=%s", config_.player_name.c_str());
  return Status();
}

void Player::RequestStop() {
  uint64_t one = 1;
  ssize_t n = ::write(stop_fd_.get(), &one, sizeof(one));
  (void)n;  // A full counter already asks for the stop
}

Status Player::Turn() {
  broker::Poller poller;
  const size_t socket = poller.AddSocket(conductor_->handle());
  const size_t events = poller.AddSocket(monitor_->handle());
  const size_t stop = poller.AddFd(stop_fd_.get());
  const size_t signals = signals_ ? poller.AddFd(signals_->fd()) : SIZE_MAX;
  if (runner_->fd() >= 0) poller.AddFd(runner_->fd());
  Status s = poller.Wait(PollTimeout(clock_.Monotonic()));
  if (!s.ok()) return s;
  if (poller.IsReady(signals)) HandleSignals();
  if (poller.IsReady(stop)) HandleStopRequest();
  if (poller.IsReady(events)) {
    s = HandleSocketEvents();
    if (!s.ok()) return s;
  }
  if (poller.IsReady(socket)) {
    s = HandleConductorTraffic();
    if (!s.ok()) return s;
  }
  board_->CollectResults();  // Also enforces the runner's deadlines
  s = RunTimers();
  if (!s.ok()) return s;
  Settle();
  return Status();
}

TimeMs Player::PollTimeout(TimeMs now) const {
  TimeMs next = now + kMaxPollMs;
  for (TimeMs deadline :
       {session_.NextDeadline(), runner_->NextDeadline(),
        session_.live() ? board_->NextResend(seams_.result_resend_ms) : 0,
        notifier_.NextKeepAlive(), board_->NextJournalRetry(),
        forgets_since_ > 0 ? forgets_since_ + seams_.forget_commit_ms : 0}) {
    if (deadline > 0) next = std::min(next, deadline);
  }
  return std::max<TimeMs>(0, next - now);
}

void Player::HandleSignals() {
  for (int signal = signals_->Read(); signal != 0; signal = signals_->Read()) {
    if (signal == SIGHUP) {
      common::LogInfo("rescanning scores signal=SIGHUP");
      notifier_.Reloading();
      Rescan();
      notifier_.Ready("serving scores=" + std::to_string(scores_.size()));
    } else {
      BeginStop(signal == SIGINT ? "SIGINT" : "SIGTERM");
    }
  }
}

void Player::HandleStopRequest() {
  uint64_t count;
  ssize_t n = ::read(stop_fd_.get(), &count, sizeof(count));
  if (n == sizeof(count)) BeginStop("requested");
}

void Player::BeginStop(const char* reason) {
  if (stopping_) return;
  stopping_ = true;
  notifier_.Stopping("stopping running=" + std::to_string(board_->running()));
  common::LogInfo("player stopping reason=%s running=%zu waiting=%zu", reason,
                  board_->running(), board_->waiting());
  board_->StopAll();
}

void Player::Rescan() {
  scores_ = ScoreDirectory::Scan(config_.score_directory, ::geteuid());
  if (session_.live()) Send(broker::ScoreList{scores_.List()});
}

// A new connection (the first, or one after the conductor restarted or the
// network dropped) is greeted at once (see Session::OnConnected): a
// restarted conductor knows no session until our hello, and waiting for
// the next heartbeat to be answered with hello_required would keep a whole
// fleet away for up to a heartbeat interval.
// With other conductors to try (a cell), a dropped connection moves on at
// once: the conductor died or was deposed, and waiting for its heartbeats
// to fall silent would keep the fleet away for three heartbeat intervals.
Status Player::HandleSocketEvents() {
  int event = 0;
  int value = 0;
  bool dropped = false;
  while (monitor_->TryRead(&event, &value)) {
    dropped |= event == ZMQ_EVENT_DISCONNECTED;
    if (event == ZMQ_EVENT_CONNECTED)
      session_.OnTransportUp(clock_.Monotonic());
    if (event == ZMQ_EVENT_CONNECT_RETRIED) session_.OnRefused();
    if (!broker::SocketMonitor::IsHandshakeSucceeded(event)) continue;
    common::LogDebug("connected to the conductor");
    session_.OnConnected(clock_.Monotonic());
  }
  if (!dropped || !conductors_.CanMove()) return Status();
  common::LogWarning("conductor connection dropped endpoint=%s",
                     conductors_.current().c_str());
  return MoveOn("disconnected", "", /*back_off=*/false);
}

Status Player::HandleConductorTraffic() {
  for (int i = 0; i < kMaxMessagesPerTurn; ++i) {
    std::optional<broker::Inbound> in = conductor_->TryReceive();
    if (!in) break;
    session_.OnReceived(clock_.Monotonic());
    if (in->malformed) {
      common::LogWarning("message dropped reason=\"not one frame\"");
      continue;
    }
    Result<PlayerMessage> message = broker::DecodePlayerMessage(in->payload);
    if (!message.ok()) {
      common::LogWarning("message dropped reason=%s",
                         common::LogQuote(message.status().message()).c_str());
      continue;
    }
    common::LogDebug("received type=%s", broker::MessageType(message.value()));
    Status s = Route(message.value());
    if (!s.ok()) return s;
  }
  return Status();
}

// Only a new socket after a refused session can fail (the ZeroMQ context).
Status Player::Route(const PlayerMessage& message) {
  if (const auto* m = std::get_if<broker::RunTask>(&message)) {
    OnTask(*m);
  } else if (const auto* m = std::get_if<broker::CancelTask>(&message)) {
    board_->OnCancel(m->task);
  } else if (const auto* m = std::get_if<broker::ResultAck>(&message)) {
    board_->OnResultAck(m->task);
  } else if (const auto* m = std::get_if<broker::Welcome>(&message)) {
    return OnWelcome(*m);
  } else if (const auto* m = std::get_if<broker::SessionError>(&message)) {
    return OnSessionError(*m);
  } else if (!std::holds_alternative<broker::Heartbeat>(message)) {
    common::LogWarning("message dropped reason=\"unexpected type %s\"",
                       broker::MessageType(message));
  }
  return Status();
}

// A welcome of an older epoch than one already seen comes from a
// conductor that no longer leads (it has not heard yet): as not_leader.
Status Player::OnWelcome(const broker::Welcome& welcome) {
  if (welcome.epoch < highest_epoch_) {
    common::LogWarning(
        "stale conductor left endpoint=%s epoch=%lld highest_epoch=%lld",
        conductors_.current().c_str(), static_cast<long long>(welcome.epoch),
        static_cast<long long>(highest_epoch_));
    return MoveOn("stale_epoch", "", /*back_off=*/true);
  }
  const TimeMs now = clock_.Monotonic();
  common::LogInfo("session established endpoint=%s epoch=%lld heartbeat_ms=%d",
                  conductors_.current().c_str(),
                  static_cast<long long>(welcome.epoch), welcome.heartbeat_ms);
  session_epoch_ = welcome.epoch;
  highest_epoch_ = welcome.epoch;
  conductors_.OnWelcome();
  session_.OnWelcome(now, welcome.heartbeat_ms);
  board_->ResendResults(now, 0);
  return Status();
}

// Fencing: a task older than the session's welcome was sent by a leader
// since deposed; it is dropped unjournaled and unanswered (the leader of
// its epoch is gone, and the current one sends its own tasks).
void Player::OnTask(const broker::RunTask& task) {
  if (task.epoch < session_epoch_) {
    common::LogWarning(
        "task dropped task=%lld epoch=%lld session_epoch=%lld "
        "reason=\"older than the session\"",
        static_cast<long long>(task.task), static_cast<long long>(task.epoch),
        static_cast<long long>(session_epoch_));
    return;
  }
  board_->OnTask(task);
}

Status Player::OnSessionError(const broker::SessionError& error) {
  const TimeMs now = clock_.Monotonic();
  if (error.code == "hello_required") {
    common::LogInfo("session unknown to the conductor, greeting again");
    session_.Restart(now, /*at_once=*/true);
    return Status();
  }
  if (error.code == "not_leader") {
    common::LogInfo("conductor not the leader endpoint=%s leader=%s",
                    conductors_.current().c_str(),
                    common::LogQuote(error.leader).c_str());
    // At once: a full round of the list without a welcome backs off.
    return MoveOn("not_leader", error.leader, /*back_off=*/false);
  }
  common::LogWarning("session refused code=%s message=%s",
                     common::LogQuote(error.code).c_str(),
                     common::LogQuote(error.message).c_str());
  session_.Restart(now, /*at_once=*/false);
  return Connect();
}

Status Player::RunTimers() {
  const TimeMs now = clock_.Monotonic();
  notifier_.KeepAlive(now);
  if (session_.ConductorGone(now)) {
    common::LogWarning("conductor silent, reconnecting endpoint=%s",
                       conductors_.current().c_str());
    Status s = MoveOn("silent", "", /*back_off=*/false);
    if (!s.ok()) return s;
  } else if (conductors_.CanMove() && session_.HellosUnanswered(now)) {
    common::LogWarning("conductor not answering endpoint=%s",
                       conductors_.current().c_str());
    Status s = MoveOn("no_answer", "", /*back_off=*/false);
    if (!s.ok()) return s;
  }
  if (session_.live()) board_->ResendResults(now, seams_.result_resend_ms);
  board_->RetryJournal();
  return Status();
}

// Sends before spawning: the turn's results reach the conductor before the
// spawns (each blocks until its exec), so it can refill the freed slots
// meanwhile.
void Player::Settle() {
  for (;;) {
    board_->StartReady();
    board_->Commit(ForgetsDue());
    NoteJournalPending();
    SendOutbox();
    if (!board_->HasStarted()) return;
    board_->SpawnStarted();  // Failures queue results: settle again
  }
}

bool Player::ForgetsDue() const {
  return forgets_since_ > 0 &&
         clock_.Monotonic() >= forgets_since_ + seams_.forget_commit_ms;
}

void Player::NoteJournalPending() {
  if (!journal_->HasPending())
    forgets_since_ = 0;
  else if (forgets_since_ == 0)
    forgets_since_ = clock_.Monotonic();
}

void Player::SendOutbox() {
  const TimeMs now = clock_.Monotonic();
  if (session_.HelloDue(now)) {
    broker::Hello hello;
    hello.version = kPlayerVersion;
    hello.slots = config_.slots;
    hello.scores = scores_.List();
    hello.tasks = board_->Held();
    Send(hello);
    session_.OnHelloSent(now);
  }
  for (const PlayerMessage& message : board_->TakeOutbox()) {
    if (session_.live())
      Send(message);
    else
      common::LogDebug("not sent type=%s reason=\"no session\"",
                       broker::MessageType(message));
  }
  if (session_.HeartbeatDue(now)) Send(broker::Heartbeat{});
}

void Player::Send(const PlayerMessage& message) {
  session_.OnSent(clock_.Monotonic());
  Status s = conductor_->Send(broker::EncodePlayerMessage(message));
  if (!s.ok())
    common::LogDebug("not sent type=%s error=%s", broker::MessageType(message),
                     common::LogQuote(s.message()).c_str());
  else
    common::LogDebug("sent type=%s", broker::MessageType(message));
}

}  // namespace orchestra::player
