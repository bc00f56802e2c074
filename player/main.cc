// orchestra-player: flags -> settings -> Player -> Run() -> exit code
// (common/daemon.h).

#include "common/daemon.h"
#include "player/config.h"
#include "player/player.h"

namespace {

using namespace orchestra;

int RealMain(int argc, char** argv) {
  common::Daemon daemon({"orchestra-player", "/etc/orchestra/player.conf",
                         /*startup_checks_settings=*/false});
  if (std::optional<int> done = daemon.ParseFlags(argc, argv)) return *done;
  common::Result<player::PlayerConfig> config =
      player::LoadPlayerConfig(daemon.config_path());
  if (!config.ok()) return daemon.Fail(config.status());
  if (!daemon.ApplyLogLevel(&config.value().log_level))
    return common::kExitUsage;
  // The key files belong to the settings: a bad one is kExitUsage.
  common::Status keys = player::LoadPlayerKeys(config.value()).status();
  if (daemon.check_config())
    return daemon.CheckConfig(keys, player::FormatPlayerConfig(config.value()));
  if (!keys.ok()) return daemon.Fail(keys);
  daemon.StartLogging(config.value().log_level);
  common::Result<std::unique_ptr<player::Player>> player =
      player::Player::Create(config.value());
  if (!player.ok()) return daemon.StartupFailed(player.status());
  return common::Daemon::Stopped(player.value()->Run());
}

}  // namespace

int main(int argc, char** argv) {
  return orchestra::common::Daemon::Guard([&] { return RealMain(argc, argv); });
}
