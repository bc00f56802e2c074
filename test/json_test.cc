// Tests of broker/json.h: msgpack replies printed as JSON.

#include "broker/json.h"

#include "broker/audience_protocol.h"
#include "test/test_util.h"

namespace orchestra::broker {
namespace {

using common::Result;
using common::Status;

class JsonTest : public testing::Test {
 protected:
  static std::string Encode(AudienceReplyBody body) {
    return EncodeAudienceReply({int64_t{7}, std::move(body)});
  }
  static std::string JobBytes(const std::string& stdout_text) {
    JobRecord job;
    job.id = 42;
    job.score = "backup";
    TaskRecord task;
    task.task = 1;
    task.stdout_text = stdout_text;
    job.tasks.push_back(task);
    return Encode(JobReply{job, false});
  }
};

TEST_F(JsonTest, ConvertsAWholeReply) {
  Result<std::string> json = MsgpackToJson(Encode(SubmitReply{42}), false);
  ASSERT_OK(json.status());
  EXPECT_EQ(R"({"req":7,"ok":true,"kind":"submit","job":42})", json.value());
}

TEST_F(JsonTest, PullsOneField) {
  Result<std::string> json =
      MsgpackFieldToJson(Encode(SubmitReply{42}), "job", false);
  ASSERT_OK(json.status());
  EXPECT_EQ("42", json.value());
}

TEST_F(JsonTest, KeepsKeysInWireOrder) {
  Result<std::string> json = MsgpackFieldToJson(JobBytes("hi"), "job", false);
  ASSERT_OK(json.status());
  EXPECT_EQ(0u,
            json.value().find(R"({"id":42,"score":"backup","scope":"one")"));
}

TEST_F(JsonTest, PrettyIndentsByTwoSpaces) {
  Result<std::string> json = MsgpackToJson(Encode(SubmitReply{42}), true);
  ASSERT_OK(json.status());
  EXPECT_EQ(
      "{\n  \"req\": 7,\n  \"ok\": true,\n  \"kind\": \"submit\",\n  \"job\": "
      "42\n}",
      json.value());
}

TEST_F(JsonTest, InvalidUtf8BecomesReplacementCharacter) {
  Result<std::string> json = MsgpackToJson(JobBytes("a\xff"
                                                    "b"),
                                           false);
  ASSERT_OK(json.status());
  EXPECT_NE(std::string::npos, json.value().find("\"stdout\":\"a\xEF\xBF\xBD"
                                                 "b\""));
}

TEST_F(JsonTest, MissingFieldIsNotFound) {
  Status s =
      MsgpackFieldToJson(Encode(SubmitReply{42}), "jobs", false).status();
  EXPECT_EQ(Status::Code::kNotFound, s.code());
}

TEST_F(JsonTest, FieldOfANonMapIsInvalidArgument) {
  Status s = MsgpackFieldToJson("\x92\x01\x02", "job", false).status();
  EXPECT_EQ(Status::Code::kInvalidArgument, s.code());
}

TEST_F(JsonTest, GarbageIsInvalidArgument) {
  EXPECT_EQ(Status::Code::kInvalidArgument,
            MsgpackToJson("\xc1\x00", false).status().code());
  EXPECT_EQ(Status::Code::kInvalidArgument,
            MsgpackToJson("\x92\x01", false).status().code());
}

TEST_F(JsonTest, DeepNestingIsRefusedNotRecursedInto) {
  const std::string deep = std::string(100000, '\x91') + "\xc0";
  EXPECT_EQ(Status::Code::kInvalidArgument,
            MsgpackToJson(deep, false).status().code());
}

}  // namespace
}  // namespace orchestra::broker
