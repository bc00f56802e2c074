// Writes the seeds of the message targets' corpora: real messages of each
// kind, made by our own encoders, into DIR/player_message/,
// DIR/audience_request/ and DIR/audience_reply/ (`make fuzz-seeds` writes
// them into test/fuzz/). The file targets' seeds are sample files kept as
// they are.

#include <cstdio>
#include <fstream>
#include <string>

#include "broker/audience_protocol.h"
#include "broker/protocol.h"

namespace broker = orchestra::broker;

namespace {

constexpr orchestra::common::TimeMs kTime = 1790000000123;  // 2026-09-21...

bool Write(const std::string& dir, const std::string& target,
           const std::string& name, const std::string& bytes) {
  const std::string path = dir + "/" + target + "/seed-" + name;
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << bytes;
  if (!out) std::fprintf(stderr, "cannot write %s\n", path.c_str());
  return static_cast<bool>(out);
}

std::vector<broker::ScoreInfo> Scores() {
  return {{"hello", std::string(64, 'a'), "env"},
          {"disk-usage", std::string(64, '0'), "pipe"}};
}

bool PlayerMessages(const std::string& dir) {
  auto put = [&](const std::string& name, const broker::PlayerMessage& m) {
    return Write(dir, "player_message", name, broker::EncodePlayerMessage(m));
  };
  broker::TaskResult result;
  result.task = 7;
  result.state = broker::TaskState::kOk;
  result.exit_code = 0;
  result.stdout_text = "hello from p1\n";
  result.stderr_text = "warning: \xc3\xa9t\xc3\xa9\n";
  result.stdout_truncated = true;
  result.response = {{"SIZE", "42"}, {"NOTE", ""}};
  result.started_at = kTime;
  result.finished_at = kTime + 1500;
  broker::TaskResult killed;
  killed.task = 8;
  killed.state = broker::TaskState::kTimeout;
  killed.signal = 9;
  killed.error = "timed out after 10 s";
  return put("hello",
             broker::Hello{1, "1.0.0", 4, Scores(), {{3, false}, {4, true}}}) &&
         put("hello-empty", broker::Hello{1, "", 1, {}, {}}) &&
         put("welcome", broker::Welcome{1, 10000}) &&
         put("error", broker::SessionError{"proto", "protocol 2 only"}) &&
         put("task", broker::RunTask{7,
                                     3,
                                     "hello",
                                     {{"NAME", "you"}, {"_X1", "\xe2\x82\xac"}},
                                     600}) &&
         put("task-no-timeout", broker::RunTask{9, 4, "disk-usage", {}, {}}) &&
         put("accepted", broker::Accepted{7}) && put("result", result) &&
         put("result-timeout", killed) &&
         put("result_ack", broker::ResultAck{7}) &&
         put("cancel", broker::CancelTask{7}) &&
         put("scores", broker::ScoreList{Scores()}) &&
         put("heartbeat", broker::Heartbeat{});
}

bool AudienceRequests(const std::string& dir) {
  auto put = [&](const std::string& name, const broker::RequestId& req,
                 const broker::AudienceOp& op) {
    return Write(dir, "audience_request", name,
                 broker::EncodeAudienceRequest({req, op}));
  };
  broker::SubmitRequest submit;
  submit.score = "hello";
  submit.scope = broker::Scope::kAll;
  submit.players = {"p1", "web-2.example"};
  submit.params = {{"NAME", "you"}, {"TARGET", "/srv"}};
  submit.timeout_s = 60;
  submit.delivery_timeout_s = 0;
  submit.key = "backup-2026-09-21";
  broker::SubmitRequest plain;
  plain.score = "disk-usage";
  plain.players = {"p1"};
  // A rollout by target (DESIGN.md section 13).
  broker::SubmitRequest rollout;
  rollout.score = "hello";
  rollout.scope = broker::Scope::kAll;
  rollout.target = "role=web dc=syd,mel name!=web-0*";
  rollout.max_concurrency = broker::RolloutLimit{10, true};
  rollout.max_errors = broker::RolloutLimit{2, false};
  rollout.priority = 50;
  broker::PlayersRequest by_target;
  by_target.target = "role=db";
  broker::JobsRequest jobs;
  jobs.state = broker::JobState::kPartialFail;
  jobs.score = "hello";
  jobs.player = "p1";
  jobs.limit = 10;
  jobs.before = 100;
  return put("submit", int64_t{1}, submit) &&
         put("submit-plain", std::monostate{}, plain) &&
         put("status", std::string("r-2"), broker::StatusRequest{17}) &&
         put("wait", int64_t{3}, broker::WaitRequest{17, 5000, true}) &&
         put("cancel", int64_t{-4}, broker::CancelRequest{17}) &&
         put("jobs", int64_t{5}, jobs) &&
         put("jobs-all", std::monostate{}, broker::JobsRequest{}) &&
         put("players", int64_t{6}, broker::PlayersRequest{}) &&
         put("status-page", int64_t{7}, broker::StatusRequest{17, 200, 50}) &&
         put("players-page", int64_t{8}, broker::PlayersRequest{"p1", 100}) &&
         put("submit-rollout", int64_t{9}, rollout) &&
         put("players-target", int64_t{10}, by_target) &&
         put("sql", int64_t{11},
             broker::SqlRequest{"SELECT state, count(*) FROM jobs GROUP BY "
                                "state"});
}

broker::JobRecord Job() {
  broker::JobRecord job;
  job.id = 17;
  job.score = "hello";
  job.scope = broker::Scope::kOne;
  job.players = {"p1", "p2"};
  job.params = {{"NAME", "you"}};
  job.state = broker::JobState::kOk;
  job.submitted_by = "alice";
  job.timeout_s = 60;
  job.created_at = kTime;
  job.finished_at = kTime + 2000;
  broker::TaskRecord lost;
  lost.task = 30;
  lost.player = "p2";
  lost.state = broker::TaskState::kLost;
  lost.dispatched_at = kTime + 10;
  lost.error = "player restarted";
  broker::TaskRecord ok;
  ok.task = 31;
  ok.player = "p1";
  ok.attempt = 2;
  ok.state = broker::TaskState::kOk;
  ok.exit_code = 0;
  ok.stdout_text = "hello you\n";
  ok.response = {{"K", "v"}};
  ok.dispatched_at = kTime + 20;
  ok.started_at = kTime + 30;
  ok.finished_at = kTime + 1900;
  job.tasks = {lost, ok};
  return job;
}

// A page of a record that did not fit one reply: its second task on, one
// of them cut, and players left out.
broker::JobRecord Page() {
  broker::JobRecord job = Job();
  job.tasks.erase(job.tasks.begin());
  job.tasks[0].cut = true;
  job.tasks[0].stdout_truncated = true;
  job.tasks_from = 1;
  job.tasks_total = 3;
  job.players_omitted = 5000;
  return job;
}

// A rollout by target: a task SKIPPED once its errors ran out, and one
// that waits for the job's max_concurrency.
broker::JobRecord Rollout() {
  broker::JobRecord job = Job();
  job.scope = broker::Scope::kAll;
  job.state = broker::JobState::kPending;
  job.finished_at = 0;
  job.target = "role=web";
  job.max_concurrency = broker::RolloutLimit{50, true};
  job.max_errors = broker::RolloutLimit{0, false};
  job.priority = -7;
  job.tasks[1].state = broker::TaskState::kSkipped;
  broker::TaskRecord queued;
  queued.task = 32;
  queued.player = "p3";
  queued.waiting = broker::WaitReason::kRollout;
  job.tasks.push_back(queued);
  return job;
}

bool AudienceReplies(const std::string& dir) {
  auto put = [&](const std::string& name, const broker::RequestId& req,
                 const broker::AudienceReplyBody& body) {
    return Write(dir, "audience_reply", name,
                 broker::EncodeAudienceReply({req, body}));
  };
  broker::JobSummary summary;
  summary.id = 17;
  summary.score = "hello";
  summary.state = broker::JobState::kFail;
  summary.submitted_by = "ci";
  summary.players = 2;
  summary.tasks_by_state = {{"OK", 1}, {"FAIL", 1}};
  summary.created_at = kTime;
  broker::PlayerInfo player;
  player.name = "p1";
  player.connected = true;
  player.last_seen = kTime;
  player.version = "1.0.0";
  player.slots = 4;
  player.running = 1;
  player.scores = {"disk-usage", "hello"};
  broker::Progress progress{1, 3, {{"OK", 1}, {"RUNNING", 2}}};
  broker::JobSummary targeted = summary;
  targeted.target = "role=web";
  targeted.priority = 100;
  broker::PlayerInfo labelled = player;
  labelled.labels = {{"role", "web"}, {"dc", "syd"}};
  return put("submit", int64_t{1}, broker::SubmitReply{17}) &&
         put("job", std::string("r-2"), broker::JobReply{Job(), false}) &&
         put("job-timed-out", int64_t{3}, broker::JobReply{Job(), true}) &&
         put("jobs", int64_t{5}, broker::JobsReply{{summary}}) &&
         put("players", int64_t{6}, broker::PlayersReply{{player}}) &&
         put("progress", int64_t{3}, broker::ProgressReply{progress}) &&
         put("job-page", int64_t{7}, broker::JobReply{Page(), false}) &&
         put("jobs-cut", int64_t{8}, broker::JobsReply{{summary}, 40}) &&
         put("players-page", int64_t{9},
             broker::PlayersReply{{player}, 9999}) &&
         put("error", std::monostate{},
             broker::ErrorReply{
                 {broker::ErrorCode::kUnauthorized,
                  "audience key 'bot' may not run score 'x'"}}) &&
         put("job-rollout", int64_t{10}, broker::JobReply{Rollout(), false}) &&
         put("jobs-target", int64_t{11}, broker::JobsReply{{targeted}}) &&
         put("players-labels", int64_t{12},
             broker::PlayersReply{{labelled, player}}) &&
         put("error-invalid-target", int64_t{13},
             broker::ErrorReply{{broker::ErrorCode::kInvalidTarget,
                                 "no player matches 'role=nope'"}}) &&
         put("sql", int64_t{14},
             broker::SqlReply{
                 {"state", "n", "share"},
                 {{std::string("OK"), int64_t{3}, 0.75},
                  {std::string("FAIL"), int64_t{-1}, std::monostate{}}},
                 true});
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s DIR\n", argv[0]);
    return 2;
  }
  const std::string dir = argv[1];
  return PlayerMessages(dir) && AudienceRequests(dir) && AudienceReplies(dir)
             ? 0
             : 1;
}
