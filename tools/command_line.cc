// getopt_long runs twice: once with "+" over the global options, stopping at
// the command word, then over the words after it (argv shifted so the
// command word stands where the program name was). Resetting optind to 0
// makes glibc start afresh, so parsing may run many times in one process.

#include "tools/command_line.h"

#include <getopt.h>

#include <functional>
#include <vector>

#include "broker/endpoint_list.h"
#include "broker/rollout_limit.h"
#include "common/limits.h"
#include "common/text.h"

namespace orchestra::tools {

namespace {

using broker::JobId;
using common::Result;
using common::Status;

// Long-only options get values outside the range of characters.
enum LongOnly {
  kEndpoint = 256,
  kKey,
  kServerKey,
  kJson,
  kVersion,
  kAll,
  kOne,
  kTimeout,
  kDeliveryTimeout,
  kIdempotencyKey,
  kWait,
  kWaitTimeout,
  kState,
  kScore,
  kPlayer,
  kLimit,
  kBefore,
  kDir,
  kOperate,
  kTasksFrom,
  kTasksLimit,
  kTarget,
  kMaxConcurrency,
  kMaxErrors,
  kPriority,
  kGroup,
};

using OptionHandler = std::function<Status(int option, const char* value)>;

std::string ToUpper(std::string text) {
  for (char& c : text) {
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  }
  return text;
}

Status UsageError(const std::string& what) {
  return Status::InvalidArgument("", what);
}

// The option getopt stopped at, as the user typed it.
std::string OptionText(char** argv) {
  if (optopt > 0 && optopt < 256) return std::string("-") + char(optopt);
  std::string text = argv[optind - 1];
  return text.substr(0, text.find('='));
}

// Runs getopt_long over argv, passing each option to `handle`; sets
// `*first_argument` to the index of the first argument that is not one.
Status ReadOptions(int argc, char** argv, const std::string& short_options,
                   const option* long_options, bool stop_at_argument,
                   const OptionHandler& handle, int* first_argument) {
  const std::string spec = (stop_at_argument ? "+:" : ":") + short_options;
  optind = 0;
  opterr = 0;
  int c;
  while ((c = getopt_long(argc, argv, spec.c_str(), long_options, nullptr)) !=
         -1) {
    if (c == '?')
      return UsageError("unknown option '" + OptionText(argv) + "'");
    if (c == ':')
      return UsageError("option '" + OptionText(argv) + "' needs a value");
    Status s = handle(c, optarg);
    if (!s.ok()) return s;
  }
  *first_argument = optind;
  return Status();
}

Result<int64_t> ParseNumber(const std::string& what, const char* text,
                            int64_t min, int64_t max) {
  int64_t value = 0;
  if (!common::ParseInt64(text, min, max, &value))
    return UsageError(what + " must be a whole number from " +
                      std::to_string(min) + " to " + std::to_string(max) +
                      ", not '" + text + "'");
  return value;
}

// Reads `value` as a number of seconds from `min` into `*seconds`.
Status ReadSeconds(const char* option, const char* value, int64_t min,
                   int64_t* seconds) {
  Result<int64_t> n = ParseNumber(option, value, min, kMaxTimeLimitS);
  if (n.ok()) *seconds = n.value();
  return n.status();
}

Result<JobId> ParseJob(const char* text) {
  JobId job = 0;
  if (!common::ParseInt64(text, 1, INT64_MAX, &job))
    return UsageError(std::string("JOB must be a job id (a positive "
                                  "integer), not '") +
                      text + "'");
  return job;
}

Status AddParam(const char* text, broker::StringMap* params) {
  const std::string pair = text;
  const size_t equals = pair.find('=');
  if (equals == std::string::npos)
    return UsageError("-p wants KEY=VALUE, not '" + pair + "'");
  const std::string key = pair.substr(0, equals);
  if (!common::IsValidParamKey(key))
    return UsageError("parameter key '" + key + "' must match " +
                      common::ParamKeyRule());
  if (!params->emplace(key, pair.substr(equals + 1)).second)
    return UsageError("parameter '" + key + "' is given twice");
  return Status();
}

// Adds the players named in `text` (a name, or names split by commas).
Status AddPlayers(const char* text, std::vector<std::string>* players) {
  for (const std::string& name : common::SplitList(text, ',')) {
    if (!common::IsValidPlayerName(name))
      return UsageError("'" + name + "' is not a valid player name");
    players->push_back(name);
  }
  return Status();
}

// The options shared by every command: --help and --verbose.
bool CommonOption(int option, bool* help, GlobalOptions* global) {
  if (option == 'h') {
    *help = true;
    return true;
  }
  if (option == 'v') {
    global->verbose = true;
    return true;
  }
  return false;
}

// Checks that exactly `count` arguments follow the options; reads none.
Status ExpectArguments(int argc, int first, int count, const char* names) {
  if (argc - first < count) return UsageError(std::string("missing ") + names);
  if (argc - first > count)
    return UsageError(std::string("too many arguments; expected ") + names);
  return Status();
}

// --max-concurrency N|N% (N >= 1) or --max-errors N|N% (N >= 0).
Status ParseLimit(int option, const char* value, SubmitCommand* c) {
  const bool concurrency = option == kMaxConcurrency;
  const int64_t min =
      concurrency ? broker::kMinConcurrency : broker::kMinErrors;
  broker::RolloutLimit limit;
  if (!broker::ParseRolloutLimit(value, min, &limit))
    return UsageError(
        std::string(concurrency ? "--max-concurrency" : "--max-errors") +
        " must be a whole number from " + std::to_string(min) +
        " or a percentage from " + std::to_string(min) + "% to 100%, not '" +
        value + "'");
  (concurrency ? c->request.max_concurrency : c->request.max_errors) = limit;
  return Status();
}

Status ParseSubmitOption(int option, const char* value, SubmitCommand* c) {
  int64_t seconds = 0;
  Status s;
  switch (option) {
    case kAll:
      c->request.scope = broker::Scope::kAll;
      break;
    case kOne:
      c->request.scope = broker::Scope::kOne;
      break;
    case 'p':
      return AddParam(value, &c->request.params);
    case kTimeout:
      s = ReadSeconds("--timeout", value, 1, &seconds);
      if (s.ok()) c->request.timeout_s = seconds;
      break;
    case kDeliveryTimeout:
      s = ReadSeconds("--delivery-timeout", value, 0, &seconds);
      if (s.ok()) c->request.delivery_timeout_s = seconds;
      break;
    case kIdempotencyKey:
      c->request.key = value;
      break;
    case kWaitTimeout:
      s = ReadSeconds("--wait-timeout", value, 1, &c->wait_timeout_s);
      c->wait = true;
      break;
    case kWait:
      c->wait = true;
      break;
    case kTarget:
      c->request.target = value;
      break;
    case kMaxConcurrency:
    case kMaxErrors:
      return ParseLimit(option, value, c);
    case kPriority: {
      Result<int64_t> n =
          ParseNumber("--priority", value, kMinPriority, kMaxPriority);
      if (!n.ok()) return n.status();
      c->request.priority = n.value();
      break;
    }
  }
  return s;
}

Result<Command> ParseSubmit(int argc, char** argv, GlobalOptions* global) {
  static const option kOptions[] = {
      {"all", no_argument, nullptr, kAll},
      {"one", no_argument, nullptr, kOne},
      {"param", required_argument, nullptr, 'p'},
      {"timeout", required_argument, nullptr, kTimeout},
      {"delivery-timeout", required_argument, nullptr, kDeliveryTimeout},
      {"idempotency-key", required_argument, nullptr, kIdempotencyKey},
      {"wait", no_argument, nullptr, kWait},
      {"wait-timeout", required_argument, nullptr, kWaitTimeout},
      {"target", required_argument, nullptr, kTarget},
      {"max-concurrency", required_argument, nullptr, kMaxConcurrency},
      {"max-errors", required_argument, nullptr, kMaxErrors},
      {"priority", required_argument, nullptr, kPriority},
      {"help", no_argument, nullptr, 'h'},
      {"verbose", no_argument, nullptr, 'v'},
      {}};
  SubmitCommand c;
  bool help = false;
  auto handle = [&](int option, const char* value) -> Status {
    if (CommonOption(option, &help, global)) return Status();
    return ParseSubmitOption(option, value, &c);
  };
  int first = 0;
  Status s = ReadOptions(argc, argv, "p:hv", kOptions, false, handle, &first);
  if (!s.ok()) return s;
  if (help) return Command(HelpCommand{"submit"});
  if (first >= argc)
    return UsageError(c.request.target.empty() ? "missing SCORE and PLAYER"
                                               : "missing SCORE");
  c.request.score = argv[first];
  if (!common::IsValidScoreName(c.request.score))
    return UsageError("score name '" + c.request.score + "' must match " +
                      common::ScoreNameRule());
  if (c.request.key.size() > kMaxIdempotencyKeyBytes)
    return UsageError("--idempotency-key is longer than " +
                      std::to_string(kMaxIdempotencyKeyBytes) + " bytes");
  for (int i = first + 1; i < argc; ++i) {
    s = AddPlayers(argv[i], &c.request.players);
    if (!s.ok()) return s;
  }
  if (!c.request.target.empty() && !c.request.players.empty())
    return UsageError("give either --target or PLAYER names, not both");
  if (c.request.players.empty() && c.request.target.empty())
    return UsageError("missing PLAYER (or --target EXPR)");
  if (c.request.scope == broker::Scope::kOne &&
      (c.request.max_concurrency || c.request.max_errors))
    return UsageError(
        "--max-concurrency and --max-errors are for --all jobs (a rollout)");
  return Command(std::move(c));
}

// The options of status, wait and cancel: --timeout (wait), --tasks-from
// and --tasks-limit (status).
Status ParseJobOption(const std::string& word, int option, const char* value,
                      int64_t* timeout_s, StatusCommand* page) {
  if (option == kGroup) {
    if (word != "status") return UsageError("unknown option '--group'");
    page->group = true;
    return Status();
  }
  const bool paging = option == kTasksFrom || option == kTasksLimit;
  if (word != (paging ? "status" : "wait"))
    return UsageError(std::string("unknown option '--") +
                      (option == kTimeout     ? "timeout"
                       : option == kTasksFrom ? "tasks-from"
                                              : "tasks-limit") +
                      "'");
  if (!paging) return ReadSeconds("--timeout", value, 1, timeout_s);
  page->one_page = true;
  Result<int64_t> n =
      option == kTasksFrom
          ? ParseNumber("--tasks-from", value, 0, INT32_MAX)
          : ParseNumber("--tasks-limit", value, 1, broker::kMaxTasksLimit);
  if (!n.ok()) return n.status();
  (option == kTasksFrom ? page->request.tasks_from
                        : page->request.tasks_limit) = n.value();
  return Status();
}

// status, wait and cancel: JOB and their options.
Result<Command> ParseJobCommand(const std::string& word, int argc, char** argv,
                                GlobalOptions* global) {
  static const option kOptions[] = {
      {"timeout", required_argument, nullptr, kTimeout},
      {"tasks-from", required_argument, nullptr, kTasksFrom},
      {"tasks-limit", required_argument, nullptr, kTasksLimit},
      {"group", no_argument, nullptr, kGroup},
      {"help", no_argument, nullptr, 'h'},
      {"verbose", no_argument, nullptr, 'v'},
      {}};
  int64_t timeout_s = 0;
  StatusCommand status;
  bool help = false;
  auto handle = [&](int option, const char* value) -> Status {
    if (CommonOption(option, &help, global)) return Status();
    return ParseJobOption(word, option, value, &timeout_s, &status);
  };
  int first = 0;
  Status s = ReadOptions(argc, argv, "hv", kOptions, false, handle, &first);
  if (!s.ok()) return s;
  if (help) return Command(HelpCommand{word});
  s = ExpectArguments(argc, first, 1, "JOB");
  if (!s.ok()) return s;
  Result<JobId> job = ParseJob(argv[first]);
  if (!job.ok()) return job.status();
  if (word == "status") {
    status.request.job = job.value();
    return Command(std::move(status));
  }
  if (word == "cancel") return Command(CancelCommand{job.value()});
  return Command(WaitCommand{job.value(), timeout_s});
}

Status ParseJobsOption(int option, const char* value, JobsCommand* c) {
  Result<int64_t> n = int64_t{0};
  broker::JobState state;
  switch (option) {
    case kState:
      if (!broker::ParseJobState(ToUpper(value), &state))
        return UsageError(std::string("--state must be PENDING, OK, FAIL, "
                                      "PARTIAL_FAIL or CANCELLED, not '") +
                          value + "'");
      c->request.state = state;
      break;
    case kScore:
      c->request.score = value;
      break;
    case kPlayer:
      c->request.player = value;
      break;
    case kLimit:
      n = ParseNumber("--limit", value, 1, 10000);
      if (n.ok()) c->request.limit = n.value();
      break;
    case kBefore:
      n = ParseJob(value);
      if (n.ok()) c->request.before = n.value();
      break;
  }
  return n.status();
}

Result<Command> ParseJobs(int argc, char** argv, GlobalOptions* global) {
  static const option kOptions[] = {
      {"state", required_argument, nullptr, kState},
      {"score", required_argument, nullptr, kScore},
      {"player", required_argument, nullptr, kPlayer},
      {"limit", required_argument, nullptr, kLimit},
      {"before", required_argument, nullptr, kBefore},
      {"help", no_argument, nullptr, 'h'},
      {"verbose", no_argument, nullptr, 'v'},
      {}};
  JobsCommand c;
  bool help = false;
  auto handle = [&](int option, const char* value) -> Status {
    if (CommonOption(option, &help, global)) return Status();
    return ParseJobsOption(option, value, &c);
  };
  int first = 0;
  Status s = ReadOptions(argc, argv, "hv", kOptions, false, handle, &first);
  if (!s.ok()) return s;
  if (help) return Command(HelpCommand{"jobs"});
  s = ExpectArguments(argc, first, 0, "no arguments");
  if (!s.ok()) return s;
  return Command(std::move(c));
}

Result<Command> ParsePlayers(int argc, char** argv, GlobalOptions* global) {
  static const option kOptions[] = {
      {"target", required_argument, nullptr, kTarget},
      {"help", no_argument, nullptr, 'h'},
      {"verbose", no_argument, nullptr, 'v'},
      {}};
  bool help = false;
  PlayersCommand c;
  auto handle = [&](int option, const char* value) -> Status {
    if (option == kTarget) c.target = value;
    CommonOption(option, &help, global);
    return Status();
  };
  int first = 0;
  Status s = ReadOptions(argc, argv, "hv", kOptions, false, handle, &first);
  if (!s.ok()) return s;
  if (help) return Command(HelpCommand{"players"});
  s = ExpectArguments(argc, first, 0, "no arguments");
  if (!s.ok()) return s;
  return Command(std::move(c));
}

Result<Command> ParseSql(int argc, char** argv, GlobalOptions* global) {
  static const option kOptions[] = {{"help", no_argument, nullptr, 'h'},
                                    {"verbose", no_argument, nullptr, 'v'},
                                    {}};
  bool help = false;
  auto handle = [&](int option, const char*) -> Status {
    CommonOption(option, &help, global);
    return Status();
  };
  int first = 0;
  Status s = ReadOptions(argc, argv, "hv", kOptions, false, handle, &first);
  if (!s.ok()) return s;
  if (help) return Command(HelpCommand{"sql"});
  s = ExpectArguments(argc, first, 1, "STATEMENT");
  if (!s.ok()) return s;
  SqlCommand c{argv[first]};
  if (common::Trim(c.sql).empty()) return UsageError("STATEMENT is empty");
  if (c.sql.size() > kMaxSqlBytes)
    return UsageError("STATEMENT is longer than " +
                      std::to_string(kMaxSqlBytes) + " bytes");
  return Command(std::move(c));
}

Result<Command> ParseKeygen(int argc, char** argv, GlobalOptions* global) {
  static const option kOptions[] = {{"dir", required_argument, nullptr, kDir},
                                    {"help", no_argument, nullptr, 'h'},
                                    {"verbose", no_argument, nullptr, 'v'},
                                    {}};
  KeygenCommand c;
  bool help = false;
  auto handle = [&](int option, const char* value) -> Status {
    if (!CommonOption(option, &help, global)) c.dir = value;
    return Status();
  };
  int first = 0;
  Status s = ReadOptions(argc, argv, "hv", kOptions, false, handle, &first);
  if (!s.ok()) return s;
  if (help) return Command(HelpCommand{"keygen"});
  s = ExpectArguments(argc, first, 1, "NAME");
  if (!s.ok()) return s;
  c.name = argv[first];
  if (!common::IsValidPlayerName(c.name))
    return UsageError("key name '" + c.name +
                      "' must use letters, digits, '.', '_' and '-'");
  return Command(std::move(c));
}

Result<Command> ParseHttpUser(int argc, char** argv, GlobalOptions* global) {
  static const option kOptions[] = {{"operate", no_argument, nullptr, kOperate},
                                    {"help", no_argument, nullptr, 'h'},
                                    {"verbose", no_argument, nullptr, 'v'},
                                    {}};
  HttpUserCommand c;
  bool help = false;
  auto handle = [&](int option, const char*) -> Status {
    if (!CommonOption(option, &help, global)) c.operate = true;
    return Status();
  };
  int first = 0;
  Status s = ReadOptions(argc, argv, "hv", kOptions, false, handle, &first);
  if (!s.ok()) return s;
  if (help) return Command(HelpCommand{"http-user"});
  s = ExpectArguments(argc, first, 1, "NAME");
  if (!s.ok()) return s;
  c.name = argv[first];
  if (!common::IsValidPlayerName(c.name))
    return UsageError("user name '" + c.name + "' must be " +
                      common::PlayerNameRule());
  return Command(std::move(c));
}

Result<Command> ParseCommand(const std::string& word, int argc, char** argv,
                             GlobalOptions* global) {
  if (word == "submit" || word == "queue")
    return ParseSubmit(argc, argv, global);
  if (word == "status" || word == "wait" || word == "cancel")
    return ParseJobCommand(word, argc, argv, global);
  if (word == "jobs") return ParseJobs(argc, argv, global);
  if (word == "players") return ParsePlayers(argc, argv, global);
  if (word == "sql") return ParseSql(argc, argv, global);
  if (word == "keygen") return ParseKeygen(argc, argv, global);
  if (word == "http-user") return ParseHttpUser(argc, argv, global);
  if (word == "help") return Command(HelpCommand{argc > 1 ? argv[1] : ""});
  return UsageError("unknown command '" + word + "'");
}

Status ParseGlobalOptions(int argc, char** argv, GlobalOptions* global,
                          bool* help, bool* version, int* first) {
  static const option kOptions[] = {
      {"endpoint", required_argument, nullptr, kEndpoint},
      {"key", required_argument, nullptr, kKey},
      {"server-key", required_argument, nullptr, kServerKey},
      {"json", no_argument, nullptr, kJson},
      {"version", no_argument, nullptr, kVersion},
      {"help", no_argument, nullptr, 'h'},
      {"verbose", no_argument, nullptr, 'v'},
      {}};
  auto handle = [&](int option, const char* value) -> Status {
    switch (option) {
      case kEndpoint:
        global->endpoint = value;
        break;
      case kKey:
        global->key_file = value;
        break;
      case kServerKey:
        global->server_key_file = value;
        break;
      case kJson:
        global->json = true;
        break;
      case kVersion:
        *version = true;
        break;
      default:
        CommonOption(option, help, global);
    }
    return Status();
  };
  return ReadOptions(argc, argv, "hv", kOptions, true, handle, first);
}

// Whether `command` needs an endpoint (keygen, http-user, help and
// --version do not).
bool AsksTheConductor(const Command& command) {
  return !std::holds_alternative<KeygenCommand>(command) &&
         !std::holds_alternative<HttpUserCommand>(command) &&
         !std::holds_alternative<HelpCommand>(command) &&
         !std::holds_alternative<VersionCommand>(command);
}

}  // namespace

Result<CommandLine> ParseCommandLine(int argc, char** argv,
                                     const std::string& env_endpoint,
                                     std::string* word) {
  CommandLine line;
  if (!env_endpoint.empty()) line.global.endpoint = env_endpoint;
  bool help = false;
  bool version = false;
  int first = 0;
  Status s =
      ParseGlobalOptions(argc, argv, &line.global, &help, &version, &first);
  if (!s.ok()) return s;
  if (version) {
    line.command = VersionCommand{};
  } else if (help || first >= argc) {
    if (!help) return UsageError("missing COMMAND");
    line.command = HelpCommand{};
  } else {
    *word = argv[first];
    Result<Command> command =
        ParseCommand(*word, argc - first, argv + first, &line.global);
    if (!command.ok()) return command.status();
    line.command = std::move(command.value());
  }
  if (AsksTheConductor(line.command)) {
    Result<std::vector<std::string>> endpoints =
        broker::ParseEndpointList(line.global.endpoint);
    if (!endpoints.ok())
      return UsageError("--endpoint (or $ORCHESTRA_ENDPOINT): " +
                        endpoints.status().message());
    line.global.endpoints = std::move(endpoints.value());
  }
  return line;
}

}  // namespace orchestra::tools
