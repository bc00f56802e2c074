// One Runner per invocation runs the parsed command. Errors end up in
// Fail(), the one place that maps them to exit statuses: Unavailable (the
// conductor cannot be reached, or answered `unavailable` because it is
// stopping) is 3, anything else (a usage problem, a key file, or the
// conductor's other error replies) is 2. The conductor's error replies
// arrive as InvalidArgument("<code>", "<message>") (Unavailable for
// `unavailable`), so they print as "orchestra: <code>: <message>". Requests
// go through broker::CellClient: with a list of endpoints (a cell) they
// fail over, and a submit without --idempotency-key gets a key of its own.

#include "tools/cli.h"

#include <sodium.h>

#include <climits>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <variant>

#include "broker/cell_client.h"
#include "broker/curve_keys.h"
#include "broker/json.h"
#include "tools/command_line.h"
#include "tools/json_pages.h"
#include "tools/password.h"
#include "tools/progress_line.h"
#include "tools/report.h"
#include "tools/usage.h"

namespace orchestra::tools {

namespace {

using broker::AudienceOp;
using broker::AudienceReply;
using broker::JobId;
using common::Result;
using common::Status;

constexpr int kRequestTimeoutMs = 30000;  // Every op but wait.
constexpr int64_t kWaitSlackMs = 15000;   // Beyond the conductor's timeout.

template <typename Body>
Result<Body> Expect(Result<AudienceReply> reply, const char* op) {
  if (!reply.ok()) return reply.status();
  if (Body* body = std::get_if<Body>(&reply.value().body))
    return std::move(*body);
  return Status::InvalidArgument("conductor",
                                 std::string("unexpected reply to ") + op);
}

class Runner {
 public:
  Runner(const CliEnvironment& env, const GlobalOptions& global)
      : env_(env), global_(global), out_(*env.out), err_(*env.err) {}

  int Run(const SubmitCommand& c);
  int Run(const StatusCommand& c);
  int Run(const WaitCommand& c);
  int Run(const CancelCommand& c);
  int Run(const JobsCommand& c);
  int Run(const PlayersCommand& c);
  int Run(const SqlCommand& c);
  int Run(const KeygenCommand& c);
  int Run(const HttpUserCommand& c);
  int Run(const HelpCommand& c);
  int Run(const VersionCommand& c);

 private:
  // Sends `op` (connecting first if need be) and waits for its final reply;
  // an error reply becomes InvalidArgument("<code>", "<message>").
  Result<AudienceReply> Request(
      const AudienceOp& op, int timeout_ms,
      const std::function<void(const broker::Progress&)>& on_progress = {});
  int WaitFor(JobId job, int64_t timeout_s, const std::string& note);
  // Prints a job record; returns kExitOk or, with `exit_by_state`, the exit
  // status its state stands for. With `whole`, the rest of a record that
  // came in pages is fetched first (`status` pages); with `group`, tasks
  // that ended alike show as one line.
  int ShowJob(Result<broker::JobReply> reply, bool exit_by_state,
              bool whole = true, bool group = false);
  // Asks for the pages that follow the one `job` holds and adds their
  // tasks to it (and to `json`, with --json).
  Status FetchRest(broker::JobRecord* job, JsonPages* json);
  // Prints the reply's `field` as JSON.
  int PrintJson(const char* field);
  // Prints `s` (with `note`) and returns the exit status it stands for.
  int Fail(const Status& s, const std::string& note = "");

  const CliEnvironment& env_;
  const GlobalOptions& global_;
  std::ostream& out_;
  std::ostream& err_;
  std::unique_ptr<broker::CellClient> client_;
};

Result<AudienceReply> Runner::Request(
    const AudienceOp& op, int timeout_ms,
    const std::function<void(const broker::Progress&)>& on_progress) {
  if (!client_) {
    broker::CellOptions options;
    options.endpoints = global_.endpoints;
    options.client.secret_key_file = global_.key_file;
    options.client.server_key_file = global_.server_key_file;
    options.client.connect_timeout_ms = env_.connect_timeout_ms;
    client_ = std::make_unique<broker::CellClient>(std::move(options));
  }
  Result<AudienceReply> reply = client_->Call(op, timeout_ms, on_progress);
  if (!reply.ok()) return reply;
  if (auto* error = std::get_if<broker::ErrorReply>(&reply.value().body)) {
    const char* code = broker::ErrorCodeName(error->error.code);
    if (error->error.code == broker::ErrorCode::kUnavailable)
      return Status::Unavailable(code, error->error.message);
    return Status::InvalidArgument(code, error->error.message);
  }
  return reply;
}

int Runner::Run(const SubmitCommand& c) {
  Result<broker::SubmitReply> submitted = Expect<broker::SubmitReply>(
      Request(c.request, kRequestTimeoutMs), "submit");
  if (!submitted.ok()) return Fail(submitted.status());
  const JobId job = submitted.value().job;
  if (c.wait)
    return WaitFor(job, c.wait_timeout_s,
                   " (job " + std::to_string(job) + " was submitted)");
  if (global_.json) return PrintJson("job");
  out_ << job << "\n";
  return kExitOk;
}

int Runner::Run(const StatusCommand& c) {
  return ShowJob(
      Expect<broker::JobReply>(Request(c.request, kRequestTimeoutMs), "status"),
      true, !c.one_page, c.group);
}

int Runner::Run(const WaitCommand& c) {
  return WaitFor(c.job, c.timeout_s, "");
}

int Runner::Run(const CancelCommand& c) {
  return ShowJob(
      Expect<broker::JobReply>(
          Request(broker::CancelRequest{c.job}, kRequestTimeoutMs), "cancel"),
      false);
}

// A list cut to fit one reply goes on from its last job, up to the limit.
int Runner::Run(const JobsCommand& c) {
  broker::JobsRequest request = c.request;
  std::vector<broker::JobSummary> jobs;
  JsonPages json;
  for (;;) {
    Result<broker::JobsReply> reply =
        Expect<broker::JobsReply>(Request(request, kRequestTimeoutMs), "jobs");
    if (!reply.ok()) return Fail(reply.status());
    if (global_.json) {
      Status s = json.Add(client_->last_reply_bytes(), "jobs");
      if (!s.ok()) return Fail(s);
    }
    std::vector<broker::JobSummary>& page = reply.value().jobs;
    jobs.insert(jobs.end(), page.begin(), page.end());
    if (reply.value().jobs_omitted == 0 || page.empty()) break;
    request.limit -= static_cast<int64_t>(page.size());
    request.before = page.back().id;
  }
  if (global_.json)
    out_ << json.Text() << "\n";
  else
    out_ << FormatJobs(jobs);
  return kExitOk;
}

// Players come in pages by name; every page is fetched.
int Runner::Run(const PlayersCommand& c) {
  broker::PlayersRequest request;
  request.target = c.target;
  std::vector<broker::PlayerInfo> players;
  JsonPages json;
  for (;;) {
    Result<broker::PlayersReply> reply = Expect<broker::PlayersReply>(
        Request(request, kRequestTimeoutMs), "players");
    if (!reply.ok()) return Fail(reply.status());
    if (global_.json) {
      Status s = json.Add(client_->last_reply_bytes(), "players");
      if (!s.ok()) return Fail(s);
    }
    std::vector<broker::PlayerInfo>& page = reply.value().players;
    players.insert(players.end(), page.begin(), page.end());
    if (reply.value().players_omitted == 0 || page.empty()) break;
    request.after = page.back().name;
  }
  if (global_.json)
    out_ << json.Text() << "\n";
  else
    out_ << FormatPlayers(players);
  return kExitOk;
}

int Runner::Run(const SqlCommand& c) {
  Result<broker::SqlReply> reply = Expect<broker::SqlReply>(
      Request(broker::SqlRequest{c.sql}, kRequestTimeoutMs), "sql");
  if (!reply.ok()) return Fail(reply.status());
  if (global_.json)
    out_ << SqlJson(reply.value()) << "\n";
  else
    out_ << FormatSql(reply.value());
  return kExitOk;
}

int Runner::Run(const KeygenCommand& c) {
  Result<broker::CurveKeyPair> keys = broker::GenerateKeyPair();
  if (!keys.ok()) return Fail(keys.status());
  Status s = broker::WriteKeyPair(c.dir, c.name, keys.value());
  if (!s.ok()) return Fail(s);
  const std::string base = c.dir + "/" + c.name;
  if (global_.json) {
    nlohmann::ordered_json written = {{"secret_key_file", base + ".key"},
                                      {"public_key_file", base + ".pub"},
                                      {"public_key", keys.value().public_key}};
    out_ << written.dump(2) << "\n";
    return kExitOk;
  }
  out_ << "wrote " << base << ".key (secret) and " << base << ".pub\n"
       << "public key: " << keys.value().public_key << "\n";
  return kExitOk;
}

int Runner::Run(const HttpUserCommand& c) {
  Result<std::string> password = ReadNewPassword(env_.in_fd, env_.err);
  if (!password.ok()) return Fail(password.status());
  Result<std::string> line = HttpUserLine(c.name, password.value(), c.operate);
  sodium_memzero(password.value().data(), password.value().size());
  if (!line.ok()) return Fail(line.status());
  out_ << line.value() << "\n";
  return kExitOk;
}

int Runner::Run(const HelpCommand& c) {
  out_ << Usage(c.topic);
  return kExitOk;
}

int Runner::Run(const VersionCommand&) {
  out_ << "orchestra " << kOrchestraVersion << "\n";
  return kExitOk;
}

int Runner::WaitFor(JobId job, int64_t timeout_s, const std::string& note) {
  broker::WaitRequest wait{job, timeout_s * 1000, env_.out_is_terminal};
  int client_timeout_ms = -1;
  if (timeout_s > 0 && wait.timeout_ms + kWaitSlackMs <= INT_MAX)
    client_timeout_ms = static_cast<int>(wait.timeout_ms + kWaitSlackMs);
  ProgressLine line(&out_, env_.out_is_terminal, env_.terminal_width);
  Result<AudienceReply> reply =
      Request(wait, client_timeout_ms,
              [&](const broker::Progress& p) { line.Show(job, p); });
  line.Clear();
  if (!reply.ok()) return Fail(reply.status(), note);
  return ShowJob(Expect<broker::JobReply>(std::move(reply), "wait"), true);
}

int Runner::ShowJob(Result<broker::JobReply> reply, bool exit_by_state,
                    bool whole, bool group) {
  if (!reply.ok()) return Fail(reply.status());
  broker::JobRecord& job = reply.value().job;
  JsonPages json;
  if (global_.json) {
    Status s = json.Add(client_->last_reply_bytes(), "job");
    if (!s.ok()) return Fail(s);
  }
  if (whole) {
    Status s = FetchRest(&job, &json);
    if (!s.ok()) return Fail(s);
  }
  if (global_.json)
    out_ << json.Text() << "\n";
  else if (group)
    out_ << FormatGroupedJob(job);
  else
    out_ << FormatJob(job, global_.verbose);
  return exit_by_state ? ExitStatusForJob(job.state) : kExitOk;
}

// The pages of a job still running may show it at different moments: the
// header is the first page's, the tasks each page's own.
Status Runner::FetchRest(broker::JobRecord* job, JsonPages* json) {
  while (job->tasks_total &&
         job->tasks_from + static_cast<int64_t>(job->tasks.size()) <
             *job->tasks_total) {
    broker::StatusRequest next;
    next.job = job->id;
    next.tasks_from = job->tasks_from + static_cast<int64_t>(job->tasks.size());
    Result<broker::JobReply> page =
        Expect<broker::JobReply>(Request(next, kRequestTimeoutMs), "status");
    if (!page.ok()) return page.status();
    if (global_.json) {
      Status s = json->Add(client_->last_reply_bytes(), "job");
      if (!s.ok()) return s;
    }
    std::vector<broker::TaskRecord>& tasks = page.value().job.tasks;
    job->tasks.insert(job->tasks.end(), std::make_move_iterator(tasks.begin()),
                      std::make_move_iterator(tasks.end()));
    job->tasks_total = page.value().job.tasks_total;
    if (tasks.empty()) break;  // The job has fewer tasks than it said.
  }
  if (job->tasks_from == 0) {
    job->tasks_total.reset();
    json->MarkWhole();
  }
  return Status();
}

int Runner::PrintJson(const char* field) {
  Result<std::string> json =
      broker::MsgpackFieldToJson(client_->last_reply_bytes(), field, true);
  if (!json.ok()) return Fail(json.status());
  out_ << json.value() << "\n";
  return kExitOk;
}

int Runner::Fail(const Status& s, const std::string& note) {
  err_ << "orchestra: " << s.message() << note << "\n";
  return s.code() == Status::Code::kUnavailable ? kExitUnreachable : kExitUsage;
}

}  // namespace

int ExitStatusForJob(broker::JobState state) {
  switch (state) {
    case broker::JobState::kOk:
      return kExitOk;
    case broker::JobState::kPending:
      return kExitPending;
    default:
      return kExitJobNotOk;
  }
}

int RunCli(int argc, char** argv, const CliEnvironment& env) {
  std::string word;
  Result<CommandLine> line = ParseCommandLine(argc, argv, env.endpoint, &word);
  if (!line.ok()) {
    *env.err << "orchestra: " << line.status().message() << "\n\n"
             << Usage(word);
    return kExitUsage;
  }
  Runner runner(env, line.value().global);
  return std::visit([&](const auto& command) { return runner.Run(command); },
                    line.value().command);
}

}  // namespace orchestra::tools
