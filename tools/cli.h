// The orchestra command (DESIGN.md section 9): parses the command line, asks
// the conductor through broker::AudienceClient and prints the outcome.
// main() only gathers the environment and calls RunCli, so tests run the
// whole CLI in process against a fake conductor.

#ifndef ORCHESTRA_TOOLS_CLI_H_
#define ORCHESTRA_TOOLS_CLI_H_

#include <ostream>
#include <string>

#include "broker/states.h"
#include "common/version.h"

namespace orchestra::tools {

constexpr const char* kOrchestraVersion = common::kVersion;

// The exit statuses of DESIGN.md section 9.
enum ExitStatus : int {
  kExitOk = 0,           // the job is OK, or the command succeeded
  kExitJobNotOk = 1,     // the job finished FAIL, PARTIAL_FAIL or CANCELLED
  kExitUsage = 2,        // usage error, or the conductor refused the request
  kExitUnreachable = 3,  // the conductor cannot be reached
  kExitPending = 4,      // the job is still PENDING (the wait timed out)
};

// What the CLI may know of the process it runs in.
struct CliEnvironment {
  std::ostream* out = nullptr;
  std::ostream* err = nullptr;
  bool out_is_terminal = false;  // Keep a live progress line while waiting.
  int terminal_width = 80;
  std::string endpoint;  // $ORCHESTRA_ENDPOINT; empty when unset
  int connect_timeout_ms = 5000;
  int in_fd = 0;  // where `http-user` reads a password
};

// Runs the command line `argv` and returns the exit status.
int RunCli(int argc, char** argv, const CliEnvironment& env);

// The exit status a job in `state` stands for: kExitOk, kExitJobNotOk or
// kExitPending.
int ExitStatusForJob(broker::JobState state);

}  // namespace orchestra::tools

#endif  // ORCHESTRA_TOOLS_CLI_H_
