// The loop: poll (100 ms at most) -> answer ZAP -> answer what players and
// clients sent, a bounded batch each -> once a second, join the cell if
// not yet a voter and read who is active -> return when this node leads.

#include "conductor/standby.h"

#include <signal.h>
#include <unistd.h>

#include "broker/audience_protocol.h"
#include "broker/curve_keys.h"
#include "broker/protocol.h"
#include "common/limits.h"
#include "common/log.h"
#include "conductor/audience_socket.h"
#include "conductor/trust.h"

namespace orchestra::conductor {

using common::Result;
using common::Status;

namespace {

constexpr common::TimeMs kPollMs = 100;
constexpr common::TimeMs kWatchMs = 1000;
constexpr common::TimeMs kJoinRetryMs = 200;
constexpr size_t kBatch = 256;  // messages per endpoint per turn

broker::EndpointOptions Limits() {
  broker::EndpointOptions options;
  options.send_hwm = 1000;
  options.receive_hwm = 100;
  options.handshake_ms = 5000;
  return options;
}

}  // namespace

Result<std::unique_ptr<Standby>> Standby::Create(const ConductorConfig& config,
                                                 Cell* cell,
                                                 common::SignalFd* signals) {
  std::unique_ptr<Standby> standby(new Standby(config, cell, signals));
  Status s = standby->LoadTrust();
  if (s.ok()) s = standby->authenticator_.Start();
  if (s.ok()) s = standby->Bind();
  if (!s.ok()) return s;
  return standby;
}

Standby::~Standby() {
  for (const std::string& path : ipc_paths_) ::unlink(path.c_str());
}

Status Standby::LoadTrust() {
  Result<TrustFiles> files = TrustFiles::Load(config_);
  if (!files.ok()) return files.status();
  Trust trust;
  trust.Install(std::move(files.value()));
  authenticator_.SetPlayers(trust.PlayerNamesByKey());
  authenticator_.SetRevoked(std::unordered_set<std::string>(
      trust.files().revoked.begin(), trust.files().revoked.end()));
  authenticator_.SetAudienceKeys(trust.AudienceNamesByKey());
  authenticator_.SetEpoch(trust.epoch());
  return Status();
}

Status Standby::Bind() {
  Result<broker::CurveKeyPair> keys =
      broker::ReadSecretKeyFile(config_.secret_key_file);
  if (!keys.ok()) return keys.status();
  broker::EndpointOptions options = Limits();
  options.curve_server_secret = &keys.value().secret_key;
  options.zap_domain = broker::kPlayerDomain;
  // A failed-over fleet greets the standbys too, all at once.
  options.backlog = kPlayerBacklog;
  Result<std::unique_ptr<broker::Endpoint>> players =
      broker::Endpoint::Router(&context_, "player endpoint", options);
  if (!players.ok()) return players.status();
  players_ = std::move(players.value());
  Result<std::string> bound = players_->Bind(config_.player_endpoint);
  if (!bound.ok()) return bound.status();
  common::LogInfo("bound endpoint=%s role=players standby=true",
                  bound.value().c_str());
  for (const std::string& address : config_.audience_endpoints) {
    broker::EndpointOptions a = Limits();
    a.zap_domain = broker::kAudienceDomain;
    const bool ipc = !IpcPath(address).empty();
    if (!ipc) a.curve_server_secret = &keys.value().secret_key;
    Result<std::unique_ptr<broker::Endpoint>> endpoint =
        broker::Endpoint::Router(&context_, "audience endpoint", a);
    if (!endpoint.ok()) return endpoint.status();
    audience_.push_back(std::move(endpoint.value()));
    gid_t group = static_cast<gid_t>(-1);
    Result<std::string> b =
        ipc ? BindIpcSocket(audience_.back().get(), address,
                            config_.audience_socket_mode, group)
            : audience_.back()->Bind(address);
    if (!b.ok()) return b.status();
    if (ipc) ipc_paths_.push_back(IpcPath(address));
    common::LogInfo("bound endpoint=%s role=audience standby=true",
                    b.value().c_str());
  }
  return Status();
}

Result<Standby::Outcome> Standby::Run() {
  notifier_.Ready("standby: another conductor of the cell is active");
  for (;;) {
    poller_.Clear();
    const size_t signal_item = poller_.AddFd(signals_->fd());
    const size_t zap_item = poller_.AddSocket(authenticator_.handle());
    const size_t player_item = poller_.AddSocket(players_->handle());
    std::vector<size_t> audience_items;
    for (auto& endpoint : audience_)
      audience_items.push_back(poller_.AddSocket(endpoint->handle()));
    Status s = poller_.Wait(kPollMs);
    if (!s.ok()) return s;
    const common::TimeMs now = clock_.Monotonic();
    notifier_.KeepAlive(now);
    if (poller_.IsReady(signal_item) && !HandleSignals())
      return Outcome::kStopped;
    if (poller_.IsReady(zap_item)) authenticator_.HandleRequests();
    Result<DqliteNode> leader = cell_->Leader();
    if (leader.ok() && leader.value().id == cell_->id()) {
      common::LogInfo("cell: this node leads id=%llu",
                      static_cast<unsigned long long>(cell_->id()));
      return Outcome::kLeads;
    }
    // A hint names the conductor of the node leading now, or nobody: the
    // last active one may be dead, and another not yet taken over.
    const std::string leading = leader.ok() ? leader.value().address : "";
    if (active_.address != leading && !active_.address.empty()) {
      active_ = CellLeader();
      next_watch_ = now;
    }
    if (poller_.IsReady(player_item)) AnswerPlayers();
    for (size_t i = 0; i < audience_.size(); ++i) {
      if (poller_.IsReady(audience_items[i]))
        AnswerAudience(audience_[i].get());
    }
    Watch(now);
  }
}

void Standby::Watch(common::TimeMs now) {
  if (now < next_watch_) return;
  next_watch_ = now + kWatchMs;
  if (!joined_) {
    Status s = cell_->Join();
    joined_ = s.ok();
    // Another node's change may be in progress: try again soon.
    if (!joined_) {
      next_watch_ = now + kJoinRetryMs;
      common::LogWarning("cell: not a voter yet error=%s",
                         common::LogQuote(s.ToString()).c_str());
    }
  }
  Result<CellLeader> active = cell_->Active();
  if (!active.ok()) active = CellLeader();
  // Nobody active yet: look again soon.
  if (active.value().epoch == 0) next_watch_ = now + kJoinRetryMs;
  if (active.value().epoch != active_.epoch)
    common::LogInfo("cell: active conductor epoch=%lld address=%s",
                    static_cast<long long>(active.value().epoch),
                    active.value().address.c_str());
  active_ = std::move(active.value());
}

void Standby::AnswerPlayers() {
  for (size_t n = 0; n < kBatch; ++n) {
    std::optional<broker::Inbound> in = players_->TryReceive();
    if (!in) return;
    if (in->malformed) continue;
    broker::SessionError error{"not_leader",
                               "this conductor of the cell is not the "
                               "active one",
                               active_.player_endpoint};
    (void)players_->SendTo(in->peer, in->request_style,
                           broker::EncodePlayerMessage(error));
  }
}

void Standby::AnswerAudience(broker::Endpoint* endpoint) {
  for (size_t n = 0; n < kBatch; ++n) {
    std::optional<broker::Inbound> in = endpoint->TryReceive();
    if (!in) return;
    if (in->malformed) continue;
    const broker::DecodedRequest request =
        broker::DecodeAudienceRequest(in->payload);
    std::string why = "this conductor of the cell is not the active one";
    if (active_.epoch == 0) why += "; the cell has no active conductor now";
    broker::AudienceReply reply{
        request.req, broker::ErrorReply{{broker::ErrorCode::kUnavailable, why,
                                         active_.audience_endpoint}}};
    (void)endpoint->SendTo(in->peer, in->request_style,
                           broker::EncodeAudienceReply(reply));
  }
}

bool Standby::HandleSignals() {
  for (int signal = signals_->Read(); signal != 0; signal = signals_->Read()) {
    if (signal == SIGHUP) {
      Status s = LoadTrust();
      if (!s.ok())
        common::LogError("reload failed, old settings kept error=%s",
                         common::LogQuote(s.ToString()).c_str());
      continue;
    }
    common::LogInfo("stopping signal=%s", strsignal(signal));
    notifier_.Stopping("stopping");
    return false;
  }
  return true;
}

}  // namespace orchestra::conductor
