#include "player/config.h"

#include <unistd.h>

#include <climits>
#include <string_view>
#include <utility>

#include "broker/protocol.h"
#include "common/config_file.h"
#include "common/limits.h"
#include "common/text.h"
#include "player/conductor_list.h"

namespace orchestra::player {

using common::ConfigFile;
using common::ConfigReader;
using common::Result;
using common::Status;

namespace {

constexpr int64_t kMaxKillGraceS = 3600;

std::string HostName() {
  char name[HOST_NAME_MAX + 1] = {};
  if (::gethostname(name, sizeof(name) - 1) != 0) return "";
  return name;
}

// Empty keeps the default, the host name.
Status CheckPlayerName(std::string_view value, std::string* out) {
  if (value.empty()) return Status();
  if (!common::IsValidPlayerName(value))
    return Status::InvalidArgument(
        "", "'" + std::string(value) +
                "' is not a player name (letters, digits, '.', '_', '-')");
  *out = std::string(value);
  return Status();
}

// One endpoint, or a cell's: a comma-separated list.
Status CheckEndpoints(std::string_view value, std::vector<std::string>* out) {
  Result<std::vector<std::string>> endpoints = ConductorList::Parse(value);
  if (!endpoints.ok()) return endpoints.status();
  *out = std::move(endpoints.value());
  return Status();
}

Status CheckAbsolutePath(std::string_view value, std::string* out) {
  if (value.empty() || value[0] != '/')
    return Status::InvalidArgument(
        "", "'" + std::string(value) + "' is not an absolute path");
  *out = std::string(value);
  return Status();
}

// auto, off or the absolute path of a cgroup v2 directory.
Status CheckCgroup(std::string_view value, std::string* out) {
  if (value != "auto" && value != "off" && (value.empty() || value[0] != '/'))
    return Status::InvalidArgument(
        "", "'" + std::string(value) +
                "' is not auto, off or the absolute path of a cgroup v2 "
                "directory");
  *out = std::string(value);
  return Status();
}

// The settings of `file` (read from `path`), checked.
Result<PlayerConfig> BindPlayerConfig(const std::string& path,
                                      const ConfigFile& file) {
  PlayerConfig c;
  c.player_name = HostName();
  ConfigReader r(file);
  auto bind = [](auto check, auto* field) {
    return [check, field](std::string_view v) { return check(v, field); };
  };
  r.Custom("player name", bind(CheckPlayerName, &c.player_name));
  r.Custom("conductor endpoint", bind(CheckEndpoints, &c.conductor_endpoints),
           ConfigReader::kRequired);
  r.String("conductor public key", &c.conductor_public_key,
           ConfigReader::kRequired);
  r.String("player secret key", &c.player_secret_key, ConfigReader::kRequired);
  r.Custom("score directory", bind(CheckAbsolutePath, &c.score_directory));
  r.String("state path", &c.state_path);
  r.Int("slots", 1, kMaxSlots, &c.slots);
  r.Int("default score timeout", int64_t{0}, kMaxTimeLimitS,
        &c.default_score_timeout_s);
  r.Int("output limit", int64_t{0}, static_cast<int64_t>(kMaxOutputBytes),
        &c.output_limit);
  r.Int("kill grace", int64_t{0}, kMaxKillGraceS, &c.kill_grace_s);
  r.Custom("cgroup", bind(CheckCgroup, &c.cgroup));
  r.Level("log level", &c.log_level);
  Status s = r.Finish();
  if (!s.ok()) return s;
  if (!common::IsValidPlayerName(c.player_name))
    return Status::InvalidArgument(
        path, "the host name is not a valid player name; set 'player name'");
  return c;
}

}  // namespace

Result<PlayerConfig> LoadPlayerConfig(const std::string& path) {
  Result<ConfigFile> file = ConfigFile::Read(path);
  if (!file.ok()) return file.status();
  return BindPlayerConfig(path, file.value());
}

Result<PlayerConfig> ParsePlayerConfig(const std::string& path,
                                       std::string_view text) {
  Result<ConfigFile> file = ConfigFile::Parse(path, text);
  if (!file.ok()) return file.status();
  return BindPlayerConfig(path, file.value());
}

std::string FormatPlayerConfig(const PlayerConfig& c) {
  std::string out;
  auto line = [&out](const char* key, const std::string& value) {
    out += std::string(key) + " = " + value + "\n";
  };
  line("player name", c.player_name);
  std::string endpoints;
  for (const std::string& endpoint : c.conductor_endpoints)
    endpoints += (endpoints.empty() ? "" : ",") + endpoint;
  line("conductor endpoint", endpoints);
  line("conductor public key", c.conductor_public_key);
  line("player secret key", c.player_secret_key);
  line("score directory", c.score_directory);
  line("state path", c.state_path);
  line("slots", std::to_string(c.slots));
  line("default score timeout", std::to_string(c.default_score_timeout_s));
  line("output limit", std::to_string(c.output_limit));
  line("kill grace", std::to_string(c.kill_grace_s));
  line("cgroup", c.cgroup);
  line("log level", common::LogLevelName(c.log_level));
  return out;
}

Result<PlayerKeys> LoadPlayerKeys(const PlayerConfig& config) {
  Result<std::string> conductor =
      broker::ReadPublicKeyFile(config.conductor_public_key);
  if (!conductor.ok()) return conductor.status();
  Result<broker::CurveKeyPair> ours =
      broker::ReadSecretKeyFile(config.player_secret_key);
  if (!ours.ok()) return ours.status();
  return PlayerKeys{conductor.value(), std::move(ours.value())};
}

}  // namespace orchestra::player
