// End-to-end tests of the audience channel (DESIGN.md section 4) through the
// C++ audience client: every op, every error code, remote clients over
// tcp:// with their own Curve keys and limits, and many requests in flight
// on one connection. Real conductor, players and score scripts on loopback.

#include <signal.h>
#include <sys/wait.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <map>
#include <optional>
#include <set>
#include <thread>

#include "broker/audience_protocol.h"
#include "broker/curve_keys.h"
#include "broker/endpoint.h"
#include "broker/poller.h"
#include "common/files.h"
#include "test/cluster.h"
#include "test/msgpack_builder.h"

namespace orchestra::test {
namespace {

using broker::AudienceError;
using broker::AudienceReply;
using broker::ErrorCode;
using broker::JobRecord;
using broker::JobState;
using broker::Scope;
using broker::TaskState;

const char kHello[] = "#!/bin/sh\necho \"hello $ORC_NAME from $ORC_PLAYER\"\n";
const char kFail[] = "#!/bin/sh\nexit 3\n";
const char kSlow[] = "#!/bin/sh\nexec sleep 60\n";
const char kTrue[] = "#!/bin/sh\nexit 0\n";
// A score that appends "WHO start NS" to the file `log` shared by every
// player of the host, sleeps `seconds`, appends "WHO end NS" (NS: date
// +%s%N) and exits with `code`. WHO is what `who` expands to in the shell.
std::string LoggedRun(const std::string& log, const std::string& seconds,
                      int code = 0, const std::string& who = "$ORC_PLAYER") {
  auto line = [&](const std::string& kind) {
    return "echo \"" + who + " " + kind + " $(date +%s%N)\" >> '" + log + "'\n";
  };
  return "#!/bin/sh\n" + line("start") + "sleep " + seconds + "\n" +
         line("end") + "exit " + std::to_string(code) + "\n";
}

// As LoggedRun() for the job's id, but between its start and end it waits
// (at most 20 s) until the file `gate` exists.
std::string GatedRun(const std::string& log, const std::string& gate) {
  const std::string run = LoggedRun(log, "0", 0, "$ORC_JOB_ID");
  const std::string wait = "i=0\nwhile [ ! -e '" + gate +
                           "' ] && [ $i -lt 400 ]; do\n"
                           "  sleep 0.05\n  i=$((i+1))\ndone\n";
  std::string script = run;
  script.replace(script.find("sleep 0\n"), 8, wait);
  return script;
}

// One line of such a log.
struct RunEvent {
  long long ns = 0;
  bool start = false;
  std::string who;
};

// The log's events in time order (an end before a start at the same ns).
std::vector<RunEvent> ReadRuns(const std::string& log) {
  std::vector<RunEvent> events;
  std::ifstream in(log);
  std::string who, kind;
  long long ns = 0;
  while (in >> who >> kind >> ns) events.push_back({ns, kind == "start", who});
  std::stable_sort(events.begin(), events.end(),
                   [](const RunEvent& a, const RunEvent& b) {
                     if (a.ns != b.ns) return a.ns < b.ns;
                     return !a.start && b.start;
                   });
  return events;
}

// The most runs under way at once, by a sweep over the events.
int MostAtOnce(const std::vector<RunEvent>& events) {
  int now = 0, most = 0;
  for (const RunEvent& e : events) {
    now += e.start ? 1 : -1;
    most = std::max(most, now);
  }
  return most;
}

// Who started, in the order they started.
std::vector<std::string> Starts(const std::vector<RunEvent>& events) {
  std::vector<std::string> out;
  for (const RunEvent& e : events)
    if (e.start) out.push_back(e.who);
  return out;
}

bool Ended(const std::vector<RunEvent>& events, const std::string& who) {
  return std::any_of(events.begin(), events.end(), [&](const RunEvent& e) {
    return !e.start && e.who == who;
  });
}

// Polls `done` every 20 ms until it holds (true) or `timeout` passes.
template <typename Done>
bool Eventually(Done done, std::chrono::milliseconds timeout = 10s) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    if (done()) return true;
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(20ms);
  }
}

// A cluster of p1 and p2 (running) and p3 (listed, started only by the
// tests that need it, so that its jobs wait).
class AudienceTest : public testing::Test {
 protected:
  void SetUp() override {
    for (const char* name : {"p1", "p2", "p3"}) cluster_.AddPlayer(name);
    cluster_.WriteScoreEverywhere("hello", kHello);
    cluster_.WriteScoreEverywhere("fail", kFail);
    cluster_.WriteScoreEverywhere("slow", kSlow);
    cluster_.WriteScoreEverywhere("true", kTrue);
    cluster_.WriteScoreEverywhere("backup-home", kHello);
    cluster_.WriteScoreEverywhere("restart-web", kHello);
  }
  void Start() {
    ASSERT_TRUE(cluster_.StartConductor());
    ASSERT_TRUE(cluster_.StartPlayer("p1"));
    ASSERT_TRUE(cluster_.StartPlayer("p2"));
    client_ = cluster_.Client();
    ASSERT_NE(nullptr, client_);
  }
  // Adds (and lists) players p4 to pN to the fixture's; returns p1 to pN.
  std::vector<std::string> AddPlayers(int n) {
    std::vector<std::string> names;
    for (int i = 1; i <= n; ++i) {
      names.push_back("p" + std::to_string(i));
      if (i > 3) cluster_.AddPlayer(names.back());
    }
    return names;
  }
  // Start(), then every one of `players` not yet running.
  void StartAll(const std::vector<std::string>& players) {
    ASSERT_NO_FATAL_FAILURE(Start());
    for (const std::string& p : players) {
      if (p != "p1" && p != "p2") {
        ASSERT_TRUE(cluster_.StartPlayer(p)) << p;
      }
    }
  }

  static broker::SubmitRequest Job(const std::string& score,
                                   std::vector<std::string> players,
                                   Scope scope = Scope::kAll) {
    broker::SubmitRequest r;
    r.score = score;
    r.scope = scope;
    r.players = std::move(players);
    return r;
  }

  // The final reply to `op` on `client` (default: the ipc client).
  AudienceReply Call(const broker::AudienceOp& op,
                     broker::AudienceClient* client = nullptr) {
    auto reply = (client ? client : client_.get())->Call(op, 30000);
    EXPECT_TRUE(reply.ok()) << reply.status().ToString();
    return reply.ok() ? reply.value() : AudienceReply{};
  }
  template <typename Body>
  Body Expect(const broker::AudienceOp& op,
              broker::AudienceClient* client = nullptr) {
    AudienceReply reply = Call(op, client);
    Body* body = std::get_if<Body>(&reply.body);
    auto* error = std::get_if<broker::ErrorReply>(&reply.body);
    EXPECT_NE(nullptr, body) << (error ? error->error.message : "other reply");
    return body ? *body : Body{};
  }
  AudienceError ErrorOf(const broker::AudienceOp& op,
                        broker::AudienceClient* client = nullptr) {
    return Expect<broker::ErrorReply>(op, client).error;
  }
  broker::JobId Submit(const broker::SubmitRequest& r,
                       broker::AudienceClient* client = nullptr) {
    return Expect<broker::SubmitReply>(r, client).job;
  }
  JobRecord Wait(broker::JobId job) {
    return Expect<broker::JobReply>(broker::WaitRequest{job, 25000}).job;
  }
  // The job's record now (a status request).
  JobRecord Read(broker::JobId job) {
    return Expect<broker::JobReply>(broker::StatusRequest{job}).job;
  }
  // Each task's state, by player.
  static std::map<std::string, TaskState> StatesOf(const JobRecord& job) {
    std::map<std::string, TaskState> states;
    for (const broker::TaskRecord& t : job.tasks) states[t.player] = t.state;
    return states;
  }

  // Sends raw bytes on a DEALER of its own; the decoded reply.
  AudienceReply RawReply(const std::string& bytes) {
    broker::Context context;
    auto raw = broker::Endpoint::Dealer(&context, "raw", {});
    EXPECT_TRUE(raw.ok());
    if (!raw.ok()) return {};
    EXPECT_OK(raw.value()->Connect(cluster_.audience_endpoint()));
    EXPECT_OK(raw.value()->Send(bytes));
    broker::Poller poller;
    poller.AddSocket(raw.value()->handle());
    EXPECT_OK(poller.Wait(10000));
    std::optional<broker::Inbound> in = raw.value()->TryReceive();
    EXPECT_TRUE(in.has_value()) << "no reply";
    if (!in) return {};
    auto reply = broker::DecodeAudienceReply(in->payload);
    EXPECT_TRUE(reply.ok()) << reply.status().ToString();
    return reply.ok() ? reply.value() : AudienceReply{};
  }
  AudienceError RawError(const std::string& bytes) {
    AudienceReply reply = RawReply(bytes);
    auto* error = std::get_if<broker::ErrorReply>(&reply.body);
    EXPECT_NE(nullptr, error) << "expected an error reply";
    return error ? error->error : AudienceError{};
  }
  static std::string SubmitBytes(Fields fields) {
    return Map(std::move(fields)).Encode();
  }
  static Fields SubmitFields() {
    return {{"op", Str("submit")},
            {"req", Int(7)},
            {"score", Str("hello")},
            {"scope", Str("all")},
            {"players", Strings({"p1"})}};
  }

  Cluster cluster_;
  std::unique_ptr<broker::AudienceClient> client_;
};

// ---- the ops ----

TEST_F(AudienceTest, SubmitThenStatusGivesTheWholeRecord) {
  Start();
  broker::SubmitRequest r = Job("hello", {"p1", "p2"});
  r.params = {{"NAME", "you"}};
  r.timeout_s = 60;
  JobRecord done = Wait(Submit(r));
  JobRecord job = Expect<broker::JobReply>(broker::StatusRequest{done.id}).job;
  EXPECT_EQ(JobState::kOk, job.state);
  EXPECT_EQ((std::vector<std::string>{"p1", "p2"}), job.players);
  EXPECT_EQ("you", job.params["NAME"]);
  EXPECT_EQ(60, job.timeout_s.value_or(0));
  EXPECT_GT(job.finished_at, 0);
  ASSERT_EQ(2u, job.tasks.size());
  EXPECT_EQ("hello you from " + job.tasks[1].player + "\n",
            job.tasks[1].stdout_text);
}

TEST_F(AudienceTest, QueueIsAnAliasOfSubmit) {
  Start();
  AudienceReply reply =
      RawReply(SubmitBytes(With(SubmitFields(), "op", Str("queue"))));
  auto* submitted = std::get_if<broker::SubmitReply>(&reply.body);
  ASSERT_NE(nullptr, submitted);
  EXPECT_EQ(7, std::get<int64_t>(reply.req));
  EXPECT_EQ(JobState::kOk, Wait(submitted->job).state);
  AudienceError e = RawError(SubmitBytes(
      With(Without(SubmitFields(), "players"), "op", Str("queue"))));
  EXPECT_EQ(ErrorCode::kMissingField, e.code);  // the same checks
}

TEST_F(AudienceTest, ASubmitRetriedWithItsKeyReturnsTheFirstJob) {
  Start();
  broker::SubmitRequest r = Job("hello", {"p1"});
  r.key = "nightly-2026-11-28";
  const broker::JobId first = Submit(r);
  EXPECT_EQ(first, Submit(r));
  EXPECT_EQ(1u, Expect<broker::JobsReply>(broker::JobsRequest{}).jobs.size());
}

// The same key with a different request is a mistake worth saying: the
// client would otherwise believe its new job runs.
TEST_F(AudienceTest, AKeyReusedForADifferentRequestIsConflict) {
  Start();
  broker::SubmitRequest r = Job("hello", {"p1"});
  r.key = "deploy-42";
  r.params = {{"NAME", "a"}};
  const broker::JobId first = Submit(r);
  std::vector<broker::SubmitRequest> changed(4, r);
  changed[0].score = "true";
  changed[1].scope = Scope::kOne;
  changed[2].players = {"p1", "p2"};
  changed[3].params = {{"NAME", "b"}};
  for (const broker::SubmitRequest& other : changed) {
    AudienceError e = ErrorOf(other);
    EXPECT_EQ(ErrorCode::kConflict, e.code);
    EXPECT_NE(std::string::npos,
              e.message.find("idempotency key 'deploy-42' was used for job " +
                             std::to_string(first)))
        << e.message;
  }
  EXPECT_EQ(first, Submit(r));
  EXPECT_EQ(1u, Expect<broker::JobsReply>(broker::JobsRequest{}).jobs.size());
}

TEST_F(AudienceTest, WaitWithProgressSendsCountsThenTheRecord) {
  Start();
  const broker::JobId job = Submit(Job("hello", {"p1", "p2", "p3"}));
  ASSERT_OK(client_->Send(broker::WaitRequest{job, 25000, true}).status());
  auto first = client_->Receive(10000);  // at once: p3's task is queued
  ASSERT_TRUE(first.ok() && first.value().has_value());
  auto* progress = std::get_if<broker::ProgressReply>(&first.value()->body);
  ASSERT_NE(nullptr, progress);
  EXPECT_EQ(3, progress->progress.total);
  EXPECT_EQ(1, progress->progress.by_state.at("QUEUED"));
  ASSERT_TRUE(cluster_.StartPlayer("p3"));
  for (;;) {
    auto next = client_->Receive(25000);
    ASSERT_TRUE(next.ok() && next.value().has_value());
    if (auto* p = std::get_if<broker::ProgressReply>(&next.value()->body)) {
      EXPECT_EQ(3, p->progress.total);
      continue;
    }
    EXPECT_EQ(JobState::kOk,
              std::get<broker::JobReply>(next.value()->body).job.state);
    break;
  }
}

TEST_F(AudienceTest, WaitThatTimesOutSaysSoWithTheRecord) {
  Start();
  const broker::JobId job = Submit(Job("hello", {"p3"}));  // p3 is offline
  broker::JobReply reply =
      Expect<broker::JobReply>(broker::WaitRequest{job, 300});
  EXPECT_TRUE(reply.timed_out);
  EXPECT_EQ(JobState::kPending, reply.job.state);
  EXPECT_EQ(TaskState::kQueued, reply.job.tasks.at(0).state);
}

TEST_F(AudienceTest, WaitOnAFinishedJobAnswersAtOnce) {
  Start();
  const broker::JobId job = Submit(Job("fail", {"p1"}));
  EXPECT_EQ(JobState::kFail, Wait(job).state);
  broker::JobReply again =
      Expect<broker::JobReply>(broker::WaitRequest{job, 0});
  EXPECT_FALSE(again.timed_out);
  EXPECT_EQ(3, again.job.tasks.at(0).exit_code.value_or(-1));
}

TEST_F(AudienceTest, CancelEndsQueuedTasksAndAnswersTheirWaits) {
  Start();
  const broker::JobId job = Submit(Job("hello", {"p3"}));
  ASSERT_OK(client_->Send(broker::WaitRequest{job, 0}).status());
  JobRecord cancelled =
      Expect<broker::JobReply>(broker::CancelRequest{job}).job;
  EXPECT_EQ(JobState::kCancelled, cancelled.state);
  EXPECT_EQ(TaskState::kCancelled, cancelled.tasks.at(0).state);
  auto waited = client_->Receive(10000);
  ASSERT_TRUE(waited.ok() && waited.value().has_value());
  EXPECT_EQ(JobState::kCancelled,
            std::get<broker::JobReply>(waited.value()->body).job.state);
}

TEST_F(AudienceTest, CancelStopsARunningScore) {
  Start();
  const broker::JobId job = Submit(Job("slow", {"p1", "p2"}));
  bool cancelled = false;
  auto waited = client_->Call(
      broker::WaitRequest{job, 20000, true}, 30000,
      [&](const broker::Progress& p) {
        if (cancelled || !p.by_state.count("RUNNING") ||
            p.by_state.at("RUNNING") != 2)
          return;
        cancelled = client_->Send(broker::CancelRequest{job}).ok();
      });
  ASSERT_TRUE(waited.ok()) << waited.status().ToString();
  ASSERT_TRUE(cancelled);
  JobRecord record = std::get<broker::JobReply>(waited.value().body).job;
  EXPECT_EQ(JobState::kCancelled, record.state);
  for (const broker::TaskRecord& task : record.tasks)
    EXPECT_EQ(TaskState::kCancelled, task.state) << task.player;
}

TEST_F(AudienceTest, JobsFiltersNewestFirstAndPages) {
  Start();
  const broker::JobId a = Submit(Job("hello", {"p1"}));
  const broker::JobId b = Submit(Job("fail", {"p2"}));
  const broker::JobId c = Submit(Job("hello", {"p2"}));
  for (broker::JobId job : {a, b, c}) Wait(job);
  using Ids = std::vector<broker::JobId>;
  auto ids = [&](std::optional<JobState> state, std::string score,
                 std::string player, int64_t limit = 100,
                 std::optional<broker::JobId> before = std::nullopt) {
    Ids out;
    broker::JobsRequest r{state, score, player, limit, before};
    for (const auto& s : Expect<broker::JobsReply>(r).jobs) out.push_back(s.id);
    return out;
  };
  EXPECT_EQ((Ids{c, b, a}), ids({}, "", ""));
  EXPECT_EQ((Ids{b}), ids(JobState::kFail, "", ""));
  EXPECT_EQ((Ids{c, a}), ids({}, "hello", ""));
  EXPECT_EQ((Ids{c, b}), ids({}, "", "p2"));
  EXPECT_EQ((Ids{c, b}), ids({}, "", "", 2));
  EXPECT_EQ((Ids{a}), ids({}, "", "", 2, b));
}

TEST_F(AudienceTest, PlayersSaysWhoIsConnectedAndWhatTheyRun) {
  Start();
  std::map<std::string, broker::PlayerInfo> players;
  for (auto& p : Expect<broker::PlayersReply>(broker::PlayersRequest{}).players)
    players[p.name] = p;
  ASSERT_EQ(3u, players.size());
  EXPECT_TRUE(players["p1"].connected);
  EXPECT_FALSE(players["p3"].connected);
  EXPECT_EQ(4, players["p1"].slots);
  EXPECT_EQ(6u, players["p2"].scores.size());  // the fixture's scores
  EXPECT_NE(players["p1"].version, "");
}

// ---- the error codes ----

TEST_F(AudienceTest, MalformedBytesAreABadRequest) {
  Start();
  EXPECT_EQ(ErrorCode::kBadRequest, RawError("\xc1 not msgpack").code);
  EXPECT_EQ(ErrorCode::kBadRequest, RawError(Strings({"op"}).Encode()).code);
}

TEST_F(AudienceTest, AnOpNobodyKnowsIsUnknownOp) {
  Start();
  AudienceError e = RawError(Map({{"op", Str("reboot")}}).Encode());
  EXPECT_EQ(ErrorCode::kUnknownOp, e.code);
  EXPECT_NE(std::string::npos, e.message.find("reboot"));
}

TEST_F(AudienceTest, AMissingFieldIsNamed) {
  Start();
  AudienceError e = RawError(Map({{"op", Str("status")}}).Encode());
  EXPECT_EQ(ErrorCode::kMissingField, e.code);
  EXPECT_NE(std::string::npos, e.message.find("'job'"));
}

TEST_F(AudienceTest, AScopeOtherThanOneOrAllIsInvalidScope) {
  Start();
  AudienceError e =
      RawError(SubmitBytes(With(SubmitFields(), "scope", Str("some"))));
  EXPECT_EQ(ErrorCode::kInvalidScope, e.code);
  EXPECT_NE(std::string::npos, e.message.find("'one' or 'all'"));
}

TEST_F(AudienceTest, APlayerNotInThePlayersFileIsInvalidPlayer) {
  Start();
  AudienceError e = ErrorOf(Job("hello", {"p1", "nobody"}));
  EXPECT_EQ(ErrorCode::kInvalidPlayer, e.code);
  EXPECT_EQ("not in the players file: nobody", e.message);
}

TEST_F(AudienceTest, AScoreEveryListedPlayerLacksIsUnknownScore) {
  Start();
  EXPECT_EQ(ErrorCode::kUnknownScore, ErrorOf(Job("nope", {"p1", "p2"})).code);
  // p3 never said what it has, so it might have it: the job is taken.
  EXPECT_NE(0, Submit(Job("nope", {"p1", "p3"}, Scope::kOne)));
}

TEST_F(AudienceTest, ABadParameterKeyIsInvalidParam) {
  Start();
  broker::SubmitRequest r = Job("hello", {"p1"});
  r.params = {{"no spaces", "x"}};
  AudienceError e = ErrorOf(r);
  EXPECT_EQ(ErrorCode::kInvalidParam, e.code);
  EXPECT_NE(std::string::npos, e.message.find("no spaces"));
}

TEST_F(AudienceTest, AParameterOverItsLimitIsTooLarge) {
  Start();
  broker::SubmitRequest r = Job("hello", {"p1"});
  r.params = {{"BIG", std::string(65 * 1024, 'x')}};
  EXPECT_EQ(ErrorCode::kTooLarge, ErrorOf(r).code);
}

TEST_F(AudienceTest, AnUnknownJobIsNotFoundForEveryJobOp) {
  Start();
  EXPECT_EQ(ErrorCode::kNotFound, ErrorOf(broker::StatusRequest{999}).code);
  EXPECT_EQ(ErrorCode::kNotFound, ErrorOf(broker::WaitRequest{999, 0}).code);
  AudienceError e = ErrorOf(broker::CancelRequest{999});
  EXPECT_EQ(ErrorCode::kNotFound, e.code);
  EXPECT_EQ("no job 999", e.message);
}

TEST_F(AudienceTest, AConductorThatStopsAnswersWaitsUnavailable) {
  Start();
  const broker::JobId job = Submit(Job("hello", {"p3"}));
  ASSERT_OK(client_->Send(broker::WaitRequest{job, 0}).status());
  Expect<broker::PlayersReply>(broker::PlayersRequest{});  // wait is queued
  cluster_.conductor()->Signal(SIGTERM);
  auto reply = client_->Receive(10000);
  ASSERT_TRUE(reply.ok()) << reply.status().ToString();
  ASSERT_TRUE(reply.value().has_value());
  auto* error = std::get_if<broker::ErrorReply>(&reply.value()->body);
  ASSERT_NE(nullptr, error);
  EXPECT_EQ(ErrorCode::kUnavailable, error->error.code);
  EXPECT_NE(std::string::npos, error->error.message.find("stopping"));
  EXPECT_EQ(0, cluster_.conductor()->Wait(10s).value_or(-1));
}

// ---- remote audience: tcp:// with Curve keys ----

class RemoteAudienceTest : public AudienceTest {
 protected:
  void SetUp() override {
    AudienceTest::SetUp();
    AddKey("ci", "");
    AddKey("backup-bot", " scores=backup-* players=p1,p3");
    AddKey("stranger", "", /*listed=*/false);
    WriteKeysFile();
    cluster_.ServeTcpAudience(cluster_.dir() + "/audience");
    Start();
  }
  void AddKey(const std::string& name, const std::string& limits,
              bool listed = true) {
    broker::CurveKeyPair keys = broker::GenerateKeyPair().value();
    ASSERT_OK(broker::WriteKeyPair(cluster_.dir() + "/keys", name, keys));
    if (listed) lines_[name] = name + " " + keys.public_key + limits;
    public_keys_[name] = keys.public_key;
  }
  void WriteKeysFile() {
    std::string text = "# audience keys\n";
    for (const auto& [name, line] : lines_) text += line + "\n";
    ASSERT_OK(
        common::WriteFileAtomically(cluster_.dir() + "/audience", text, 0644));
  }
  common::Result<std::unique_ptr<broker::AudienceClient>> Connect(
      const std::string& key) {
    broker::ClientOptions options;
    options.endpoint = cluster_.tcp_audience_endpoint();
    options.secret_key_file = cluster_.dir() + "/keys/" + key + ".key";
    options.server_key_file = cluster_.dir() + "/keys/conductor.pub";
    options.connect_timeout_ms = 10000;
    return broker::AudienceClient::Connect(options);
  }
  std::unique_ptr<broker::AudienceClient> Remote(const std::string& key) {
    auto client = Connect(key);
    EXPECT_TRUE(client.ok()) << client.status().ToString();
    return client.ok() ? std::move(client.value()) : nullptr;
  }
  // Reloads the conductor and waits until it has read the files again.
  void Reload() {
    const size_t mark = cluster_.conductor()->LogSize();
    cluster_.conductor()->Signal(SIGHUP);
    ASSERT_TRUE(cluster_.conductor()->WaitForLog("reloaded ", 10s, mark));
  }

  std::map<std::string, std::string> lines_;
  std::map<std::string, std::string> public_keys_;
};

TEST_F(RemoteAudienceTest, AListedKeyRunsJobsInItsOwnName) {
  auto ci = Remote("ci");
  ASSERT_NE(nullptr, ci);
  const broker::JobId job = Submit(Job("restart-web", {"p1"}), ci.get());
  JobRecord record =
      Expect<broker::JobReply>(broker::WaitRequest{job, 20000}, ci.get()).job;
  EXPECT_EQ(JobState::kOk, record.state);
  EXPECT_EQ("ci", record.submitted_by);
}

TEST_F(RemoteAudienceTest, AKeyLimitedToBackupScoresCannotRunRestartWeb) {
  auto bot = Remote("backup-bot");
  ASSERT_NE(nullptr, bot);
  AudienceError e = ErrorOf(Job("restart-web", {"p1"}), bot.get());
  EXPECT_EQ(ErrorCode::kUnauthorized, e.code);
  EXPECT_EQ(
      "audience key 'backup-bot' may not run score 'restart-web' (it "
      "may run: backup-*)",
      e.message);
  EXPECT_NE(0, Submit(Job("backup-home", {"p1"}), bot.get()));
  EXPECT_EQ(1u, Expect<broker::JobsReply>(broker::JobsRequest{}).jobs.size());
}

TEST_F(RemoteAudienceTest, AKeyLimitedToSomePlayersCannotUseOthers) {
  auto bot = Remote("backup-bot");
  ASSERT_NE(nullptr, bot);
  AudienceError e = ErrorOf(Job("backup-home", {"p1", "p2"}), bot.get());
  EXPECT_EQ(ErrorCode::kUnauthorized, e.code);
  EXPECT_EQ(
      "audience key 'backup-bot' may not run scores on p2 (it may use "
      "players: p1,p3)",
      e.message);
}

// `orchestra sql`: the local socket and a key without limits read the
// store; a limited key, which may see only some jobs, may not; a write is
// refused and changes nothing.
TEST_F(RemoteAudienceTest, SqlReadsForUnlimitedKeysAndWritesNothing) {
  const broker::JobId job = Submit(Job("restart-web", {"p1"}));
  Expect<broker::JobReply>(broker::WaitRequest{job, 20000});
  CommandResult local =
      cluster_.Cli({"sql", "SELECT id, score, state FROM jobs ORDER BY id"});
  ASSERT_EQ(0, local.exit_code) << local.err;
  EXPECT_NE(std::string::npos, local.out.find("restart-web"));
  EXPECT_NE(std::string::npos, local.out.find("OK"));

  auto ci = Remote("ci");
  ASSERT_NE(nullptr, ci);
  broker::SqlReply reply = Expect<broker::SqlReply>(
      broker::SqlRequest{"SELECT count(*) AS n FROM tasks"}, ci.get());
  EXPECT_EQ(std::vector<std::string>{"n"}, reply.columns);
  ASSERT_EQ(1u, reply.rows.size());
  EXPECT_EQ(broker::SqlValue(int64_t{1}), reply.rows[0][0]);

  auto bot = Remote("backup-bot");
  ASSERT_NE(nullptr, bot);
  EXPECT_EQ(ErrorCode::kUnauthorized,
            ErrorOf(broker::SqlRequest{"SELECT 1"}, bot.get()).code);
  AudienceError e = ErrorOf(broker::SqlRequest{"DELETE FROM jobs"}, ci.get());
  EXPECT_EQ(ErrorCode::kBadRequest, e.code);
  EXPECT_NE(std::string::npos, e.message.find("only reading")) << e.message;
  CommandResult after = cluster_.Cli({"sql", "SELECT count(*) FROM jobs"});
  ASSERT_EQ(0, after.exit_code) << after.err;
  EXPECT_NE(std::string::npos, after.out.find("1")) << after.out;
}

// A limited key may cancel only the jobs it could submit itself; the
// others do not exist for it.
TEST_F(RemoteAudienceTest, ALimitedKeyCancelsOnlyJobsItCouldSubmit) {
  auto bot = Remote("backup-bot");
  ASSERT_NE(nullptr, bot);
  const broker::JobId web = Submit(Job("restart-web", {"p3"}));
  const broker::JobId wide = Submit(Job("backup-home", {"p2", "p3"}));
  const broker::JobId backup = Submit(Job("backup-home", {"p3"}));
  AudienceError e = ErrorOf(broker::CancelRequest{web}, bot.get());
  EXPECT_EQ(ErrorCode::kNotFound, e.code);
  EXPECT_EQ("no job " + std::to_string(web), e.message);
  EXPECT_EQ(ErrorCode::kNotFound,
            ErrorOf(broker::CancelRequest{wide}, bot.get()).code);
  EXPECT_EQ(JobState::kCancelled,
            Expect<broker::JobReply>(broker::CancelRequest{backup}, bot.get())
                .job.state);
  EXPECT_EQ(JobState::kPending,
            Expect<broker::JobReply>(broker::StatusRequest{web}).job.state);
  EXPECT_EQ(JobState::kPending,
            Expect<broker::JobReply>(broker::StatusRequest{wide}).job.state);
}

// DESIGN.md section 6: a limited key reads only what it could submit. A
// job it may not see answers exactly as a job that does not exist, so its
// parameters and outputs, and even its existence, stay hidden.
TEST_F(RemoteAudienceTest, ALimitedKeyCannotReadAnotherJob) {
  auto bot = Remote("backup-bot");
  ASSERT_NE(nullptr, bot);
  broker::SubmitRequest secret = Job("restart-web", {"p1"});
  secret.params = {{"TOKEN", "s3cret"}};
  const broker::JobId web = Submit(secret);
  const broker::JobId wide = Submit(Job("backup-home", {"p1", "p2"}));
  const broker::JobId mine = Submit(Job("backup-home", {"p1"}));
  Wait(web);
  Wait(wide);
  Wait(mine);
  const broker::JobId absent = mine + 1000;
  for (broker::JobId hidden : {web, wide, absent}) {
    const std::string text = "no job " + std::to_string(hidden);
    AudienceError status = ErrorOf(broker::StatusRequest{hidden}, bot.get());
    EXPECT_EQ(ErrorCode::kNotFound, status.code);
    EXPECT_EQ(text, status.message);
    AudienceError wait = ErrorOf(broker::WaitRequest{hidden, 1000}, bot.get());
    EXPECT_EQ(ErrorCode::kNotFound, wait.code);
    EXPECT_EQ(text, wait.message);
  }
  EXPECT_EQ(JobState::kOk,
            Expect<broker::JobReply>(broker::StatusRequest{mine}, bot.get())
                .job.state);
  std::vector<broker::JobSummary> listed =
      Expect<broker::JobsReply>(broker::JobsRequest{}, bot.get()).jobs;
  ASSERT_EQ(1u, listed.size());
  EXPECT_EQ(mine, listed[0].id);
  broker::JobsRequest by_score;
  by_score.score = "restart-web";
  EXPECT_TRUE(Expect<broker::JobsReply>(by_score, bot.get()).jobs.empty());
  EXPECT_EQ(3u, Expect<broker::JobsReply>(broker::JobsRequest{}).jobs.size());
  // Its players= globs are p1,p3: p2 is not listed for it.
  std::set<std::string> players;
  for (const broker::PlayerInfo& p :
       Expect<broker::PlayersReply>(broker::PlayersRequest{}, bot.get())
           .players)
    players.insert(p.name);
  EXPECT_EQ((std::set<std::string>{"p1", "p3"}), players);
}

// A wait a limited key began is answered `unauthorized` when its key is
// taken back, not with the record once the job ends.
TEST_F(RemoteAudienceTest, AWaitOfAKeyRevokedMeanwhileEndsUnauthorized) {
  auto bot = Remote("backup-bot");
  ASSERT_NE(nullptr, bot);
  const broker::JobId job = Submit(Job("backup-home", {"p3"}));
  ASSERT_OK(bot->Send(broker::WaitRequest{job, 0}).status());
  ASSERT_TRUE(cluster_.conductor()->WaitForLog("job submitted job=", 10s));
  ASSERT_OK(common::WriteFileAtomically(
      cluster_.dir() + "/revoked", public_keys_["backup-bot"] + "\n", 0644));
  Reload();
  auto reply = bot->Receive(10000);
  ASSERT_OK(reply.status());
  ASSERT_TRUE(reply.value().has_value());
  auto* error = std::get_if<broker::ErrorReply>(&reply.value()->body);
  ASSERT_NE(nullptr, error);
  EXPECT_EQ(ErrorCode::kUnauthorized, error->error.code);
}

TEST_F(RemoteAudienceTest, AnUnknownKeyCannotConnect) {
  auto stranger = Connect("stranger");
  ASSERT_FALSE(stranger.ok());
  EXPECT_EQ(common::Status::Code::kUnavailable, stranger.status().code());
  EXPECT_NE(std::string::npos,
            stranger.status().message().find("refused our key"));
  EXPECT_TRUE(cluster_.conductor()->WaitForLog(
      "connection refused domain=audience .*reason=\"unknown key\"", 10s));
}

TEST_F(RemoteAudienceTest, AKeyRevokedOnReloadIsCutOffAndCannotReconnect) {
  auto ci = Remote("ci");
  ASSERT_NE(nullptr, ci);
  // The harness's conductor.conf names this revoked keys file.
  ASSERT_OK(common::WriteFileAtomically(cluster_.dir() + "/revoked",
                                        public_keys_["ci"] + "\n", 0644));
  Reload();
  EXPECT_EQ(ErrorCode::kUnauthorized,
            ErrorOf(broker::PlayersRequest{}, ci.get()).code);
  EXPECT_FALSE(Connect("ci").ok());
  EXPECT_TRUE(cluster_.conductor()->WaitForLog(
      "connection refused domain=audience .*reason=\"revoked key\"", 10s));
}

TEST_F(RemoteAudienceTest, AKeyRemovedOnReloadIsRefusedMidSession) {
  auto bot = Remote("backup-bot");
  ASSERT_NE(nullptr, bot);
  lines_.erase("backup-bot");
  WriteKeysFile();
  Reload();
  AudienceError e = ErrorOf(broker::PlayersRequest{}, bot.get());
  EXPECT_EQ(ErrorCode::kUnauthorized, e.code);
  EXPECT_NE(std::string::npos, e.message.find("no longer"));
  EXPECT_FALSE(Connect("backup-bot").ok());
}

// A key rotated under the same name: the old key's open connection gets
// `unauthorized`, never the grant the name has now (the new line gives
// backup-bot every score), and is closed when it asks again; the new key
// works at once.
TEST_F(RemoteAudienceTest, ARotatedKeysOldConnectionGetsNothingOfTheNewGrant) {
  auto old_connection = Remote("backup-bot");
  ASSERT_NE(nullptr, old_connection);
  broker::CurveKeyPair rotated = broker::GenerateKeyPair().value();
  ASSERT_OK(
      broker::WriteKeyPair(cluster_.dir() + "/keys", "backup-bot-2", rotated));
  lines_["backup-bot"] = "backup-bot " + rotated.public_key;  // no limits
  WriteKeysFile();
  Reload();
  AudienceError e = ErrorOf(Job("restart-web", {"p1"}), old_connection.get());
  EXPECT_EQ(ErrorCode::kUnauthorized, e.code);
  EXPECT_NE(std::string::npos, e.message.find("backup-bot")) << e.message;
  // Asking again closes the connection, with no reply.
  ASSERT_OK(old_connection->Send(broker::PlayersRequest{}).status());
  EXPECT_TRUE(cluster_.conductor()->WaitForLog(
      "request refused key=backup-bot .*connection=closed", 10s));
  auto silence = old_connection->Receive(500);
  EXPECT_TRUE(!silence.ok() || !silence.value().has_value());
  auto fresh = Remote("backup-bot-2");
  ASSERT_NE(nullptr, fresh);
  const broker::JobId job = Submit(Job("restart-web", {"p1"}), fresh.get());
  EXPECT_EQ(JobState::kOk, Wait(job).state);
  EXPECT_EQ(1u, Expect<broker::JobsReply>(broker::JobsRequest{}).jobs.size());
}

// A key revoked and then listed again: connections it opened before the
// revocation stay refused; new ones are admitted.
TEST_F(RemoteAudienceTest, AKeyRevokedThenRestoredKeepsItsOldConnectionsOut) {
  auto before = Remote("ci");
  ASSERT_NE(nullptr, before);
  ASSERT_OK(common::WriteFileAtomically(cluster_.dir() + "/revoked",
                                        public_keys_["ci"] + "\n", 0644));
  Reload();
  ASSERT_OK(common::WriteFileAtomically(cluster_.dir() + "/revoked", "", 0644));
  Reload();
  EXPECT_EQ(ErrorCode::kUnauthorized,
            ErrorOf(broker::PlayersRequest{}, before.get()).code);
  auto after = Remote("ci");
  ASSERT_NE(nullptr, after);
  EXPECT_EQ(3u,
            Expect<broker::PlayersReply>(broker::PlayersRequest{}, after.get())
                .players.size());
}

// Idempotency keys belong to their submitter: a limited key that uses a
// key first cannot make another client's submit return its job.
TEST_F(RemoteAudienceTest, TwoSubmittersWithOneIdempotencyKeyGetTwoJobs) {
  auto bot = Remote("backup-bot");
  ASSERT_NE(nullptr, bot);
  broker::SubmitRequest r = Job("backup-home", {"p1"});
  r.key = "nightly";
  const broker::JobId theirs = Submit(r, bot.get());
  const broker::JobId ours = Submit(r);  // the ipc client (root)
  EXPECT_NE(theirs, ours);
  EXPECT_EQ(ours, Submit(r));
  EXPECT_EQ(theirs, Submit(r, bot.get()));
  EXPECT_EQ(
      "backup-bot",
      Expect<broker::JobReply>(broker::StatusRequest{theirs}).job.submitted_by);
  EXPECT_NE(
      "backup-bot",
      Expect<broker::JobReply>(broker::StatusRequest{ours}).job.submitted_by);
}

TEST_F(RemoteAudienceTest, ABrokenKeysFileOnReloadKeepsTheOldKeys) {
  std::ofstream(cluster_.dir() + "/audience", std::ios::app) << "bad line\n";
  const size_t mark = cluster_.conductor()->LogSize();
  cluster_.conductor()->Signal(SIGHUP);
  ASSERT_TRUE(cluster_.conductor()->WaitForLog(
      "reload failed, old settings kept .*audience:[0-9]+", 10s, mark));
  auto ci = Remote("ci");
  ASSERT_NE(nullptr, ci);
  EXPECT_EQ(3u, Expect<broker::PlayersReply>(broker::PlayersRequest{}, ci.get())
                    .players.size());
}

TEST_F(RemoteAudienceTest, TheCliUsesItsKeyOverTcp) {
  auto cli = [&](const std::string& key, std::vector<std::string> args) {
    std::vector<std::string> all = {
        "--endpoint",   cluster_.tcp_audience_endpoint(),
        "--key",        cluster_.dir() + "/keys/" + key + ".key",
        "--server-key", cluster_.dir() + "/keys/conductor.pub"};
    all.insert(all.end(), args.begin(), args.end());
    return RunCommand(BinaryDir() + "/orchestra", all, 30s);
  };
  CommandResult ok =
      cli("backup-bot", {"submit", "--wait", "backup-home", "p1"});
  EXPECT_EQ(0, ok.exit_code) << ok.err;
  EXPECT_NE(std::string::npos, ok.out.find("hello  from p1"));
  CommandResult refused = cli("backup-bot", {"submit", "restart-web", "p1"});
  EXPECT_EQ(2, refused.exit_code);
  EXPECT_EQ(0u, refused.err.find("orchestra: unauthorized: audience key "
                                 "'backup-bot' may not run score"));
  CommandResult stranger = cli("stranger", {"players"});
  EXPECT_EQ(3, stranger.exit_code);
  EXPECT_NE(std::string::npos, stranger.err.find("refused our key"));
}

TEST(AudienceKeysFileTest, ABrokenFileKeepsTheConductorFromStarting) {
  Cluster cluster;
  cluster.AddPlayer("p1");
  const std::string file = cluster.dir() + "/audience";
  ASSERT_OK(common::WriteFileAtomically(file, "# keys\nci hosts=x\n", 0644));
  cluster.ServeTcpAudience(file);
  EXPECT_FALSE(cluster.StartConductor());
  EXPECT_EQ(2, WEXITSTATUS(cluster.conductor()->Wait(10s).value_or(0)));
  EXPECT_NE(std::string::npos, cluster.conductor()->Log().find(file + ":2: "));
  CommandResult check = RunCommand(
      BinaryDir() + "/orchestra-conductor",
      {"--check-config", "--config", cluster.dir() + "/conductor.conf"}, 30s);
  EXPECT_EQ(2, check.exit_code);
  EXPECT_NE(std::string::npos, check.err.find(file + ":2: expected 'NAME "
                                                     "PUBLIC-KEY"));
}

// ---- many requests in flight on one connection ----

TEST_F(AudienceTest, AThousandWaitsOnOneConnectionAreAllAnswered) {
  Start();
  constexpr int kJobs = 1000;
  std::vector<broker::JobId> jobs;
  for (int i = 0; i < kJobs; ++i)
    ASSERT_OK(client_->Send(Job("true", {"p3"})).status());  // p3 is offline
  for (int i = 0; i < kJobs; ++i) {
    auto reply = client_->Receive(30000);
    ASSERT_TRUE(reply.ok() && reply.value().has_value());
    jobs.push_back(std::get<broker::SubmitReply>(reply.value()->body).job);
  }
  for (broker::JobId job : jobs)
    ASSERT_OK(client_->Send(broker::WaitRequest{job, 0}).status());
  Expect<broker::PlayersReply>(broker::PlayersRequest{});  // all are queued
  auto early = client_->Receive(0);
  ASSERT_TRUE(early.ok());
  EXPECT_FALSE(early.value().has_value()) << "a wait was answered early";
  ASSERT_TRUE(cluster_.StartPlayer("p3", "slots = 16\n"));
  std::set<broker::JobId> answered;
  for (int i = 0; i < kJobs; ++i) {
    auto reply = client_->Receive(120000);
    ASSERT_TRUE(reply.ok() && reply.value().has_value()) << i << " answered";
    const JobRecord& job = std::get<broker::JobReply>(reply.value()->body).job;
    EXPECT_EQ(JobState::kOk, job.state);
    answered.insert(job.id);
  }
  EXPECT_EQ(std::set<broker::JobId>(jobs.begin(), jobs.end()), answered);
}

// Labels come from the players file; a target resolves against them at
// submit (connected or not), and a SIGHUP that changes them changes what
// the next target resolves to, not the jobs already made.
TEST_F(AudienceTest, ATargetRunsOnThePlayersWhoseLabelsMatch) {
  cluster_.SetLabels("p1", "role=web dc=syd");
  cluster_.SetLabels("p2", "role=web dc=mel");
  cluster_.SetLabels("p3", "role=db dc=syd");
  Start();
  broker::SubmitRequest r = Job("hello", {});
  r.target = "role=web";
  JobRecord job = Wait(Submit(r));
  EXPECT_EQ(JobState::kOk, job.state);
  EXPECT_EQ((std::vector<std::string>{"p1", "p2"}), job.players);
  EXPECT_EQ("role=web", job.target);
  broker::PlayersRequest players;
  players.target = "dc=syd";
  broker::PlayersReply listed = Expect<broker::PlayersReply>(players);
  ASSERT_EQ(2u, listed.players.size());
  EXPECT_EQ("p3", listed.players[1].name);
  EXPECT_EQ("db", listed.players[1].labels["role"]);
  r.target = "role=cache";
  const AudienceError none = ErrorOf(r);
  EXPECT_EQ(ErrorCode::kInvalidTarget, none.code);
  EXPECT_NE(std::string::npos, none.message.find("no listed player matches"));
  cluster_.SetLabels("p2", "role=cache");
  ASSERT_TRUE(cluster_.ReloadConductor());
  job = Wait(Submit(r));
  EXPECT_EQ(std::vector<std::string>{"p2"}, job.players);
}

// A rollout of max_concurrency 2 over ten players: the runs the scores log
// to one shared file never overlap more than two at once (and do reach
// two), and every player runs once.
TEST_F(AudienceTest, ARolloutNeverHasMoreTasksOutThanItsConcurrency) {
  const std::vector<std::string> players = AddPlayers(10);
  const std::string log = cluster_.dir() + "/runs";
  cluster_.WriteScoreEverywhere("logged", LoggedRun(log, "0.3"));
  ASSERT_NO_FATAL_FAILURE(StartAll(players));
  broker::SubmitRequest r = Job("logged", players);
  r.max_concurrency = broker::RolloutLimit{2, false};
  const JobRecord job = Wait(Submit(r));
  ASSERT_EQ(JobState::kOk, job.state);
  ASSERT_EQ(10u, job.tasks.size());
  const std::vector<RunEvent> events = ReadRuns(log);
  EXPECT_EQ(20u, events.size());
  EXPECT_EQ(2, MostAtOnce(events));
  std::vector<std::string> started = Starts(events);
  std::sort(started.begin(), started.end());
  std::vector<std::string> sorted = players;
  std::sort(sorted.begin(), sorted.end());
  EXPECT_EQ(sorted, started);
}

// max_errors 0 with a failing score on three players: the first failure
// ends the rest SKIPPED; the job fails.
TEST_F(AudienceTest, PastItsErrorBudgetARolloutSkipsTheRest) {
  Start();
  ASSERT_TRUE(cluster_.StartPlayer("p3"));
  broker::SubmitRequest r = Job("fail", {"p1", "p2", "p3"});
  r.max_concurrency = broker::RolloutLimit{1, false};
  r.max_errors = broker::RolloutLimit{0, false};
  const JobRecord job = Wait(Submit(r));
  EXPECT_EQ(JobState::kFail, job.state);
  ASSERT_EQ(3u, job.tasks.size());
  EXPECT_EQ(TaskState::kFail, job.tasks[0].state);
  EXPECT_EQ(TaskState::kSkipped, job.tasks[1].state);
  EXPECT_EQ(TaskState::kSkipped, job.tasks[2].state);
}

// max_errors 1 and concurrency 1 over six players, the score failing on
// p1, p2 and p3: p2's failure is the second, past the budget, so p3 to p6
// end SKIPPED (p3 never runs to fail) and the job fails with two FAIL.
TEST_F(AudienceTest, ARolloutStopsAtTheFailureThatExceedsItsBudget) {
  const std::vector<std::string> players = AddPlayers(6);
  const std::string log = cluster_.dir() + "/runs";
  for (const std::string& p : players) {
    const bool fails = p == "p1" || p == "p2" || p == "p3";
    cluster_.WriteScore(p, "logged", LoggedRun(log, "0", fails ? 3 : 0));
  }
  ASSERT_NO_FATAL_FAILURE(StartAll(players));
  broker::SubmitRequest r = Job("logged", players);
  r.max_concurrency = broker::RolloutLimit{1, false};
  r.max_errors = broker::RolloutLimit{1, false};
  const JobRecord job = Wait(Submit(r));
  EXPECT_EQ(JobState::kFail, job.state);
  ASSERT_EQ(6u, job.tasks.size());
  EXPECT_EQ((std::map<std::string, TaskState>{{"p1", TaskState::kFail},
                                              {"p2", TaskState::kFail},
                                              {"p3", TaskState::kSkipped},
                                              {"p4", TaskState::kSkipped},
                                              {"p5", TaskState::kSkipped},
                                              {"p6", TaskState::kSkipped}}),
            StatesOf(job));
  EXPECT_EQ((std::vector<std::string>{"p1", "p2"}), Starts(ReadRuns(log)));
}

// A rollout rides out a conductor killed with SIGKILL mid-way. Concurrency
// 2 and max_errors 1 over p1 to p6: p1 fails at once, p2 runs 3 s, p3 fails
// after 1 s, the others would take 0.1 s. The conductor dies once p1's
// failure has ended and p3 runs. The restarted one must still count that
// failure, so p3's is the second, past the budget, while p2 still holds
// the other slot: p4 to p6 end SKIPPED. Had it forgotten p1's failure, p4
// would go out when p3 ended. Across the crash no more than two run at once.
TEST_F(AudienceTest, ARolloutKeepsItsLimitsAndErrorsAcrossAConductorCrash) {
  const std::vector<std::string> players = AddPlayers(6);
  const std::string log = cluster_.dir() + "/runs";
  for (const std::string& p : players) {
    const std::string seconds = p == "p1"   ? "0"
                                : p == "p2" ? "3"
                                : p == "p3" ? "1"
                                            : "0.1";
    const int code = p == "p1" || p == "p3" ? 3 : 0;
    cluster_.WriteScore(p, "logged", LoggedRun(log, seconds, code));
  }
  ASSERT_NO_FATAL_FAILURE(StartAll(players));
  broker::SubmitRequest r = Job("logged", players);
  r.max_concurrency = broker::RolloutLimit{2, false};
  r.max_errors = broker::RolloutLimit{1, false};
  const broker::JobId id = Submit(r);
  ASSERT_TRUE(Eventually([&] {
    const std::vector<RunEvent> events = ReadRuns(log);
    const std::vector<std::string> started = Starts(events);
    return Ended(events, "p1") &&
           std::count(started.begin(), started.end(), "p3") == 1;
  })) << "p3 never started after p1's failure";
  ASSERT_FALSE(Ended(ReadRuns(log), "p2"));  // mid-way: p2 and p3 run
  cluster_.KillConductor(SIGKILL);
  ASSERT_TRUE(cluster_.RestartConductor());
  EXPECT_TRUE(
      cluster_.conductor()->WaitForLog("recovered jobs=1 ", 10s).has_value());
  client_ = cluster_.Client();
  ASSERT_NE(nullptr, client_);
  const JobRecord job = Wait(id);
  EXPECT_EQ(JobState::kPartialFail, job.state);  // p2 is OK
  EXPECT_EQ((std::map<std::string, TaskState>{{"p1", TaskState::kFail},
                                              {"p2", TaskState::kOk},
                                              {"p3", TaskState::kFail},
                                              {"p4", TaskState::kSkipped},
                                              {"p5", TaskState::kSkipped},
                                              {"p6", TaskState::kSkipped}}),
            StatesOf(job));
  const std::vector<RunEvent> events = ReadRuns(log);
  std::vector<std::string> started = Starts(events);  // p1 and p2 together
  std::sort(started.begin(), started.end());
  EXPECT_EQ((std::vector<std::string>{"p1", "p2", "p3"}), started);
  EXPECT_EQ(6u, events.size());  // each ran to its end
  EXPECT_LE(MostAtOnce(events), 2);
}

// A player that stops answering (SIGSTOP: the conductor still counts it
// connected, so it dispatches to it) holds one slot of a rollout of
// concurrency 1 past the end of its session, until the job's delivery
// timeout expires the task it never accepted; then the rollout goes on.
TEST_F(AudienceTest, AFrozenPlayersTaskHoldsItsRolloutSlotUntilItExpires) {
  ASSERT_NO_FATAL_FAILURE(Start());
  ASSERT_TRUE(cluster_.StartPlayer("p3"));
  const size_t mark = cluster_.conductor()->LogSize();
  cluster_.player("p1")->Signal(SIGSTOP);
  broker::SubmitRequest r = Job("true", {"p1", "p2", "p3"});
  r.max_concurrency = broker::RolloutLimit{1, false};
  r.delivery_timeout_s = 3;  // past the 2 s player timeout
  const broker::JobId id = Submit(r);
  auto waiting_for_rollout = [&](const JobRecord& job) {
    return job.tasks.size() == 3 &&
           job.tasks[0].state == TaskState::kDispatched &&
           job.tasks[1].state == TaskState::kQueued &&
           job.tasks[1].waiting == broker::WaitReason::kRollout &&
           job.tasks[2].state == TaskState::kQueued &&
           job.tasks[2].waiting == broker::WaitReason::kRollout;
  };
  EXPECT_TRUE(Eventually([&] { return waiting_for_rollout(Read(id)); }));
  // p1's session ends (silent); its task stays out and keeps the slot.
  EXPECT_TRUE(cluster_.conductor()
                  ->WaitForLog("player left player=p1 reason=silent", 10s, mark)
                  .has_value());
  EXPECT_TRUE(waiting_for_rollout(Read(id)));
  const JobRecord job = Wait(id);
  cluster_.player("p1")->Signal(SIGKILL);
  cluster_.player("p1")->Wait(10s);
  ASSERT_EQ(3u, job.tasks.size());
  const broker::TaskRecord& frozen = job.tasks[0];
  EXPECT_EQ(TaskState::kExpired, frozen.state);
  EXPECT_NE(std::string::npos, frozen.error.find("never accepted"))
      << frozen.error;
  EXPECT_GE(frozen.finished_at - frozen.dispatched_at, 3000);
  EXPECT_EQ(TaskState::kOk, job.tasks[1].state);
  EXPECT_EQ(TaskState::kOk, job.tasks[2].state);
  EXPECT_GE(job.tasks[1].dispatched_at, frozen.finished_at);
  EXPECT_GE(job.tasks[2].dispatched_at, job.tasks[1].finished_at);
}

// Dispatch order is priority, then job id: a job of priority 50 for p3
// (one slot) runs before every job of the backlog still queued for it.
// Meanwhile the backlog's tasks say why they wait: player_offline while p3
// is away, then player_busy for the first in line, earlier_jobs behind it.
TEST_F(AudienceTest, AHighPriorityJobOvertakesTheQueuedBacklog) {
  const std::string log = cluster_.dir() + "/runs";
  const std::string gate = cluster_.dir() + "/gate";
  cluster_.WriteScoreEverywhere("gated", GatedRun(log, gate));
  ASSERT_NO_FATAL_FAILURE(Start());
  std::vector<broker::JobId> backlog;
  for (int i = 0; i < 4; ++i) backlog.push_back(Submit(Job("gated", {"p3"})));
  auto waiting = [&](broker::JobId job) {
    const JobRecord record = Read(job);
    return record.tasks.empty() ? std::nullopt : record.tasks[0].waiting;
  };
  EXPECT_EQ(broker::WaitReason::kPlayerOffline, waiting(backlog[0]));
  EXPECT_EQ(broker::WaitReason::kPlayerOffline, waiting(backlog[3]));
  ASSERT_TRUE(cluster_.StartPlayer("p3", "slots = 1\n"));
  // The first of the backlog takes the slot and stays at the gate.
  ASSERT_TRUE(Eventually([&] { return Starts(ReadRuns(log)).size() == 1; }));
  EXPECT_EQ(broker::WaitReason::kPlayerBusy, waiting(backlog[1]));
  EXPECT_EQ(broker::WaitReason::kEarlierJobs, waiting(backlog[2]));
  broker::SubmitRequest urgent = Job("gated", {"p3"});
  urgent.priority = 50;
  const broker::JobId first = Submit(urgent);
  EXPECT_EQ(broker::WaitReason::kPlayerBusy, waiting(first));
  EXPECT_EQ(broker::WaitReason::kEarlierJobs, waiting(backlog[1]));
  ASSERT_OK(common::WriteFileAtomically(gate, "", 0644));
  for (broker::JobId job : backlog) EXPECT_EQ(JobState::kOk, Wait(job).state);
  EXPECT_EQ(JobState::kOk, Wait(first).state);
  std::vector<std::string> expected;
  for (broker::JobId job :
       {backlog[0], first, backlog[1], backlog[2], backlog[3]})
    expected.push_back(std::to_string(job));
  const std::vector<RunEvent> events = ReadRuns(log);
  EXPECT_EQ(expected, Starts(events));
  EXPECT_EQ(1, MostAtOnce(events));
}

// DESIGN.md section 13: a limited key must be allowed every player a
// target resolves to. backup-bot (players=p1,p3) is refused a target that
// reaches p2, and no job is made; a target within its players runs.
TEST_F(RemoteAudienceTest, ALimitedKeysTargetMustStayWithinItsPlayers) {
  cluster_.SetLabels("p1", "role=web");
  cluster_.SetLabels("p2", "role=web");
  cluster_.SetLabels("p3", "role=db");
  Reload();
  auto bot = Remote("backup-bot");
  ASSERT_NE(nullptr, bot);
  broker::SubmitRequest r = Job("backup-home", {});
  for (const char* target : {"role=web", "p2", "name=p*"}) {
    r.target = target;
    const AudienceError e = ErrorOf(r, bot.get());
    EXPECT_EQ(ErrorCode::kUnauthorized, e.code) << target;
    EXPECT_NE(std::string::npos, e.message.find("p2")) << e.message;
  }
  EXPECT_TRUE(Expect<broker::JobsReply>(broker::JobsRequest{}).jobs.empty());
  r.target = "role=web name!=p2";
  const JobRecord job = Wait(Submit(r, bot.get()));
  EXPECT_EQ(JobState::kOk, job.state);
  EXPECT_EQ(std::vector<std::string>{"p1"}, job.players);
  EXPECT_EQ("backup-bot", job.submitted_by);
  EXPECT_EQ(1u, Expect<broker::JobsReply>(broker::JobsRequest{}).jobs.size());
}

}  // namespace
}  // namespace orchestra::test
