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

// A cell's conductor that leaves three hellos unanswered is given up when
// the fourth would be due (about 0.7 s), not before.
TEST_F(SessionTest, ThreeUnansweredHellosGiveTheConductorUp) {
  session_.Restart(0, /*at_once=*/true);
  for (common::TimeMs at : {0, 100, 300}) {
    ASSERT_TRUE(session_.HelloDue(at)) << at;
    EXPECT_FALSE(session_.HellosUnanswered(at)) << at;
    session_.OnHelloSent(at);
  }
  EXPECT_FALSE(session_.HellosUnanswered(699));
  EXPECT_TRUE(session_.HellosUnanswered(700));
}

// A connected conductor is there, perhaps busy with a whole fleet's
// handshakes and hellos after a failover: it is given the answer wait
// (10 s) before it is left, the handshake done or not; a move to another
// (a new socket, no connection yet) gives that one 0.7 s again.
TEST_F(SessionTest, AConnectedConductorIsGivenTheAnswerWait) {
  session_.Restart(0, /*at_once=*/true);
  session_.OnTransportUp(5);  // The handshake waits behind others'
  common::TimeMs at = 5;
  while (at < 10005) {
    ASSERT_FALSE(session_.HellosUnanswered(at)) << at;
    if (session_.HelloDue(at)) session_.OnHelloSent(at);
    at += 10;
  }
  while (!session_.HelloDue(at)) at += 10;
  EXPECT_TRUE(session_.HellosUnanswered(at)) << at;
  EXPECT_LE(at, 10005 + 5000) << "a hello is due at least every 5 s";
  session_.MoveOn(at);  // A new socket: no handshake yet
  for (common::TimeMs t : {at, at + 100, at + 300}) session_.OnHelloSent(t);
  EXPECT_TRUE(session_.HellosUnanswered(at + 700));
}

// A refused connect (nobody listens there: a killed conductor's port, a
// stale hint) gives the conductor up at once, but not before the back-off
// of the greeting allows: a cell with every node down is not tried in a
// loop.
TEST_F(SessionTest, ARefusedConnectGivesTheConductorUpAfterTheBackOffOnly) {
  session_.MoveOn(1000);
  EXPECT_FALSE(session_.HellosUnanswered(1000));
  session_.OnRefused();
  EXPECT_TRUE(session_.HellosUnanswered(1000));
  session_.MoveOn(1000, 400);  // After a round of the list
  session_.OnRefused();
  EXPECT_FALSE(session_.HellosUnanswered(1399));
  EXPECT_TRUE(session_.HellosUnanswered(1400));
  EXPECT_EQ(1400, session_.NextDeadline());
}

TEST_F(SessionTest, WelcomeAnswersTheHellos) {
  session_.Restart(0, /*at_once=*/true);
  for (common::TimeMs at : {0, 100, 300}) session_.OnHelloSent(at);
  session_.OnWelcome(350, 10000);
  session_.OnConnected(400);  // Greeting again on a new connection
  EXPECT_TRUE(session_.HelloDue(400));
  EXPECT_FALSE(session_.HellosUnanswered(400));
}

// Another conductor of the cell is greeted at once, with the first
// back-off, whatever the last one cost.
TEST_F(SessionTest, MovingOnGreetsAtOnceWithTheFirstBackOff) {
  session_.Restart(0, /*at_once=*/true);
  for (common::TimeMs at : {0, 100, 300}) session_.OnHelloSent(at);
  session_.MoveOn(700);
  EXPECT_TRUE(session_.HelloDue(700));
  EXPECT_FALSE(session_.HellosUnanswered(700));
  session_.OnHelloSent(700);
  EXPECT_TRUE(session_.HelloDue(800));
}

}  // namespace
}  // namespace orchestra::player
