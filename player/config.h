// Settings from player.conf (DESIGN.md section 3) and the Curve keys they
// name. Defaults here must match etc/player.conf. Loaded once at start-up;
// immutable afterwards and passed down as const&.

#ifndef ORCHESTRA_PLAYER_CONFIG_H_
#define ORCHESTRA_PLAYER_CONFIG_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "broker/curve_keys.h"
#include "common/log.h"
#include "common/result.h"

namespace orchestra::player {

struct PlayerConfig {
  std::string player_name;  // ORC_PLAYER; default: host name
  // tcp://conductor.example:2258, or a cell's conductors (DESIGN.md
  // section 17), tried in turn: one to kMaxConductorEndpoints.
  std::vector<std::string> conductor_endpoints;
  std::string conductor_public_key;  // Path of the conductor's .pub
  std::string player_secret_key;     // Path of our .key (mode 0600)
  std::string score_directory = "/usr/lib/orchestra/scores";
  // The journal. Not under /var/lib/orchestra, which systemd gives to the
  // conductor's user (orchestra-player.service).
  std::string state_path = "/var/lib/orchestra-player/player.db";
  int slots = 4;                           // Tasks run at once
  int64_t default_score_timeout_s = 3600;  // 0 = no limit
  int64_t output_limit = 65536;            // Bytes kept per output stream
  int64_t kill_grace_s = 5;                // SIGTERM to SIGKILL
  std::string cgroup = "auto";  // Task cgroups: auto, off or a v2 directory
  common::LogLevel log_level = common::LogLevel::kInfo;
};

// The keys a player needs for its CurveZMQ session.
struct PlayerKeys {
  std::string conductor_public;  // Z85
  broker::CurveKeyPair ours;     // Never logged
};

// Reads `path`. InvalidArgument "path:line: ..." for an unknown key, a bad
// value or a missing required key; NotFound/IoError if unreadable.
common::Result<PlayerConfig> LoadPlayerConfig(const std::string& path);
// The same for the text of a player.conf (`path` names it in errors).
common::Result<PlayerConfig> ParsePlayerConfig(const std::string& path,
                                               std::string_view text);

// The effective settings in player.conf syntax (for --check-config).
std::string FormatPlayerConfig(const PlayerConfig& config);

// Reads the key files the config names. PermissionDenied when the secret
// key file is readable by group or others.
common::Result<PlayerKeys> LoadPlayerKeys(const PlayerConfig& config);

}  // namespace orchestra::player

#endif  // ORCHESTRA_PLAYER_CONFIG_H_
