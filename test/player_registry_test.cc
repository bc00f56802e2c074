// Tests for conductor/player_registry.h: sessions opened by hello, replaced
// by a newer session of the same player (DESIGN.md 12.11), closed, found
// silent, and what the latest score list says.

#include "conductor/player_registry.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace orchestra::conductor {
namespace {

constexpr common::TimeMs kNow = 1795000000000;

class PlayerRegistryTest : public testing::Test {
 protected:
  static broker::Hello Hello(std::vector<std::string> scores = {"backup"}) {
    broker::Hello hello;
    hello.version = "1.2.3";
    hello.slots = 4;
    for (const std::string& name : scores)
      hello.scores.push_back({name, std::string(64, 'a'), "env"});
    return hello;
  }
  // Opens a session of `name` on `peer`, heard at monotonic `at`.
  std::string Open(const std::string& name, const std::string& peer,
                   common::TimeMs at = 100) {
    return registry_.Open(name, peer, broker::Connection(), Hello(), kNow + at,
                          at);
  }

  PlayerRegistry registry_;
};

TEST_F(PlayerRegistryTest, HelloOpensALiveSession) {
  EXPECT_EQ("", Open("web-1", "peer-a"));
  EXPECT_TRUE(registry_.IsConnected("web-1"));
  ASSERT_NE(nullptr, registry_.FindByPeer("peer-a"));
  EXPECT_EQ("web-1", registry_.FindByPeer("peer-a")->name);
  EXPECT_EQ(1u, registry_.connected());
}

TEST_F(PlayerRegistryTest, SessionHoldsWhatTheHelloSaid) {
  Open("web-1", "peer-a", 250);
  const PlayerState* p = registry_.Find("web-1");
  ASSERT_NE(nullptr, p);
  EXPECT_EQ("1.2.3", p->version);
  EXPECT_EQ(4, p->slots);
  ASSERT_EQ(1u, p->scores.size());
  EXPECT_EQ("backup", p->scores[0].name);
  EXPECT_TRUE(p->scores_known);
  EXPECT_EQ(kNow + 250, p->last_seen);
  EXPECT_EQ(250, p->last_heard);
}

TEST_F(PlayerRegistryTest, NewerSessionReplacesAndDropsTheOlderOne) {
  Open("web-1", "peer-a");
  EXPECT_EQ("peer-a", Open("web-1", "peer-b"));
  EXPECT_TRUE(registry_.IsDropped("peer-a"));
  EXPECT_EQ(nullptr, registry_.FindByPeer("peer-a"));
  ASSERT_NE(nullptr, registry_.FindByPeer("peer-b"));
  EXPECT_FALSE(registry_.IsDropped("peer-b"));
  EXPECT_EQ(1u, registry_.connected());
}

TEST_F(PlayerRegistryTest, HelloAgainOnTheSameSessionReplacesNothing) {
  Open("web-1", "peer-a");
  EXPECT_EQ("", Open("web-1", "peer-a"));
  EXPECT_FALSE(registry_.IsDropped("peer-a"));
  EXPECT_TRUE(registry_.IsConnected("web-1"));
}

TEST_F(PlayerRegistryTest, CloseEndsTheSessionButKeepsThePlayer) {
  Open("web-1", "peer-a");
  registry_.Close("web-1", false);
  EXPECT_FALSE(registry_.IsConnected("web-1"));
  EXPECT_EQ(nullptr, registry_.FindByPeer("peer-a"));
  EXPECT_FALSE(registry_.IsDropped("peer-a"));
  ASSERT_NE(nullptr, registry_.Find("web-1"));
  EXPECT_EQ(0u, registry_.connected());
}

TEST_F(PlayerRegistryTest, CloseWithDropRefusesTheOldPeer) {
  Open("web-1", "peer-a");
  registry_.Close("web-1", true);
  EXPECT_TRUE(registry_.IsDropped("peer-a"));
  EXPECT_EQ("", Open("web-1", "peer-b")) << "no live session to replace";
  EXPECT_TRUE(registry_.IsConnected("web-1"));
}

TEST_F(PlayerRegistryTest, CloseOfUnknownOrClosedPlayerIsIgnored) {
  registry_.Close("nobody", true);
  Open("web-1", "peer-a");
  registry_.Close("web-1", false);
  registry_.Close("web-1", true);
  EXPECT_FALSE(registry_.IsDropped("peer-a"));
  EXPECT_FALSE(registry_.IsDropped(""));
}

TEST_F(PlayerRegistryTest, SilentSinceListsLiveSessionsHeardBeforeCutoff) {
  Open("web-1", "peer-a", 100);
  Open("web-2", "peer-b", 100);
  Open("web-3", "peer-c", 100);
  registry_.Heard(registry_.FindByPeer("peer-b"), kNow + 900, 900);
  registry_.Close("web-3", false);
  EXPECT_EQ(std::vector<std::string>{"web-1"}, registry_.SilentSince(500));
  EXPECT_TRUE(registry_.SilentSince(100).empty()) << "heard exactly then";
}

TEST_F(PlayerRegistryTest, HeardUpdatesBothTimes) {
  Open("web-1", "peer-a", 100);
  PlayerState* p = registry_.FindByPeer("peer-a");
  registry_.Heard(p, kNow + 5000, 5000);
  EXPECT_EQ(kNow + 5000, p->last_seen);
  EXPECT_EQ(5000, p->last_heard);
}

TEST_F(PlayerRegistryTest, RememberedPlayerHasNoLiveSession) {
  PlayerState state;
  state.name = "web-9";
  state.peer = "stale-peer";
  state.slots = 2;
  registry_.Remember(state);
  EXPECT_FALSE(registry_.IsConnected("web-9"));
  EXPECT_EQ(nullptr, registry_.FindByPeer("stale-peer"));
  ASSERT_NE(nullptr, registry_.Find("web-9"));
  EXPECT_EQ(2, registry_.Find("web-9")->slots);
}

// Sessions index the players by pointer (no name lookup per message):
// remembering a player again must not leave its old session behind.
TEST_F(PlayerRegistryTest, RememberingALivePlayerEndsItsSession) {
  Open("web-1", "peer-a");
  PlayerState remembered;
  remembered.name = "web-1";
  registry_.Remember(remembered);
  EXPECT_EQ(nullptr, registry_.FindByPeer("peer-a"));
  EXPECT_EQ(0u, registry_.connected());
  EXPECT_TRUE(registry_.SilentSince(1000).empty());
}

TEST_F(PlayerRegistryTest, LacksScoreOnlyWhenTheListIsKnownAndLacksIt) {
  Open("web-1", "peer-a");
  EXPECT_FALSE(registry_.LacksScore("web-1", "backup"));
  EXPECT_TRUE(registry_.LacksScore("web-1", "restore"));
  EXPECT_FALSE(registry_.LacksScore("nobody", "restore"));
  PlayerState unknown_scores;
  unknown_scores.name = "web-9";
  registry_.Remember(unknown_scores);
  EXPECT_FALSE(registry_.LacksScore("web-9", "restore"));
}

TEST_F(PlayerRegistryTest, ANewHelloReplacesTheScoreList) {
  Open("web-1", "peer-a");
  registry_.Open("web-1", "peer-b", broker::Connection(), Hello({"restore"}),
                 kNow, 200);
  EXPECT_TRUE(registry_.LacksScore("web-1", "backup"));
  EXPECT_FALSE(registry_.LacksScore("web-1", "restore"));
}

}  // namespace
}  // namespace orchestra::conductor
