// Tests for conductor/audience_channel.h driven through a Core on a temp
// file with a FakeClock, and real sockets in process (a DEALER and a REQ
// client of an inproc ROUTER): the `unavailable` replies (a stopping
// conductor, a database that cannot be read or written) and when `wait`
// sends progress.

#include "conductor/audience_channel.h"

#include <gtest/gtest.h>

#include <memory>
#include <set>
#include <string>
#include <zmq.hpp>

#include "broker/poller.h"
#include "common/sqlite.h"
#include "test/conductor_samples.h"
#include "test/core_fixture.h"
#include "test/test_util.h"

namespace orchestra::conductor {
namespace {

using broker::AudienceReply;
using broker::ErrorCode;
using broker::Scope;
using common::Result;

constexpr char kAddress[] = "inproc://audience-channel-test";

// The DEALER is an audience client on audience endpoint 0.
class AudienceChannelTest : public test::CoreFixture {
 protected:
  void SetUp() override {
    ASSERT_NO_FATAL_FAILURE(Open({"web-1", "web-2"}, kAddress));
    store_ = core_->store();
    board_ = core_->board();
    channel_ = core_->audience_channel();
    registry_ = core_->registry();
  }

  // The client sends `op`; the channel handles it and the turn ends.
  void Ask(const broker::AudienceOp& op, int64_t req = 1) {
    ASSERT_OK(dealer_->Send(broker::EncodeAudienceRequest({req, op})));
    Serve();
  }
  // Hands the next request on the ROUTER to the channel; ends the turn.
  void Serve() {
    ASSERT_NO_FATAL_FAILURE(Hand());
    EndTurn();
  }
  // Serve() without ending the turn.
  void Hand() {
    broker::Poller poller;
    poller.AddSocket(router_->handle());
    ASSERT_OK(poller.Wait(5000));
    std::optional<broker::Inbound> in = router_->TryReceive();
    ASSERT_TRUE(in.has_value());
    ASSERT_OK(channel_->Handle(0, *in));
  }
  void EndTurn() {
    ASSERT_OK(core_->CommitTurn());
    ASSERT_OK(core_->Settle());
    core_->Flush(nullptr, {router_.get()});
  }
  // A commit fails, as the conductor's loop meets it.
  void FailStore() {
    ASSERT_OK(core_->StoreFailed(
        common::Status::IoError("sqlite /x.db", "disk full")));
  }
  // The next reply on the DEALER (an empty one after 5 s). Every reply
  // must fit the message limit: inproc transports never check it.
  AudienceReply Next() {
    broker::Poller poller;
    poller.AddSocket(dealer_->handle());
    EXPECT_OK(poller.Wait(5000));
    std::optional<broker::Inbound> in = dealer_->TryReceive();
    EXPECT_TRUE(in.has_value()) << "no reply";
    if (!in) return {};
    EXPECT_LE(in->payload.size(), broker::kMaxReplyBytes);
    last_reply_bytes_ = in->payload.size();
    auto reply = broker::DecodeAudienceReply(in->payload);
    EXPECT_OK(reply.status());
    return reply.ok() ? reply.value() : AudienceReply{};
  }
  bool Silent() { return !dealer_->TryReceive().has_value(); }
  template <typename Body>
  Body NextIs() {
    AudienceReply reply = Next();
    Body* body = std::get_if<Body>(&reply.body);
    EXPECT_NE(nullptr, body) << "reply of another kind";
    return body ? *body : Body{};
  }
  broker::JobId Submit(std::vector<std::string> players) {
    Ask(test::SampleSubmit(Scope::kAll, std::move(players)));
    return NextIs<broker::SubmitReply>().job;
  }
  std::vector<broker::JobSummary> NextIsJobs() {
    Ask(broker::JobsRequest{});
    return NextIs<broker::JobsReply>().jobs;
  }
  // A new session for `player` with `slots` slots: queued tasks go to it.
  void Hello(const std::string& player, int slots) {
    ASSERT_OK(board_->OnHello(player, test::SampleHello(slots)));
    EndTurn();
  }

  // Ends `job`'s task on `player` with both output streams full (1 MiB
  // each) and a response of 1,000 entries.
  void ReportLarge(const std::string& player, broker::JobId job) {
    std::optional<JobRecord> record = test::StoredJob(store_, job);
    ASSERT_TRUE(record.has_value());
    broker::TaskResult result;
    for (const broker::TaskRecord& t : record->tasks)
      if (t.player == player) result.task = t.task;
    result.state = broker::TaskState::kOk;
    result.exit_code = 0;
    result.stdout_text = std::string(kMaxOutputBytes, 'o');
    result.stderr_text = std::string(kMaxOutputBytes, 'e');
    for (int i = 0; i < 1000; ++i)
      result.response["key_" + std::to_string(i)] = "value";
    result.started_at = result.finished_at = clock_.Now();
    ASSERT_OK(board_->OnResult(player, result));
    EndTurn();
  }

  size_t last_reply_bytes_ = 0;
  JobStore* store_ = nullptr;
  JobBoard* board_ = nullptr;
  AudienceChannel* channel_ = nullptr;
  PlayerRegistry* registry_ = nullptr;
};

// A commit in flight holds back what rests on it (a submit's job id), never
// a read: the status of a committed job is answered at once. Another
// connection holding the database's write lock keeps the commit in flight
// (the store's thread waits for the lock).
TEST_F(AudienceChannelTest, AReplyWaitsForItsCommitAndAReadDoesNot) {
  const broker::JobId first = Submit({"web-1"});
  Result<common::Database> other =
      common::Database::Open(dir_.File("conductor.db"));
  ASSERT_OK(other.status());
  ASSERT_OK(other.value().Exec("BEGIN IMMEDIATE"));
  auto handle_without_settling = [&](const broker::AudienceOp& op,
                                     int64_t req) {
    ASSERT_OK(dealer_->Send(broker::EncodeAudienceRequest({req, op})));
    ASSERT_NO_FATAL_FAILURE(Hand());
    ASSERT_OK(core_->CommitTurn());
    core_->Flush(nullptr, {router_.get()});
  };
  handle_without_settling(test::SampleSubmit(Scope::kAll, {"web-1"}), 2);
  EXPECT_EQ(1u, core_->turns_in_flight());
  handle_without_settling(broker::StatusRequest{first}, 3);
  AudienceReply status = Next();
  EXPECT_EQ(3, std::get<int64_t>(status.req)) << "the read left first";
  EXPECT_EQ(first, std::get<broker::JobReply>(status.body).job.id);
  EXPECT_TRUE(Silent()) << "the job id left before its commit";
  ASSERT_OK(other.value().Exec("COMMIT"));
  ASSERT_OK(core_->Settle());
  core_->Flush(nullptr, {router_.get()});
  AudienceReply submitted = Next();
  EXPECT_EQ(2, std::get<int64_t>(submitted.req));
  const broker::JobId second =
      std::get<broker::SubmitReply>(submitted.body).job;
  EXPECT_GT(second, first);
  EXPECT_EQ(0u, core_->turns_in_flight());
  EXPECT_TRUE(test::StoredJob(store_, second).has_value());
}

TEST_F(AudienceChannelTest, StoppingAnswersWaitsThenEveryRequestUnavailable) {
  const broker::JobId job = Submit({"web-1"});
  Ask(broker::WaitRequest{job, 0}, 7);
  EXPECT_TRUE(Silent());
  channel_->Stop();
  EndTurn();
  AudienceReply reply = Next();
  EXPECT_EQ(7, std::get<int64_t>(reply.req));
  EXPECT_EQ(ErrorCode::kUnavailable,
            std::get<broker::ErrorReply>(reply.body).error.code);
  Ask(broker::PlayersRequest{});
  EXPECT_EQ(ErrorCode::kUnavailable, NextIs<broker::ErrorReply>().error.code);
}

TEST_F(AudienceChannelTest, AJobTheDatabaseCannotReadIsUnavailableNotFatal) {
  const broker::JobId job = Submit({"web-1"});
  Ask(broker::CancelRequest{job});  // finished: now read from the database
  EXPECT_EQ(broker::JobState::kCancelled, NextIs<broker::JobReply>().job.state);
  auto other = common::Database::Open(dir_.File("conductor.db"));
  ASSERT_OK(other.status());
  ASSERT_OK(other.value().Exec("ALTER TABLE job_players RENAME TO gone"));
  Ask(broker::StatusRequest{job});
  broker::AudienceError e = NextIs<broker::ErrorReply>().error;
  EXPECT_EQ(ErrorCode::kUnavailable, e.code);
  EXPECT_NE(std::string::npos, e.message.find("could not be read"));
  Ask(broker::JobsRequest{});
  EXPECT_EQ(ErrorCode::kUnavailable, NextIs<broker::ErrorReply>().error.code);
}

// DESIGN.md section 15: while the store takes no writes, what would write
// is refused with the reason, and reads answer from what is committed.
TEST_F(AudienceChannelTest, WhileTheStoreFailsSubmitAndCancelAreUnavailable) {
  const broker::JobId job = Submit({"web-1"});
  FailStore();
  broker::SubmitRequest r = test::SampleSubmit(Scope::kOne, {"web-1"});
  Ask(r);
  broker::AudienceError e = NextIs<broker::ErrorReply>().error;
  EXPECT_EQ(ErrorCode::kUnavailable, e.code);
  EXPECT_EQ(0u, e.message.find("database: disk full")) << e.message;
  Ask(broker::CancelRequest{job});
  EXPECT_EQ(ErrorCode::kUnavailable, NextIs<broker::ErrorReply>().error.code);
  EXPECT_EQ(1u, NextIsJobs().size());  // nothing was added
}

TEST_F(AudienceChannelTest, WhileTheStoreFailsReadsStillAnswer) {
  const broker::JobId job = Submit({"web-1"});
  FailStore();
  Ask(broker::StatusRequest{job});
  EXPECT_EQ(broker::JobState::kPending, NextIs<broker::JobReply>().job.state);
  Ask(broker::WaitRequest{job, 100});
  clock_.Advance(100);
  channel_->Tick();
  EndTurn();
  EXPECT_TRUE(NextIs<broker::JobReply>().timed_out);
  Ask(broker::PlayersRequest{});
  EXPECT_EQ(2u, NextIs<broker::PlayersReply>().players.size());
}

// A client that never saw the reply to its submit asks again with the same
// key: the job is committed, so it gets its id even while the store fails.
TEST_F(AudienceChannelTest, WhileTheStoreFailsARetriedSubmitGetsItsJob) {
  broker::SubmitRequest r = test::SampleSubmit(Scope::kOne, {"web-1"});
  r.key = "nightly-1";
  Ask(r);
  const broker::JobId job = NextIs<broker::SubmitReply>().job;
  FailStore();
  Ask(r);
  EXPECT_EQ(job, NextIs<broker::SubmitReply>().job);
}

TEST_F(AudienceChannelTest, ProgressGoesOutWhenATaskChangesState) {
  const broker::JobId job = Submit({"web-1", "web-2"});
  Ask(broker::WaitRequest{job, 0, true});
  EXPECT_EQ(2, NextIs<broker::ProgressReply>().progress.by_state["QUEUED"]);
  channel_->Tick();
  EndTurn();
  EXPECT_TRUE(Silent());  // nothing changed
  Hello("web-1", 1);
  channel_->Tick();
  EndTurn();
  broker::Progress p = NextIs<broker::ProgressReply>().progress;
  EXPECT_EQ(1, p.by_state["DISPATCHED"]);
  EXPECT_EQ(0, p.done);
}

TEST_F(AudienceChannelTest, ARequestSocketGetsNoProgressOnlyTheAnswer) {
  const broker::JobId job = Submit({"web-1", "web-2"});
  zmq::socket_t req(context_.zmq(), ZMQ_REQ);
  req.set(zmq::sockopt::linger, 0);
  req.connect(kAddress);
  const std::string wait =
      broker::EncodeAudienceRequest({3, broker::WaitRequest{job, 0, true}});
  req.send(zmq::buffer(wait));
  Serve();
  Hello("web-1", 1);
  channel_->Tick();
  Ask(broker::CancelRequest{job});  // finishes the job: the wait's answer
  EXPECT_EQ(broker::JobState::kCancelled, NextIs<broker::JobReply>().job.state);
  zmq::message_t answer;
  req.set(zmq::sockopt::rcvtimeo, 5000);
  ASSERT_TRUE(req.recv(answer).has_value());
  auto reply = broker::DecodeAudienceReply(answer.to_string());
  ASSERT_OK(reply.status());
  EXPECT_EQ(broker::JobState::kCancelled,
            std::get<broker::JobReply>(reply.value().body).job.state);
}

// DESIGN.md section 6: a reply never exceeds the message limit. Two tasks
// with full output streams make a record of 4.2 MiB: status, wait and
// cancel send it in pages of whole tasks, and say so.
TEST_F(AudienceChannelTest, ARecordLargerThanAMessageComesInPages) {
  const broker::JobId job = Submit({"web-1", "web-2"});
  Ask(broker::WaitRequest{job, 0}, 5);
  Hello("web-1", 1);
  Hello("web-2", 1);
  ReportLarge("web-1", job);
  EXPECT_TRUE(Silent());
  ReportLarge("web-2", job);  // the job ends: the wait is answered
  broker::JobRecord first = NextIs<broker::JobReply>().job;
  EXPECT_EQ(broker::JobState::kOk, first.state);
  EXPECT_EQ(2, first.tasks_total.value_or(-1));
  EXPECT_EQ(0, first.tasks_from);
  ASSERT_EQ(1u, first.tasks.size());
  EXPECT_EQ(kMaxOutputBytes, first.tasks[0].stdout_text.size());
  EXPECT_FALSE(first.tasks[0].cut);

  Ask(broker::StatusRequest{job, 1});
  broker::JobRecord second = NextIs<broker::JobReply>().job;
  EXPECT_EQ(1, second.tasks_from);
  EXPECT_EQ(2, second.tasks_total.value_or(-1));
  ASSERT_EQ(1u, second.tasks.size());
  EXPECT_NE(first.tasks[0].player, second.tasks[0].player);
  EXPECT_EQ(kMaxOutputBytes, second.tasks[0].stderr_text.size());

  Ask(broker::StatusRequest{job});
  EXPECT_EQ(1u, NextIs<broker::JobReply>().job.tasks.size());
  Ask(broker::CancelRequest{job});
  EXPECT_EQ(2, NextIs<broker::JobReply>().job.tasks_total.value_or(-1));
  Ask(broker::WaitRequest{job, 0});  // finished: answered at once
  EXPECT_EQ(2, NextIs<broker::JobReply>().job.tasks_total.value_or(-1));
  EXPECT_GT(last_reply_bytes_, size_t{2} << 20);  // the page is used
}

TEST_F(AudienceChannelTest, AStatusPageHoldsAtMostItsLimit) {
  const broker::JobId job = Submit({"web-1", "web-2"});
  Ask(broker::StatusRequest{job, 0, 1});
  broker::JobRecord page = NextIs<broker::JobReply>().job;
  EXPECT_EQ(1u, page.tasks.size());
  EXPECT_EQ(2, page.tasks_total.value_or(-1));
  Ask(broker::StatusRequest{job, 2});
  page = NextIs<broker::JobReply>().job;
  EXPECT_TRUE(page.tasks.empty());
  EXPECT_EQ(2, page.tasks_total.value_or(-1));
}

// Ten thousand players, each listing dozens of scores, are more than one
// reply holds: `players` comes in pages by name.
TEST_F(AudienceChannelTest, PlayersComeInPagesByName) {
  TrustFiles files;
  for (int i = 0; i < 5; ++i) {
    const std::string name = "web-" + std::to_string(i);
    files.players[name] = "key-" + std::to_string(i);
    PlayerState state;
    state.name = name;
    for (size_t s = 0; s < kMaxScores; ++s)
      state.scores.push_back({std::string(120, 's') + std::to_string(s),
                              std::string(64, '0'), "env"});
    registry_->Remember(std::move(state));
  }
  core_->InstallTrust(std::move(files));
  Ask(broker::PlayersRequest{});
  broker::PlayersReply page = NextIs<broker::PlayersReply>();
  ASSERT_EQ(3u, page.players.size());  // 1.3 MB each
  EXPECT_EQ("web-0", page.players[0].name);
  EXPECT_EQ(kMaxScores, page.players[0].scores.size());
  EXPECT_EQ(2, page.players_omitted);
  Ask(broker::PlayersRequest{page.players.back().name});
  page = NextIs<broker::PlayersReply>();
  ASSERT_EQ(2u, page.players.size());
  EXPECT_EQ("web-3", page.players[0].name);
  EXPECT_EQ(0, page.players_omitted);
  Ask(broker::PlayersRequest{"web-0", 1});
  page = NextIs<broker::PlayersReply>();
  ASSERT_EQ(1u, page.players.size());
  EXPECT_EQ("web-1", page.players[0].name);
  EXPECT_EQ(3, page.players_omitted);
}

TEST_F(AudienceChannelTest, AJobsListLargerThanAMessageIsCutSayingSo) {
  broker::SubmitRequest r;
  r.score = std::string(128, 's');
  r.scope = Scope::kAll;
  r.players = {"web-1"};
  const std::string by(256, 'b');  // the longest a client accepts
  for (int i = 0; i < 10000; ++i) ASSERT_OK(board_->Submit(r, by, 0).status());
  EndTurn();
  broker::JobsRequest list;
  list.limit = 10000;  // the most a request may ask for
  Ask(list);
  broker::JobsReply page = NextIs<broker::JobsReply>();
  ASSERT_FALSE(page.jobs.empty());
  ASSERT_GT(10000 * broker::EncodedSize(page.jobs[0]),
            broker::kMaxReplyBodyBytes);
  EXPECT_GT(page.jobs.size(), 8000u);
  EXPECT_LT(page.jobs.size(), 10000u);
  EXPECT_EQ(10000, static_cast<int64_t>(page.jobs.size()) + page.jobs_omitted);
  list.before = page.jobs.back().id;
  list.limit = page.jobs_omitted;
  Ask(list);
  broker::JobsReply rest = NextIs<broker::JobsReply>();
  EXPECT_EQ(page.jobs_omitted, static_cast<int64_t>(rest.jobs.size()));
  EXPECT_EQ(0, rest.jobs_omitted);
  EXPECT_EQ(1, rest.jobs.back().id);
}

// DESIGN.md section 13: a rollout's fields and the priority are stored
// with the job and come back in its record and summary (the scheduler does
// not act on them yet).
TEST_F(AudienceChannelTest, ARolloutsFieldsAreKeptWithItsJob) {
  broker::SubmitRequest r = test::SampleSubmit(Scope::kAll, {"web-1", "web-2"});
  r.max_concurrency = broker::RolloutLimit{50, true};
  r.max_errors = broker::RolloutLimit{0, false};
  r.priority = 100;
  Ask(r);
  const broker::JobId job = NextIs<broker::SubmitReply>().job;
  Ask(broker::StatusRequest{job});
  broker::JobRecord record = NextIs<broker::JobReply>().job;
  EXPECT_EQ(r.max_concurrency, record.max_concurrency);
  EXPECT_EQ(r.max_errors, record.max_errors);
  EXPECT_EQ(100, record.priority);
  EXPECT_EQ("", record.target);
  std::vector<broker::JobSummary> jobs = NextIsJobs();
  ASSERT_EQ(1u, jobs.size());
  EXPECT_EQ(100, jobs[0].priority);
  // A retry with its key compares the target too.
  r.key = "k";
  Ask(r);
  const broker::JobId keyed = NextIs<broker::SubmitReply>().job;
  Ask(r);
  EXPECT_EQ(keyed, NextIs<broker::SubmitReply>().job);
}

// A target is resolved at submit against the listed players and their
// labels (players file): the job keeps the expression and the names.
TEST_F(AudienceChannelTest, ATargetResolvesToTheListedPlayersItMatches) {
  TrustFiles files = core_->trust().files();
  files.labels["web-1"] = {{"role", "web"}, {"dc", "syd"}};
  files.labels["web-2"] = {{"role", "db"}, {"dc", "syd"}};
  core_->InstallTrust(std::move(files));
  broker::SubmitRequest r = test::SampleSubmit(Scope::kAll, {});
  r.target = "dc=syd role!=db";
  Ask(r);
  const JobId job = NextIs<broker::SubmitReply>().job;
  std::optional<JobRecord> record = store_->LoadJob(job).value();
  ASSERT_TRUE(record.has_value());
  EXPECT_EQ(std::vector<std::string>{"web-1"}, record->players);
  EXPECT_EQ("dc=syd role!=db", record->target);
  broker::PlayersRequest players;
  players.target = "role=web,db";
  Ask(players);
  broker::PlayersReply listed = NextIs<broker::PlayersReply>();
  ASSERT_EQ(2u, listed.players.size());
  EXPECT_EQ("syd", listed.players[0].labels["dc"]);
}

// Nothing matched, or a malformed expression: invalid_target saying which,
// and no job.
TEST_F(AudienceChannelTest, ATargetThatMatchesNothingOrIsMalformedIsInvalid) {
  for (const char* text : {"role=nothing", "role=", "!web-1"}) {
    broker::SubmitRequest r = test::SampleSubmit(Scope::kAll, {});
    r.target = text;
    Ask(r);
    broker::ErrorReply error = NextIs<broker::ErrorReply>();
    EXPECT_EQ(ErrorCode::kInvalidTarget, error.error.code) << text;
    EXPECT_FALSE(error.error.message.empty());
  }
  EXPECT_NE(std::string::npos,
            [&] {
              broker::SubmitRequest r = test::SampleSubmit(Scope::kAll, {});
              r.target = "role=nothing";
              Ask(r);
              return NextIs<broker::ErrorReply>().error.message;
            }()
                .find("no listed player matches"));
  EXPECT_TRUE(NextIsJobs().empty());
  broker::PlayersRequest players;
  players.target = "role=";
  Ask(players);
  EXPECT_EQ(ErrorCode::kInvalidTarget, NextIs<broker::ErrorReply>().error.code);
}

}  // namespace
}  // namespace orchestra::conductor
