#include "test/wire_samples.h"

#include "broker/audience_protocol.h"
#include "broker/protocol.h"

namespace orchestra::test {

namespace {

using namespace broker;

constexpr common::TimeMs kT0 = 1764300000123;  // 2025-11-28T03:20:00.123Z

TaskResult FullResult() {
  TaskResult r;
  r.task = 41;
  r.state = TaskState::kFail;
  r.exit_code = 3;
  r.stdout_text = "out\n";
  r.stderr_text = std::string(300, 'e');
  r.stdout_truncated = true;
  r.response = {{"k", "v"}, {"answer", "42"}};
  r.started_at = kT0;
  r.finished_at = kT0 + 1500;
  r.error = "exit status 3";
  return r;
}

TaskRecord FullTask() {
  TaskRecord t;
  t.task = 7;
  t.player = "web-1.example.com";
  t.attempt = 2;
  t.state = TaskState::kOk;
  t.exit_code = 0;
  t.stdout_text = "hello";
  t.stderr_text = "";
  t.stderr_truncated = true;
  t.response = {{"a", "b"}};
  t.dispatched_at = kT0;
  t.started_at = kT0 + 10;
  t.finished_at = kT0 + 20;
  return t;
}

JobRecord FullJob() {
  JobRecord j;
  j.id = 812;
  j.score = "restart-nginx";
  j.scope = Scope::kAll;
  j.players = {"web-1.example.com", "web-2"};
  j.params = {{"SERVICE", "nginx"}};
  j.state = JobState::kPartialFail;
  j.submitted_by = "ops";
  j.timeout_s = 60;
  j.delivery_timeout_s = 0;
  j.created_at = kT0;
  j.finished_at = kT0 + 90000;
  TaskRecord queued;
  queued.task = 8;
  TaskRecord signalled = FullTask();
  signalled.task = 9;
  signalled.state = TaskState::kFail;
  signalled.exit_code.reset();
  signalled.signal = 9;
  signalled.cut = true;
  j.tasks = {FullTask(), queued, signalled};
  return j;
}

std::string Player(const PlayerMessage& m) { return EncodePlayerMessage(m); }

std::string Request(RequestId req, AudienceOp op) {
  return EncodeAudienceRequest(AudienceRequest{std::move(req), std::move(op)});
}

std::string Reply(RequestId req, AudienceReplyBody body) {
  return EncodeAudienceReply(AudienceReply{std::move(req), std::move(body)});
}

void AddPlayerSamples(std::vector<WireSample>* out) {
  Hello hello;
  hello.version = "0.2.0";
  hello.slots = 4;
  hello.scores = {{"uptime", std::string(64, 'a'), "env"},
                  {"restart-nginx", std::string(64, '0'), "pipe"}};
  hello.tasks = {{5, false}, {6, true}};
  out->push_back({"player/hello", Player(hello)});
  out->push_back({"player/hello-bare", Player(Hello{1, "", 1, {}, {}})});
  out->push_back({"player/welcome", Player(Welcome{1, 5000})});
  out->push_back({"player/error", Player(SessionError{"replaced", "bye"})});
  RunTask task{41, 812, "uptime", {{"A", "1"}, {"B_2", "two"}}, 30};
  out->push_back({"player/task", Player(task)});
  out->push_back({"player/task-no-limit", Player(RunTask{42, 1, "x", {}, {}})});
  out->push_back({"player/accepted", Player(Accepted{41})});
  out->push_back({"player/result", Player(FullResult())});
  TaskResult killed = FullResult();
  killed.state = TaskState::kTimeout;
  killed.exit_code.reset();
  killed.signal = 15;
  out->push_back({"player/result-signal", Player(killed)});
  TaskResult lost;
  lost.task = 43;
  lost.state = TaskState::kLost;
  lost.error = "player stopped";
  out->push_back({"player/result-lost", Player(lost)});
  out->push_back({"player/result_ack", Player(ResultAck{41})});
  out->push_back({"player/cancel", Player(CancelTask{41})});
  out->push_back({"player/scores", Player(ScoreList{hello.scores})});
  out->push_back({"player/heartbeat", Player(Heartbeat{})});
}

void AddRequestSamples(std::vector<WireSample>* out) {
  SubmitRequest submit;
  submit.score = "restart-nginx";
  submit.scope = Scope::kAll;
  submit.players = {"web-1", "web-2"};
  submit.params = {{"SERVICE", "nginx"}};
  submit.timeout_s = 60;
  submit.delivery_timeout_s = 0;
  submit.key = "deploy-812";
  out->push_back({"request/submit", Request(int64_t{1}, submit)});
  SubmitRequest bare;
  bare.score = "uptime";
  bare.players = {"web-1"};
  out->push_back({"request/submit-bare", Request(std::monostate{}, bare)});
  out->push_back({"request/status", Request("r-2", StatusRequest{812})});
  out->push_back({"request/status-page",
                  Request(int64_t{3}, StatusRequest{812, 100, 50})});
  out->push_back(
      {"request/wait", Request(int64_t{4}, WaitRequest{812, 5000, true})});
  out->push_back({"request/cancel", Request(int64_t{5}, CancelRequest{812})});
  JobsRequest jobs;
  jobs.state = JobState::kFail;
  jobs.score = "uptime";
  jobs.player = "web-1";
  jobs.limit = 20;
  jobs.before = 900;
  out->push_back({"request/jobs", Request(int64_t{6}, jobs)});
  out->push_back({"request/jobs-bare", Request(int64_t{7}, JobsRequest{})});
  out->push_back({"request/players", Request(int64_t{8}, PlayersRequest{})});
  out->push_back({"request/players-page",
                  Request(int64_t{9}, PlayersRequest{"web-1", 10})});
  out->push_back(
      {"request/sql",
       Request(int64_t{10},
               SqlRequest{"SELECT state, count(*) FROM jobs GROUP BY state"})});
}

void AddReplySamples(std::vector<WireSample>* out) {
  auto add = [out](const char* name, std::string bytes) {
    out->push_back({name, std::move(bytes), true});
  };
  add("reply/submit", Reply(int64_t{1}, SubmitReply{812}));
  add("reply/submit-no-req", Reply(std::monostate{}, SubmitReply{812}));
  add("reply/job", Reply("r-2", JobReply{FullJob(), false}));
  JobRecord page = FullJob();
  page.tasks_from = 0;
  page.tasks_total = 3;
  page.players_omitted = 12;
  add("reply/job-page", Reply(int64_t{3}, JobReply{page, true}));
  JobRecord later = FullJob();
  later.tasks_from = 2;
  later.tasks_total = 5;
  later.tasks.resize(1);
  add("reply/job-page-2", Reply(int64_t{3}, JobReply{later, false}));
  JobSummary summary;
  summary.id = 812;
  summary.score = "uptime";
  summary.state = JobState::kOk;
  summary.submitted_by = "ops";
  summary.players = 2;
  summary.tasks_by_state = {{"OK", 2}};
  summary.created_at = kT0;
  summary.finished_at = kT0 + 5;
  add("reply/jobs", Reply(int64_t{6}, JobsReply{{summary, summary}, 0}));
  add("reply/jobs-cut", Reply(int64_t{6}, JobsReply{{summary}, 4}));
  PlayerInfo player{"web-1", true, kT0, "0.2.0", 4, 1, {"uptime", "x"}};
  PlayerInfo gone{"web-2", false, 0, "", 0, 0, {}};
  add("reply/players", Reply(int64_t{8}, PlayersReply{{player, gone}, 0}));
  add("reply/players-cut", Reply(int64_t{8}, PlayersReply{{player}, 7}));
  Progress progress{1, 2, {{"OK", 1}, {"RUNNING", 1}}};
  add("reply/progress", Reply(int64_t{4}, ProgressReply{progress}));
  add("reply/error",
      Reply(int64_t{5}, ErrorReply{{ErrorCode::kNotFound, "no job 812"}}));
  add("reply/sql",
      Reply(int64_t{10},
            SqlReply{{"state", "n", "share"},
                     {{std::string("OK"), int64_t{3}, 0.75},
                      {std::string("FAIL"), int64_t{1}, std::monostate{}}},
                     true}));
  add("reply/error-no-req",
      Reply(std::monostate{}, ErrorReply{{ErrorCode::kBadRequest, "bad"}}));
}

}  // namespace

std::vector<WireSample> AllWireSamples() {
  std::vector<WireSample> out;
  AddPlayerSamples(&out);
  AddRequestSamples(&out);
  AddReplySamples(&out);
  return out;
}

}  // namespace orchestra::test
