// Tests for conductor/audience_keys.h: the audience keys file (`NAME
// PUBLIC-KEY [scores=GLOB,...] [players=GLOB,...]` a line), its FILE:LINE
// errors, revocation, and what a restricted key may submit.

#include "conductor/audience_keys.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "broker/curve_keys.h"
#include "test/test_util.h"

namespace orchestra::conductor {
namespace {

using common::Result;

class AudienceKeysTest : public testing::Test {
 protected:
  void SetUp() override {
    for (std::string* key : {&key1_, &key2_}) {
      Result<broker::CurveKeyPair> pair = broker::GenerateKeyPair();
      ASSERT_OK(pair.status());
      *key = pair.value().public_key;
    }
  }
  Result<AudienceKeys> Load(const std::string& content) {
    return AudienceKeys::Load(dir_.MakeFile("audience", content, 0644));
  }
  // The error of loading a file holding `content`.
  std::string Error(const std::string& content) {
    Result<AudienceKeys> keys = Load(content);
    EXPECT_FALSE(keys.ok());
    return keys.ok() ? "" : keys.status().message();
  }
  std::string Where(int line) {
    return dir_.File("audience") + ":" + std::to_string(line) + ": ";
  }
  // The grant of `name` in a file holding `content`.
  AudienceGrant Grant(const std::string& content, const std::string& name) {
    Result<AudienceKeys> keys = Load(content);
    EXPECT_OK(keys.status());
    const AudienceGrant* grant = keys.ok() ? keys.value().Find(name) : nullptr;
    EXPECT_NE(nullptr, grant);
    return grant ? *grant : AudienceGrant{};
  }

  test::TempDir dir_;
  std::string key1_, key2_;
};

TEST_F(AudienceKeysTest, ReadsNamesKeysAndLimits) {
  Result<AudienceKeys> keys =
      Load("# comment\n\nci " + key1_ + "\n  backup-bot " + key2_ +
           " scores=backup-*,db-dump players=db-?,web-[12]\n");
  ASSERT_OK(keys.status());
  EXPECT_EQ(2u, keys.value().size());
  const AudienceGrant* bot = keys.value().Find("backup-bot");
  ASSERT_NE(nullptr, bot);
  EXPECT_EQ((std::vector<std::string>{"backup-*", "db-dump"}), bot->scores);
  EXPECT_EQ((std::vector<std::string>{"db-?", "web-[12]"}), bot->players);
  EXPECT_TRUE(bot->restricted());
  EXPECT_FALSE(keys.value().Find("ci")->restricted());
  EXPECT_EQ("ci", keys.value().NamesByKey().at(key1_));
}

TEST_F(AudienceKeysTest, EmptyPathMeansNoKeys) {
  Result<AudienceKeys> keys = AudienceKeys::Load("");
  ASSERT_OK(keys.status());
  EXPECT_EQ(0u, keys.value().size());
}

TEST_F(AudienceKeysTest, MissingFileIsAnError) {
  EXPECT_FALSE(AudienceKeys::Load(dir_.File("none")).ok());
}

TEST_F(AudienceKeysTest, ErrorsNameFileLineAndTheFix) {
  EXPECT_EQ(Where(2) +
                "expected 'NAME PUBLIC-KEY [scores=GLOB,...] "
                "[players=GLOB,...]' with a 40-character Z85 key "
                "(the client's .pub file)",
            Error("# ok\nci not-a-key\n"));
  EXPECT_NE(std::string::npos,
            Error("-x " + key1_ + "\n").find(Where(1) + "'-x' is not a valid"));
  EXPECT_NE(std::string::npos, Error("ci " + key1_ + " hosts=a\n")
                                   .find(Where(1) + "unexpected "
                                                    "'hosts=a'"));
  EXPECT_NE(std::string::npos, Error("ci " + key1_ + " scores=a scores=b\n")
                                   .find("'scores=' is given twice"));
}

TEST_F(AudienceKeysTest, EmptyOrOddGlobsAreRefused) {
  for (const char* limit :
       {"scores=", "scores=a,,b", "players=a,", "scores=a/b", "players='x'"}) {
    EXPECT_NE(std::string::npos,
              Error("ci " + key1_ + " " + limit + "\n").find("is not a glob"))
        << limit;
  }
}

TEST_F(AudienceKeysTest, DuplicateNameOrKeyIsAnError) {
  EXPECT_EQ(Where(2) + "key name 'ci' listed twice",
            Error("ci " + key1_ + "\nci " + key2_ + "\n"));
  EXPECT_EQ(Where(2) + "key already given another name on line 1",
            Error("ci " + key1_ + "\nbot " + key1_ + "\n"));
}

TEST_F(AudienceKeysTest, RevokedKeysAreForgotten) {
  Result<AudienceKeys> keys = Load("ci " + key1_ + "\nbot " + key2_ + "\n");
  ASSERT_OK(keys.status());
  keys.value().Revoke({key2_});
  EXPECT_NE(nullptr, keys.value().Find("ci"));
  EXPECT_EQ(nullptr, keys.value().Find("bot"));
  EXPECT_EQ(0u, keys.value().NamesByKey().count(key2_));
}

TEST_F(AudienceKeysTest, UnrestrictedKeyMaySubmitAnything) {
  AudienceGrant ci = Grant("ci " + key1_ + "\n", "ci");
  EXPECT_EQ("", ci.WhyNotSubmit("restart-web", {"web-1", "db-1"}));
}

TEST_F(AudienceKeysTest, ScoreMustMatchAGlob) {
  AudienceGrant bot =
      Grant("bot " + key1_ + " scores=backup-*,db-dump\n", "bot");
  EXPECT_EQ("", bot.WhyNotSubmit("backup-home", {"web-1"}));
  EXPECT_EQ("", bot.WhyNotSubmit("db-dump", {"web-1"}));
  EXPECT_EQ(
      "audience key 'bot' may not run score 'restart-web' (it may "
      "run: backup-*,db-dump)",
      bot.WhyNotSubmit("restart-web", {"web-1"}));
}

TEST_F(AudienceKeysTest, EveryPlayerMustMatchAGlob) {
  AudienceGrant bot = Grant("bot " + key1_ + " players=db-*\n", "bot");
  EXPECT_EQ("", bot.WhyNotSubmit("anything", {"db-1", "db-2"}));
  EXPECT_EQ(
      "audience key 'bot' may not run scores on web-1,web-2 (it may "
      "use players: db-*)",
      bot.WhyNotSubmit("anything", {"db-1", "web-1", "web-2"}));
}

TEST_F(AudienceKeysTest, ARefusalListsAtMostTenPlayers) {
  AudienceGrant bot = Grant("bot " + key1_ + " players=db-*\n", "bot");
  std::vector<std::string> players;
  for (int i = 0; i < 12; ++i) players.push_back("web-" + std::to_string(i));
  const std::string why = bot.WhyNotSubmit("x", players);
  EXPECT_NE(std::string::npos, why.find("web-9 and 2 more"));
  EXPECT_EQ(std::string::npos, why.find("web-10"));
}

}  // namespace
}  // namespace orchestra::conductor
