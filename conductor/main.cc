// orchestra-conductor: flags -> settings -> Conductor -> Run() -> exit code
// (common/daemon.h).

#include <signal.h>

#include "common/daemon.h"
#include "common/log.h"
#include "common/signal_fd.h"
#include "conductor/cell.h"
#include "conductor/conductor.h"
#include "conductor/config.h"
#include "conductor/standby.h"

namespace {

using namespace orchestra;

// A conductor of a cell (DESIGN.md section 17) stands by while another is
// active, serves while its node leads, and stands by again once deposed,
// with nothing of its time as the active one left in memory.
int RunCell(common::Daemon& daemon, conductor::ConductorConfig config,
            common::SignalFd* signals) {
  common::Result<std::unique_ptr<conductor::Cell>> cell =
      conductor::Cell::Start(config);
  if (!cell.ok()) return daemon.StartupFailed(cell.status());
  for (;;) {
    common::Result<std::unique_ptr<conductor::Standby>> standby =
        conductor::Standby::Create(config, cell.value().get(), signals);
    if (!standby.ok()) return daemon.StartupFailed(standby.status());
    common::Result<conductor::Standby::Outcome> outcome =
        standby.value()->Run();
    standby.value().reset();
    if (!outcome.ok()) return common::Daemon::Stopped(outcome.status());
    if (outcome.value() == conductor::Standby::Outcome::kStopped)
      return common::Daemon::Stopped(common::Status());
    common::Result<int64_t> epoch =
        cell.value()->TakeOver(config.player_endpoint, "");
    if (!epoch.ok()) {
      common::LogWarning("cell: taking over failed error=%s",
                         common::LogQuote(epoch.status().ToString()).c_str());
      continue;
    }
    config.epoch = epoch.value();
    common::Result<std::unique_ptr<conductor::Conductor>> conductor =
        conductor::Conductor::Create(daemon.config_path(), config, signals,
                                     cell.value().get());
    if (!conductor.ok()) {
      common::LogError(
          "cell: starting as the active conductor failed "
          "error=%s",
          common::LogQuote(conductor.status().ToString()).c_str());
      continue;
    }
    common::Status s = conductor.value()->Run();
    if (!conductor.value()->deposed()) return common::Daemon::Stopped(s);
  }
}

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
  if (config.value().database_engine == "dqlite")
    return RunCell(daemon, config.value(), &signals.value());
  common::Result<std::unique_ptr<conductor::Conductor>> conductor =
      conductor::Conductor::Create(daemon.config_path(), config.value(),
                                   &signals.value());
  if (!conductor.ok()) return daemon.StartupFailed(conductor.status());
  return common::Daemon::Stopped(conductor.value()->Run());
}

}  // namespace

int main(int argc, char** argv) {
  return orchestra::common::Daemon::Guard([&] { return RealMain(argc, argv); });
}
