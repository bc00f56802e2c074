// Tests for conductor/players_file.h: the players file (`NAME PUBLIC-KEY
// [KEY=VALUE ...]` a line) and the revoked keys file, and that every error
// names FILE:LINE.

#include "conductor/players_file.h"

#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <set>
#include <string>

#include "broker/curve_keys.h"
#include "common/limits.h"
#include "test/test_util.h"

namespace orchestra::conductor {
namespace {

using common::Result;

class PlayersFileTest : public testing::Test {
 protected:
  void SetUp() override {
    for (std::string* key : {&key1_, &key2_}) {
      Result<broker::CurveKeyPair> pair = broker::GenerateKeyPair();
      ASSERT_OK(pair.status());
      *key = pair.value().public_key;
    }
  }
  // Writes `content` to a file in the temp dir and returns its path.
  std::string Write(const std::string& content,
                    const std::string& name = "players") {
    std::string path = dir_.File(name);
    std::ofstream(path) << content;
    return path;
  }
  // The error of loading a players file holding `content`.
  std::string PlayersError(const std::string& content) {
    Result<PlayersFile> players = LoadPlayersFile(Write(content));
    EXPECT_FALSE(players.ok());
    return players.status().message();
  }
  std::string Where(int line, const std::string& name = "players") {
    return dir_.File(name) + ":" + std::to_string(line) + ": ";
  }

  test::TempDir dir_;
  std::string key1_, key2_;
};

TEST_F(PlayersFileTest, ValidFileMapsNamesToKeys) {
  Result<PlayersFile> players = LoadPlayersFile(
      Write("web-1 " + key1_ + "\ndb_2.example\t" + key2_ + "\n"));
  ASSERT_OK(players.status());
  EXPECT_EQ((std::map<std::string, std::string>{{"web-1", key1_},
                                                {"db_2.example", key2_}}),
            players.value().keys);
  EXPECT_TRUE(players.value().labels.empty());
}

TEST_F(PlayersFileTest, CommentsBlankLinesAndSpacesAreIgnored) {
  Result<PlayersFile> players = LoadPlayersFile(
      Write("# the fleet\n\n   \n  web-1    " + key1_ + "  \n  # gone\n"));
  ASSERT_OK(players.status());
  EXPECT_EQ(1u, players.value().keys.size());
  EXPECT_EQ(key1_, players.value().keys["web-1"]);
}

TEST_F(PlayersFileTest, CrLfLineEndingsAreAccepted) {
  Result<PlayersFile> players =
      LoadPlayersFile(Write("# fleet\r\nweb-1 " + key1_ + "\r\n"));
  ASSERT_OK(players.status());
  EXPECT_EQ(key1_, players.value().keys["web-1"]);
}

TEST_F(PlayersFileTest, EmptyFileListsNobody) {
  Result<PlayersFile> players = LoadPlayersFile(Write(""));
  ASSERT_OK(players.status());
  EXPECT_TRUE(players.value().keys.empty());
}

TEST_F(PlayersFileTest, MissingFileIsNotFound) {
  EXPECT_EQ(common::Status::Code::kNotFound,
            LoadPlayersFile(dir_.File("absent")).status().code());
}

TEST_F(PlayersFileTest, BadNameIsAnErrorNamingFileAndLine) {
  std::string error = PlayersError("web-1 " + key1_ + "\nweb/2 " + key2_);
  EXPECT_EQ(0u, error.find(Where(2))) << error;
  EXPECT_NE(std::string::npos, error.find("'web/2'")) << error;
}

TEST_F(PlayersFileTest, BadKeyIsAnErrorNamingFileAndLine) {
  std::string error = PlayersError("# fleet\nweb-1 not-a-key\n");
  EXPECT_EQ(0u, error.find(Where(2))) << error;
  EXPECT_NE(std::string::npos, error.find("Z85")) << error;
}

TEST_F(PlayersFileTest, NameWithoutKeyOrWithExtraWordsIsAnError) {
  EXPECT_EQ(0u, PlayersError("web-1\n").find(Where(1)));
  EXPECT_EQ(0u, PlayersError("web-1 " + key1_ + " extra\n").find(Where(1)));
}

TEST_F(PlayersFileTest, DuplicateNameIsAnErrorNamingFileAndLine) {
  std::string error =
      PlayersError("web-1 " + key1_ + "\n\nweb-1 " + key2_ + "\n");
  EXPECT_EQ(0u, error.find(Where(3))) << error;
  EXPECT_NE(std::string::npos, error.find("listed twice")) << error;
}

TEST_F(PlayersFileTest, DuplicateKeyIsAnErrorNamingBothLines) {
  std::string error = PlayersError("web-1 " + key1_ + "\nweb-2 " + key1_);
  EXPECT_EQ(0u, error.find(Where(2))) << error;
  EXPECT_NE(std::string::npos, error.find("line 1")) << error;
}

TEST_F(PlayersFileTest, LabelsFollowTheKey) {
  Result<PlayersFile> players = LoadPlayersFile(
      Write("web-7 " + key1_ + " role=web dc=syd tier=prod\n" + "db-1\t" +
            key2_ + "\t rack=syd/r4:u12  os.v_1-b=12.5\r\n"));
  ASSERT_OK(players.status());
  EXPECT_EQ(key1_, players.value().keys["web-7"]);
  EXPECT_EQ((Labels{{"role", "web"}, {"dc", "syd"}, {"tier", "prod"}}),
            players.value().labels["web-7"]);
  EXPECT_EQ((Labels{{"rack", "syd/r4:u12"}, {"os.v_1-b", "12.5"}}),
            players.value().labels["db-1"]);
}

TEST_F(PlayersFileTest, APlayerWithoutLabelsHasNoEntry) {
  Result<PlayersFile> players = LoadPlayersFile(
      Write("web-1 " + key1_ + " role=web\nweb-2 " + key2_ + "\n"));
  ASSERT_OK(players.status());
  EXPECT_EQ(2u, players.value().keys.size());
  EXPECT_EQ(1u, players.value().labels.size());
  EXPECT_EQ(0u, players.value().labels.count("web-2"));
}

TEST_F(PlayersFileTest, LabelsAtTheirLongestAndMostAreAccepted) {
  std::string line = "web-1 " + key1_ + " " + std::string(63, 'k') + "=" +
                     std::string(128, 'V');
  for (size_t i = 1; i < kMaxPlayerLabels; ++i)
    line += " l" + std::to_string(i) + "=v";
  Result<PlayersFile> players = LoadPlayersFile(Write(line));
  ASSERT_OK(players.status());
  EXPECT_EQ(kMaxPlayerLabels, players.value().labels["web-1"].size());
}

TEST_F(PlayersFileTest, AWordThatIsNotALabelIsAnErrorNamingFileAndLine) {
  std::string error =
      PlayersError("web-1 " + key1_ + "\nweb-2 " + key2_ + " role=web prod\n");
  EXPECT_EQ(Where(2) +
                "unexpected 'prod'; after NAME PUBLIC-KEY only labels "
                "KEY=VALUE may follow",
            error);
}

TEST_F(PlayersFileTest, ABadLabelKeyIsAnErrorNamingFileAndLine) {
  EXPECT_EQ(Where(1) + "label key 'Role' must match [a-z][a-z0-9_.-]{0,62}",
            PlayersError("web-1 " + key1_ + " Role=web\n"));
  EXPECT_EQ(Where(1) + "label key '' must match [a-z][a-z0-9_.-]{0,62}",
            PlayersError("web-1 " + key1_ + " =web\n"));
  EXPECT_EQ(0u, PlayersError("web-1 " + key1_ + " 1dc=syd").find(Where(1)));
  EXPECT_EQ(0u,
            PlayersError("web-1 " + key1_ + " " + std::string(64, 'k') + "=v")
                .find(Where(1)));
}

TEST_F(PlayersFileTest, ABadLabelValueIsAnErrorNamingFileAndLine) {
  EXPECT_EQ(Where(2) +
                "value '' of label 'role' must match "
                "[A-Za-z0-9._:/-]{1,128}",
            PlayersError("# fleet\nweb-1 " + key1_ + " role=\n"));
  EXPECT_EQ(Where(1) +
                "value 'a=b' of label 'role' must match "
                "[A-Za-z0-9._:/-]{1,128}",
            PlayersError("web-1 " + key1_ + " role=a=b\n"));
  EXPECT_EQ(0u,
            PlayersError("web-1 " + key1_ + " role=" + std::string(129, 'v'))
                .find(Where(1)));
  EXPECT_EQ(0u, PlayersError("web-1 " + key1_ + " role=w*b").find(Where(1)));
}

TEST_F(PlayersFileTest, ALabelKeyGivenTwiceIsAnError) {
  EXPECT_EQ(Where(1) + "label 'role' is given twice",
            PlayersError("web-1 " + key1_ + " role=web dc=syd role=db\n"));
}

TEST_F(PlayersFileTest, TheNameLabelIsReserved) {
  EXPECT_EQ(Where(1) +
                "label key 'name' is reserved: it stands for the player's "
                "name",
            PlayersError("web-1 " + key1_ + " name=web-2\n"));
}

TEST_F(PlayersFileTest, MoreThanTheMostLabelsIsAnError) {
  std::string line = "web-1 " + key1_;
  for (size_t i = 0; i <= kMaxPlayerLabels; ++i)
    line += " l" + std::to_string(i) + "=v";
  EXPECT_EQ(Where(1) + "65 labels; a player may have at most 64",
            PlayersError(line));
}

TEST_F(PlayersFileTest, RevokedKeysFileListsKeys) {
  Result<std::set<std::string>> revoked = LoadRevokedKeys(
      Write("# cut off\n" + key1_ + "\n\n  " + key2_ + "  \n", "revoked"));
  ASSERT_OK(revoked.status());
  EXPECT_EQ((std::set<std::string>{key1_, key2_}), revoked.value());
}

TEST_F(PlayersFileTest, NoRevokedKeysFileMeansNoneRevoked) {
  Result<std::set<std::string>> revoked = LoadRevokedKeys("");
  ASSERT_OK(revoked.status());
  EXPECT_TRUE(revoked.value().empty());
}

TEST_F(PlayersFileTest, BadRevokedKeyIsAnErrorNamingFileAndLine) {
  Result<std::set<std::string>> revoked =
      LoadRevokedKeys(Write(key1_ + "\nweb-1 " + key2_ + "\n", "revoked"));
  ASSERT_FALSE(revoked.ok());
  EXPECT_EQ(0u, revoked.status().message().find(Where(2, "revoked")))
      << revoked.status().message();
}

TEST_F(PlayersFileTest, MissingRevokedKeysFileIsAnError) {
  EXPECT_EQ(common::Status::Code::kNotFound,
            LoadRevokedKeys(dir_.File("absent")).status().code());
}

}  // namespace
}  // namespace orchestra::conductor
