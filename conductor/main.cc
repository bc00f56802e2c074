// orchestra-conductor: flags -> settings -> Conductor -> Run() -> exit code
// (common/daemon.h).

#include <signal.h>

#include "common/daemon.h"
#include "common/signal_fd.h"
#include "conductor/conductor.h"
#include "conductor/config.h"

namespace {

using namespace orchestra;

int RealMain(int argc, char** argv) {
  common::Daemon daemon({"orchestra-conductor", "/etc/orchestra/conductor.conf",
                         /*startup_checks_settings=*/true});
  if (std::optional<int> done = daemon.ParseFlags(argc, argv)) return *done;
  common::Result<conductor::ConductorConfig> config =
      conductor::LoadConductorConfig(daemon.config_path());
  if (!config.ok()) return daemon.Fail(config.status());
  if (!daemon.ApplyLogLevel(&config.value().log_level))
    return common::kExitUsage;
  if (daemon.check_config())
    return daemon.CheckConfig(conductor::CheckConfigFiles(config.value()),
                              conductor::DescribeConfig(config.value()));
  daemon.StartLogging(config.value().log_level);
  // Each connected player holds a descriptor: the soft limit (often 1024)
  // would cap the fleet long before the hard limit does.
  daemon.RaiseOpenFileLimit();
  common::Result<common::SignalFd> signals =
      common::SignalFd::Open({SIGTERM, SIGINT, SIGHUP});
  if (!signals.ok()) return daemon.StartupFailed(signals.status());
  common::Result<std::unique_ptr<conductor::Conductor>> conductor =
      conductor::Conductor::Create(daemon.config_path(), config.value(),
                                   std::move(signals.value()));
  if (!conductor.ok()) return daemon.StartupFailed(conductor.status());
  return common::Daemon::Stopped(conductor.value()->Run());
}

}  // namespace

int main(int argc, char** argv) {
  return orchestra::common::Daemon::Guard([&] { return RealMain(argc, argv); });
}
