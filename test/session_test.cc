// Tests for player/session.h: when the player greets the conductor, and
// how a completed connection handshake (OnConnected) hurries a hello.

#include "player/session.h"

#include <gtest/gtest.h>

namespace orchestra::player {
namespace {

class SessionTest : public testing::Test {
 protected:
  Session session_{100, 5000};
};

TEST_F(SessionTest, FirstHelloIsDueAtOnce) {
  session_.Restart(1000, /*at_once=*/true);
  EXPECT_TRUE(session_.HelloDue(1000));
}

// The first hello of a player often goes nowhere (no connection yet):
// the handshake then brings the next one forward.
TEST_F(SessionTest, ConnectionBringsAWaitingHelloForward) {
  session_.Restart(1000, /*at_once=*/true);
  session_.OnHelloSent(1000);
  EXPECT_FALSE(session_.HelloDue(1010));
  session_.OnConnected(1010);
  EXPECT_TRUE(session_.HelloDue(1010));
}

// A restarted conductor knows no session: a live player that reconnects
// greets it at once instead of waiting for a heartbeat.
TEST_F(SessionTest, ReconnectOfALiveSessionGreetsAtOnce) {
  session_.Restart(1000, /*at_once=*/true);
  session_.OnWelcome(1010, 10000);
  session_.OnConnected(2000);
  EXPECT_FALSE(session_.live());
  EXPECT_TRUE(session_.HelloDue(2000));
}

// Two players with one key replace each other's sessions; the back-off
// after such a refusal must hold even though each refusal brings a fresh
// socket and so a fresh handshake.
TEST_F(SessionTest, ConnectionKeepsTheBackOffAfterARefusal) {
  session_.Restart(1000, /*at_once=*/false);
  session_.OnConnected(1010);
  EXPECT_FALSE(session_.HelloDue(1010));
  EXPECT_TRUE(session_.HelloDue(1100));
}

}  // namespace
}  // namespace orchestra::player
