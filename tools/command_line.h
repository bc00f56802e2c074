// The orchestra command line of DESIGN.md section 9, parsed with getopt_long
// into one Command: global options before the command word, the command's
// own options and arguments after it. Parsing does no I/O, so usage errors
// are tested without a conductor. Not thread-safe (getopt's globals).

#ifndef ORCHESTRA_TOOLS_COMMAND_LINE_H_
#define ORCHESTRA_TOOLS_COMMAND_LINE_H_

#include <cstdint>
#include <string>
#include <variant>
#include <vector>

#include "broker/audience_protocol.h"
#include "common/result.h"

namespace orchestra::tools {

constexpr char kDefaultEndpoint[] = "ipc:///run/orchestra/conductor.sock";
constexpr char kDefaultKeyDir[] = "/etc/orchestra/keys";

struct GlobalOptions {
  std::string endpoint = kDefaultEndpoint;  // As given: one, or a list.
  std::vector<std::string> endpoints;       // `endpoint` split and checked
  std::string key_file;                     // --key: our Curve secret key
  std::string server_key_file;  // --server-key: the conductor's public key
  bool json = false;            // Print records as the protocol has them.
  bool verbose = false;         // Full output of every task.
};

struct SubmitCommand {
  broker::SubmitRequest request;
  bool wait = false;
  int64_t wait_timeout_s = 0;  // 0: as long as it takes
};
struct StatusCommand {
  broker::StatusRequest request;  // The job, and the page of one_page.
  bool one_page = false;  // --tasks-from or --tasks-limit: only that page.
  bool group = false;     // --group: tasks that ended alike on one line
};
struct WaitCommand {
  broker::JobId job = 0;
  int64_t timeout_s = 0;  // 0: as long as it takes
};
struct CancelCommand {
  broker::JobId job = 0;
};
struct JobsCommand {
  broker::JobsRequest request;
};
struct PlayersCommand {
  std::string target;  // --target: only the players it matches
};
struct SqlCommand {
  std::string sql;  // One statement.
};
struct KeygenCommand {
  std::string name;
  std::string dir = kDefaultKeyDir;
};
struct HttpUserCommand {
  std::string name;
  bool operate = false;  // the `operate` role; else `view`
};
struct HelpCommand {
  std::string topic;  // A command word, or empty for the overview.
};
struct VersionCommand {};

using Command =
    std::variant<SubmitCommand, StatusCommand, WaitCommand, CancelCommand,
                 JobsCommand, PlayersCommand, SqlCommand, KeygenCommand,
                 HttpUserCommand, HelpCommand, VersionCommand>;

struct CommandLine {
  GlobalOptions global;
  Command command;
};

// Parses `argv` (argv[0] is the program). `env_endpoint` (ORCHESTRA_ENDPOINT)
// replaces the default endpoint when not empty; a command that asks the
// conductor gets the endpoint list checked (broker/endpoint_list.h). On a
// usage error returns
// InvalidArgument saying why, with `*word` set to the command word when it
// was read (so the caller shows that command's usage).
common::Result<CommandLine> ParseCommandLine(int argc, char** argv,
                                             const std::string& env_endpoint,
                                             std::string* word);

}  // namespace orchestra::tools

#endif  // ORCHESTRA_TOOLS_COMMAND_LINE_H_
