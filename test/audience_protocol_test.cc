// Tests for broker/audience_protocol.h: requests and replies of every kind
// round trip with their "req", and every malformed request is answered with
// the error code DESIGN.md section 4 gives it, its "req" still recovered.

#include "broker/audience_protocol.h"

#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

#include "test/msgpack_builder.h"
#include "test/test_util.h"

namespace orchestra::broker {
namespace {

using common::Result;

// Hand-built msgpack values (test/msgpack_builder.h), for requests written
// by other clients.
using test::Array;
using test::Bool;
using test::Fields;
using test::Float;
using test::Int;
using test::Map;
using test::Mp;
using test::Nil;
using test::Str;
using test::Strings;
using test::Uint;
using test::With;
using test::Without;

// ---- samples ----

SubmitRequest FullSubmit() {
  SubmitRequest m;
  m.score = "backup";
  m.scope = Scope::kAll;
  m.players = {"web-1", "web-2", "db.example.com"};
  m.params = {{"mode", "full"}, {"target", "/srv"}};
  m.timeout_s = 600;
  m.delivery_timeout_s = 0;
  m.key = "client-7f3a";
  return m;
}

TaskRecord FullTask(TaskId id, const std::string& player) {
  TaskRecord t;
  t.task = id;
  t.player = player;
  t.attempt = 2;
  t.state = TaskState::kFail;
  t.exit_code = 1;
  t.signal = 9;
  t.stdout_text = "partial\n";
  t.stderr_text = "disk full\n";
  t.stdout_truncated = true;
  t.stderr_truncated = true;
  t.response = {{"files", "3"}};
  t.dispatched_at = 1795836000100;
  t.started_at = 1795836000200;
  t.finished_at = 1795836000300;
  t.error = "exit status 1";
  return t;
}

JobRecord FullJob() {
  JobRecord j;
  j.id = 42;
  j.score = "backup";
  j.scope = Scope::kAll;
  j.players = {"web-1", "web-2"};
  j.params = {{"mode", "full"}};
  j.state = JobState::kPartialFail;
  j.submitted_by = "ops-key";
  j.timeout_s = 600;
  j.delivery_timeout_s = 3600;
  j.created_at = 1795836000000;
  j.finished_at = 1795836000400;
  j.tasks = {FullTask(100, "web-1"), FullTask(101, "web-2")};
  j.tasks[0].state = TaskState::kOk;
  j.tasks[0].exit_code = 0;
  return j;
}

JobSummary FullSummary(JobId id) {
  return JobSummary{id,
                    "deploy",
                    Scope::kOne,
                    JobState::kOk,
                    "ops-key",
                    3,
                    {{"OK", 1}, {"HOST_ERROR", 2}},
                    1795836000000,
                    1795836000999};
}

PlayerInfo FullPlayer(const std::string& name) {
  return PlayerInfo{name, true, 1795836000500,       "0.9.1",
                    8,    2,    {"backup", "deploy"}};
}

Fields SubmitFields() {
  return {{"op", Str("submit")},
          {"req", Int(1)},
          {"score", Str("backup")},
          {"scope", Str("one")},
          {"players", Strings({"web-1", "web-2"})},
          {"params", Map({{"mode", Str("full")}})}};
}

class AudienceProtocolTest : public testing::Test {
 protected:
  // Encodes `request`, decodes it, and checks that re-encoding the decoded
  // request gives the same bytes, so no field was lost.
  static AudienceOp RoundTripRequest(const AudienceRequest& request) {
    const std::string bytes = EncodeAudienceRequest(request);
    DecodedRequest decoded = DecodeAudienceRequest(bytes);
    EXPECT_TRUE(decoded.op.has_value()) << decoded.error.message;
    if (!decoded.op) return PlayersRequest{};
    EXPECT_EQ(request.req, decoded.req);
    EXPECT_EQ(bytes, EncodeAudienceRequest({decoded.req, *decoded.op}));
    return *decoded.op;
  }
  static AudienceReplyBody RoundTripReply(const AudienceReply& reply) {
    const std::string bytes = EncodeAudienceReply(reply);
    Result<AudienceReply> decoded = DecodeAudienceReply(bytes);
    EXPECT_OK(decoded.status());
    if (!decoded.ok()) return ErrorReply{};
    EXPECT_EQ(reply.req, decoded.value().req);
    EXPECT_EQ(reply.body.index(), decoded.value().body.index());
    EXPECT_EQ(bytes, EncodeAudienceReply(decoded.value()));
    return decoded.value().body;
  }
  static DecodedRequest Decode(const Fields& fields) {
    return DecodeAudienceRequest(Map(fields).Encode());
  }
  // The error code `bytes` is refused with ("accepted" if it is not).
  static std::string CodeFor(const std::string& bytes) {
    DecodedRequest decoded = DecodeAudienceRequest(bytes);
    if (decoded.op) return "accepted";
    EXPECT_FALSE(decoded.error.message.empty());
    return ErrorCodeName(decoded.error.code);
  }
  static std::string CodeFor(const Fields& fields) {
    return CodeFor(Map(fields).Encode());
  }
  static std::string SubmitCodeWith(const std::string& key, Mp value) {
    return CodeFor(With(SubmitFields(), key, std::move(value)));
  }
  static std::string ParamsCode(Fields params) {
    return SubmitCodeWith("params", Map(std::move(params)));
  }
};

// ---- request round trips ----

TEST_F(AudienceProtocolTest, SubmitRoundTripsWithEveryField) {
  SubmitRequest back =
      std::get<SubmitRequest>(RoundTripRequest({int64_t{7}, FullSubmit()}));
  EXPECT_EQ(Scope::kAll, back.scope);
  EXPECT_EQ(FullSubmit().players, back.players);
  EXPECT_EQ(FullSubmit().params, back.params);
  EXPECT_EQ(600, back.timeout_s);
  EXPECT_EQ(0, back.delivery_timeout_s);
  EXPECT_EQ("client-7f3a", back.key);
}

TEST_F(AudienceProtocolTest, MinimalSubmitRoundTrips) {
  SubmitRequest m;
  m.score = "backup";
  m.players = {"web-1"};
  SubmitRequest back =
      std::get<SubmitRequest>(RoundTripRequest({std::string("a-1"), m}));
  EXPECT_EQ(Scope::kOne, back.scope);
  EXPECT_FALSE(back.timeout_s.has_value());
  EXPECT_TRUE(back.key.empty());
}

TEST_F(AudienceProtocolTest, QueueIsAnAliasOfSubmit) {
  DecodedRequest decoded = Decode(With(SubmitFields(), "op", Str("queue")));
  ASSERT_TRUE(decoded.op.has_value()) << decoded.error.message;
  SubmitRequest submit = std::get<SubmitRequest>(*decoded.op);
  EXPECT_EQ("backup", submit.score);
  EXPECT_EQ("submit", std::string(OpName(*decoded.op)));
}

TEST_F(AudienceProtocolTest, JobOpsRoundTrip) {
  EXPECT_EQ(
      5, std::get<StatusRequest>(RoundTripRequest({{}, StatusRequest{5}})).job);
  EXPECT_EQ(6, std::get<CancelRequest>(
                   RoundTripRequest({int64_t{1}, CancelRequest{6}}))
                   .job);
  WaitRequest wait = std::get<WaitRequest>(
      RoundTripRequest({std::string("w"), WaitRequest{7, 30000, true}}));
  EXPECT_EQ(7, wait.job);
  EXPECT_EQ(30000, wait.timeout_ms);
  EXPECT_TRUE(wait.progress);
}

TEST_F(AudienceProtocolTest, JobsRoundTripsWithEveryFilter) {
  JobsRequest m{JobState::kFail, "backup", "web-1", 20, JobId{500}};
  JobsRequest back = std::get<JobsRequest>(RoundTripRequest({int64_t{3}, m}));
  EXPECT_EQ(JobState::kFail, back.state);
  EXPECT_EQ("backup", back.score);
  EXPECT_EQ("web-1", back.player);
  EXPECT_EQ(20, back.limit);
  EXPECT_EQ(500, back.before);
}

TEST_F(AudienceProtocolTest, JobsWithoutFiltersUsesDefaults) {
  DecodedRequest decoded = Decode({{"op", Str("jobs")}});
  ASSERT_TRUE(decoded.op.has_value()) << decoded.error.message;
  JobsRequest jobs = std::get<JobsRequest>(*decoded.op);
  EXPECT_FALSE(jobs.state.has_value());
  EXPECT_EQ(100, jobs.limit);
  EXPECT_FALSE(jobs.before.has_value());
}

TEST_F(AudienceProtocolTest, PlayersRoundTrips) {
  EXPECT_TRUE(std::holds_alternative<PlayersRequest>(
      RoundTripRequest({int64_t{-4}, PlayersRequest{}})));
}

TEST_F(AudienceProtocolTest, PagesOfStatusAndPlayersRoundTrip) {
  StatusRequest page = std::get<StatusRequest>(
      RoundTripRequest({int64_t{1}, StatusRequest{5, 200, 50}}));
  EXPECT_EQ(5, page.job);
  EXPECT_EQ(200, page.tasks_from);
  EXPECT_EQ(50, page.tasks_limit);
  PlayersRequest players = std::get<PlayersRequest>(
      RoundTripRequest({int64_t{2}, PlayersRequest{"web-17", 10}}));
  EXPECT_EQ("web-17", players.after);
  EXPECT_EQ(10, players.limit);
}

TEST_F(AudienceProtocolTest, WithoutPageFieldsStatusAndPlayersAskForAll) {
  DecodedRequest status = Decode({{"op", Str("status")}, {"job", Int(5)}});
  ASSERT_TRUE(status.op.has_value()) << status.error.message;
  EXPECT_EQ(0, std::get<StatusRequest>(*status.op).tasks_from);
  EXPECT_EQ(kMaxTasksLimit, std::get<StatusRequest>(*status.op).tasks_limit);
  DecodedRequest players = Decode({{"op", Str("players")}});
  ASSERT_TRUE(players.op.has_value()) << players.error.message;
  EXPECT_EQ("", std::get<PlayersRequest>(*players.op).after);
  EXPECT_EQ(static_cast<int64_t>(kMaxJobPlayers),
            std::get<PlayersRequest>(*players.op).limit);
  // Nothing new on the wire for a request without them.
  EXPECT_EQ(Map({{"op", Str("status")}, {"job", Int(5)}}).Encode(),
            EncodeAudienceRequest({{}, StatusRequest{5}}));
}

TEST_F(AudienceProtocolTest, PageFieldsOutOfBoundsAreBadRequest) {
  Fields status = {{"op", Str("status")}, {"job", Int(5)}};
  EXPECT_EQ("bad_request", CodeFor(With(status, "tasks_from", Int(-1))));
  EXPECT_EQ("bad_request",
            CodeFor(With(status, "tasks_from", Int(int64_t{1} << 31))));
  EXPECT_EQ("bad_request", CodeFor(With(status, "tasks_limit", Int(0))));
  EXPECT_EQ("bad_request",
            CodeFor(With(status, "tasks_limit", Int(kMaxTasksLimit + 1))));
  EXPECT_EQ("bad_request", CodeFor(With(status, "tasks_from", Str("3"))));
  Fields players = {{"op", Str("players")}};
  EXPECT_EQ("bad_request", CodeFor(With(players, "limit", Int(0))));
  EXPECT_EQ("too_large",  // as every string over its bound
            CodeFor(With(players, "after", Str(std::string(254, 'a')))));
  EXPECT_EQ("accepted",
            CodeFor(With(players, "after", Str(std::string(253, 'a')))));
}

TEST_F(AudienceProtocolTest, OpNamesAreTheWireNames) {
  EXPECT_STREQ("status", OpName(StatusRequest{}));
  EXPECT_STREQ("wait", OpName(WaitRequest{}));
  EXPECT_STREQ("cancel", OpName(CancelRequest{}));
  EXPECT_STREQ("jobs", OpName(JobsRequest{}));
  EXPECT_STREQ("players", OpName(PlayersRequest{}));
}

TEST_F(AudienceProtocolTest, ReqIsReadAsIntegerOrString) {
  EXPECT_EQ(RequestId(int64_t{12}),
            Decode(With(SubmitFields(), "req", Int(12))).req);
  EXPECT_EQ(RequestId(std::string("x")),
            Decode(With(SubmitFields(), "req", Str("x"))).req);
  EXPECT_EQ(RequestId(), Decode(Without(SubmitFields(), "req")).req);
  EXPECT_EQ(RequestId(), Decode(With(SubmitFields(), "req", Nil())).req);
}

// The original queued a job for each repetition of a player name.
TEST_F(AudienceProtocolTest, DuplicatePlayersAreRemovedKeepingOrder) {
  Fields fields =
      With(SubmitFields(), "players", Strings({"b", "a", "b", "c", "a"}));
  DecodedRequest decoded = Decode(fields);
  ASSERT_TRUE(decoded.op.has_value()) << decoded.error.message;
  const std::vector<std::string> expected = {"b", "a", "c"};
  EXPECT_EQ(expected, std::get<SubmitRequest>(*decoded.op).players);
}

// ---- request errors ----

// The original closed the socket without a word on a request it did not
// understand. Each of these now gets a reply naming the problem.
TEST_F(AudienceProtocolTest, UnreadableRequestIsBadRequest) {
  EXPECT_EQ("bad_request", CodeFor(std::string()));
  EXPECT_EQ("bad_request", CodeFor("{\"op\": \"status\", \"job\": 1}"));
  EXPECT_EQ("bad_request", CodeFor(Strings({"op", "status"}).Encode()));
  EXPECT_EQ("bad_request", CodeFor(Map(SubmitFields()).Encode() + '\xc0'));
  EXPECT_EQ("bad_request", CodeFor(Map(SubmitFields()).Encode().substr(0, 20)));
}

TEST_F(AudienceProtocolTest, ReqOfTheWrongTypeIsBadRequest) {
  EXPECT_EQ("bad_request", SubmitCodeWith("req", Float(1.5)));
  EXPECT_EQ("bad_request", SubmitCodeWith("req", Map({})));
  EXPECT_EQ("bad_request", SubmitCodeWith("req", Bool(true)));
  EXPECT_EQ("bad_request", SubmitCodeWith("req", Str(std::string(257, 'r'))));
}

TEST_F(AudienceProtocolTest, UnknownOpIsUnknownOp) {
  EXPECT_EQ("unknown_op", CodeFor({{"op", Str("launch")}}));
  EXPECT_EQ("unknown_op", CodeFor({{"op", Str("SUBMIT")}}));
  EXPECT_EQ("unknown_op", CodeFor({{"op", Str("")}}));
}

TEST_F(AudienceProtocolTest, OpMustBeAString) {
  EXPECT_EQ("missing_field", CodeFor({{"req", Int(1)}}));
  EXPECT_EQ("bad_request", CodeFor({{"op", Int(1)}}));
}

TEST_F(AudienceProtocolTest, ReqIsRecoveredWhenTheOpIsBad) {
  DecodedRequest decoded = Decode({{"op", Str("launch")}, {"req", Int(77)}});
  EXPECT_FALSE(decoded.op.has_value());
  EXPECT_EQ(ErrorCode::kUnknownOp, decoded.error.code);
  EXPECT_EQ(RequestId(int64_t{77}), decoded.req);
}

TEST_F(AudienceProtocolTest, ReqIsRecoveredWhenAFieldIsBad) {
  Fields fields = With(Without(SubmitFields(), "score"), "req", Str("abc"));
  DecodedRequest decoded = Decode(fields);
  EXPECT_EQ(ErrorCode::kMissingField, decoded.error.code);
  EXPECT_EQ(RequestId(std::string("abc")), decoded.req);
}

TEST_F(AudienceProtocolTest, MissingSubmitFieldsAreMissingField) {
  for (const char* key : {"score", "scope", "players"})
    EXPECT_EQ("missing_field", CodeFor(Without(SubmitFields(), key))) << key;
  EXPECT_EQ("missing_field", SubmitCodeWith("players", Array({})));
  EXPECT_EQ("missing_field", CodeFor({{"op", Str("status")}}));
  EXPECT_EQ("missing_field", CodeFor({{"op", Str("wait")}}));
  EXPECT_EQ("missing_field", CodeFor({{"op", Str("cancel")}}));
}

TEST_F(AudienceProtocolTest, ErrorMessageNamesTheField) {
  DecodedRequest decoded = Decode(Without(SubmitFields(), "players"));
  EXPECT_NE(std::string::npos, decoded.error.message.find("players"))
      << decoded.error.message;
}

TEST_F(AudienceProtocolTest, BadScopeIsInvalidScope) {
  EXPECT_EQ("invalid_scope", SubmitCodeWith("scope", Str("some")));
  EXPECT_EQ("invalid_scope", SubmitCodeWith("scope", Str("ALL")));
  EXPECT_EQ("bad_request", SubmitCodeWith("scope", Int(1)));
}

TEST_F(AudienceProtocolTest, BadPlayerNameIsInvalidPlayer) {
  for (const char* name : {"../x", "", ".web", "-web", "web 1", "web/1"})
    EXPECT_EQ("invalid_player",
              SubmitCodeWith("players", Strings({"ok", name})))
        << name;
  EXPECT_EQ("bad_request", SubmitCodeWith("players", Array({Int(1)})));
  EXPECT_EQ("bad_request", SubmitCodeWith("players", Str("web-1")));
}

TEST_F(AudienceProtocolTest, BadScoreNameIsRefused) {
  for (const char* name : {"../x", ".hidden", "a/b", ""})
    EXPECT_EQ("bad_request", SubmitCodeWith("score", Str(name))) << name;
  EXPECT_EQ("too_large", SubmitCodeWith("score", Str(std::string(129, 's'))));
}

TEST_F(AudienceProtocolTest, BadParamsAreInvalidParam) {
  EXPECT_EQ("invalid_param", ParamsCode({{"1st", Str("v")}}));
  EXPECT_EQ("invalid_param", ParamsCode({{"a-b", Str("v")}}));
  EXPECT_EQ("invalid_param", ParamsCode({{"k", Str(std::string("a\0b", 3))}}));
  EXPECT_EQ("invalid_param", ParamsCode({{"k", Str("\xC0\xAF")}}));
  EXPECT_EQ("invalid_param", ParamsCode({{"k", Str("\xED\xA0\x80")}}));
}

// A problem is classified by what it is, never by words the client chose:
// a key or a value mentioning "KiB" is still an invalid parameter.
TEST_F(AudienceProtocolTest, ParamProblemIsNotClassifiedByItsText) {
  EXPECT_EQ("invalid_param", ParamsCode({{"KiB-size", Str("v")}}));
  EXPECT_EQ("invalid_param", ParamsCode({{"KiB", Str(std::string("\0", 1))}}));
}

TEST_F(AudienceProtocolTest, ParamValuesMustBeStrings) {
  EXPECT_EQ("bad_request", ParamsCode({{"count", Int(3)}}));
  EXPECT_EQ("bad_request", SubmitCodeWith("params", Strings({"a=b"})));
}

TEST_F(AudienceProtocolTest, OversizedParamsAreTooLarge) {
  EXPECT_EQ("accepted", ParamsCode({{"k", Str(std::string(64 << 10, 'v'))}}));
  EXPECT_EQ("too_large",
            ParamsCode({{"k", Str(std::string((64 << 10) + 1, 'v'))}}));
  Fields total;
  for (char c = 'a'; c <= 'e'; ++c)
    total.emplace_back(std::string(1, c), Str(std::string(60 << 10, c)));
  EXPECT_EQ("too_large", ParamsCode(total));
}

TEST_F(AudienceProtocolTest, IdempotencyKeyIsLimitedTo128Bytes) {
  EXPECT_EQ("accepted", SubmitCodeWith("key", Str(std::string(128, 'k'))));
  EXPECT_EQ("too_large", SubmitCodeWith("key", Str(std::string(129, 'k'))));
}

TEST_F(AudienceProtocolTest, TooManyPlayersIsTooLarge) {
  std::vector<std::string> names;
  for (size_t i = 0; i < kMaxJobPlayers; ++i)
    names.push_back("p" + std::to_string(i));
  EXPECT_EQ("accepted", SubmitCodeWith("players", Strings(names)));
  names.push_back("one-too-many");
  EXPECT_EQ("too_large", SubmitCodeWith("players", Strings(names)));
}

TEST_F(AudienceProtocolTest, OutOfRangeNumbersAreBadRequest) {
  EXPECT_EQ("bad_request", SubmitCodeWith("timeout_s", Int(0)));
  EXPECT_EQ("bad_request", SubmitCodeWith("delivery_timeout_s", Int(-1)));
  EXPECT_EQ("bad_request", CodeFor({{"op", Str("status")}, {"job", Int(0)}}));
  EXPECT_EQ("bad_request", CodeFor({{"op", Str("jobs")}, {"limit", Int(0)}}));
  EXPECT_EQ(
      "bad_request",
      CodeFor({{"op", Str("wait")}, {"job", Int(1)}, {"timeout_ms", Int(-5)}}));
}

TEST_F(AudienceProtocolTest, UnknownJobStateFilterIsBadRequest) {
  EXPECT_EQ("bad_request",
            CodeFor({{"op", Str("jobs")}, {"state", Str("DONE")}}));
}

TEST_F(AudienceProtocolTest, EveryTruncationOfARequestIsBadRequest) {
  const std::string bytes = EncodeAudienceRequest({int64_t{9}, FullSubmit()});
  for (size_t size = 0; size < bytes.size(); ++size)
    ASSERT_EQ("bad_request", CodeFor(bytes.substr(0, size))) << size;
}

// ---- replies ----

TEST_F(AudienceProtocolTest, SubmitReplyRoundTrips) {
  EXPECT_EQ(
      42,
      std::get<SubmitReply>(RoundTripReply({int64_t{7}, SubmitReply{42}})).job);
}

TEST_F(AudienceProtocolTest, JobReplyRoundTripsWithTasks) {
  JobReply back = std::get<JobReply>(
      RoundTripReply({std::string("s"), JobReply{FullJob()}}));
  EXPECT_EQ(JobState::kPartialFail, back.job.state);
  EXPECT_EQ(3600, back.job.delivery_timeout_s);
  ASSERT_EQ(2u, back.job.tasks.size());
  EXPECT_EQ(TaskState::kFail, back.job.tasks[1].state);
  EXPECT_EQ(1795836000100, back.job.tasks[1].dispatched_at);
  EXPECT_FALSE(back.timed_out);
}

TEST_F(AudienceProtocolTest, TimedOutWaitReplyRoundTrips) {
  JobRecord job = FullJob();
  job.state = JobState::kPending;
  job.finished_at = 0;
  job.tasks[1].player.clear();  // a `one` task not yet given to a player
  JobReply back =
      std::get<JobReply>(RoundTripReply({int64_t{1}, JobReply{job, true}}));
  EXPECT_TRUE(back.timed_out);
  EXPECT_EQ("", back.job.tasks[1].player);
}

TEST_F(AudienceProtocolTest, JobsReplyRoundTrips) {
  JobsReply back = std::get<JobsReply>(RoundTripReply(
      {int64_t{2}, JobsReply{{FullSummary(9), FullSummary(8)}}}));
  ASSERT_EQ(2u, back.jobs.size());
  EXPECT_EQ(2, back.jobs[0].tasks_by_state.at("HOST_ERROR"));
  EXPECT_EQ(8, back.jobs[1].id);
  EXPECT_TRUE(
      std::get<JobsReply>(RoundTripReply({{}, JobsReply{}})).jobs.empty());
}

TEST_F(AudienceProtocolTest, PlayersReplyRoundTrips) {
  PlayersReply back = std::get<PlayersReply>(RoundTripReply(
      {int64_t{3}, PlayersReply{{FullPlayer("web-1"), FullPlayer("web-2")}}}));
  ASSERT_EQ(2u, back.players.size());
  EXPECT_TRUE(back.players[0].connected);
  EXPECT_EQ(1795836000500, back.players[1].last_seen);
  EXPECT_TRUE(std::get<PlayersReply>(RoundTripReply({{}, PlayersReply{}}))
                  .players.empty());
}

TEST_F(AudienceProtocolTest, APageOfARecordRoundTripsSayingWhatItLeftOut) {
  JobRecord job = FullJob();
  job.tasks_from = 7;
  job.tasks_total = 9;
  job.players_omitted = 1000;
  job.tasks[1].cut = true;
  JobReply back =
      std::get<JobReply>(RoundTripReply({int64_t{1}, JobReply{job}}));
  EXPECT_EQ(7, back.job.tasks_from);
  EXPECT_EQ(9, back.job.tasks_total.value_or(-1));
  EXPECT_EQ(1000, back.job.players_omitted);
  EXPECT_FALSE(back.job.tasks[0].cut);
  EXPECT_TRUE(back.job.tasks[1].cut);
  // A whole record says none of it.
  JobReply whole =
      std::get<JobReply>(RoundTripReply({int64_t{1}, JobReply{FullJob()}}));
  EXPECT_FALSE(whole.job.tasks_total.has_value());
  EXPECT_EQ(0, whole.job.players_omitted);
}

TEST_F(AudienceProtocolTest, ListsRoundTripWithWhatTheyLeftOut) {
  JobsReply jobs = std::get<JobsReply>(
      RoundTripReply({int64_t{2}, JobsReply{{FullSummary(9)}, 40}}));
  EXPECT_EQ(40, jobs.jobs_omitted);
  PlayersReply players = std::get<PlayersReply>(
      RoundTripReply({int64_t{3}, PlayersReply{{FullPlayer("a")}, 9999}}));
  EXPECT_EQ(9999, players.players_omitted);
}

TEST_F(AudienceProtocolTest, APageListingMoreTasksThanItsTotalIsRejected) {
  JobRecord job = FullJob();  // two tasks
  job.tasks_from = 1;
  job.tasks_total = 2;
  EXPECT_FALSE(
      DecodeAudienceReply(EncodeAudienceReply({int64_t{1}, JobReply{job}}))
          .ok());
  job.tasks_total = 3;
  EXPECT_OK(
      DecodeAudienceReply(EncodeAudienceReply({int64_t{1}, JobReply{job}}))
          .status());
  job.tasks_total = -1;
  EXPECT_FALSE(
      DecodeAudienceReply(EncodeAudienceReply({int64_t{1}, JobReply{job}}))
          .ok());
}

// EncodedSize is what the conductor fits replies with: it must be exactly
// what the encoder writes, for every size class of msgpack's strings,
// integers, maps and times.
TEST_F(AudienceProtocolTest, EncodedSizesAreExactlyWhatTheEncoderWrites) {
  auto job_reply = [](const JobRecord& job) {
    return EncodeAudienceReply({{}, JobReply{job}}).size();
  };
  JobRecord empty = FullJob();
  empty.tasks.clear();
  const size_t envelope = 18;  // {ok: true, kind: "job", job: ...}
  EXPECT_EQ(job_reply(empty), envelope + EncodedHeaderSize(empty));
  for (size_t bytes : {0, 1, 31, 32, 255, 256, 65535, 65536, 100000}) {
    for (int64_t n :
         {int64_t{0}, int64_t{-1}, int64_t{-33}, int64_t{-129}, int64_t{-40000},
          int64_t{-3000000000}, int64_t{127}, int64_t{200}, int64_t{60000},
          int64_t{70000}, int64_t{5000000000}}) {
      TaskRecord t = FullTask(n == 0 ? 1 : (n < 0 ? -n : n), "web-1");
      t.stdout_text = std::string(bytes, 'o');
      t.error = std::string(bytes / 2, 'x');
      t.exit_code = n;
      t.signal.reset();
      t.cut = bytes % 2 == 1;
      t.started_at = n == 0 ? 0 : t.started_at;
      t.finished_at = 253402300800000;  // the year 10000
      for (size_t i = 0; i < bytes / 4000; ++i)
        t.response["k" + std::to_string(i)] = "v";
      JobRecord one = empty;
      one.tasks = {t};
      one.tasks_total = n < 0 ? std::optional<int64_t>(-n) : std::nullopt;
      one.tasks_from = 0;
      one.players_omitted = bytes;
      JobRecord none = one;
      none.tasks.clear();
      ASSERT_EQ(job_reply(one) - job_reply(none), EncodedSize(t))
          << bytes << " " << n;
      ASSERT_EQ(job_reply(none), envelope + EncodedHeaderSize(none));
    }
  }
  JobSummary summary = FullSummary(1LL << 40);
  summary.score = std::string(128, 's');
  PlayerInfo player = FullPlayer(std::string(253, 'p'));
  player.scores.assign(70000, "score");
  EXPECT_EQ(EncodeAudienceReply({{}, JobsReply{{summary}}}).size() -
                EncodeAudienceReply({{}, JobsReply{}}).size(),
            EncodedSize(summary));
  EXPECT_EQ(EncodeAudienceReply({{}, PlayersReply{{player}}}).size() -
                EncodeAudienceReply({{}, PlayersReply{}}).size(),
            EncodedSize(player));
}

TEST_F(AudienceProtocolTest, ProgressReplyRoundTrips) {
  Progress progress{700, 1000, {{"OK", 690}, {"FAIL", 10}}};
  ProgressReply back = std::get<ProgressReply>(
      RoundTripReply({int64_t{4}, ProgressReply{progress}}));
  EXPECT_EQ(700, back.progress.done);
  EXPECT_EQ(1000, back.progress.total);
  EXPECT_EQ(progress.by_state, back.progress.by_state);
}

TEST_F(AudienceProtocolTest, ErrorReplyRoundTripsEveryCode) {
  for (int i = 0; i <= static_cast<int>(ErrorCode::kLastErrorCode); ++i) {
    const AudienceError error{static_cast<ErrorCode>(i), "why, and the fix",
                              ""};
    ErrorReply back =
        std::get<ErrorReply>(RoundTripReply({int64_t{i}, ErrorReply{error}}));
    EXPECT_EQ(error.code, back.error.code);
    EXPECT_EQ(error.message, back.error.message);
  }
}

TEST_F(AudienceProtocolTest, ReplyEchoesReqOfEitherKind) {
  EXPECT_EQ(
      RequestId(int64_t{-1}),
      DecodeAudienceReply(EncodeAudienceReply({int64_t{-1}, SubmitReply{1}}))
          .value()
          .req);
  EXPECT_EQ(RequestId(std::string("r-9")),
            DecodeAudienceReply(
                EncodeAudienceReply({std::string("r-9"), SubmitReply{1}}))
                .value()
                .req);
  EXPECT_EQ(RequestId(),
            DecodeAudienceReply(EncodeAudienceReply({{}, SubmitReply{1}}))
                .value()
                .req);
}

TEST_F(AudienceProtocolTest, ErrorCodeNamesParseBack) {
  for (int i = 0; i <= static_cast<int>(ErrorCode::kLastErrorCode); ++i) {
    ErrorCode parsed = ErrorCode::kBadRequest;
    ASSERT_TRUE(
        ParseErrorCode(ErrorCodeName(static_cast<ErrorCode>(i)), &parsed));
    EXPECT_EQ(i, static_cast<int>(parsed));
  }
  ErrorCode parsed;
  EXPECT_FALSE(ParseErrorCode("teapot", &parsed));
}

TEST_F(AudienceProtocolTest, MalformedRepliesAreRejected) {
  EXPECT_FALSE(DecodeAudienceReply("").ok());
  EXPECT_FALSE(DecodeAudienceReply(Int(1).Encode()).ok());
  EXPECT_FALSE(DecodeAudienceReply(Map({{"ok", Bool(true)}}).Encode()).ok());
  EXPECT_FALSE(DecodeAudienceReply(Map({{"ok", Bool(false)}}).Encode()).ok());
  // Each kind needs its fields; an unknown kind is refused.
  for (const char* kind :
       {"submit", "job", "jobs", "players", "progress", "error", "weird"})
    EXPECT_FALSE(DecodeAudienceReply(
                     Map({{"ok", Bool(true)}, {"kind", Str(kind)}}).Encode())
                     .ok())
        << kind;
  Mp bad_job = Map({{"id", Int(1)},
                    {"score", Str("s")},
                    {"scope", Str("one")},
                    {"state", Str("WEIRD")}});
  EXPECT_FALSE(
      DecodeAudienceReply(
          Map({{"ok", Bool(true)}, {"kind", Str("job")}, {"job", bad_job}})
              .Encode())
          .ok());
}

// Found by the audience_reply fuzz target's round trip: a count above
// INT64_MAX (in a progress reply's by_state or a job summary's tasks) was
// read as a negative count, which the encoder then wrote as a negative
// integer that the decoder refuses; a client would have shown "-1 done".
TEST_F(AudienceProtocolTest, CountsAboveInt64AreRejected) {
  const uint64_t too_big = uint64_t{1} << 63;
  Mp progress = Map({{"done", Int(0)},
                     {"total", Int(0)},
                     {"by_state", Map({{"OK", Uint(too_big)}})}});
  EXPECT_FALSE(
      DecodeAudienceReply(
          Map({{"kind", Str("progress")}, {"progress", progress}}).Encode())
          .ok());
  Mp summary = Map({{"id", Int(1)},
                    {"score", Str("s")},
                    {"scope", Str("one")},
                    {"state", Str("OK")},
                    {"tasks", Map({{"OK", Uint(too_big)}})}});
  EXPECT_FALSE(DecodeAudienceReply(Map({{"ok", Bool(true)},
                                        {"kind", Str("jobs")},
                                        {"jobs", Array({summary})}})
                                       .Encode())
                   .ok());
  Mp largest = Map({{"done", Int(0)},
                    {"total", Int(0)},
                    {"by_state", Map({{"OK", Uint(too_big - 1)}})}});
  EXPECT_OK(
      DecodeAudienceReply(
          Map({{"kind", Str("progress")}, {"progress", largest}}).Encode())
          .status());
}

TEST_F(AudienceProtocolTest, EveryTruncationOfAReplyIsRejected) {
  const std::string bytes =
      EncodeAudienceReply({int64_t{1}, JobReply{FullJob()}});
  for (size_t size = 0; size < bytes.size(); ++size)
    ASSERT_FALSE(DecodeAudienceReply(bytes.substr(0, size)).ok()) << size;
}

// ---- fleet operations (DESIGN.md section 13) ----

Fields AllSubmitFields() { return With(SubmitFields(), "scope", Str("all")); }

// Decodes a submit made of `fields`; the request, or an empty one.
SubmitRequest DecodeSubmit(const Fields& fields) {
  DecodedRequest decoded = DecodeAudienceRequest(Map(fields).Encode());
  EXPECT_TRUE(decoded.op.has_value()) << decoded.error.message;
  if (!decoded.op) return SubmitRequest{};
  return std::get<SubmitRequest>(*decoded.op);
}

TEST_F(AudienceProtocolTest, RolloutSubmitByTargetRoundTrips) {
  SubmitRequest m = FullSubmit();
  m.players.clear();
  m.target = "role=web dc=syd,mel name!=web-0*";
  m.max_concurrency = RolloutLimit{10, true};
  m.max_errors = RolloutLimit{2, false};
  m.priority = -100;
  SubmitRequest back =
      std::get<SubmitRequest>(RoundTripRequest({int64_t{7}, m}));
  EXPECT_TRUE(back.players.empty());
  EXPECT_EQ(m.target, back.target);
  EXPECT_EQ(m.max_concurrency, back.max_concurrency);
  EXPECT_EQ(m.max_errors, back.max_errors);
  EXPECT_EQ(-100, back.priority);
  // On the wire: "10%" as a string, 2 as an integer.
  DecodedRequest raw =
      Decode(With(With(With(AllSubmitFields(), "max_errors", Int(2)),
                       "max_concurrency", Str("10%")),
                  "priority", Int(100)));
  ASSERT_TRUE(raw.op.has_value()) << raw.error.message;
  const SubmitRequest& read = std::get<SubmitRequest>(*raw.op);
  EXPECT_EQ((RolloutLimit{10, true}), read.max_concurrency);
  EXPECT_EQ((RolloutLimit{2, false}), read.max_errors);
  EXPECT_EQ(100, read.priority);
}

// An old client sends none of the new fields, and a request without them
// is written as it always was: nothing new on the wire.
TEST_F(AudienceProtocolTest, SubmitWithoutTheNewFieldsReadsTheirDefaults) {
  SubmitRequest read = DecodeSubmit(SubmitFields());
  EXPECT_EQ("", read.target);
  EXPECT_FALSE(read.max_concurrency.has_value());
  EXPECT_FALSE(read.max_errors.has_value());
  EXPECT_EQ(0, read.priority);
  const std::string bytes = EncodeAudienceRequest({int64_t{1}, read});
  for (const char* key :
       {"target", "max_concurrency", "max_errors", "priority", "labels"})
    EXPECT_EQ(std::string::npos, bytes.find(key)) << key;
}

TEST_F(AudienceProtocolTest, PlayersAndTargetTogetherAreBadRequest) {
  DecodedRequest both = Decode(With(SubmitFields(), "target", Str("role=web")));
  ASSERT_FALSE(both.op.has_value());
  EXPECT_EQ(ErrorCode::kBadRequest, both.error.code);
  EXPECT_NE(std::string::npos, both.error.message.find("target"))
      << both.error.message;
  // An empty list is no list: the target alone names the players.
  SubmitRequest target_only = DecodeSubmit(
      With(With(SubmitFields(), "players", Array({})), "target", Str("web-*")));
  EXPECT_EQ("web-*", target_only.target);
  EXPECT_TRUE(target_only.players.empty());
  EXPECT_EQ("web-*", DecodeSubmit(With(Without(SubmitFields(), "players"),
                                       "target", Str("web-*")))
                         .target);
}

TEST_F(AudienceProtocolTest, NeitherPlayersNorTargetIsMissingField) {
  DecodedRequest neither = Decode(Without(SubmitFields(), "players"));
  ASSERT_FALSE(neither.op.has_value());
  EXPECT_EQ(ErrorCode::kMissingField, neither.error.code);
  EXPECT_NE(std::string::npos, neither.error.message.find("'target'"));
  EXPECT_EQ("missing_field", CodeFor(With(Without(SubmitFields(), "players"),
                                          "target", Str(""))));
  EXPECT_EQ("missing_field",
            CodeFor(With(Without(SubmitFields(), "players"), "target", Nil())));
}

TEST_F(AudienceProtocolTest, TargetIsAStringOfAtMost1KiB) {
  const Fields by_target = Without(SubmitFields(), "players");
  EXPECT_EQ("accepted",
            CodeFor(With(by_target, "target", Str(std::string(1024, 'a')))));
  EXPECT_EQ("too_large",
            CodeFor(With(by_target, "target", Str(std::string(1025, 'a')))));
  EXPECT_EQ("bad_request", CodeFor(With(by_target, "target", Int(3))));
  EXPECT_EQ("bad_request",
            CodeFor(With(by_target, "target", Strings({"role=web"}))));
}

// The decoder refuses them (the audience channel never sees such a job):
// a `one` job runs one task at a time and has no rollout.
TEST_F(AudienceProtocolTest, RolloutLimitsOnAOneJobAreBadRequest) {
  for (const char* key : {"max_concurrency", "max_errors"}) {
    DecodedRequest one = Decode(With(SubmitFields(), key, Int(1)));
    ASSERT_FALSE(one.op.has_value()) << key;
    EXPECT_EQ(ErrorCode::kBadRequest, one.error.code) << key;
    EXPECT_NE(std::string::npos, one.error.message.find("'all'"))
        << one.error.message;
    EXPECT_EQ("accepted", CodeFor(With(AllSubmitFields(), key, Int(1)))) << key;
  }
  // Nil is absent.
  EXPECT_EQ("accepted", CodeFor(With(SubmitFields(), "max_errors", Nil())));
  // A priority is for any job.
  EXPECT_EQ("accepted", CodeFor(With(SubmitFields(), "priority", Int(5))));
}

TEST_F(AudienceProtocolTest, MaxConcurrencyIsFromOneOrOneToHundredPercent) {
  auto code = [](Mp value) {
    return CodeFor(With(AllSubmitFields(), "max_concurrency", value));
  };
  for (Mp ok : {Int(1), Int(2), Int(100000), Int(INT64_MAX), Str("1%"),
                Str("50%"), Str("100%")})
    EXPECT_EQ("accepted", code(ok));
  for (Mp bad :
       {Int(0), Int(-1), Uint(uint64_t{1} << 63), Str("0%"), Str("101%"),
        Str("-5%"), Str("5"), Str("%"), Str("5 %"), Str("10.5%"), Str("+5%"),
        Str("ten%"), Str(""), Float(2.5), Bool(true), Strings({"5%"})})
    EXPECT_EQ("bad_request", code(bad));
  DecodedRequest zero =
      Decode(With(AllSubmitFields(), "max_concurrency", Int(0)));
  EXPECT_NE(std::string::npos, zero.error.message.find("max_concurrency"))
      << zero.error.message;
  EXPECT_NE(std::string::npos, zero.error.message.find("\"1%\""))
      << zero.error.message;
}

TEST_F(AudienceProtocolTest, MaxErrorsIsFromZeroOrZeroToHundredPercent) {
  auto code = [](Mp value) {
    return CodeFor(With(AllSubmitFields(), "max_errors", value));
  };
  for (Mp ok :
       {Int(0), Int(1), Int(INT64_MAX), Str("0%"), Str("1%"), Str("100%")})
    EXPECT_EQ("accepted", code(ok));
  for (Mp bad :
       {Int(-1), Str("101%"), Str("-0%"), Str("0"), Str("1e2%"), Float(0.5)})
    EXPECT_EQ("bad_request", code(bad));
  EXPECT_EQ("accepted", code(Nil()));  // nil is absent
}

TEST_F(AudienceProtocolTest, PriorityIsFromMinusHundredToHundred) {
  for (int64_t ok : {-100, -1, 0, 1, 100})
    EXPECT_EQ("accepted", SubmitCodeWith("priority", Int(ok))) << ok;
  for (int64_t bad : {int64_t{-101}, int64_t{101}, int64_t{1} << 40})
    EXPECT_EQ("bad_request", SubmitCodeWith("priority", Int(bad))) << bad;
  EXPECT_EQ("bad_request", SubmitCodeWith("priority", Str("high")));
}

TEST_F(AudienceProtocolTest, PlayersByTargetRoundTrips) {
  PlayersRequest m{"web-1", 10, "role=web"};
  PlayersRequest back =
      std::get<PlayersRequest>(RoundTripRequest({int64_t{2}, m}));
  EXPECT_EQ("role=web", back.target);
  EXPECT_EQ("web-1", back.after);
  EXPECT_EQ(10, back.limit);
  EXPECT_EQ("too_large", CodeFor({{"op", Str("players")},
                                  {"target", Str(std::string(16385, 'x'))}}));
}

TEST_F(AudienceProtocolTest, RecordsCarryTargetRolloutPriorityAndWaiting) {
  JobRecord job = FullJob();
  job.target = "role=web";
  job.max_concurrency = RolloutLimit{1, false};
  job.max_errors = RolloutLimit{0, true};
  job.priority = 7;
  job.state = JobState::kPending;
  job.tasks[1].state = TaskState::kQueued;
  job.tasks[1].waiting = WaitReason::kRollout;
  job.tasks[0].state = TaskState::kSkipped;
  JobReply back =
      std::get<JobReply>(RoundTripReply({int64_t{1}, JobReply{job}}));
  EXPECT_EQ("role=web", back.job.target);
  EXPECT_EQ(job.max_concurrency, back.job.max_concurrency);
  EXPECT_EQ(job.max_errors, back.job.max_errors);
  EXPECT_EQ(7, back.job.priority);
  EXPECT_EQ(TaskState::kSkipped, back.job.tasks[0].state);
  EXPECT_FALSE(back.job.tasks[0].waiting.has_value());
  EXPECT_EQ(WaitReason::kRollout, back.job.tasks[1].waiting);
  // Every reason by its wire name.
  for (int i = 0; i < kWaitReasonCount; ++i) {
    job.tasks[1].waiting = static_cast<WaitReason>(i);
    EXPECT_EQ(job.tasks[1].waiting,
              std::get<JobReply>(RoundTripReply({{}, JobReply{job}}))
                  .job.tasks[1]
                  .waiting);
  }
  EXPECT_STREQ("player_offline", WaitReasonName(WaitReason::kPlayerOffline));
  EXPECT_STREQ("earlier_jobs", WaitReasonName(WaitReason::kEarlierJobs));
}

TEST_F(AudienceProtocolTest, AnUnknownWaitingReasonIsRejected) {
  Mp task = Map(
      {{"task", Int(1)}, {"state", Str("QUEUED")}, {"waiting", Str("lunch")}});
  Mp job = Map({{"id", Int(1)},
                {"score", Str("s")},
                {"scope", Str("all")},
                {"state", Str("PENDING")},
                {"tasks", Array({task})}});
  EXPECT_FALSE(DecodeAudienceReply(
                   Map({{"ok", Bool(true)}, {"kind", Str("job")}, {"job", job}})
                       .Encode())
                   .ok());
}

TEST_F(AudienceProtocolTest, SummariesAndPlayersCarryTargetsAndLabels) {
  JobSummary summary = FullSummary(9);
  summary.target = "dc=syd";
  summary.priority = -3;
  PlayerInfo player = FullPlayer("web-1");
  player.labels = {{"role", "web"}, {"dc", "syd"}};
  JobsReply jobs =
      std::get<JobsReply>(RoundTripReply({int64_t{2}, JobsReply{{summary}}}));
  EXPECT_EQ("dc=syd", jobs.jobs[0].target);
  EXPECT_EQ(-3, jobs.jobs[0].priority);
  PlayersReply players = std::get<PlayersReply>(
      RoundTripReply({int64_t{3}, PlayersReply{{player, FullPlayer("x")}}}));
  EXPECT_EQ(player.labels, players.players[0].labels);
  EXPECT_TRUE(players.players[1].labels.empty());
  // The sizes the conductor fits replies with count the new fields too.
  EXPECT_EQ(EncodeAudienceReply({{}, JobsReply{{summary}}}).size() -
                EncodeAudienceReply({{}, JobsReply{}}).size(),
            EncodedSize(summary));
  EXPECT_EQ(EncodeAudienceReply({{}, PlayersReply{{player}}}).size() -
                EncodeAudienceReply({{}, PlayersReply{}}).size(),
            EncodedSize(player));
  JobRecord job = FullJob();
  job.target = std::string(300, 't');
  job.max_concurrency = RolloutLimit{100, true};
  job.tasks[0].waiting = WaitReason::kPlayerBusy;
  JobRecord header = job;
  header.tasks.clear();
  EXPECT_EQ(EncodedHeaderSize(job), EncodedHeaderSize(header));
  EXPECT_EQ(EncodeAudienceReply({{}, JobReply{job}}).size(),
            18 + EncodedHeaderSize(job) + EncodedSize(job.tasks[0]) +
                EncodedSize(job.tasks[1]));
}

TEST_F(AudienceProtocolTest, InvalidTargetIsAnErrorCode) {
  ErrorCode code = ErrorCode::kBadRequest;
  ASSERT_TRUE(ParseErrorCode("invalid_target", &code));
  EXPECT_EQ(ErrorCode::kInvalidTarget, code);
  ErrorReply back = std::get<ErrorReply>(RoundTripReply(
      {int64_t{5}, ErrorReply{{ErrorCode::kInvalidTarget, "no player", {}}}}));
  EXPECT_EQ(ErrorCode::kInvalidTarget, back.error.code);
}

// ---- sql (DESIGN.md section 17) ----

TEST_F(AudienceProtocolTest, SqlRequestRoundTrips) {
  SqlRequest back = std::get<SqlRequest>(RoundTripRequest(
      {int64_t{3}, SqlRequest{"SELECT id, state FROM jobs LIMIT 5"}}));
  EXPECT_EQ("SELECT id, state FROM jobs LIMIT 5", back.sql);
  EXPECT_STREQ("sql", OpName(back));
}

TEST_F(AudienceProtocolTest, SqlStatementIsBoundedAndNotEmpty) {
  auto code = [](Mp sql) {
    return CodeFor({{"op", Str("sql")}, {"req", Int(1)}, {"sql", sql}});
  };
  EXPECT_EQ("accepted", code(Str("SELECT 1")));
  EXPECT_EQ("accepted",
            code(Str(std::string(kMaxSqlBytes - 8, ' ') + "SELECT 1")));
  EXPECT_EQ("too_large", code(Str(std::string(kMaxSqlBytes + 1, 'x'))));
  EXPECT_EQ("missing_field", code(Str(" \n ")));
  EXPECT_EQ("missing_field", CodeFor({{"op", Str("sql")}}));
  EXPECT_EQ("bad_request", code(Str(std::string("SELECT 1\0", 9))));
  EXPECT_EQ("bad_request", code(Int(1)));
}

TEST_F(AudienceProtocolTest, SqlReplyRoundTripsEveryKindOfValue) {
  SqlReply m;
  m.columns = {"id", "ratio", "name", "gone"};
  m.rows = {{int64_t{1}, 0.5, std::string("web-1"), std::monostate{}},
            {int64_t{-2}, -1e300, std::string(""), int64_t{INT64_MAX}}};
  m.truncated = true;
  SqlReply back = std::get<SqlReply>(RoundTripReply({int64_t{4}, m}));
  EXPECT_EQ(m.columns, back.columns);
  EXPECT_EQ(m.rows, back.rows);
  EXPECT_TRUE(back.truncated);
  EXPECT_STREQ("sql", ReplyKind(back));
}

TEST_F(AudienceProtocolTest, SqlReplyWithoutRowsRoundTrips) {
  SqlReply back =
      std::get<SqlReply>(RoundTripReply({int64_t{4}, SqlReply{{"n"}, {}}}));
  EXPECT_EQ(std::vector<std::string>{"n"}, back.columns);
  EXPECT_TRUE(back.rows.empty());
  EXPECT_FALSE(back.truncated);
}

TEST_F(AudienceProtocolTest, MalformedSqlRepliesAreRefused) {
  auto decodes = [](Mp columns, Mp rows) {
    return DecodeAudienceReply(Map({{"ok", Bool(true)},
                                    {"kind", Str("sql")},
                                    {"columns", columns},
                                    {"rows", rows}})
                                   .Encode())
        .ok();
  };
  EXPECT_TRUE(decodes(Strings({"a"}), Array({Array({Float(1.5)})})));
  EXPECT_FALSE(decodes(Strings({"a"}), Array({Array({Int(1), Int(2)})})));
  EXPECT_FALSE(decodes(Strings({"a"}), Array({Array({Map({})})})));
  EXPECT_FALSE(decodes(Strings({"a"}), Array({Int(1)})));
  EXPECT_FALSE(decodes(Strings({"a"}), Array({Array({Uint(UINT64_MAX)})})));
  EXPECT_FALSE(decodes(Strings({"a"}), Int(1)));
  std::vector<std::string> many(kMaxSqlColumns + 1, "c");
  EXPECT_FALSE(decodes(Strings(many), Array({})));
  EXPECT_FALSE(decodes(Strings({std::string(kMaxSqlColumnNameBytes + 1, 'c')}),
                       Array({})));
}

}  // namespace
}  // namespace orchestra::broker
