// orchestra-player: flags -> config -> Player -> Run() -> exit status
// (0 stopped cleanly, 1 runtime failure, 2 usage or configuration error).

#include <getopt.h>

#include <cstdio>
#include <exception>
#include <string>

#include "common/log.h"
#include "player/config.h"
#include "player/player.h"

namespace {

using orchestra::common::LogLevel;
using orchestra::player::PlayerConfig;

constexpr const char* kUsage =
    "usage: orchestra-player [--config PATH] [--check-config]\n"
    "                        [--log-level LEVEL] [--version] [--help]\n"
    "  --config PATH      settings (default /etc/orchestra/player.conf)\n"
    "  --check-config     validate, print the effective settings, exit\n"
    "  --log-level LEVEL  error, warning, info or debug (overrides the file)\n";

struct Flags {
  std::string config_path = "/etc/orchestra/player.conf";
  std::string log_level;
  bool check_config = false;
  bool version = false;
  bool help = false;
};

bool ParseFlags(int argc, char** argv, Flags* flags) {
  static const struct option kOptions[] = {
      {"config", required_argument, nullptr, 'c'},
      {"check-config", no_argument, nullptr, 't'},
      {"log-level", required_argument, nullptr, 'l'},
      {"version", no_argument, nullptr, 'v'},
      {"help", no_argument, nullptr, 'h'},
      {nullptr, 0, nullptr, 0}};
  int option;
  while ((option = getopt_long(argc, argv, "", kOptions, nullptr)) != -1) {
    switch (option) {
      case 'c':
        flags->config_path = optarg;
        break;
      case 't':
        flags->check_config = true;
        break;
      case 'l':
        flags->log_level = optarg;
        break;
      case 'v':
        flags->version = true;
        break;
      case 'h':
        flags->help = true;
        break;
      default:
        return false;
    }
  }
  return optind == argc;
}

int Fail(const std::string& what) {
  std::fprintf(stderr, "orchestra-player: %s\n", what.c_str());
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  namespace common = orchestra::common;
  namespace player = orchestra::player;
  Flags flags;
  if (!ParseFlags(argc, argv, &flags))
    return Fail(std::string("bad usage\n") + kUsage);
  if (flags.help) return std::printf("%s", kUsage) < 0;
  if (flags.version)
    return std::printf("orchestra-player %s\n", player::kPlayerVersion) < 0;
  common::Result<PlayerConfig> config =
      player::LoadPlayerConfig(flags.config_path);
  if (!config.ok()) return Fail(config.status().message());
  if (!flags.log_level.empty() &&
      !common::ParseLogLevel(flags.log_level, &config.value().log_level))
    return Fail("--log-level must be error, warning, info or debug");
  // The key files belong to the configuration: a bad one is status 2.
  common::Result<player::PlayerKeys> keys =
      player::LoadPlayerKeys(config.value());
  if (!keys.ok()) return Fail(keys.status().message());
  if (flags.check_config)
    return std::printf("%s",
                       player::FormatPlayerConfig(config.value()).c_str()) < 0;
  common::InitLogging("orchestra-player", config.value().log_level);
  try {
    common::Result<std::unique_ptr<player::Player>> p =
        player::Player::Create(config.value());
    if (!p.ok()) {
      common::LogError("startup failed error=%s",
                       common::LogQuote(p.status().message()).c_str());
      return 1;
    }
    return p.value()->Run().ok() ? 0 : 1;
  } catch (const std::exception& e) {
    common::LogError("fatal error=%s", common::LogQuote(e.what()).c_str());
    return 1;
  }
}
