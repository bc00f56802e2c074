#include "common/daemon.h"

#include <cstdio>
#include <exception>

#include "common/files.h"
#include "common/version.h"

namespace orchestra::common {

Daemon::Daemon(const DaemonInfo& info)
    : info_(info),
      config_path_(info.default_config),
      flags_(info.program,
             {{"config", 'c', "PATH",
               std::string("settings (default ") + info.default_config + ")",
               &config_path_, nullptr},
              {"check-config", 't', nullptr,
               "check the settings, print them, exit 0 (or 2)", nullptr,
               &check_config_},
              {"log-level", 'l', "LEVEL",
               "error, warning, info or debug (overrides the settings)",
               &log_level_, nullptr},
              {"version", 'V', nullptr, "print the version, exit 0", nullptr,
               &version_},
              {"help", 'h', nullptr, "print this text, exit 0", nullptr,
               &help_}}) {}

std::optional<int> Daemon::ParseFlags(int argc, char** argv) {
  Status s = flags_.Parse(argc, argv);
  if (!s.ok()) {
    std::fprintf(stderr, "%s: %s\n%s", info_.program, s.message().c_str(),
                 flags_.Usage().c_str());
    return kExitUsage;
  }
  if (help_) {
    std::fputs(flags_.Usage().c_str(), stdout);
    return kExitOk;
  }
  if (version_) {
    std::printf("%s %s\n", info_.program, kVersion);
    return kExitOk;
  }
  return std::nullopt;
}

int Daemon::Fail(const Status& error) const {
  std::fprintf(stderr, "%s: %s\n", info_.program, error.message().c_str());
  return kExitUsage;
}

bool Daemon::ApplyLogLevel(LogLevel* level) const {
  if (log_level_.empty() || ParseLogLevel(log_level_, level)) return true;
  std::fprintf(stderr, "%s: bad --log-level '%s'\n%s", info_.program,
               log_level_.c_str(), flags_.Usage().c_str());
  return false;
}

int Daemon::CheckConfig(const Status& files,
                        const std::string& settings) const {
  if (!files.ok()) return Fail(files);
  std::fputs(settings.c_str(), stdout);
  return kExitOk;
}

void Daemon::StartLogging(LogLevel level) const {
  InitLogging(info_.program, level);
}

void Daemon::RaiseOpenFileLimit() const {
  Result<uint64_t> files = common::RaiseOpenFileLimit();
  if (files.ok()) {
    LogInfo("open file limit=%llu",
            static_cast<unsigned long long>(files.value()));
  } else {
    LogWarning("open file limit not raised error=%s",
               LogQuote(files.status().ToString()).c_str());
  }
}

int Daemon::StartupFailed(const Status& error) const {
  LogError("startup failed error=%s", LogQuote(error.ToString()).c_str());
  const bool settings_error = error.code() == Status::Code::kInvalidArgument ||
                              error.code() == Status::Code::kPermissionDenied;
  return info_.startup_checks_settings && settings_error ? kExitUsage
                                                         : kExitFailure;
}

int Daemon::Stopped(const Status& run) {
  return run.ok() ? kExitOk : kExitFailure;
}

int Daemon::Guard(const std::function<int()>& real_main) {
  try {
    return real_main();
  } catch (const std::exception& e) {
    LogError("fatal error=%s", LogQuote(e.what()).c_str());
    return kExitFailure;
  }
}

}  // namespace orchestra::common
