// The loop: poll (until the next timer) -> act on the commits back from
// the store's thread and send what they release -> answer ZAP -> drain the
// player endpoint and each audience endpoint (bounded batches, so one busy
// peer cannot starve the rest) -> run due timers -> end the turn: hand its
// writes to the store's thread, send what is released. The store's thread
// commits every turn that has come in in one transaction, so durability
// costs one fsync per commit, not one per message (group commit), and the
// loop serves the next turn while a commit syncs (pipelining). When a
// commit fails, the turns not committed are undone and the store counts as
// failed until a retry writes again (see conductor/core.cc).

#include "conductor/conductor.h"

#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <sodium.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>

#include "broker/curve_keys.h"
#include "common/files.h"
#include "common/limits.h"
#include "common/log.h"
#include "conductor/audience_socket.h"
#include "conductor/players_file.h"
#include "conductor/trust.h"

namespace orchestra::conductor {

using common::Result;
using common::Status;

namespace {

constexpr size_t kBatch = 4096;  // messages per endpoint per turn
// A turn ends early once its replies and messages reach this: they are
// held until the turn's commit.
constexpr size_t kTurnBytes = 16 << 20;
// A turn also ends early after this long handling one endpoint's messages,
// so a peer flooding large messages cannot keep the others waiting.
constexpr common::TimeMs kTurnMs = 50;
constexpr int kAudienceLingerMs = 1000;  // last replies, when stopping
// Connections the kernel queues before the conductor accepts them (the
// players' is kPlayerBacklog, common/limits.h). Both shrink under a low
// descriptor limit (DescriptorBudget::Backlog).
constexpr int kAudienceBacklog = 100;  // libzmq's
// What one peer may make a conductor socket hold (DESIGN.md section 6):
// messages libzmq queues to it and from it, and how long a connection that
// has not finished its handshake keeps its descriptor (libzmq: 30 s).
constexpr int kPeerSendHwm = 1000;
constexpr int kPeerReceiveHwm = 100;
constexpr int kHandshakeMs = 5000;
// How soon the loop flushes again while the outbox holds a backlog.
constexpr common::TimeMs kBacklogRetryMs = 10;
// How often a cell's active conductor asks its node whether it still
// leads. A deposed one can send nothing meanwhile: what it would send
// waits for commits, which its node refuses.
constexpr common::TimeMs kLeadCheckMs = 200;

// The options every conductor socket shares.
broker::EndpointOptions PeerLimits() {
  broker::EndpointOptions options;
  options.send_hwm = kPeerSendHwm;
  options.receive_hwm = kPeerReceiveHwm;
  options.handshake_ms = kHandshakeMs;
  return options;
}

// "tcp://*:2258" is reached at the host of the cell address.
std::string Reachable(const std::string& bound, const std::string& cell) {
  const std::string host = cell.substr(0, cell.rfind(':'));
  for (const char* any : {"tcp://*:", "tcp://0.0.0.0:"}) {
    const std::string prefix(any);
    if (bound.rfind(prefix, 0) == 0)
      return "tcp://" + host + ":" + bound.substr(prefix.size());
  }
  return bound;
}

}  // namespace

Conductor::Conductor(const std::string& config_path, common::SignalFd* signals,
                     Cell* cell)
    : config_path_(config_path),
      signals_(signals),
      cell_(cell),
      authenticator_(&context_) {}

Result<std::unique_ptr<Conductor>> Conductor::Create(
    const std::string& config_path, const ConductorConfig& config,
    common::SignalFd* signals, Cell* cell) {
  std::unique_ptr<Conductor> conductor(
      new Conductor(config_path, signals, cell));
  Status s = conductor->Start(config);
  if (!s.ok()) return s;
  return conductor;
}

Status Conductor::Start(const ConductorConfig& config) {
  // A cell's node holds the lock on its directory (Cell::Start).
  Status s = cell_ ? Status() : LockDatabase(config.database_path);
  if (!s.ok()) return s;
  std::unique_ptr<JobStore> cell_store;
  if (cell_) {
    Result<std::unique_ptr<JobStore>> store = cell_->OpenStore();
    if (!store.ok()) return store.status();
    cell_store = std::move(store.value());
  }
  Result<std::unique_ptr<Core>> core =
      Core::Open(config, &clock_, std::move(cell_store));
  if (!core.ok()) return core.status();
  core_ = std::move(core.value());
  authenticator_.SetRefusalHook([this](const broker::ZapRequest& r) {
    core_->metrics()->ZapDenied(r.domain);
  });
  Result<TrustFiles> trust = TrustFiles::Load(config);
  if (!trust.ok()) return trust.status();
  core_->InstallTrust(std::move(trust.value()));
  UpdateAuthenticator();
  s = core_->Recover();
  Send();
  if (!s.ok()) return s;
  Result<std::unique_ptr<DescriptorGuard>> guard =
      DescriptorGuard::Create(&context_);
  if (!guard.ok()) return guard.status();
  guard_ = std::move(guard.value());
  s = authenticator_.Start();
  if (s.ok()) s = BindEndpoints();
  if (s.ok()) s = Advertise();
  if (s.ok()) s = StartHttp();
  if (s.ok()) s = guard_->Start();
  if (!s.ok()) return s;
  core_->StartTimers();
  return Status();
}

// Our secret key is read once and dropped (zeroed) when every endpoint has
// it: libzmq keeps its own copy in each socket.
Status Conductor::BindEndpoints() {
  Result<broker::CurveKeyPair> keys =
      broker::ReadSecretKeyFile(config().secret_key_file);
  if (!keys.ok()) return keys.status();
  Status s = BindPlayers(keys.value());
  for (const std::string& address : config().audience_endpoints) {
    if (s.ok()) s = BindAudience(address, keys.value());
  }
  return s;
}

Status Conductor::StartHttp() {
  if (config().http_endpoint.empty()) return Status();
  Result<HttpAddress> address = HttpAddress::Parse(config().http_endpoint);
  if (!address.ok())
    return Status::InvalidArgument(config_path_ + ": 'http endpoint'",
                                   address.status().message());
  Result<std::unique_ptr<HttpUsers>> users = LoadHttpUsers(config());
  if (!users.ok()) return users.status();
  // A cancel from the page is committed before its answer, which shows it.
  web_ = std::make_unique<WebSite>(core_.get(), &clock_, [this] {
    Status s = EndTurn();
    if (s.ok()) s = core_->Settle();
    if (!s.ok()) (void)StoreFailed(s);
    Send();
    return s;
  });
  web_->set_users(std::move(users.value()));
  std::string certificate, key;
  Status s = ReadHttpTls(config(), &certificate, &key);
  if (!s.ok()) return s;
  HttpLimits limits;
  limits.connections = config().http_connections;
  limits.idle_timeout_s = static_cast<unsigned>(config().http_timeout_s);
  Result<std::unique_ptr<HttpServer>> server = HttpServer::Start(
      address.value(), certificate, key, limits,
      [this](const HttpRequest& r) { return web_->Handle(r); });
  sodium_memzero(key.data(), key.size());
  if (!server.ok()) return server.status();
  http_ = std::move(server.value());
  web_->set_port(http_->port());
  common::LogInfo("bound endpoint=%s role=http users=%s", http_->url().c_str(),
                  config().http_users_file.empty() ? "none" : "file");
  return Status();
}

Result<std::unique_ptr<HttpUsers>> Conductor::LoadHttpUsers(
    const ConductorConfig& config) {
  if (config.http_users_file.empty()) return std::unique_ptr<HttpUsers>();
  Result<HttpUsers> users = HttpUsers::Load(config.http_users_file);
  if (!users.ok()) return users.status();
  return std::make_unique<HttpUsers>(std::move(users.value()));
}

void Conductor::ServeHttp(bool ready) {
  if (!http_) return;
  if (ready || (http_due_ >= 0 && clock_.Monotonic() >= http_due_))
    http_->Run();
  const long timeout = http_->TimeoutMs();
  http_due_ = timeout < 0 ? -1 : clock_.Monotonic() + timeout;
}

Status Conductor::LockDatabase(const std::string& database_path) {
  const std::string path = database_path + ".lock";
  lock_.Reset(::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600));
  if (!lock_.valid()) return Status::FromErrno(path, errno);
  if (::flock(lock_.get(), LOCK_EX | LOCK_NB) != 0)
    return Status::Conflict(database_path,
                            "another conductor is using this database");
  return Status();
}

void Conductor::UpdateAuthenticator() {
  const Trust& trust = core_->trust();
  authenticator_.SetPlayers(trust.PlayerNamesByKey());
  authenticator_.SetRevoked(std::unordered_set<std::string>(
      trust.files().revoked.begin(), trust.files().revoked.end()));
  authenticator_.SetAudienceKeys(trust.AudienceNamesByKey());
  authenticator_.SetEpoch(trust.epoch());
}

Status Conductor::BindPlayers(const broker::CurveKeyPair& keys) {
  broker::EndpointOptions options = PeerLimits();
  options.curve_server_secret = &keys.secret_key;
  options.zap_domain = broker::kPlayerDomain;
  // No ZMTP heartbeats here: the player protocol's own heartbeats already
  // tell a silent player (player timeout), and libzmq 4.3's timers cancel
  // in time linear in the number of timers, so a heartbeat timer on every
  // session made each message cost O(players) in the I/O thread (40% of
  // its time with 3,000 players, and reconnecting 3,000 players took 30 s).
  options.heartbeat_ms = 0;
  options.backlog = guard_->Backlog(kPlayerBacklog);
  Result<std::unique_ptr<broker::Endpoint>> endpoint =
      broker::Endpoint::Router(&context_, "player endpoint", options);
  if (!endpoint.ok()) return endpoint.status();
  players_ = std::move(endpoint.value());
  Status s =
      guard_->Watch(players_.get(), config().player_endpoint, options.backlog);
  if (!s.ok()) return s;
  Result<std::string> bound = players_->Bind(config().player_endpoint);
  if (!bound.ok()) return bound.status();
  bound_players_ = bound.value();
  common::LogInfo("bound endpoint=%s role=players key=%s",
                  bound.value().c_str(),
                  broker::KeyFingerprint(keys.public_key).c_str());
  return Status();
}

Status Conductor::BindAudience(const std::string& address,
                               const broker::CurveKeyPair& keys) {
  broker::EndpointOptions options = PeerLimits();
  options.zap_domain = broker::kAudienceDomain;
  options.linger_ms = kAudienceLingerMs;
  const bool ipc = !IpcPath(address).empty();
  if (!ipc) options.curve_server_secret = &keys.secret_key;
  options.backlog = guard_->Backlog(kAudienceBacklog);
  Result<std::unique_ptr<broker::Endpoint>> endpoint =
      broker::Endpoint::Router(&context_, "audience endpoint", options);
  if (!endpoint.ok()) return endpoint.status();
  // Kept even if its bind fails (the start then fails): the guard watches
  // it until the guard is destroyed.
  audience_.push_back(std::move(endpoint.value()));
  broker::Endpoint* audience = audience_.back().get();
  Status s = guard_->Watch(audience, address, options.backlog);
  if (!s.ok()) return s;
  Result<std::string> bound =
      ipc ? BindAudienceSocket(audience, address) : audience->Bind(address);
  if (!bound.ok()) return bound.status();
  if (!ipc && bound_audience_.empty()) bound_audience_ = bound.value();
  common::LogInfo("bound endpoint=%s role=audience", bound.value().c_str());
  return Status();
}

// An ipc audience socket: reachable by our user only until it has the
// configured group and mode (see audience_socket.h).
Result<std::string> Conductor::BindAudienceSocket(broker::Endpoint* endpoint,
                                                  const std::string& address) {
  gid_t group = static_cast<gid_t>(-1);
  if (!config().audience_socket_group.empty()) {
    struct group* g = ::getgrnam(config().audience_socket_group.c_str());
    if (g == nullptr)
      return Status::InvalidArgument(config_path_,
                                     "audience socket group '" +
                                         config().audience_socket_group +
                                         "' does not exist");
    group = g->gr_gid;
  }
  Result<std::string> bound =
      BindIpcSocket(endpoint, address, config().audience_socket_mode, group);
  if (!bound.ok()) {
    const Status& s = bound.status();
    if (s.code() != Status::Code::kInvalidArgument) return s;
    return Status::InvalidArgument(config_path_ + ": 'audience endpoint'",
                                   s.message());
  }
  ipc_paths_.push_back(IpcPath(address));
  return bound;
}

Status Conductor::Run() {
  common::LogInfo("started players=%zu jobs=%zu",
                  core_->trust().listed()->size(),
                  core_->board()->active_jobs());
  notifier_.Ready("serving " + core_->Describe());
  // A busy turn logs a line per job or player: they leave in one write at
  // the end of the turn (EndTurn) instead of a system call each.
  common::HoldLogLines(true);
  Status s;
  while (!stop_ && s.ok()) s = Turn();
  common::HoldLogLines(false);
  notifier_.Stopping(s.ok() ? "stopping" : "poll failed");
  if (!s.ok()) {
    common::LogError("stopping: poll failed error=%s",
                     common::LogQuote(s.ToString()).c_str());
    return s;
  }
  AnswerBeforeStopping();
  for (const std::string& path : ipc_paths_) ::unlink(path.c_str());
  common::LogInfo("stopped jobs=%zu", core_->board()->active_jobs());
  return Status();
}

Status Conductor::Turn() {
  poller_.Clear();
  const size_t signal_item = poller_.AddFd(signals_->fd());
  const size_t zap_item = poller_.AddSocket(authenticator_.handle());
  const size_t player_item = poller_.AddSocket(players_->handle());
  std::vector<size_t> audience_items;
  for (auto& endpoint : audience_)
    audience_items.push_back(poller_.AddSocket(endpoint->handle()));
  const size_t http_item = http_ ? poller_.AddFd(http_->fd()) : SIZE_MAX;
  const size_t store_item = poller_.AddFd(core_->store_fd());
  common::TimeMs now = clock_.Monotonic();
  common::TimeMs timeout = core_->TimeUntilNextTimer(now);
  if (http_due_ >= 0)
    timeout = std::min(timeout, std::max<common::TimeMs>(0, http_due_ - now));
  if (cell_)
    timeout =
        std::min(timeout, std::max<common::TimeMs>(0, next_lead_check_ - now));
  if (notifier_.NextKeepAlive() > 0)
    timeout = std::min(
        timeout, std::max<common::TimeMs>(0, notifier_.NextKeepAlive() - now));
  if (core_->outbox()->HasBacklog())
    timeout = std::min(timeout, kBacklogRetryMs);
  Status s = poller_.Wait(timeout);
  if (!s.ok()) return s;
  notifier_.KeepAlive(clock_.Monotonic());
  guard_->LogReports(clock_.Monotonic());
  if (poller_.IsReady(store_item)) {
    s = core_->TakeCommits();
    if (!s.ok()) (void)StoreFailed(s);
    Send();
  }
  if (poller_.IsReady(signal_item)) HandleSignals();
  CheckLead();
  if (stop_) return Status();
  if (poller_.IsReady(zap_item)) authenticator_.HandleRequests();
  s = Serve(player_item, audience_items);
  if (s.ok()) s = EndTurn();
  if (!s.ok()) (void)StoreFailed(s);  // Logged there; the loop goes on
  // Web requests read what is committed; a cancel ends its own turn.
  ServeHttp(http_item != SIZE_MAX && poller_.IsReady(http_item));
  return Status();
}

// A non-OK status is a failed store write: the turn is to be undone.
Status Conductor::Serve(size_t player_item,
                        const std::vector<size_t>& audience_items) {
  Status s;
  if (poller_.IsReady(player_item)) s = Drain(players_.get(), SIZE_MAX);
  for (size_t i = 0; s.ok() && i < audience_.size(); ++i) {
    if (poller_.IsReady(audience_items[i])) s = Drain(audience_[i].get(), i);
  }
  if (s.ok()) s = core_->RunTimers();
  if (s.ok() && reload_) {
    notifier_.Reloading();
    s = Reload();
    notifier_.Ready("serving " + core_->Describe());
  }
  return s;
}

Status Conductor::Drain(broker::Endpoint* endpoint, size_t audience_index) {
  const common::TimeMs end = clock_.Monotonic() + kTurnMs;
  const Outbox* outbox = core_->outbox();
  for (size_t n = 0; n < kBatch && outbox->turn_bytes() < kTurnBytes; ++n) {
    if (n % 64 == 63 && clock_.Monotonic() >= end) break;
    std::optional<broker::Inbound> in = endpoint->TryReceive();
    if (!in) break;
    Status s = audience_index == SIZE_MAX
                   ? core_->player_channel()->Handle(*in)
                   : core_->audience_channel()->Handle(audience_index, *in);
    if (!s.ok()) return s;
  }
  return Status();
}

Status Conductor::EndTurn() {
  Status s = core_->CommitTurn();
  if (!s.ok()) return s;
  Send();
  return Status();
}

void Conductor::Send() {
  std::vector<broker::Endpoint*> audience;
  for (auto& endpoint : audience_) audience.push_back(endpoint.get());
  if (players_) core_->Flush(players_.get(), audience);
  common::FlushLogLines();
}

Status Conductor::StoreFailed(const Status& error) {
  Status s = core_->StoreFailed(error);
  Send();
  return s;
}

// Every request gets one final reply, also when the conductor stops: waits
// and requests already queued get `unavailable`; the audience sockets
// linger briefly so that these replies leave before the process does.
void Conductor::AnswerBeforeStopping() {
  core_->audience_channel()->Stop();
  Status s;
  for (size_t i = 0; s.ok() && i < audience_.size(); ++i)
    s = Drain(audience_[i].get(), i);
  if (s.ok()) s = EndTurn();
  if (s.ok()) s = core_->Settle();  // The last replies leave with the process
  if (!s.ok()) (void)StoreFailed(s);
  Send();
}

Status Conductor::Advertise() {
  if (!cell_) return Status();
  const std::string players = Reachable(bound_players_, cell_->address());
  const std::string audience =
      bound_audience_.empty() ? ""
                              : Reachable(bound_audience_, cell_->address());
  Status s = cell_->Advertise(config().epoch, players, audience);
  if (!s.ok()) return s;
  common::LogInfo("cell: active epoch=%lld players=%s audience=%s",
                  static_cast<long long>(config().epoch), players.c_str(),
                  audience.c_str());
  return Status();
}

void Conductor::CheckLead() {
  if (!cell_) return;
  const common::TimeMs now = clock_.Monotonic();
  if (now < next_lead_check_) return;
  next_lead_check_ = now + kLeadCheckMs;
  if (cell_->Leads()) return;
  common::LogWarning("cell: this node no longer leads; standing by epoch=%lld",
                     static_cast<long long>(config().epoch));
  deposed_ = true;
  stop_ = true;
}

void Conductor::HandleSignals() {
  for (int signal = signals_->Read(); signal != 0; signal = signals_->Read()) {
    if (signal == SIGHUP) {
      reload_ = true;
    } else {
      common::LogInfo("stopping signal=%s", strsignal(signal));
      stop_ = true;
    }
  }
}

// SIGHUP: a broken file is logged and the old settings stay. Endpoints,
// keys and the database need a restart; everything else applies now.
Status Conductor::Reload() {
  reload_ = false;
  Result<ConductorConfig> loaded = LoadConductorConfig(config_path_);
  if (!loaded.ok()) {
    common::LogError("reload failed, old settings kept error=%s",
                     common::LogQuote(loaded.status().ToString()).c_str());
    return Status();
  }
  Result<TrustFiles> trust = TrustFiles::Load(loaded.value());
  if (!trust.ok()) {
    common::LogError("reload failed, old settings kept error=%s",
                     common::LogQuote(trust.status().ToString()).c_str());
    return Status();
  }
  ConductorConfig& next = loaded.value();
  const ConductorConfig& current = config();
  if (next.player_endpoint != current.player_endpoint ||
      next.audience_endpoints != current.audience_endpoints ||
      next.database_path != current.database_path ||
      next.secret_key_file != current.secret_key_file)
    common::LogWarning(
        "reload: endpoints, keys and database path change "
        "only on restart");
  next.player_endpoint = current.player_endpoint;
  next.audience_endpoints = current.audience_endpoints;
  next.database_path = current.database_path;
  next.secret_key_file = current.secret_key_file;
  next.epoch = current.epoch;
  Result<std::unique_ptr<HttpUsers>> users = LoadHttpUsers(next);
  if (!users.ok()) {
    common::LogError("reload failed, old settings kept error=%s",
                     common::LogQuote(users.status().ToString()).c_str());
    return Status();
  }
  if (next.http_endpoint != current.http_endpoint ||
      next.http_tls_certificate != current.http_tls_certificate ||
      next.http_tls_key != current.http_tls_key ||
      next.http_connections != current.http_connections ||
      next.http_timeout_s != current.http_timeout_s ||
      next.http_users_file.empty() != current.http_users_file.empty())
    common::LogWarning(
        "reload: the web page's endpoint, TLS files, connections and "
        "whether it has users change only on restart");
  next.http_endpoint = current.http_endpoint;
  next.http_tls_certificate = current.http_tls_certificate;
  next.http_tls_key = current.http_tls_key;
  next.http_connections = current.http_connections;
  next.http_timeout_s = current.http_timeout_s;
  if (next.http_users_file.empty() != current.http_users_file.empty())
    next.http_users_file = current.http_users_file;
  else if (web_)
    web_->set_users(std::move(users.value()));
  core_->Reconfigure(next);
  common::InitLogging("orchestra-conductor", config().log_level);
  Status s = core_->ApplyTrust(std::move(trust.value()));
  UpdateAuthenticator();
  const Trust& installed = core_->trust();
  common::LogInfo(
      "reloaded players=%zu revoked=%zu audience_keys=%zu "
      "epoch=%lld",
      installed.listed()->size(), installed.files().revoked.size(),
      installed.files().audience.size(),
      static_cast<long long>(installed.epoch()));
  return s;
}

}  // namespace orchestra::conductor
