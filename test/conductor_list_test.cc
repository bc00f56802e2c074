// Tests for player/conductor_list.h: the `conductor endpoint` list and
// which conductor the player talks to next.

#include "player/conductor_list.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "test/test_util.h"

namespace orchestra::player {
namespace {

using Endpoints = std::vector<std::string>;

const Endpoints kCell = {"tcp://a:2258", "tcp://b:2258", "tcp://c:2258"};

TEST(ConductorListTest, OneEndpointParsesAsBefore) {
  auto endpoints = ConductorList::Parse("tcp://conductor:2258");
  ASSERT_OK(endpoints.status());
  EXPECT_EQ(Endpoints{"tcp://conductor:2258"}, endpoints.value());
  ASSERT_OK(ConductorList::Parse("ipc:///run/orchestra/players").status());
}

TEST(ConductorListTest, AListIsSplitOnCommasAndTrimmed) {
  auto endpoints =
      ConductorList::Parse("tcp://a:2258, tcp://b:2258 ,tcp://c:2258");
  ASSERT_OK(endpoints.status());
  EXPECT_EQ(kCell, endpoints.value());
}

TEST(ConductorListTest, BadEndpointsAreRefusedByName) {
  for (const std::string bad :
       {"udp://a:2258", "tcp://", "a:2258", "tcp://a b:2258"}) {
    auto endpoints = ConductorList::Parse("tcp://ok:2258," + bad);
    ASSERT_FALSE(endpoints.ok()) << bad;
    EXPECT_NE(std::string::npos,
              endpoints.status().message().find("'" + bad + "'"))
        << endpoints.status().ToString();
  }
}

TEST(ConductorListTest, EmptyDuplicateTooManyAndTooLongAreRefused) {
  EXPECT_FALSE(ConductorList::Parse("").ok());
  EXPECT_FALSE(ConductorList::Parse("tcp://a:2258,,tcp://b:2258").ok());
  EXPECT_FALSE(ConductorList::Parse("tcp://a:2258,").ok());
  auto twice = ConductorList::Parse("tcp://a:2258,tcp://a:2258");
  EXPECT_NE(std::string::npos, twice.status().message().find("listed twice"));
  std::string list = "tcp://h0:1";
  for (size_t i = 1; i < kMaxConductorEndpoints; ++i)
    list += ",tcp://h" + std::to_string(i) + ":1";
  EXPECT_OK(ConductorList::Parse(list).status());
  EXPECT_FALSE(ConductorList::Parse(list + ",tcp://more:1").ok());
  EXPECT_FALSE(
      ConductorList::CheckEndpoint("tcp://" + std::string(600, 'h') + ":1")
          .ok());
}

TEST(ConductorListTest, NextGoesRoundTheList) {
  ConductorList list(kCell);
  EXPECT_EQ("tcp://a:2258", list.current());
  list.Next();
  EXPECT_EQ("tcp://b:2258", list.current());
  list.Next();
  list.Next();
  EXPECT_EQ("tcp://a:2258", list.current());
}

TEST(ConductorListTest, OneEndpointHasNowhereElseToGo) {
  ConductorList list({"tcp://a:2258"});
  EXPECT_FALSE(list.CanMove());
  list.Next();
  EXPECT_EQ("tcp://a:2258", list.current());
}

TEST(ConductorListTest, AListedHintIsWhereTheRoundGoesOn) {
  ConductorList list(kCell);
  ASSERT_OK(list.Follow("tcp://c:2258"));
  EXPECT_EQ("tcp://c:2258", list.current());
  list.Next();
  EXPECT_EQ("tcp://a:2258", list.current());
}

TEST(ConductorListTest, AnUnlistedHintIsADetour) {
  ConductorList list({"tcp://a:2258"});
  ASSERT_OK(list.Follow("tcp://d:2258"));
  EXPECT_EQ("tcp://d:2258", list.current());
  EXPECT_TRUE(list.CanMove());
  list.Next();
  EXPECT_EQ("tcp://a:2258", list.current());
  EXPECT_FALSE(list.CanMove());
}

TEST(ConductorListTest, ABadHintIsRefusedAndNothingMoves) {
  ConductorList list(kCell);
  EXPECT_FALSE(list.Follow("").ok());
  EXPECT_FALSE(list.Follow("tcp://x:1\n").ok());
  EXPECT_FALSE(list.Follow("tcp://" + std::string(600, 'x')).ok());
  EXPECT_EQ("tcp://a:2258", list.current());
}

// Within a round the next conductor is greeted at once; each round
// without a welcome ends with a back-off that doubles up to 5 s, once per
// round (not once per move, which kept players of a failed-over cell
// away for many seconds after the new leader served).
TEST(ConductorListTest, EachRoundWithoutAWelcomeEndsWithADoublingBackOff) {
  ConductorList list(kCell);
  list.Next();
  EXPECT_EQ(0, list.NextGreetingDelay());
  ASSERT_OK(list.Follow("tcp://a:2258"));
  EXPECT_EQ(0, list.NextGreetingDelay());
  list.Next();
  EXPECT_EQ(100, list.NextGreetingDelay());
  for (common::TimeMs expected : {200, 400, 800, 1600, 3200, 5000, 5000}) {
    for (int i = 0; i < 2; ++i) {
      list.Next();
      EXPECT_EQ(0, list.NextGreetingDelay());
    }
    list.Next();
    EXPECT_EQ(expected, list.NextGreetingDelay());
  }
  list.OnWelcome();
  for (int i = 0; i < 2; ++i) {
    list.Next();
    EXPECT_EQ(0, list.NextGreetingDelay());
  }
  list.Next();
  EXPECT_EQ(100, list.NextGreetingDelay());
}

}  // namespace
}  // namespace orchestra::player
