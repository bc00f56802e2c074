// End-to-end: the real conductor, players and CLI on loopback with fresh
// Curve keys, a real SQLite file and real score scripts.

#include <pwd.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <sstream>

#include "broker/audience_protocol.h"
#include "broker/endpoint.h"
#include "broker/poller.h"
#include "test/cluster.h"

namespace orchestra::test {
namespace {

using broker::JobRecord;
using broker::JobState;
using broker::TaskState;

const char kHello[] =
    "#!/bin/sh\necho \"hello from $ORC_PLAYER job $ORC_JOB_ID\"\n";
const char kFail[] = "#!/bin/sh\necho failing >&2\nexit 3\n";

class JobTest : public testing::Test {
 protected:
  void SetUp() override {
    cluster_.AddPlayer("p1");
    cluster_.AddPlayer("p2");
    cluster_.WriteScoreEverywhere("hello", kHello);
    cluster_.WriteScoreEverywhere("fail", kFail);
    ASSERT_TRUE(cluster_.StartConductor());
    ASSERT_TRUE(cluster_.StartPlayer("p1"));
    ASSERT_TRUE(cluster_.StartPlayer("p2"));
    client_ = cluster_.Client();
    ASSERT_NE(nullptr, client_);
  }

  broker::SubmitRequest Request(const std::string& score, broker::Scope scope,
                                std::vector<std::string> players) {
    broker::SubmitRequest r;
    r.score = score;
    r.scope = scope;
    r.players = std::move(players);
    return r;
  }

  // Submits and waits (at most 20 s) for the job's final record.
  JobRecord Run(const broker::SubmitRequest& request) {
    auto submitted = client_->Call(request, 10000);
    EXPECT_TRUE(submitted.ok()) << submitted.status().ToString();
    auto* reply = std::get_if<broker::SubmitReply>(&submitted.value().body);
    EXPECT_NE(nullptr, reply);
    if (reply == nullptr) return {};
    auto waited = client_->Call(broker::WaitRequest{reply->job, 20000}, 25000);
    EXPECT_TRUE(waited.ok()) << waited.status().ToString();
    auto* job = std::get_if<broker::JobReply>(&waited.value().body);
    EXPECT_NE(nullptr, job);
    return job ? job->job : JobRecord{};
  }

  broker::AudienceError ErrorOf(const broker::AudienceOp& op) {
    auto reply = client_->Call(op, 10000);
    EXPECT_TRUE(reply.ok()) << reply.status().ToString();
    auto* error = std::get_if<broker::ErrorReply>(&reply.value().body);
    EXPECT_NE(nullptr, error) << "expected an error reply";
    return error ? error->error : broker::AudienceError{};
  }

  Cluster cluster_;
  std::unique_ptr<broker::AudienceClient> client_;
};

TEST_F(JobTest, AllJobOnTwoPlayersEndsOkWithEachPlayersOutput) {
  JobRecord job = Run(Request("hello", broker::Scope::kAll, {"p1", "p2"}));
  EXPECT_EQ(JobState::kOk, job.state);
  EXPECT_EQ(getpwuid(getuid())->pw_name, job.submitted_by);  // ipc peer
  ASSERT_EQ(2u, job.tasks.size());
  for (const broker::TaskRecord& task : job.tasks) {
    EXPECT_EQ(TaskState::kOk, task.state);
    EXPECT_EQ(
        "hello from " + task.player + " job " + std::to_string(job.id) + "\n",
        task.stdout_text);
  }
}

// Original defect 1: a `one` job whose score failed on a player, with two
// or more players listed, stayed PENDING for ever: the hard failure did not
// end the job and nothing more was dispatched.
TEST_F(JobTest, OneJobWhoseScoreFailsEndsFailNeverPending) {
  JobRecord job = Run(Request("fail", broker::Scope::kOne, {"p1", "p2"}));
  EXPECT_EQ(JobState::kFail, job.state);
  ASSERT_EQ(1u, job.tasks.size());
  EXPECT_EQ(TaskState::kFail, job.tasks[0].state);
  EXPECT_EQ(3, job.tasks[0].exit_code.value_or(-1));
  EXPECT_EQ("failing\n", job.tasks[0].stderr_text);
}

TEST_F(JobTest, OneJobMovesOnFromAPlayerWithoutTheScore) {
  cluster_.WriteScore("p2", "only-p2", kHello);
  cluster_.player("p2")->Signal(SIGHUP);  // rescan: p2 now has it
  ASSERT_TRUE(cluster_.conductor()
                  ->WaitForLog("scores changed player=p2 scores=3", 10s)
                  .has_value());
  JobRecord job = Run(Request("only-p2", broker::Scope::kOne, {"p1", "p2"}));
  EXPECT_EQ(JobState::kOk, job.state);
  EXPECT_EQ("p2", job.tasks.back().player);
}

TEST_F(JobTest, SubmitNamingAnUnknownPlayerGetsInvalidPlayer) {
  broker::AudienceError error =
      ErrorOf(Request("hello", broker::Scope::kAll, {"p1", "nobody"}));
  EXPECT_EQ(broker::ErrorCode::kInvalidPlayer, error.code);
  EXPECT_NE(std::string::npos, error.message.find("nobody"));
}

TEST_F(JobTest, SubmitOfAScoreNoPlayerHasGetsUnknownScore) {
  broker::AudienceError error =
      ErrorOf(Request("missing", broker::Scope::kOne, {"p1", "p2"}));
  EXPECT_EQ(broker::ErrorCode::kUnknownScore, error.code);
}

TEST_F(JobTest, StatusOfAnUnknownJobIsNotFound) {
  EXPECT_EQ(broker::ErrorCode::kNotFound,
            ErrorOf(broker::StatusRequest{424242}).code);
}

// Original defect 5: a malformed audience request got no reply (the
// socket was closed) and errors carried no reason.
TEST_F(JobTest, MalformedRequestsGetErrorRepliesAndServiceGoesOn) {
  broker::Context context;
  auto raw = broker::Endpoint::Dealer(&context, "raw", {});
  ASSERT_TRUE(raw.ok());
  ASSERT_OK(raw.value()->Connect(cluster_.audience_endpoint()));
  const std::string garbage[] = {std::string("\xc1\xff", 2), "plain text",
                                 std::string("\x93\x01\x02\x03", 4),
                                 std::string("\x81\xa2op\xa4nope", 9)};
  broker::Poller poller;
  poller.AddSocket(raw.value()->handle());
  for (const std::string& bytes : garbage) {
    ASSERT_OK(raw.value()->Send(bytes));
    ASSERT_OK(poller.Wait(10000));
    std::optional<broker::Inbound> in = raw.value()->TryReceive();
    ASSERT_TRUE(in.has_value()) << "no reply to a malformed request";
    auto reply = broker::DecodeAudienceReply(in->payload);
    ASSERT_TRUE(reply.ok());
    auto* error = std::get_if<broker::ErrorReply>(&reply.value().body);
    ASSERT_NE(nullptr, error);
    EXPECT_FALSE(error->error.message.empty());
  }
  EXPECT_EQ(JobState::kOk,
            Run(Request("hello", broker::Scope::kOne, {"p1"})).state);
}

TEST_F(JobTest, PlayerWhoseKeyIsNotListedIsNeverServed) {
  cluster_.AddPlayer("intruder", /*listed=*/false);
  cluster_.WriteScore("intruder", "hello", kHello);
  ASSERT_TRUE(cluster_.StartPlayer("intruder", "", /*wait_joined=*/false));
  EXPECT_TRUE(cluster_.conductor()
                  ->WaitForLog("connection refused domain=players .*reason="
                               "\"unknown key\"",
                               10s)
                  .has_value());
  EXPECT_EQ(0u,
            cluster_.conductor()->CountLog("player joined player=intruder"));
  EXPECT_EQ(broker::ErrorCode::kInvalidPlayer,
            ErrorOf(Request("hello", broker::Scope::kAll, {"intruder"})).code);
}

// Original defect 11: two sessions with one player name were not
// detected; both shared one pending-task map.
TEST_F(JobTest, TwoSessionsWithOnePlayerNameTheNewerWins) {
  const std::string config = cluster_.dir() + "/p1.conf";
  std::ifstream in(config);
  std::stringstream text;
  text << in.rdbuf();
  std::string twin = text.str();
  twin.replace(twin.find("p1.db"), 5, "p1-twin.db");
  std::ofstream(cluster_.dir() + "/twin.conf") << twin;
  Process second(BinaryDir() + "/orchestra-player",
                 {"--config", cluster_.dir() + "/twin.conf"});
  EXPECT_TRUE(cluster_.conductor()
                  ->WaitForLog("session replaced player=p1", 10s)
                  .has_value());
  EXPECT_EQ(JobState::kOk,
            Run(Request("hello", broker::Scope::kAll, {"p1"})).state);
}

// Original defect 3: `bind address` was ignored and the conductor always
// listened on every interface.
TEST_F(JobTest, ConductorListensOnlyWhereItIsTold) {
  const std::string endpoint = cluster_.player_endpoint();
  const int port = std::stoi(endpoint.substr(endpoint.rfind(':') + 1));
  std::ifstream tcp("/proc/net/tcp");
  std::string line, listening;
  char hex_port[8];
  std::snprintf(hex_port, sizeof(hex_port), ":%04X", port);
  while (std::getline(tcp, line)) {
    std::istringstream fields(line);
    std::string slot, local, remote, state;
    fields >> slot >> local >> remote >> state;
    if (state == "0A" && local.find(hex_port) != std::string::npos)
      listening += local + " ";
  }
  EXPECT_EQ(std::string("0100007F") + hex_port + " ", listening);
}

TEST_F(JobTest, CliSubmitAndWaitReportsTheJobAndItsExitCode) {
  CommandResult ok =
      cluster_.Cli({"submit", "--all", "--wait", "hello", "p1", "p2"});
  EXPECT_EQ(0, ok.exit_code) << ok.out << ok.err;
  EXPECT_NE(std::string::npos, ok.out.find("hello from p2"));
  CommandResult fail = cluster_.Cli({"submit", "--wait", "fail", "p1"});
  EXPECT_EQ(1, fail.exit_code) << fail.out << fail.err;
  CommandResult rejected = cluster_.Cli({"submit", "hello", "nobody"});
  EXPECT_EQ(2, rejected.exit_code);
  EXPECT_NE(std::string::npos, rejected.err.find("invalid_player"));
}

TEST(ConductorStartTest, UnreachableConductorIsExitCodeThree) {
  TempDir dir;
  CommandResult r = RunCommand(
      BinaryDir() + "/orchestra",
      {"--endpoint", "ipc://" + dir.path() + "/none.sock", "status", "1"}, 30s);
  EXPECT_EQ(3, r.exit_code) << r.err;
}

}  // namespace
}  // namespace orchestra::test
