// Settings from conductor.conf (DESIGN.md section 3). Defaults here must
// match etc/conductor.conf. Immutable once loaded; SIGHUP loads a new one.

#ifndef ORCHESTRA_CONDUCTOR_CONFIG_H_
#define ORCHESTRA_CONDUCTOR_CONFIG_H_

#include <string>
#include <string_view>
#include <vector>

#include "common/log.h"
#include "common/result.h"

namespace orchestra::conductor {

struct ConductorConfig {
  std::string player_endpoint = "tcp://*:2258";  // players connect (Curve)
  std::vector<std::string> audience_endpoints = {
      "ipc:///run/orchestra/conductor.sock"};  // clients connect
  int audience_socket_mode = 0660;             // ipc socket file mode
  std::string audience_socket_group;           // ipc socket group; "" keeps
  std::string secret_key_file = "/etc/orchestra/keys/conductor.key";
  std::string players_file = "/etc/orchestra/players";
  std::string audience_keys_file;  // for tcp audience endpoints
  std::string revoked_keys_file;   // "" = none revoked
  std::string database_path = "/var/lib/orchestra/conductor.db";
  // A cell of conductors (DESIGN.md section 17): "sqlite" (one conductor,
  // the default) or "dqlite", then `database path` is this node's data
  // directory, `cell address` its dqlite address (host:port) and `cell
  // peers` the other nodes' addresses.
  std::string database_engine = "sqlite";
  std::string cell_address;
  std::vector<std::string> cell_peers;
  // The cell's epoch once this conductor is the active one: not read from
  // the file (0 for one conductor).
  int64_t epoch = 0;
  int heartbeat_interval_ms = 10000;           // beat period, both ways
  int player_timeout_ms = 30000;               // silence before "gone"
  int dispatch_retry_ms = 5000;                // resend unaccepted tasks
  int64_t default_delivery_timeout_s = 86400;  // 0 = wait for ever
  double retention_days = 30;                  // 0 = keep for ever
  common::LogLevel log_level = common::LogLevel::kInfo;
  // The web page, JSON API and metrics (DESIGN.md section 14).
  std::string http_endpoint = "127.0.0.1:2259";  // "" = no web page
  std::string http_users_file;                   // "" = loopback, read-only
  std::string http_tls_certificate;              // PEM; with the key, HTTPS
  std::string http_tls_key;                      // PEM, readable by us only
  int http_connections = 64;                     // at once; more wait
  int http_timeout_s = 10;  // a silent connection is closed
};

// Reads and checks `path`. InvalidArgument "path:line: ..." on any problem.
common::Result<ConductorConfig> LoadConductorConfig(const std::string& path);
// The same for the text of a conductor.conf (`path` names it in errors).
common::Result<ConductorConfig> ParseConductorConfig(const std::string& path,
                                                     std::string_view text);

// Checks the files the settings name: the secret key (readable by us
// only), the players file, the audience keys file, the revoked keys file,
// the web users file and the web's TLS certificate and key.
common::Status CheckConfigFiles(const ConductorConfig& config);

// The web page's TLS certificate and key (PEM text), read from the files
// `config` names (the key must be readable by us only); both empty when
// TLS is off.
common::Status ReadHttpTls(const ConductorConfig& config,
                           std::string* certificate, std::string* key);

// The effective settings as conductor.conf lines (for --check-config).
std::string DescribeConfig(const ConductorConfig& config);

}  // namespace orchestra::conductor

#endif  // ORCHESTRA_CONDUCTOR_CONFIG_H_
