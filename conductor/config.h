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
  int heartbeat_interval_ms = 10000;           // beat period, both ways
  int player_timeout_ms = 30000;               // silence before "gone"
  int dispatch_retry_ms = 5000;                // resend unaccepted tasks
  int64_t default_delivery_timeout_s = 86400;  // 0 = wait for ever
  double retention_days = 30;                  // 0 = keep for ever
  common::LogLevel log_level = common::LogLevel::kInfo;
};

// Reads and checks `path`. InvalidArgument "path:line: ..." on any problem.
common::Result<ConductorConfig> LoadConductorConfig(const std::string& path);
// The same for the text of a conductor.conf (`path` names it in errors).
common::Result<ConductorConfig> ParseConductorConfig(const std::string& path,
                                                     std::string_view text);

// Checks the files the settings name: the secret key (readable by us
// only), the players file, the audience keys file and the revoked keys file.
common::Status CheckConfigFiles(const ConductorConfig& config);

// The effective settings as conductor.conf lines (for --check-config).
std::string DescribeConfig(const ConductorConfig& config);

}  // namespace orchestra::conductor

#endif  // ORCHESTRA_CONDUCTOR_CONFIG_H_
