// Daemon is the skeleton both daemons' main.cc share, after ninja's
// real_main: the flags every daemon takes, the exit codes, and the steps
// of start-up that both take the same way, so each main.cc reads flags ->
// settings -> construct -> Run() -> exit code. Used by main() only.

#ifndef ORCHESTRA_COMMON_DAEMON_H_
#define ORCHESTRA_COMMON_DAEMON_H_

#include <functional>
#include <optional>
#include <string>

#include "common/flag_table.h"
#include "common/log.h"
#include "common/status.h"

namespace orchestra::common {

// The exit codes of both daemons. etc/*.service: RestartPreventExitStatus=2.
enum ExitCode : int {
  kExitOk = 0,       // Stopped cleanly; --help, --version, --check-config
  kExitFailure = 1,  // A runtime failure: restarting may help
  kExitUsage = 2,    // Bad flags, settings or files the settings name
};

// What tells one daemon from the other.
struct DaemonInfo {
  const char* program;         // "orchestra-conductor": messages, logs
  const char* default_config;  // Where --config points unless given
  // True: a start-up failure that is InvalidArgument or PermissionDenied
  // is the settings' (kExitUsage); false: every one is kExitFailure (the
  // player checks the files its settings name before it starts).
  bool startup_checks_settings;
};

class Daemon {
 public:
  explicit Daemon(const DaemonInfo& info);
  Daemon(const Daemon&) = delete;  // The flag table points into it
  Daemon& operator=(const Daemon&) = delete;

  // Reads --config, --check-config, --log-level, --version and --help.
  // Nullopt to go on; else the exit code, after printing the version, the
  // usage text, or the error and the usage text.
  std::optional<int> ParseFlags(int argc, char** argv);
  const std::string& config_path() const { return config_path_; }
  bool check_config() const { return check_config_; }

  // Prints "PROGRAM: message" on stderr; kExitUsage.
  int Fail(const Status& error) const;
  // Puts --log-level, if given, over `level`. False, with the error
  // printed, if it names no level.
  bool ApplyLogLevel(LogLevel* level) const;
  // --check-config: prints `settings` if `files` (the check of the files
  // they name) is OK, else the error. The exit code.
  int CheckConfig(const Status& files, const std::string& settings) const;

  // Logs as PROGRAM from now on, at `level`.
  void StartLogging(LogLevel level) const;
  // Raises the soft limit of open files to the hard one and logs the limit
  // (or a warning if it could not).
  void RaiseOpenFileLimit() const;
  // Logs why start-up failed; the exit code (see DaemonInfo).
  int StartupFailed(const Status& error) const;
  // The exit code of a daemon whose Run() returned `run`.
  static int Stopped(const Status& run);
  // Runs `real_main`; an exception is logged and is kExitFailure.
  static int Guard(const std::function<int()>& real_main);

 private:
  DaemonInfo info_;
  std::string config_path_;
  std::string log_level_;  // Empty: the settings' level
  bool check_config_ = false;
  bool version_ = false;
  bool help_ = false;
  FlagTable flags_;
};

}  // namespace orchestra::common

#endif  // ORCHESTRA_COMMON_DAEMON_H_
