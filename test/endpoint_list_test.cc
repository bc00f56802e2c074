// Tests of broker/endpoint_list.h: endpoint lists as the CLI takes them,
// and the syntax a conductor's leader hint must have to be followed.

#include "broker/endpoint_list.h"

#include <gtest/gtest.h>

#include "common/limits.h"
#include "test/test_util.h"

namespace orchestra::broker {
namespace {

using common::Result;

TEST(EndpointListTest, OneEndpointIsAListOfOne) {
  Result<std::vector<std::string>> list =
      ParseEndpointList("ipc:///run/orchestra/conductor.sock");
  ASSERT_OK(list.status());
  EXPECT_EQ(std::vector<std::string>{"ipc:///run/orchestra/conductor.sock"},
            list.value());
}

TEST(EndpointListTest, CommasSplitAndSpacesAreTrimmed) {
  Result<std::vector<std::string>> list = ParseEndpointList(
      "tcp://c1.example.com:7101, tcp://10.0.0.2:7101 ,tcp://[::1]:7101");
  ASSERT_OK(list.status());
  EXPECT_EQ(
      (std::vector<std::string>{"tcp://c1.example.com:7101",
                                "tcp://10.0.0.2:7101", "tcp://[::1]:7101"}),
      list.value());
}

TEST(EndpointListTest, BadListsAreRefusedNamingTheCulprit) {
  for (const char* bad :
       {"", ",", "tcp://a:1,,tcp://b:2", "tcp://a:1,", "http://a:1", "tcp://a",
        "tcp://a:0", "tcp://a:65536", "tcp://a:7x", "tcp://*:7101",
        "tcp://:7101", "ipc://", "tcp://a b:1", "tcp://a:1,tcp://a:1"}) {
    Result<std::vector<std::string>> list = ParseEndpointList(bad);
    EXPECT_EQ(common::Status::Code::kInvalidArgument, list.status().code())
        << "'" << bad << "'";
  }
  EXPECT_NE(std::string::npos, ParseEndpointList("tcp://a:1,http://b:2")
                                   .status()
                                   .message()
                                   .find("'http://b:2'"));
}

TEST(EndpointListTest, AListIsBounded) {
  std::string text;
  for (size_t i = 0; i <= kMaxEndpoints; ++i)
    text += (i ? "," : "") + std::string("tcp://c:") + std::to_string(i + 1);
  EXPECT_FALSE(ParseEndpointList(text).ok());
  text = text.substr(0, text.rfind(','));
  EXPECT_OK(ParseEndpointList(text).status());
}

TEST(EndpointListTest, AnEndpointIsBounded) {
  const std::string longest =
      "ipc:///" + std::string(kMaxEndpointBytes - 7, 'x');
  EXPECT_TRUE(IsValidEndpoint(longest));
  EXPECT_FALSE(IsValidEndpoint(longest + "x"));
  EXPECT_FALSE(IsValidEndpoint(std::string("tcp://a:1\0", 10)));
  EXPECT_FALSE(IsValidEndpoint("tcp://a:1\n"));
}

}  // namespace
}  // namespace orchestra::broker
