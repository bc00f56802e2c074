// orchestra-conductor: flags -> config -> construct -> Run() -> exit code.

#include <getopt.h>
#include <signal.h>

#include <cstdio>
#include <exception>
#include <string>

#include "common/files.h"
#include "common/log.h"
#include "common/signal_fd.h"
#include "common/version.h"
#include "conductor/conductor.h"
#include "conductor/config.h"


namespace {

const char kUsage[] =
    "usage: orchestra-conductor [--config PATH] [--check-config]\n"
    "                           [--log-level LEVEL] [--version] [--help]\n"
    "  --config PATH     settings (default /etc/orchestra/conductor.conf)\n"
    "  --check-config    check the settings, print them, exit 0 (or 2)\n"
    "  --log-level LEVEL error, warning, info or debug (overrides config)\n";

struct Flags {
  std::string config_path = "/etc/orchestra/conductor.conf";
  std::string log_level;
  bool check_config = false;
};

// 0 to go on, else the exit code (after --help or --version: 0 via -1).
int ParseFlags(int argc, char** argv, Flags* flags) {
  static const option kOptions[] = {
      {"config", required_argument, nullptr, 'c'},
      {"check-config", no_argument, nullptr, 't'},
      {"log-level", required_argument, nullptr, 'l'},
      {"version", no_argument, nullptr, 'V'},
      {"help", no_argument, nullptr, 'h'},
      {nullptr, 0, nullptr, 0}};
  int c;
  while ((c = getopt_long(argc, argv, "c:tl:Vh", kOptions, nullptr)) != -1) {
    switch (c) {
      case 'c': flags->config_path = optarg; break;
      case 't': flags->check_config = true; break;
      case 'l': flags->log_level = optarg; break;
      case 'V': std::printf("orchestra-conductor %s\n", orchestra::common::kVersion);
        return -1;
      case 'h': std::fputs(kUsage, stdout); return -1;
      default: std::fputs(kUsage, stderr); return 2;
    }
  }
  if (optind != argc) {
    std::fprintf(stderr, "orchestra-conductor: unexpected argument '%s'\n%s",
                 argv[optind], kUsage);
    return 2;
  }
  return 0;
}

int Main(int argc, char** argv) {
  using namespace orchestra;
  Flags flags;
  if (int rc = ParseFlags(argc, argv, &flags); rc != 0) return rc < 0 ? 0 : rc;
  common::Result<conductor::ConductorConfig> config =
      conductor::LoadConductorConfig(flags.config_path);
  if (!config.ok()) {
    std::fprintf(stderr, "orchestra-conductor: %s\n",
                 config.status().message().c_str());
    return 2;
  }
  if (!flags.log_level.empty() &&
      !common::ParseLogLevel(flags.log_level, &config.value().log_level)) {
    std::fprintf(stderr, "orchestra-conductor: bad --log-level '%s'\n%s",
                 flags.log_level.c_str(), kUsage);
    return 2;
  }
  if (flags.check_config) {
    common::Status s = conductor::CheckConfigFiles(config.value());
    if (!s.ok()) {
      std::fprintf(stderr, "orchestra-conductor: %s\n", s.message().c_str());
      return 2;
    }
    std::fputs(conductor::DescribeConfig(config.value()).c_str(), stdout);
    return 0;
  }
  common::InitLogging("orchestra-conductor", config.value().log_level);
  // Each connected player holds a descriptor: the soft limit (often 1024)
  // would cap the fleet long before the hard limit does.
  common::Result<uint64_t> files = common::RaiseOpenFileLimit();
  if (files.ok()) {
    common::LogInfo("open file limit=%llu",
                    static_cast<unsigned long long>(files.value()));
  } else {
    common::LogWarning("open file limit not raised error=%s",
                       common::LogQuote(files.status().ToString()).c_str());
  }
  common::Result<common::SignalFd> signals =
      common::SignalFd::Open({SIGTERM, SIGINT, SIGHUP});
  if (!signals.ok()) {
    common::LogError("startup failed error=%s",
                     common::LogQuote(signals.status().ToString()).c_str());
    return 1;
  }
  common::Result<std::unique_ptr<conductor::Conductor>> conductor =
      conductor::Conductor::Create(flags.config_path, config.value(),
                                   std::move(signals.value()));
  if (!conductor.ok()) {
    const common::Status& s = conductor.status();
    common::LogError("startup failed error=%s",
                     common::LogQuote(s.ToString()).c_str());
    // Bad settings or files are the operator's to fix: exit 2, like usage.
    const bool config_error = s.code() == common::Status::Code::kInvalidArgument ||
                              s.code() == common::Status::Code::kPermissionDenied;
    return config_error ? 2 : 1;
  }
  return conductor.value()->Run().ok() ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return Main(argc, argv);
  } catch (const std::exception& e) {
    orchestra::common::LogError("fatal error=%s",
                                orchestra::common::LogQuote(e.what()).c_str());
    return 1;
  }
}
