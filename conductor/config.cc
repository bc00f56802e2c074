#include "conductor/config.h"

#include <sodium.h>

#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <sstream>

#include "broker/curve_keys.h"
#include "common/config_file.h"
#include "common/files.h"
#include "common/limits.h"
#include "common/text.h"
#include "conductor/audience_keys.h"
#include "conductor/audience_socket.h"
#include "conductor/http_server.h"
#include "conductor/http_users.h"
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

// A dqlite node's address: host:port, the host a name or an IPv4 address.
Status CheckCellAddress(std::string_view address) {
  const size_t colon = address.rfind(':');
  if (colon == std::string_view::npos || colon == 0 || address.size() > 255)
    return Status::InvalidArgument("", "give host:port");
  for (char ch : address.substr(0, colon)) {
    if (!std::isalnum(static_cast<unsigned char>(ch)) && ch != '.' && ch != '-')
      return Status::InvalidArgument("", "give host:port");
  }
  const std::string_view port = address.substr(colon + 1);
  int64_t n = 0;
  if (!common::ParseInt64(port, 1, 65535, &n))
    return Status::InvalidArgument("", "the port must be 1 to 65535");
  return Status();
}

Status ParseCellPeers(std::string_view value, std::vector<std::string>* out) {
  std::vector<std::string> peers = common::SplitList(value, ',');
  if (peers.empty() || peers.size() > kMaxCellPeers)
    return Status::InvalidArgument("", "give 1 to 6 host:port addresses");
  for (const std::string& peer : peers) {
    Status s = CheckCellAddress(peer);
    if (!s.ok()) return Status::InvalidArgument("", peer + ": " + s.message());
  }
  *out = std::move(peers);
  return Status();
}

// The web page is open to the network only with TLS and users; a
// certificate needs its key.
Status CheckHttpEndpoint(const ConductorConfig& c) {
  if (c.http_tls_certificate.empty() != c.http_tls_key.empty())
    return Status::InvalidArgument(
        "", "'http tls certificate' and 'http tls key' go together");
  if (c.http_endpoint.empty()) return Status();
  Result<HttpAddress> address = HttpAddress::Parse(c.http_endpoint);
  if (!address.ok()) return address.status();
  if (!address.value().loopback &&
      (c.http_tls_certificate.empty() || c.http_users_file.empty()))
    return Status::InvalidArgument(
        "", "'" + c.http_endpoint +
                "' is not a loopback address: the web page may listen there "
                "only with 'http tls certificate', 'http tls key' and 'http "
                "users file' set (or use 127.0.0.1:2259)");
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
  Status s = CheckHttpEndpoint(c);
  if (!s.ok()) return Status::InvalidArgument(path, s.message());
  const bool cell = c.database_engine == "dqlite";
  if (cell && (c.cell_address.empty() || c.cell_peers.empty()))
    return Status::InvalidArgument(
        path,
        "'database engine = dqlite' needs 'cell address' and 'cell "
        "peers'");
  if (!cell && (!c.cell_address.empty() || !c.cell_peers.empty()))
    return Status::InvalidArgument(
        path,
        "'cell address' and 'cell peers' need 'database engine = "
        "dqlite'");
  for (const std::string& peer : c.cell_peers) {
    if (peer == c.cell_address)
      return Status::InvalidArgument(
          path, "'cell peers' lists this node's own 'cell address'");
  }
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
  r.Custom("database engine", [&](std::string_view v) {
    c.database_engine = std::string(v);
    if (v == "sqlite" || v == "dqlite") return Status();
    return Status::InvalidArgument("", "give sqlite or dqlite");
  });
  r.Custom("cell address", [&](std::string_view v) {
    c.cell_address = std::string(v);
    return CheckCellAddress(v);
  });
  r.Custom("cell peers", [&](std::string_view v) {
    return ParseCellPeers(v, &c.cell_peers);
  });
  r.Int("heartbeat interval", 10, 3600000, &c.heartbeat_interval_ms);
  r.Int("player timeout", 20, 86400000, &c.player_timeout_ms);
  r.Int("dispatch retry", 10, 86400000, &c.dispatch_retry_ms);
  r.Int("default delivery timeout", int64_t{0}, kMaxTimeLimitS,
        &c.default_delivery_timeout_s);
  r.Number("retention days", 0, 36500, &c.retention_days);
  r.Level("log level", &c.log_level);
  // Read before 'http endpoint', whose check needs them.
  r.String("http users file", &c.http_users_file);
  r.String("http tls certificate", &c.http_tls_certificate);
  r.String("http tls key", &c.http_tls_key);
  r.Int("http connections", 1, 4096, &c.http_connections);
  r.Int("http timeout", 1, 3600, &c.http_timeout_s);
  r.Custom("http endpoint", [&](std::string_view v) {
    c.http_endpoint = std::string(v);
    return CheckHttpEndpoint(c);
  });
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
  Result<PlayersFile> players = LoadPlayersFile(config.players_file);
  if (!players.ok()) return players.status();
  Status s = AudienceKeys::Load(config.audience_keys_file).status();
  if (!s.ok()) return s;
  s = LoadRevokedKeys(config.revoked_keys_file).status();
  if (s.ok() && !config.http_users_file.empty())
    s = HttpUsers::Load(config.http_users_file).status();
  std::string certificate, key;
  if (s.ok()) s = ReadHttpTls(config, &certificate, &key);
  sodium_memzero(key.data(), key.size());
  return s;
}

Status ReadHttpTls(const ConductorConfig& config, std::string* certificate,
                   std::string* key) {
  certificate->clear();
  key->clear();
  if (config.http_tls_certificate.empty()) return Status();
  constexpr size_t kMaxPemBytes = 64 << 10;
  std::string buffer(kMaxPemBytes, '\0');
  Result<size_t> n = common::ReadKeyFile(config.http_tls_certificate,
                                         common::KeyFileKind::kPublic,
                                         buffer.data(), buffer.size());
  if (!n.ok()) return n.status();
  certificate->assign(buffer.data(), n.value());
  n = common::ReadKeyFile(config.http_tls_key, common::KeyFileKind::kSecret,
                          buffer.data(), buffer.size());
  if (n.ok()) key->assign(buffer.data(), n.value());
  sodium_memzero(buffer.data(), buffer.size());
  return n.status();
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
      << "database engine = " << c.database_engine << "\n";
  if (!c.cell_address.empty())
    out << "cell address = " << c.cell_address << "\n";
  std::string peers;
  for (const std::string& p : c.cell_peers)
    peers += (peers.empty() ? "" : ",") + p;
  if (!peers.empty()) out << "cell peers = " << peers << "\n";
  out << "heartbeat interval = " << c.heartbeat_interval_ms << "\n"
      << "player timeout = " << c.player_timeout_ms << "\n"
      << "dispatch retry = " << c.dispatch_retry_ms << "\n"
      << "default delivery timeout = " << c.default_delivery_timeout_s << "\n"
      << "retention days = " << FormatDays(c.retention_days) << "\n"
      << "log level = " << common::LogLevelName(c.log_level) << "\n"
      << "http endpoint = " << c.http_endpoint << "\n"
      << "http users file = " << c.http_users_file << "\n"
      << "http tls certificate = " << c.http_tls_certificate << "\n"
      << "http tls key = " << c.http_tls_key << "\n"
      << "http connections = " << c.http_connections << "\n"
      << "http timeout = " << c.http_timeout_s << "\n";
  return out.str();
}

}  // namespace orchestra::conductor
