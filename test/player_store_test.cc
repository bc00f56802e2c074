// Tests for conductor/player_store.h on a real SQLite file in a temp dir,
// beside the JobStore that owns the database and the turn: what is
// remembered of players, and that their rows are written in the turn's
// transaction.

#include "conductor/player_store.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "common/log.h"
#include "test/conductor_samples.h"
#include "test/test_util.h"

namespace orchestra::conductor {
namespace {

constexpr common::TimeMs kT0 = 1795000000123;  // 2026-11-18T11:06:40.123Z

class PlayerStoreTest : public testing::Test {
 protected:
  void SetUp() override {
    common::SetLogSinkForTest([](common::LogLevel, std::string_view) {});
    ASSERT_NO_FATAL_FAILURE(
        test::OpenStores(dir_.File("conductor.db"), &store_, &players_));
  }
  void TearDown() override { common::SetLogSinkForTest(nullptr); }

  std::string Query(const std::string& sql, int columns = 1) {
    return test::FirstRow(dir_.File("conductor.db"), sql, columns);
  }
  // What is committed, once the turn's writes are.
  std::vector<StoredPlayer> KnownPlayers() {
    EXPECT_OK(store_->Commit());
    return test::KnownPlayers(players_.get());
  }

  test::TempDir dir_;
  std::unique_ptr<JobStore> store_;
  std::unique_ptr<PlayerStore> players_;
};

TEST_F(PlayerStoreTest, KnownPlayersKeepLatestSession) {
  ASSERT_OK(players_->SaveSession("web-1", "1.0", 4, true, kT0));
  ASSERT_OK(players_->SaveSession("web-1", "1.1", 8, false, kT0 + 60000));
  std::vector<StoredPlayer> players = KnownPlayers();
  ASSERT_EQ(1u, players.size());
  EXPECT_EQ("web-1", players[0].name);
  EXPECT_EQ("1.1", players[0].version);
  EXPECT_EQ(8, players[0].slots);
  EXPECT_EQ(kT0 + 60000, players[0].last_seen);
  EXPECT_TRUE(players[0].scores_known);
}

TEST_F(PlayerStoreTest, PlayerWithOnlyAKeyIsNotAKnownPlayer) {
  ASSERT_OK(players_->SaveKey("web-9", std::string(40, 'a')));
  EXPECT_TRUE(KnownPlayers().empty());
}

TEST_F(PlayerStoreTest, SavePlayerScoresReplacesTheList) {
  ASSERT_OK(players_->SaveSession("web-1", "1.0", 4, true, kT0));
  ASSERT_OK(players_->SaveScores("web-1",
                                 {{"backup", std::string(64, 'a'), "env"},
                                  {"restore", std::string(64, 'b'), "pipe"}}));
  ASSERT_OK(players_->SaveScores("web-1",
                                 {{"restore", std::string(64, 'c'), "env"}}));
  std::vector<StoredPlayer> players = KnownPlayers();
  ASSERT_EQ(1u, players.size());
  ASSERT_EQ(1u, players[0].scores.size());
  EXPECT_EQ("restore", players[0].scores[0].name);
  EXPECT_EQ(std::string(64, 'c'), players[0].scores[0].sha256);
  EXPECT_EQ("env", players[0].scores[0].interface);
}

TEST_F(PlayerStoreTest, SessionKeepsFirstSeenAndMarkAllDisconnectedClearsIt) {
  ASSERT_OK(players_->SaveSession("web-1", "1.0", 4, true, kT0));
  ASSERT_OK(players_->SaveSession("web-1", "1.0", 4, true, kT0 + 1000));
  ASSERT_OK(players_->MarkAllDisconnected());
  ASSERT_OK(store_->Commit());
  EXPECT_EQ("0|2026-11-18T11:06:40.123Z|2026-11-18T11:06:41.123Z",
            Query("SELECT connected, first_seen, last_seen FROM players", 3));
}

TEST_F(PlayerStoreTest, KnownPlayersComeInNameOrderEachWithItsScores) {
  ASSERT_OK(players_->SaveSession("web-2", "1.0", 2, true, kT0));
  ASSERT_OK(players_->SaveSession("web-1", "1.0", 4, true, kT0));
  ASSERT_OK(players_->SaveScores("web-2", {{"backup", "b2", "env"}}));
  ASSERT_OK(players_->SaveScores(
      "web-1", {{"backup", "b1", "env"}, {"restore", "r1", "pipe"}}));
  std::vector<StoredPlayer> players = KnownPlayers();
  ASSERT_EQ(2u, players.size());
  EXPECT_EQ("web-1", players[0].name);
  EXPECT_EQ(2u, players[0].scores.size());
  EXPECT_EQ("web-2", players[1].name);
  ASSERT_EQ(1u, players[1].scores.size());
  EXPECT_EQ("b2", players[1].scores[0].sha256);
}

// A score list whose player never had a session (only a key) is not read
// back: the player is not a known player.
TEST_F(PlayerStoreTest, ScoresOfAPlayerWithoutASessionAreSkipped) {
  ASSERT_OK(players_->SaveKey("web-9", std::string(40, 'a')));
  ASSERT_OK(players_->SaveScores("web-9", {{"backup", "b9", "env"}}));
  ASSERT_OK(players_->SaveSession("web-1", "1.0", 4, true, kT0));
  std::vector<StoredPlayer> players = KnownPlayers();
  ASSERT_EQ(1u, players.size());
  EXPECT_TRUE(players[0].scores.empty());
}

TEST_F(PlayerStoreTest, KeyAndSessionShareTheRow) {
  ASSERT_OK(players_->SaveKey("web-1", "key-1"));
  ASSERT_OK(players_->SaveSession("web-1", "1.0", 4, true, kT0));
  ASSERT_OK(players_->SaveKey("web-1", "key-2"));
  ASSERT_OK(store_->Commit());
  EXPECT_EQ(
      "key-2|1.0|4|1",
      Query("SELECT public_key, version, slots, connected FROM players", 4));
}

// Labels come from the players file with the key, as a JSON object a
// reporting tool can read (json_extract); a session keeps them.
TEST_F(PlayerStoreTest, LabelsAreSavedWithTheKeyAsJson) {
  ASSERT_OK(
      players_->SaveKey("web-1", "key-1", {{"role", "web"}, {"dc", "syd"}}));
  ASSERT_OK(players_->SaveSession("web-1", "1.0", 4, true, kT0));
  ASSERT_OK(store_->Commit());
  EXPECT_EQ("{\"dc\":\"syd\",\"role\":\"web\"}",
            Query("SELECT labels FROM players"));
  EXPECT_EQ("web", Query("SELECT json_extract(labels, '$.role') FROM players"));
  std::vector<StoredPlayer> players = KnownPlayers();
  ASSERT_EQ(1u, players.size());
  EXPECT_EQ((broker::StringMap{{"role", "web"}, {"dc", "syd"}}),
            players[0].labels);
  // A reload that drops them saves none.
  ASSERT_OK(players_->SaveKey("web-1", "key-1"));
  ASSERT_OK(store_->Commit());
  EXPECT_EQ("{}", Query("SELECT labels FROM players"));
  EXPECT_TRUE(KnownPlayers()[0].labels.empty());
}

TEST_F(PlayerStoreTest, APlayerWithoutLabelsHasAnEmptyObject) {
  ASSERT_OK(players_->SaveSession("web-2", "1.0", 4, true, kT0));
  ASSERT_OK(store_->Commit());
  EXPECT_EQ("{}", Query("SELECT labels FROM players"));
}

// The rows join the turn's writes: they go with JobStore's Commit() and
// are dropped by its Abandon(), as the jobs' rows are.
TEST_F(PlayerStoreTest, WritesJoinTheTurn) {
  EXPECT_FALSE(store_->HasWrites());
  ASSERT_OK(players_->SaveSession("web-1", "1.0", 4, true, kT0));
  EXPECT_TRUE(store_->HasWrites());
  EXPECT_EQ("0", Query("SELECT count(*) FROM players"));
  store_->Abandon();
  EXPECT_TRUE(KnownPlayers().empty());
  ASSERT_OK(players_->SaveSession("web-1", "1.0", 4, true, kT0));
  ASSERT_OK(store_->Commit());
  EXPECT_FALSE(store_->HasWrites());
  EXPECT_EQ("1", Query("SELECT count(*) FROM players"));
}

}  // namespace
}  // namespace orchestra::conductor
