// Tests for broker/protocol.h, the player channel codec: every message
// round trips with every field, and malformed or hostile input of any shape
// is rejected with a Status, never a crash or a huge allocation.

#include "broker/protocol.h"

#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

#include "broker/wire.h"  // kMaxArray, kMaxMapEntries, kMaxString
#include "test/msgpack_builder.h"
#include "test/test_util.h"

namespace orchestra::broker {
namespace {

using common::Result;

// Hand-built msgpack values (test/msgpack_builder.h), for hostile messages.
using test::Array;
using test::Bool;
using test::Fields;
using test::Float;
using test::Int;
using test::Map;
using test::Mp;
using test::Nil;
using test::Str;
using test::Uint;
using test::With;
using test::Without;

// ---- sample messages with every field set to something not default ----

const std::string kSha(64, 'c');

Hello FullHello() {
  return Hello{
      1,
      "0.9.1",
      8,
      {{"backup", kSha, "env"}, {"deploy", std::string(64, 'f'), "pipe"}},
      {{7, false}, {9, true}}};
}
RunTask FullRunTask() {
  return RunTask{41, 17, "backup", {{"mode", "full"}, {"target", "/srv"}}, 600};
}
TaskResult FullResult() {
  TaskResult m;
  m.task = 41;
  m.state = TaskState::kTimeout;
  m.exit_code = 3;
  m.signal = 15;
  m.stdout_text = "copied 3 files\n";
  m.stderr_text = "warning: slow disk\n";
  m.stdout_truncated = true;
  m.stderr_truncated = true;
  m.response = {{"bytes", "1024"}, {"files", "3"}};
  m.started_at = 1795836000123;
  m.finished_at = 1795836060456;
  m.error = "killed after 600 s";
  return m;
}

// Field lists written from DESIGN.md section 4, not from our encoder.
Mp ScoreMap(const std::string& name) {
  return Map(
      {{"name", Str(name)}, {"sha256", Str(kSha)}, {"interface", Str("env")}});
}
Fields HelloFields() {
  return {{"type", Str("hello")},
          {"proto", Int(1)},
          {"version", Str("0.9")},
          {"slots", Int(4)},
          {"scores", Array({ScoreMap("backup")})},
          {"tasks", Array({Map({{"task", Int(5)}, {"state", Str("done")}})})}};
}
Fields TaskFields() {
  return {{"type", Str("task")},
          {"task", Int(41)},
          {"job", Int(17)},
          {"score", Str("backup")},
          {"params", Map({{"target", Str("/srv")}})},
          {"timeout_s", Int(60)}};
}
Fields ResultFields() {
  return {{"type", Str("result")},
          {"task", Int(41)},
          {"state", Str("OK")},
          {"exit_code", Int(0)},
          {"signal", Nil()},
          {"stdout", Str("hi\n")},
          {"stderr", Str("")},
          {"stdout_truncated", Bool(false)},
          {"stderr_truncated", Bool(false)},
          {"response", Map({{"k", Str("v")}})},
          {"started_at", Str("2026-11-28T03:20:00.123Z")},
          {"finished_at", Str("2026-11-28T03:20:01.000Z")},
          {"error", Str("")}};
}
Fields WelcomeFields() {
  return {
      {"type", Str("welcome")}, {"proto", Int(1)}, {"heartbeat_ms", Int(1000)}};
}

class ProtocolTest : public testing::Test {
 protected:
  // Every message type, each with every field set.
  static std::vector<PlayerMessage> AllMessages() {
    return {FullHello(),
            Welcome{1, 2500},
            SessionError{"proto_mismatch", "protocol 2 is not supported"},
            FullRunTask(),
            Accepted{41},
            FullResult(),
            ResultAck{41},
            CancelTask{41},
            ScoreList{{{"backup", kSha, "pipe"}}},
            Heartbeat{}};
  }
  // Every sample as hand-built fields, for the field-by-field tests.
  static std::vector<Fields> AllFieldLists() {
    return {HelloFields(),
            WelcomeFields(),
            TaskFields(),
            ResultFields(),
            {{"type", Str("error")}, {"code", Str("x")}, {"message", Str("y")}},
            {{"type", Str("accepted")}, {"task", Int(1)}},
            {{"type", Str("result_ack")}, {"task", Int(1)}},
            {{"type", Str("cancel")}, {"task", Int(1)}},
            {{"type", Str("scores")}, {"scores", Array({ScoreMap("a")})}},
            {{"type", Str("heartbeat")}}};
  }

  // Encodes, decodes and checks that re-encoding gives the same bytes, so
  // no field was lost on the way. Returns the decoded message.
  static PlayerMessage RoundTrip(const PlayerMessage& message) {
    const std::string bytes = EncodePlayerMessage(message);
    Result<PlayerMessage> decoded = DecodePlayerMessage(bytes);
    EXPECT_OK(decoded.status());
    if (!decoded.ok()) return Heartbeat{};
    EXPECT_EQ(message.index(), decoded.value().index());
    EXPECT_EQ(bytes, EncodePlayerMessage(decoded.value()));
    return decoded.value();
  }
  static Result<PlayerMessage> Decode(const Fields& fields) {
    return DecodePlayerMessage(Map(fields).Encode());
  }
  // Why `bytes` was rejected; a failure (and "") if it was accepted.
  static std::string Rejection(const std::string& bytes) {
    Result<PlayerMessage> decoded = DecodePlayerMessage(bytes);
    EXPECT_FALSE(decoded.ok()) << "accepted " << bytes.size() << " bytes";
    if (decoded.ok()) return "";
    EXPECT_EQ(common::Status::Code::kInvalidArgument, decoded.status().code());
    return decoded.status().message();
  }
  static std::string Rejection(const Fields& fields) {
    return Rejection(Map(fields).Encode());
  }
  static testing::AssertionResult Mentions(const std::string& text,
                                           const std::string& part) {
    if (text.find(part) != std::string::npos)
      return testing::AssertionSuccess();
    return testing::AssertionFailure()
           << "'" << text << "' does not mention '" << part << "'";
  }
  static RunTask TaskWithParams(StringMap params) {
    RunTask m = FullRunTask();
    m.params = std::move(params);
    return m;
  }
};

// ---- round trips ----

TEST_F(ProtocolTest, HelloRoundTrips) {
  Hello back = std::get<Hello>(RoundTrip(FullHello()));
  EXPECT_EQ(8, back.slots);
  ASSERT_EQ(2u, back.scores.size());
  EXPECT_EQ("pipe", back.scores[1].interface);
  ASSERT_EQ(2u, back.tasks.size());
  EXPECT_TRUE(back.tasks[1].done);
}

TEST_F(ProtocolTest, WelcomeRoundTrips) {
  Welcome back = std::get<Welcome>(RoundTrip(Welcome{1, 2500}));
  EXPECT_EQ(1, back.proto);
  EXPECT_EQ(2500, back.heartbeat_ms);
}

TEST_F(ProtocolTest, SessionErrorRoundTrips) {
  SessionError back =
      std::get<SessionError>(RoundTrip(SessionError{"proto", "too new"}));
  EXPECT_EQ("proto", back.code);
  EXPECT_EQ("too new", back.message);
}

TEST_F(ProtocolTest, RunTaskRoundTrips) {
  RunTask back = std::get<RunTask>(RoundTrip(FullRunTask()));
  EXPECT_EQ(41, back.task);
  EXPECT_EQ(17, back.job);
  EXPECT_EQ("/srv", back.params.at("target"));
  EXPECT_EQ(600, back.timeout_s);
}

TEST_F(ProtocolTest, RunTaskWithoutTimeoutRoundTrips) {
  RunTask m = FullRunTask();
  m.timeout_s.reset();
  m.params.clear();
  RunTask back = std::get<RunTask>(RoundTrip(m));
  EXPECT_FALSE(back.timeout_s.has_value());
  EXPECT_TRUE(back.params.empty());
}

TEST_F(ProtocolTest, TaskResultRoundTrips) {
  TaskResult back = std::get<TaskResult>(RoundTrip(FullResult()));
  EXPECT_EQ(TaskState::kTimeout, back.state);
  EXPECT_EQ(3, back.exit_code);
  EXPECT_EQ(15, back.signal);
  EXPECT_TRUE(back.stderr_truncated);
  EXPECT_EQ(1795836060456, back.finished_at);
  EXPECT_EQ("killed after 600 s", back.error);
}

TEST_F(ProtocolTest, TaskResultWithUnsetFieldsRoundTrips) {
  TaskResult m;
  m.task = 5;
  m.state = TaskState::kHostError;
  TaskResult back = std::get<TaskResult>(RoundTrip(m));
  EXPECT_FALSE(back.exit_code.has_value());
  EXPECT_FALSE(back.signal.has_value());
  EXPECT_EQ(0, back.started_at);
}

TEST_F(ProtocolTest, EveryPlayerResultStateRoundTrips) {
  for (TaskState state : {TaskState::kOk, TaskState::kFail, TaskState::kTimeout,
                          TaskState::kCancelled, TaskState::kUnkScore,
                          TaskState::kHostError, TaskState::kLost}) {
    TaskResult m = FullResult();
    m.state = state;
    EXPECT_EQ(state, std::get<TaskResult>(RoundTrip(m)).state);
  }
}

TEST_F(ProtocolTest, TaskOnlyMessagesRoundTrip) {
  EXPECT_EQ(41, std::get<Accepted>(RoundTrip(Accepted{41})).task);
  EXPECT_EQ(42, std::get<ResultAck>(RoundTrip(ResultAck{42})).task);
  EXPECT_EQ(43, std::get<CancelTask>(RoundTrip(CancelTask{43})).task);
}

TEST_F(ProtocolTest, ScoreListRoundTrips) {
  ScoreList back =
      std::get<ScoreList>(RoundTrip(ScoreList{{{"backup", kSha, "pipe"}}}));
  ASSERT_EQ(1u, back.scores.size());
  EXPECT_EQ("backup", back.scores[0].name);
  EXPECT_EQ(kSha, back.scores[0].sha256);
}

TEST_F(ProtocolTest, MessagesWithNothingInThemRoundTrip) {
  EXPECT_TRUE(std::holds_alternative<Heartbeat>(RoundTrip(Heartbeat{})));
  EXPECT_TRUE(std::get<ScoreList>(RoundTrip(ScoreList{})).scores.empty());
  Hello bare = std::get<Hello>(RoundTrip(Hello{1, "", 1, {}, {}}));
  EXPECT_TRUE(bare.scores.empty() && bare.tasks.empty());
}

TEST_F(ProtocolTest, MessageTypeNamesTheWireType) {
  const std::vector<std::string> expected = {
      "hello",  "welcome",    "error",  "task",   "accepted",
      "result", "result_ack", "cancel", "scores", "heartbeat"};
  std::vector<std::string> names;
  for (const PlayerMessage& m : AllMessages()) names.push_back(MessageType(m));
  EXPECT_EQ(expected, names);
}

TEST_F(ProtocolTest, DecodesTheFieldNamesOfTheDesign) {
  for (const Fields& fields : AllFieldLists()) {
    common::Status s = Decode(fields).status();
    EXPECT_TRUE(s.ok()) << s.ToString();
  }
  TaskResult r = std::get<TaskResult>(Decode(ResultFields()).value());
  EXPECT_EQ(1795836000123, r.started_at);
  EXPECT_EQ("v", r.response.at("k"));
}

TEST_F(ProtocolTest, OptionalFieldsMayBeLeftOut) {
  EXPECT_OK(
      Decode(Without(Without(HelloFields(), "version"), "tasks")).status());
  EXPECT_OK(
      Decode(Without(Without(TaskFields(), "params"), "timeout_s")).status());
  EXPECT_OK(Decode(Without(Without(Without(ResultFields(), "response"),
                                   "stdout_truncated"),
                           "error"))
                .status());
}

// A result names every part of the outcome (PROTOCOL.md): a bare
// {type, task, state} used to be stored as OK with no exit code or output,
// and the full result sent after it was ignored.
TEST_F(ProtocolTest, AResultWithoutItsRequiredFieldsIsRefused) {
  EXPECT_FALSE(
      Decode({{"type", Str("result")}, {"task", Int(1)}, {"state", Str("OK")}})
          .ok());
  for (const char* key : {"task", "state", "exit_code", "signal", "stdout",
                          "stderr", "started_at", "finished_at"})
    EXPECT_FALSE(Decode(Without(ResultFields(), key)).ok()) << key;
  // Present but nil: no exit code (a signal ended it), not started.
  Fields nils = ResultFields();
  for (auto& [key, value] : nils) {
    if (key == "exit_code" || key == "started_at") value = Nil();
  }
  EXPECT_OK(Decode(nils).status());
}

// ---- regressions of the original ----

// The original framed messages with a 16-bit length and read each frame
// with one read(): a payload of 64 KiB or more could not be encoded (the
// conductor exited on big task parameters) and one over a TLS record was
// dropped. A task whose parameters total 192 KiB must now simply arrive.
TEST_F(ProtocolTest, RunTaskOfMoreThan64KiBRoundTrips) {
  RunTask m = TaskWithParams({{"a", std::string(64 << 10, 'a')},
                              {"b", std::string(64 << 10, 'b')},
                              {"c", std::string(64 << 10, 'c')}});
  const std::string bytes = EncodePlayerMessage(m);
  EXPECT_GT(bytes.size(), 192u << 10);
  EXPECT_EQ(m.params, std::get<RunTask>(RoundTrip(m)).params);
}

// The same 16-bit frame made the original player exit when a score's
// response was 64 KiB or more. Outputs of 1 MiB per stream and a response
// with 64 KiB values must come back whole.
TEST_F(ProtocolTest, ResultWithOneMiBOutputsRoundTrips) {
  TaskResult m = FullResult();
  m.stdout_text = std::string(kMaxOutputBytes, 'o');
  m.stderr_text = std::string(kMaxOutputBytes, 'e');
  m.response = {{"blob", std::string(kMaxResponseBytes, 'r')}};
  TaskResult back = std::get<TaskResult>(RoundTrip(m));
  EXPECT_EQ(m.stdout_text, back.stdout_text);
  EXPECT_EQ(m.stderr_text, back.stderr_text);
  EXPECT_EQ(m.response, back.response);
}

// Exactly 64 KiB was the first size the original could not send.
TEST_F(ProtocolTest, ResultOfExactly64KiBRoundTrips) {
  TaskResult m = FullResult();
  m.stdout_text.clear();
  // The empty stdout takes 1 byte; a str16 header takes 3.
  const size_t rest = EncodePlayerMessage(m).size() - 1 + 3;
  m.stdout_text = std::string((64 << 10) - rest, 'x');
  ASSERT_EQ(size_t{64 << 10}, EncodePlayerMessage(m).size());
  EXPECT_EQ(m.stdout_text, std::get<TaskResult>(RoundTrip(m)).stdout_text);
}

// The original appears to crash on a zero-length identify message; an
// empty message is now just refused.
TEST_F(ProtocolTest, EmptyMessageIsRejected) {
  EXPECT_TRUE(Mentions(Rejection(std::string()), "msgpack"));
  EXPECT_TRUE(Mentions(Rejection(Map({}).Encode()), "type"));
  EXPECT_TRUE(Mentions(Rejection({{"type", Str("hello")}}), "proto"));
}

// ---- malformed input ----

// The original player exited on any undecodable message. Each cut of a
// valid message is now a plain error.
TEST_F(ProtocolTest, EveryTruncationOfEveryMessageIsRejected) {
  for (const PlayerMessage& m : AllMessages()) {
    const std::string bytes = EncodePlayerMessage(m);
    for (size_t size = 0; size < bytes.size(); ++size) {
      ASSERT_FALSE(DecodePlayerMessage(bytes.substr(0, size)).ok())
          << MessageType(m) << " cut at " << size;
    }
  }
}

TEST_F(ProtocolTest, TrailingBytesAreRejected) {
  for (const PlayerMessage& m : AllMessages()) {
    std::string bytes = EncodePlayerMessage(m) + '\xc0';
    EXPECT_TRUE(Mentions(Rejection(bytes), "trailing")) << MessageType(m);
  }
}

TEST_F(ProtocolTest, NotMsgpackIsRejected) {
  EXPECT_FALSE(Rejection("GET / HTTP/1.1\r\n\r\n").empty());
  EXPECT_FALSE(Rejection(std::string("\xc1", 1)).empty());  // never used
  EXPECT_FALSE(Rejection(std::string("\xd4\x01\x02", 3)).empty());  // ext
}

TEST_F(ProtocolTest, NonMapIsRejected) {
  EXPECT_TRUE(Mentions(Rejection(Int(1).Encode()), "map"));
  EXPECT_TRUE(Mentions(Rejection(Str("hello").Encode()), "map"));
  EXPECT_TRUE(Mentions(Rejection(Array({Str("hello")}).Encode()), "map"));
  EXPECT_TRUE(Mentions(Rejection(Nil().Encode()), "map"));
}

TEST_F(ProtocolTest, MissingOrUnknownTypeIsRejected) {
  EXPECT_TRUE(Mentions(Rejection(Fields{}), "type"));
  EXPECT_TRUE(Mentions(Rejection({{"type", Str("launch")}}), "launch"));
  EXPECT_TRUE(Mentions(Rejection({{"type", Str("HELLO")}}), "HELLO"));
  EXPECT_TRUE(Mentions(Rejection({{"type", Int(1)}}), "type"));
  EXPECT_TRUE(
      Mentions(Rejection({{"type", Str(std::string(33, 'x'))}}), "type"));
}

TEST_F(ProtocolTest, EachRequiredFieldIsRequired) {
  const std::vector<std::pair<Fields, std::vector<std::string>>> cases = {
      {HelloFields(), {"proto", "slots", "scores"}},
      {WelcomeFields(), {"proto", "heartbeat_ms"}},
      {TaskFields(), {"task", "job", "score"}},
      {ResultFields(), {"task", "state"}},
      {AllFieldLists()[4], {"code"}},
      {AllFieldLists()[5], {"task"}},
      {AllFieldLists()[8], {"scores"}}};
  for (const auto& [fields, required] : cases) {
    for (const std::string& key : required)
      EXPECT_TRUE(Mentions(Rejection(Without(fields, key)), key));
  }
}

TEST_F(ProtocolTest, NilCountsAsMissing) {
  EXPECT_TRUE(Mentions(Rejection(With(TaskFields(), "job", Nil())), "job"));
  EXPECT_TRUE(
      Mentions(Rejection(With(ResultFields(), "state", Nil())), "state"));
  EXPECT_OK(Decode(With(TaskFields(), "timeout_s", Nil())).status());
}

TEST_F(ProtocolTest, EveryFieldOfTheWrongTypeIsRejected) {
  for (const Fields& fields : AllFieldLists()) {
    for (const auto& [key, value] : fields) {
      if (key == "type") continue;
      EXPECT_TRUE(Mentions(Rejection(With(fields, key, Float(1.5))), key));
    }
  }
}

TEST_F(ProtocolTest, IntegersAsStringsAreRejected) {
  EXPECT_TRUE(
      Mentions(Rejection(With(HelloFields(), "slots", Str("4"))), "slots"));
  EXPECT_TRUE(
      Mentions(Rejection(With(TaskFields(), "task", Str("41"))), "task"));
  EXPECT_TRUE(
      Mentions(Rejection(With(ResultFields(), "stdout_truncated", Int(1))),
               "stdout_truncated"));
}

TEST_F(ProtocolTest, OutOfRangeIntegersAreRejected) {
  const std::vector<std::pair<std::string, Mp>> task_cases = {
      {"task", Int(0)},
      {"task", Int(-1)},
      {"job", Int(0)},
      {"task", Uint(UINT64_MAX)},
      {"job", Int(INT64_MIN)},
      {"timeout_s", Int(-1)},
      {"timeout_s", Int(INT64_MAX)}};
  for (const auto& [key, value] : task_cases)
    EXPECT_TRUE(Mentions(Rejection(With(TaskFields(), key, value)), key));
  for (int64_t slots :
       {int64_t{0}, int64_t{-1}, int64_t{kMaxSlots} + 1, int64_t{4096}})
    EXPECT_FALSE(Rejection(With(HelloFields(), "slots", Int(slots))).empty());
  EXPECT_FALSE(
      Rejection(With(WelcomeFields(), "heartbeat_ms", Int(5))).empty());
}

TEST_F(ProtocolTest, ExitCodeAndSignalMustBeRealOnes) {
  for (int64_t code : {-2, 256, 100000})
    EXPECT_FALSE(
        Rejection(With(ResultFields(), "exit_code", Int(code))).empty());
  for (int64_t signal : {0, 129, -9})
    EXPECT_FALSE(
        Rejection(With(ResultFields(), "signal", Int(signal))).empty());
}

TEST_F(ProtocolTest, ResultStateMustBeOneAPlayerReports) {
  for (const char* state : {"QUEUED", "DISPATCHED", "RUNNING", "ABORTED",
                            "EXPIRED", "ok", "SUCCESS", ""}) {
    EXPECT_FALSE(Rejection(With(ResultFields(), "state", Str(state))).empty())
        << state;
  }
}

TEST_F(ProtocolTest, BadTimesAreRejected) {
  for (const char* when :
       {"yesterday", "2026-11-28", "2026-02-30T00:00:00.000Z",
        "2026-11-28T03:20:00.123+01:00"}) {
    EXPECT_TRUE(
        Mentions(Rejection(With(ResultFields(), "started_at", Str(when))),
                 "started_at"));
  }
}

TEST_F(ProtocolTest, HostileScoreNamesInATaskAreRejected) {
  for (const std::string& name :
       {std::string("../x"), std::string(".hidden"), std::string(129, 's'),
        std::string("a/b"), std::string(""), std::string("a\0b", 3),
        std::string("/bin/sh"), std::string("x y")}) {
    EXPECT_FALSE(Rejection(With(TaskFields(), "score", Str(name))).empty())
        << name;
  }
}

TEST_F(ProtocolTest, HostileScoreNamesInAScoreListAreRejected) {
  for (const char* name : {"../x", ".hidden", "a/b", ""}) {
    EXPECT_FALSE(
        Rejection(With(HelloFields(), "scores", Array({ScoreMap(name)})))
            .empty())
        << name;
  }
  Mp long_name = Array({ScoreMap(std::string(129, 's'))});
  EXPECT_FALSE(Rejection(With(HelloFields(), "scores", long_name)).empty());
}

TEST_F(ProtocolTest, ScoreInfoIsChecked) {
  Mp upper_sha = Map({{"name", Str("a")},
                      {"sha256", Str(std::string(64, 'C'))},
                      {"interface", Str("env")}});
  Mp short_sha = Map(
      {{"name", Str("a")}, {"sha256", Str("abc")}, {"interface", Str("env")}});
  Mp shell = Map(
      {{"name", Str("a")}, {"sha256", Str(kSha)}, {"interface", Str("shell")}});
  for (const Mp& score : {upper_sha, short_sha, shell, Str("a")})
    EXPECT_FALSE(
        Rejection(With(HelloFields(), "scores", Array({score}))).empty());
}

TEST_F(ProtocolTest, HeldTasksAreChecked) {
  for (const Mp& held :
       {Map({{"task", Int(5)}, {"state", Str("paused")}}),
        Map({{"task", Int(5)}, {"state", Str("")}}), Map({{"task", Int(5)}}),
        Map({{"task", Int(0)}, {"state", Str("done")}}),
        Map({{"state", Str("done")}}), Int(5)}) {
    EXPECT_FALSE(
        Rejection(With(HelloFields(), "tasks", Array({held}))).empty());
  }
}

TEST_F(ProtocolTest, BadParamKeysAreRejected) {
  for (const std::string& key :
       {std::string("1st"), std::string("a-b"), std::string(""),
        std::string("a b"), std::string(65, 'k'), std::string("PATH=x"),
        std::string("k\0", 2), std::string("caf\xC3\xA9")}) {
    Mp params = Map({{key, Str("v")}});
    EXPECT_FALSE(Rejection(With(TaskFields(), "params", params)).empty())
        << key;
  }
}

TEST_F(ProtocolTest, ParamValuesWithNulOrBadUtf8AreRejected) {
  for (const std::string& value :
       {std::string("a\0b", 3), std::string("\xC0\xAF"),
        std::string("\xED\xA0\x80"), std::string("\xFF")}) {
    Mp params = Map({{"target", Str(value)}});
    EXPECT_TRUE(
        Mentions(Rejection(With(TaskFields(), "params", params)), "target"));
  }
}

TEST_F(ProtocolTest, ParamValuesMustBeStrings) {
  Mp params = Map({{"count", Int(3)}});
  EXPECT_TRUE(
      Mentions(Rejection(With(TaskFields(), "params", params)), "params"));
}

TEST_F(ProtocolTest, OversizedParamsAreRejected) {
  Mp big = Map({{"a", Str(std::string((64 << 10) + 1, 'a'))}});
  EXPECT_FALSE(Rejection(With(TaskFields(), "params", big)).empty());
  Fields total;
  for (char c = 'a'; c <= 'e'; ++c)
    total.emplace_back(std::string(1, c), Str(std::string(60 << 10, c)));
  EXPECT_TRUE(
      Mentions(Rejection(With(TaskFields(), "params", Map(total))), "256 KiB"));
}

TEST_F(ProtocolTest, OutputsAboveTheLimitAreRejected) {
  const Mp big = Str(std::string(kMaxOutputBytes + 1, 'x'));
  EXPECT_TRUE(
      Mentions(Rejection(With(ResultFields(), "stdout", big)), "stdout"));
  EXPECT_TRUE(
      Mentions(Rejection(With(ResultFields(), "stderr", big)), "stderr"));
  Mp response = Map({{"k", Str(std::string(kMaxResponseBytes + 1, 'v'))}});
  EXPECT_TRUE(Mentions(Rejection(With(ResultFields(), "response", response)),
                       "response"));
}

TEST_F(ProtocolTest, TooManyScoresAreRejected) {
  std::vector<Mp> scores(10001, ScoreMap("backup"));
  EXPECT_TRUE(Mentions(
      Rejection(With(HelloFields(), "scores", Array(std::move(scores)))),
      "scores"));
}

// Nesting is refused by depth, even where the decoder would ignore it.
TEST_F(ProtocolTest, DeeplyNestedInputIsRejected) {
  Mp nested = Str("bottom");
  for (int i = 0; i < 100; ++i) nested = Array({nested});
  EXPECT_TRUE(Mentions(
      Rejection({{"type", Str("heartbeat")}, {"junk", nested}}), "nested"));
  std::string raw(1000000, '\x91');  // a million one-item arrays
  EXPECT_FALSE(Rejection(raw + '\xc0').empty());
}

// A length prefix costs five bytes; the decoder must not believe it and
// reserve gigabytes before the data is there. (What one declared length can
// reserve is capped by the unpack limits, which the next test proves.)
TEST_F(ProtocolTest, HugeDeclaredLengthsWithLittleDataAreRejected) {
  const std::string huge = "\xff\xff\xff\xff";
  const std::string prefix = Map(Without(HelloFields(), "tasks")).Encode();
  for (const char* type : {"\xdd", "\xdf", "\xdb", "\xc6", "\xc9"}) {
    const std::string header(type);
    EXPECT_FALSE(Rejection(header + huge + "\x01\x02").empty());
    std::string inside = prefix;
    inside[0] = static_cast<char>(inside[0] + 1);  // one more field
    EXPECT_FALSE(
        Rejection(inside + Str("tasks").Encode() + header + huge).empty());
  }
}

// Bounds hold even for fields the decoder ignores: a heartbeat carrying
// more items, entries or bytes than any message may is refused whole.
TEST_F(ProtocolTest, ContainersBeyondTheUnpackLimitsAreRejected) {
  std::vector<Mp> items(kMaxArray + 1, Nil());
  EXPECT_FALSE(
      Rejection({{"type", Str("heartbeat")}, {"junk", Array(std::move(items))}})
          .empty());
  Fields entries;
  for (size_t i = 0; i <= kMaxMapEntries; ++i)
    entries.emplace_back(std::to_string(i), Nil());
  EXPECT_FALSE(
      Rejection({{"type", Str("heartbeat")}, {"junk", Map(std::move(entries))}})
          .empty());
  EXPECT_FALSE(Rejection({{"type", Str("heartbeat")},
                          {"junk", Str(std::string(kMaxString + 1, 'x'))}})
                   .empty());
}

TEST_F(ProtocolTest, CheckParamsAcceptsTheLimits) {
  EXPECT_EQ("", CheckParams({}));
  EXPECT_EQ("",
            CheckParams({{std::string(64, 'k'), std::string(64 << 10, 'v')}}));
  EXPECT_EQ("", CheckParams({{"_", ""}, {"unicode", "caf\xC3\xA9"}}));
}

TEST_F(ProtocolTest, CheckParamsNamesTheProblem) {
  EXPECT_TRUE(Mentions(CheckParams({{"a-b", "v"}}), "'a-b'"));
  EXPECT_TRUE(Mentions(CheckParams({{"k", std::string((64 << 10) + 1, 'v')}}),
                       "64 KiB"));
  EXPECT_TRUE(Mentions(CheckParams({{"k", std::string("\0", 1)}}), "NUL"));
}

}  // namespace
}  // namespace orchestra::broker
