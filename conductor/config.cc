#include "conductor/config.h"

#include <cstdio>
#include <cstdlib>
#include <map>
#include <sstream>

#include "broker/curve_keys.h"
#include "common/config_file.h"
#include "common/limits.h"
#include "common/text.h"
#include "conductor/audience_keys.h"
#include "conductor/audience_socket.h"
#include "conductor/players_file.h"

namespace orchestra::conductor {

using common::ConfigReader;
using common::Result;
using common::Status;

namespace {

Status CheckEndpoint(std::string_view value, bool ipc_allowed) {
  if (value.rfind("tcp://", 0) == 0 && value.size() > 6) return Status();
  if (ipc_allowed && value.rfind("ipc://", 0) == 0)
    return CheckIpcAddress(value);
  return Status::InvalidArgument(
      "", "'" + std::string(value) + "' is not a " +
              (ipc_allowed ? "tcp:// or ipc://" : "tcp://") + " endpoint");
}

Status ParseAudienceEndpoints(std::string_view value,
                              std::vector<std::string>* out) {
  std::vector<std::string> endpoints = common::SplitList(value, ',');
  if (endpoints.empty())
    return Status::InvalidArgument("", "give at least one endpoint");
  for (const std::string& endpoint : endpoints) {
    Status s = CheckEndpoint(endpoint, true);
    if (!s.ok()) return s;
  }
  *out = std::move(endpoints);
  return Status();
}

Status CheckConsistency(const std::string& path, const ConductorConfig& c) {
  bool tcp_audience = false;
  for (const std::string& endpoint : c.audience_endpoints)
    tcp_audience |= endpoint.rfind("tcp://", 0) == 0;
  if (tcp_audience && c.audience_keys_file.empty())
    return Status::InvalidArgument(
        path,
        "a tcp:// audience endpoint needs 'audience keys file' (the "
        "Curve keys allowed to connect)");
  if (c.player_timeout_ms < 2 * c.heartbeat_interval_ms)
    return Status::InvalidArgument(
        path, "'player timeout' must be at least twice 'heartbeat interval'");
  return Status();
}

// The settings of `file` (read from `path`), checked.
Result<ConductorConfig> BindConductorConfig(const std::string& path,
                                            const common::ConfigFile& file) {
  ConductorConfig c;
  ConfigReader r(file);
  r.Custom("player endpoint", [&](std::string_view v) {
    c.player_endpoint = std::string(v);
    return CheckEndpoint(v, false);
  });
  r.Custom("audience endpoint", [&](std::string_view v) {
    return ParseAudienceEndpoints(v, &c.audience_endpoints);
  });
  r.Mode("audience socket mode", &c.audience_socket_mode);
  r.String("audience socket group", &c.audience_socket_group);
  r.String("conductor secret key", &c.secret_key_file);
  r.String("player file path", &c.players_file);
  r.String("audience keys file", &c.audience_keys_file);
  r.String("revoked keys file", &c.revoked_keys_file);
  r.String("database path", &c.database_path);
  r.Int("heartbeat interval", 10, 3600000, &c.heartbeat_interval_ms);
  r.Int("player timeout", 20, 86400000, &c.player_timeout_ms);
  r.Int("dispatch retry", 10, 86400000, &c.dispatch_retry_ms);
  r.Int("default delivery timeout", int64_t{0}, kMaxTimeLimitS,
        &c.default_delivery_timeout_s);
  r.Number("retention days", 0, 36500, &c.retention_days);
  r.Level("log level", &c.log_level);
  Status s = r.Finish();
  if (!s.ok()) return s;
  s = CheckConsistency(path, c);
  if (!s.ok()) return s;
  return c;
}

// `days` in the digits-and-point form `retention days` reads, with the
// fewest decimals that read back as the same number (an ostream's
// default writes 0.00001 as 1e-05, which the loader refuses).
std::string FormatDays(double days) {
  std::string text;
  // 1074 decimals spell the smallest double exactly.
  for (int decimals = 0; decimals <= 1074; ++decimals) {
    const int size = std::snprintf(nullptr, 0, "%.*f", decimals, days);
    text.resize(static_cast<size_t>(size) + 1);
    std::snprintf(text.data(), text.size(), "%.*f", decimals, days);
    text.resize(static_cast<size_t>(size));
    if (std::strtod(text.c_str(), nullptr) == days) break;
  }
  return text;
}

}  // namespace

Result<ConductorConfig> LoadConductorConfig(const std::string& path) {
  Result<common::ConfigFile> file = common::ConfigFile::Read(path);
  if (!file.ok()) return file.status();
  return BindConductorConfig(path, file.value());
}

Result<ConductorConfig> ParseConductorConfig(const std::string& path,
                                             std::string_view text) {
  Result<common::ConfigFile> file = common::ConfigFile::Parse(path, text);
  if (!file.ok()) return file.status();
  return BindConductorConfig(path, file.value());
}

Status CheckConfigFiles(const ConductorConfig& config) {
  Result<broker::CurveKeyPair> keys =
      broker::ReadSecretKeyFile(config.secret_key_file);
  if (!keys.ok()) return keys.status();
  Result<std::map<std::string, std::string>> players =
      LoadPlayersFile(config.players_file);
  if (!players.ok()) return players.status();
  Status s = AudienceKeys::Load(config.audience_keys_file).status();
  if (!s.ok()) return s;
  return LoadRevokedKeys(config.revoked_keys_file).status();
}

std::string DescribeConfig(const ConductorConfig& c) {
  std::ostringstream out;
  std::string endpoints;
  for (const std::string& e : c.audience_endpoints)
    endpoints += (endpoints.empty() ? "" : ", ") + e;
  char mode[8];
  std::snprintf(mode, sizeof(mode), "%04o", c.audience_socket_mode);
  out << "player endpoint = " << c.player_endpoint << "\n"
      << "audience endpoint = " << endpoints << "\n"
      << "audience socket mode = " << mode << "\n"
      << "audience socket group = " << c.audience_socket_group << "\n"
      << "conductor secret key = " << c.secret_key_file << "\n"
      << "player file path = " << c.players_file << "\n"
      << "audience keys file = " << c.audience_keys_file << "\n"
      << "revoked keys file = " << c.revoked_keys_file << "\n"
      << "database path = " << c.database_path << "\n"
      << "heartbeat interval = " << c.heartbeat_interval_ms << "\n"
      << "player timeout = " << c.player_timeout_ms << "\n"
      << "dispatch retry = " << c.dispatch_retry_ms << "\n"
      << "default delivery timeout = " << c.default_delivery_timeout_s << "\n"
      << "retention days = " << FormatDays(c.retention_days) << "\n"
      << "log level = " << common::LogLevelName(c.log_level) << "\n";
  return out.str();
}

}  // namespace orchestra::conductor
