// Tests of tools/cli.h: the whole orchestra command run in process against
// a fake conductor (a ROUTER on an ipc socket, on its own thread).

#include "tools/cli.h"

#include <sys/stat.h>

#include <algorithm>
#include <fstream>
#include <functional>
#include <sstream>

#include "broker/audience_protocol.h"
#include "test/fake_conductor.h"
#include "test/test_util.h"

namespace orchestra::tools {
namespace {

using broker::AudienceOp;
using broker::AudienceReply;
using broker::AudienceReplyBody;
using broker::JobState;
using test::FakeConductor;

broker::JobRecord Job(broker::JobId id, JobState state) {
  broker::JobRecord job;
  job.id = id;
  job.score = "backup";
  job.state = state;
  broker::TaskRecord task;
  task.task = 1;
  task.player = "web-1";
  task.state = state == JobState::kOk ? broker::TaskState::kOk
                                      : broker::TaskState::kFail;
  task.stdout_text = "done\n";
  job.tasks.push_back(task);
  return job;
}

class CliTest : public testing::Test {
 protected:
  CliTest() {
    env_.out = &out_;
    env_.err = &err_;
    env_.endpoint = "ipc://" + dir_.File("conductor.sock");
  }

  // Starts a fake conductor answering every op with `bodies`.
  void Answer(std::vector<AudienceReplyBody> bodies) {
    AnswerWith([bodies](const AudienceOp&) { return bodies; });
  }
  // Starts a fake conductor answering each op with the bodies `answer` gives.
  void AnswerWith(
      std::function<std::vector<AudienceReplyBody>(const AudienceOp&)> answer) {
    fake_ = std::make_unique<FakeConductor>(
        FakeConductor::Setup{env_.endpoint, {}},
        [answer](const broker::AudienceRequest& request) {
          std::vector<AudienceReply> replies;
          for (AudienceReplyBody& body : answer(request.op))
            replies.push_back({request.req, std::move(body)});
          return replies;
        });
    ASSERT_FALSE(fake_->endpoint().empty());
  }

  int Run(std::vector<std::string> args) {
    args.insert(args.begin(), "orchestra");
    std::vector<char*> argv;
    for (std::string& arg : args) argv.push_back(arg.data());
    argv.push_back(nullptr);
    return RunCli(static_cast<int>(args.size()), argv.data(), env_);
  }

  template <typename T>
  T LastOp() {
    std::vector<AudienceOp> ops = fake_->ops();
    EXPECT_FALSE(ops.empty());
    return ops.empty() ? T() : std::get<T>(ops.back());
  }

  test::TempDir dir_;
  std::ostringstream out_;
  std::ostringstream err_;
  CliEnvironment env_;
  std::unique_ptr<FakeConductor> fake_;
};

TEST_F(CliTest, ExitStatusFollowsJobState) {
  EXPECT_EQ(kExitOk, ExitStatusForJob(JobState::kOk));
  EXPECT_EQ(kExitJobNotOk, ExitStatusForJob(JobState::kFail));
  EXPECT_EQ(kExitJobNotOk, ExitStatusForJob(JobState::kPartialFail));
  EXPECT_EQ(kExitJobNotOk, ExitStatusForJob(JobState::kCancelled));
  EXPECT_EQ(kExitPending, ExitStatusForJob(JobState::kPending));
}

TEST_F(CliTest, StatusOfOkJobPrintsItAndExitsZero) {
  Answer({broker::JobReply{Job(5, JobState::kOk), false}});
  EXPECT_EQ(kExitOk, Run({"status", "5"}));
  EXPECT_EQ(0u, out_.str().find("job 5  score backup  scope one  state OK\n"));
  EXPECT_NE(std::string::npos, out_.str().find("web-1"));
  EXPECT_EQ(5, LastOp<broker::StatusRequest>().job);
}

TEST_F(CliTest, WaitForFailedJobExitsOne) {
  Answer({broker::JobReply{Job(5, JobState::kFail), false}});
  EXPECT_EQ(kExitJobNotOk, Run({"wait", "5"}));
}

TEST_F(CliTest, WaitThatTimesOutExitsFour) {
  Answer({broker::JobReply{Job(5, JobState::kPending), true}});
  EXPECT_EQ(kExitPending, Run({"wait", "--timeout", "30", "5"}));
  broker::WaitRequest wait = LastOp<broker::WaitRequest>();
  EXPECT_EQ(30000, wait.timeout_ms);
  EXPECT_FALSE(wait.progress);  // Not a terminal.
}

TEST_F(CliTest, WaitOnATerminalShowsProgressThenErasesIt) {
  env_.out_is_terminal = true;
  Answer({broker::ProgressReply{{1, 2, {{"OK", 1}, {"RUNNING", 1}}}},
          broker::JobReply{Job(5, JobState::kOk), false}});
  EXPECT_EQ(kExitOk, Run({"wait", "5"}));
  EXPECT_TRUE(LastOp<broker::WaitRequest>().progress);
  EXPECT_EQ(0u, out_.str().find("\r\033[Kjob 5: 1/2 done  OK 1  RUNNING 1"
                                "\r\033[Kjob 5  score backup"));
}

TEST_F(CliTest, SubmitSendsTheRequestAndPrintsTheJobId) {
  Answer({broker::SubmitReply{17}});
  EXPECT_EQ(kExitOk,
            Run({"submit", "--all", "-p", "a=1", "backup", "w1", "w2"}));
  EXPECT_EQ("17\n", out_.str());
  broker::SubmitRequest submit = LastOp<broker::SubmitRequest>();
  EXPECT_EQ(broker::Scope::kAll, submit.scope);
  EXPECT_EQ((std::vector<std::string>{"w1", "w2"}), submit.players);
  EXPECT_EQ("1", submit.params["a"]);
}

TEST_F(CliTest, SubmitWithWaitShowsTheFinishedJob) {
  AnswerWith([](const AudienceOp& op) -> std::vector<AudienceReplyBody> {
    if (std::holds_alternative<broker::SubmitRequest>(op))
      return {broker::SubmitReply{17}};
    return {broker::JobReply{Job(17, JobState::kOk), false}};
  });
  EXPECT_EQ(kExitOk, Run({"submit", "--wait", "backup", "web-1"}));
  EXPECT_EQ(17, LastOp<broker::WaitRequest>().job);
  EXPECT_EQ(0u, out_.str().find("job 17  score backup"));
}

TEST_F(CliTest, SubmitWithoutAKeyGetsOneOfItsOwn) {
  Answer({broker::SubmitReply{17}});
  EXPECT_EQ(kExitOk, Run({"submit", "backup", "web-1"}));
  EXPECT_EQ(0u, LastOp<broker::SubmitRequest>().key.find("auto-"));
  EXPECT_EQ(kExitOk,
            Run({"submit", "--idempotency-key", "k-1", "backup", "web-1"}));
  EXPECT_EQ("k-1", LastOp<broker::SubmitRequest>().key);
}

TEST_F(CliTest, ListedEndpointsAreTriedInTurn) {
  Answer({broker::SubmitReply{17}});
  env_.endpoint = "ipc://" + dir_.File("gone.sock") + "," + env_.endpoint;
  EXPECT_EQ(kExitOk, Run({"submit", "backup", "web-1"}));
  EXPECT_EQ("17\n", out_.str());
}

TEST_F(CliTest, SqlPrintsATableHeadedByTheColumns) {
  Answer({broker::SqlReply{
      {"id", "name"},
      {{int64_t{7}, std::string("web-1")}, {int64_t{12}, std::monostate{}}},
      false}});
  EXPECT_EQ(kExitOk, Run({"sql", "SELECT id, name FROM players"}));
  EXPECT_EQ("SELECT id, name FROM players", LastOp<broker::SqlRequest>().sql);
  EXPECT_EQ("id  name\n 7  web-1\n12  NULL\n", out_.str());
}

TEST_F(CliTest, SqlSaysWhenTheResultWasTruncated) {
  Answer({broker::SqlReply{{"n"}, {{0.5}}, true}});
  EXPECT_EQ(kExitOk, Run({"sql", "SELECT 0.5"}));
  EXPECT_EQ("  n\n0.5\n(truncated)\n", out_.str());
}

TEST_F(CliTest, SqlWithJsonPrintsColumnsRowsAndTruncated) {
  Answer(
      {broker::SqlReply{{"n", "s"}, {{int64_t{1}, std::monostate{}}}, false}});
  EXPECT_EQ(kExitOk, Run({"--json", "sql", "SELECT 1, NULL"}));
  EXPECT_EQ(
      "{\n  \"columns\": [\n    \"n\",\n    \"s\"\n  ],\n  \"rows\": [\n"
      "    [\n      1,\n      null\n    ]\n  ],\n  \"truncated\": false\n}\n",
      out_.str());
}

TEST_F(CliTest, ErrorReplyExitsTwoWithCodeAndMessage) {
  Answer({broker::ErrorReply{{broker::ErrorCode::kNotFound, "no job 9", ""}}});
  EXPECT_EQ(kExitUsage, Run({"status", "9"}));
  EXPECT_EQ("orchestra: not_found: no job 9\n", err_.str());
  EXPECT_EQ("", out_.str());
}

TEST_F(CliTest, UnavailableReplyExitsThreeLikeAnUnreachableConductor) {
  Answer({broker::ErrorReply{
      {broker::ErrorCode::kUnavailable, "the conductor is stopping", ""}}});
  EXPECT_EQ(kExitUnreachable, Run({"wait", "9"}));
  EXPECT_EQ("orchestra: unavailable: the conductor is stopping\n", err_.str());
}

TEST_F(CliTest, UnreachableConductorExitsThreeNamingTheEndpoint) {
  EXPECT_EQ(kExitUnreachable, Run({"players"}));
  EXPECT_NE(std::string::npos, err_.str().find(env_.endpoint));
}

TEST_F(CliTest, JsonPrintsTheRecordAsTheProtocolCarriesIt) {
  Answer({broker::JobReply{Job(5, JobState::kOk), false}});
  EXPECT_EQ(kExitOk, Run({"--json", "status", "5"}));
  EXPECT_EQ(0u, out_.str().find("{\n  \"id\": 5,\n  \"score\": \"backup\","));
}

TEST_F(CliTest, JsonPrintsListsAsArrays) {
  Answer({broker::PlayersReply{{{"web-1", true, 0, "1.0", 4, 0, {}}}}});
  EXPECT_EQ(kExitOk, Run({"--json", "players"}));
  EXPECT_EQ(0u, out_.str().find("[\n  {\n    \"name\": \"web-1\","));
}

// A record of three tasks, sent as pages of at most `per_page` tasks the
// way the conductor pages a record too large for one reply.
broker::JobRecord PageOf(int64_t from, int64_t per_page) {
  broker::JobRecord job = Job(5, JobState::kOk);
  job.tasks.clear();
  for (int64_t i = from; i < 3 && i < from + per_page; ++i) {
    broker::TaskRecord task = Job(5, JobState::kOk).tasks[0];
    task.task = 10 + i;
    task.player = "web-" + std::to_string(i + 1);
    job.tasks.push_back(task);
  }
  job.tasks_from = from;
  job.tasks_total = 3;
  return job;
}

std::vector<AudienceReplyBody> Paged(const AudienceOp& op) {
  const auto* status = std::get_if<broker::StatusRequest>(&op);
  return {broker::JobReply{PageOf(status ? status->tasks_from : 0, 2)}};
}

TEST_F(CliTest, WaitFetchesTheRestOfAPagedRecordWithStatus) {
  AnswerWith(Paged);
  EXPECT_EQ(kExitOk, Run({"wait", "5"}));
  for (const char* player : {"web-1", "web-2", "web-3"})
    EXPECT_NE(std::string::npos, out_.str().find(player)) << out_.str();
  EXPECT_EQ(std::string::npos, out_.str().find("tasks listed"));
  std::vector<AudienceOp> ops = fake_->ops();
  ASSERT_EQ(2u, ops.size());
  EXPECT_TRUE(std::holds_alternative<broker::WaitRequest>(ops[0]));
  EXPECT_EQ(2, std::get<broker::StatusRequest>(ops[1]).tasks_from);
}

TEST_F(CliTest, JsonJoinsThePagesIntoOneRecord) {
  AnswerWith(Paged);
  EXPECT_EQ(kExitOk, Run({"--json", "status", "5"}));
  EXPECT_EQ(0u, out_.str().find("{\n  \"id\": 5,\n  \"score\": \"backup\","));
  EXPECT_NE(std::string::npos, out_.str().find("\"web-3\""));
  EXPECT_EQ(std::string::npos, out_.str().find("tasks_total"));
  EXPECT_EQ(2u, fake_->ops().size());
}

TEST_F(CliTest, StatusOfOnePageSaysWhereTheNextStarts) {
  AnswerWith(Paged);
  EXPECT_EQ(kExitOk, Run({"status", "--tasks-from", "0", "5"}));
  EXPECT_NE(std::string::npos,
            out_.str().find("2 of 3 tasks listed, from task #0 (0 is the "
                            "first); more: orchestra status 5 --tasks-from 2"))
      << out_.str();
  EXPECT_EQ(std::string::npos, out_.str().find("web-3"));
  EXPECT_EQ(1u, fake_->ops().size());
  out_.str("");
  EXPECT_EQ(kExitOk, Run({"--json", "status", "--tasks-from", "2", "5"}));
  EXPECT_NE(std::string::npos, out_.str().find("\"tasks_total\": 3"));
}

TEST_F(CliTest, JobsAndPlayersFetchTheirPages) {
  AnswerWith([](const AudienceOp& op) -> std::vector<AudienceReplyBody> {
    if (const auto* jobs = std::get_if<broker::JobsRequest>(&op)) {
      broker::JobsReply reply;
      for (broker::JobId id : jobs->before ? std::vector<broker::JobId>{7}
                                           : std::vector<broker::JobId>{9, 8})
        reply.jobs.emplace_back().id = id;
      reply.jobs_omitted = jobs->before ? 0 : 1;
      return {reply};
    }
    const auto& players = std::get<broker::PlayersRequest>(op);
    broker::PlayersReply reply;
    reply.players.emplace_back().name =
        players.after.empty() ? "web-1" : "web-2";
    reply.players_omitted = players.after.empty() ? 1 : 0;
    return {reply};
  });
  EXPECT_EQ(kExitOk, Run({"jobs", "--limit", "3"}));
  const std::string table = out_.str();
  EXPECT_EQ(4, std::count(table.begin(), table.end(), '\n')) << table;
  broker::JobsRequest second = LastOp<broker::JobsRequest>();
  EXPECT_EQ(8, second.before.value_or(0));
  EXPECT_EQ(1, second.limit);
  out_.str("");
  EXPECT_EQ(kExitOk, Run({"--json", "players"}));
  EXPECT_NE(std::string::npos, out_.str().find("\"web-2\""));
  EXPECT_EQ("web-1", LastOp<broker::PlayersRequest>().after);
}

TEST_F(CliTest, CancelExitsZeroThoughTheJobIsCancelled) {
  Answer({broker::JobReply{Job(5, JobState::kCancelled), false}});
  EXPECT_EQ(kExitOk, Run({"cancel", "5"}));
  EXPECT_EQ(5, LastOp<broker::CancelRequest>().job);
}

TEST_F(CliTest, UnexpectedReplyIsAnError) {
  Answer({broker::SubmitReply{3}});
  EXPECT_EQ(kExitUsage, Run({"jobs"}));
  EXPECT_NE(std::string::npos, err_.str().find("unexpected reply to jobs"));
}

TEST_F(CliTest, UsageErrorShowsThatCommandsUsage) {
  EXPECT_EQ(kExitUsage, Run({"wait"}));
  EXPECT_EQ(0u,
            err_.str().find("orchestra: missing JOB\n\nusage: orchestra wait"));
}

TEST_F(CliTest, HelpGoesToStdoutAndExitsZero) {
  EXPECT_EQ(kExitOk, Run({"submit", "--help"}));
  EXPECT_EQ(0u, out_.str().find("usage: orchestra submit"));
  EXPECT_EQ("", err_.str());
}

TEST_F(CliTest, KeygenWritesAPrivateKeyAndNeverOverwrites) {
  EXPECT_EQ(kExitOk, Run({"keygen", "alice", "--dir", dir_.path()}));
  struct stat st;
  ASSERT_EQ(0, ::stat(dir_.File("alice.key").c_str(), &st));
  EXPECT_EQ(0600u, st.st_mode & 0777);
  EXPECT_EQ(0, ::stat(dir_.File("alice.pub").c_str(), &st));
  EXPECT_EQ(kExitUsage, Run({"keygen", "alice", "--dir", dir_.path()}));
  EXPECT_NE(std::string::npos, err_.str().find("already exists"));
}

TEST_F(CliTest, KeygenWithJsonNamesTheFilesAndTheKey) {
  EXPECT_EQ(kExitOk, Run({"--json", "keygen", "bob", "--dir", dir_.path()}));
  std::ifstream pub(dir_.File("bob.pub"));
  std::string key;
  pub >> key;
  EXPECT_EQ("{\n  \"secret_key_file\": \"" + dir_.File("bob.key") +
                "\",\n  \"public_key_file\": \"" + dir_.File("bob.pub") +
                "\",\n  \"public_key\": \"" + key + "\"\n}\n",
            out_.str());
}

}  // namespace
}  // namespace orchestra::tools
