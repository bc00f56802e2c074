// Tests for conductor/trust.h: which connections a reload of the trust
// lists still admits (DESIGN.md section 6). A connection is named by the
// key that opened it, the name it was admitted as and the epoch of that
// decision.

#include "conductor/trust.h"

#include <gtest/gtest.h>

#include <fstream>
#include <string>

#include "broker/curve_keys.h"
#include "test/test_util.h"

namespace orchestra::conductor {
namespace {

using common::Result;

constexpr char kOld[] = "old-key";
constexpr char kNew[] = "new-key";
constexpr char kOther[] = "other-key";

TrustFiles Players(std::map<std::string, std::string> players,
                   std::set<std::string> revoked = {}) {
  TrustFiles files;
  files.players = std::move(players);
  files.revoked = std::move(revoked);
  return files;
}

TrustFiles Audience(const std::string& name, const std::string& key,
                    std::vector<std::string> scores = {}) {
  TrustFiles files;
  files.audience = AudienceKeys::FromGrants(
      {AudienceGrant{name, key, std::move(scores), {}}});
  return files;
}

TEST(TrustTest, AListedKeyIsAdmittedFromTheEpochThatListsIt) {
  Trust trust;
  EXPECT_FALSE(trust.AdmitsPlayer("web-1", kOld, 0));
  trust.Install(Players({{"web-1", kOld}}));
  EXPECT_EQ(1, trust.epoch());
  EXPECT_TRUE(trust.AdmitsPlayer("web-1", kOld, 1));
  EXPECT_FALSE(trust.AdmitsPlayer("web-1", kOld, 0)) << "before any list";
  EXPECT_FALSE(trust.AdmitsPlayer("web-1", kOld, 2)) << "a future epoch";
  EXPECT_FALSE(trust.AdmitsPlayer("web-1", kNew, 1));
  EXPECT_FALSE(trust.AdmitsPlayer("web-2", kOld, 1));
  EXPECT_FALSE(trust.AdmitsPlayer("web-1", "", 1));
}

TEST(TrustTest, ARotatedKeyIsCutOffAndTheNewOneAdmitted) {
  Trust trust;
  trust.Install(Players({{"web-1", kOld}, {"web-2", kOther}}));
  std::vector<std::string> cut =
      trust.Install(Players({{"web-1", kNew}, {"web-2", kOther}}));
  EXPECT_EQ(std::vector<std::string>{"web-1"}, cut);
  EXPECT_FALSE(trust.AdmitsPlayer("web-1", kOld, 1));
  EXPECT_FALSE(trust.AdmitsPlayer("web-1", kOld, 2));
  EXPECT_TRUE(trust.AdmitsPlayer("web-1", kNew, 2));
  EXPECT_TRUE(trust.AdmitsPlayer("web-2", kOther, 1)) << "untouched";
}

TEST(TrustTest, AKeyRestoredAfterARevocationKeepsItsOldConnectionsOut) {
  Trust trust;
  trust.Install(Players({{"web-1", kOld}}));
  EXPECT_EQ(std::vector<std::string>{"web-1"},
            trust.Install(Players({{"web-1", kOld}}, {kOld})));
  EXPECT_FALSE(trust.AdmitsPlayer("web-1", kOld, 1));
  EXPECT_TRUE(trust.listed()->empty());
  EXPECT_TRUE(trust.Install(Players({{"web-1", kOld}})).empty());
  EXPECT_FALSE(trust.AdmitsPlayer("web-1", kOld, 1)) << "opened before";
  EXPECT_FALSE(trust.AdmitsPlayer("web-1", kOld, 2)) << "admitted revoked";
  EXPECT_TRUE(trust.AdmitsPlayer("web-1", kOld, 3)) << "opened after";
}

TEST(TrustTest, AKeyMovedToAnotherNameIsTakenBackFromBoth) {
  Trust trust;
  trust.Install(Players({{"web-1", kOld}}));
  trust.Install(Players({{"web-9", kOld}}));
  EXPECT_FALSE(trust.AdmitsPlayer("web-1", kOld, 1));
  EXPECT_FALSE(trust.AdmitsPlayer("web-9", kOld, 1))
      << "admitted as web-1, it may not speak for web-9";
  EXPECT_TRUE(trust.AdmitsPlayer("web-9", kOld, 2));
}

TEST(TrustTest, AReloadThatChangesNothingCutsNobodyOff) {
  Trust trust;
  trust.Install(Players({{"web-1", kOld}}));
  for (int i = 0; i < 5; ++i)
    EXPECT_TRUE(trust.Install(Players({{"web-1", kOld}})).empty());
  EXPECT_TRUE(trust.AdmitsPlayer("web-1", kOld, 1));
}

TEST(TrustTest, AnAudienceGrantIsFoundByKeyNeverByName) {
  Trust trust;
  trust.Install(Audience("bot", kOld, {"backup-*"}));
  const AudienceGrant* grant = trust.AudienceGrantFor("bot", kOld, 1);
  ASSERT_NE(nullptr, grant);
  EXPECT_TRUE(grant->restricted());
  trust.Install(Audience("bot", kNew));  // rotated, and no longer limited
  EXPECT_EQ(nullptr, trust.AudienceGrantFor("bot", kOld, 1));
  EXPECT_EQ(nullptr, trust.AudienceGrantFor("bot", kOld, 2));
  const AudienceGrant* fresh = trust.AudienceGrantFor("bot", kNew, 2);
  ASSERT_NE(nullptr, fresh);
  EXPECT_FALSE(fresh->restricted());
  EXPECT_EQ(nullptr, trust.AudienceGrantFor("other", kNew, 2));
}

TEST(TrustTest, ANewLimitOfTheSameKeyAppliesToItsOpenConnections) {
  Trust trust;
  trust.Install(Audience("bot", kOld));
  trust.Install(Audience("bot", kOld, {"backup-*"}));
  const AudienceGrant* grant = trust.AudienceGrantFor("bot", kOld, 1);
  ASSERT_NE(nullptr, grant);
  EXPECT_TRUE(grant->restricted());
}

TEST(TrustTest, ARevokedAudienceKeyIsTakenBack) {
  Trust trust;
  trust.Install(Audience("bot", kOld));
  TrustFiles revoked = Audience("bot", kOld);
  revoked.revoked = {kOld};
  revoked.audience.Revoke(revoked.revoked);
  trust.Install(std::move(revoked));
  EXPECT_EQ(nullptr, trust.AudienceGrantFor("bot", kOld, 1));
  trust.Install(Audience("bot", kOld));
  EXPECT_EQ(nullptr, trust.AudienceGrantFor("bot", kOld, 1));
  EXPECT_NE(nullptr, trust.AudienceGrantFor("bot", kOld, 3));
}

TEST(TrustTest, AListedPlayerHasItsLabelsAndOthersNone) {
  Trust trust;
  TrustFiles files =
      Players({{"web-1", kOld}, {"web-2", kNew}, {"cut", kOther}}, {kOther});
  files.labels["web-1"] = {{"role", "web"}};
  files.labels["cut"] = {{"role", "db"}};
  trust.Install(std::move(files));
  ASSERT_NE(nullptr, trust.LabelsOf("web-1"));
  EXPECT_EQ((Labels{{"role", "web"}}), *trust.LabelsOf("web-1"));
  ASSERT_NE(nullptr, trust.LabelsOf("web-2"));
  EXPECT_TRUE(trust.LabelsOf("web-2")->empty());
  EXPECT_EQ(nullptr, trust.LabelsOf("cut")) << "revoked";
  EXPECT_EQ(nullptr, trust.LabelsOf("web-3")) << "not listed";
}

TEST(TrustTest, AReloadOfThePlayersFileBringsItsNewLabels) {
  test::TempDir dir;
  ConductorConfig config;
  config.players_file = dir.File("players");
  Result<broker::CurveKeyPair> pair = broker::GenerateKeyPair();
  ASSERT_OK(pair.status());
  const std::string line = "web-1 " + pair.value().public_key;
  std::ofstream(config.players_file) << line << " role=web dc=syd\n";
  Trust trust;
  Result<TrustFiles> files = TrustFiles::Load(config);
  ASSERT_OK(files.status());
  trust.Install(std::move(files.value()));
  EXPECT_EQ((Labels{{"role", "web"}, {"dc", "syd"}}), *trust.LabelsOf("web-1"));
  std::ofstream(config.players_file) << line << " role=db\n";
  files = TrustFiles::Load(config);
  ASSERT_OK(files.status());
  EXPECT_TRUE(trust.Install(std::move(files.value())).empty())
      << "new labels cut nobody off";
  EXPECT_EQ((Labels{{"role", "db"}}), *trust.LabelsOf("web-1"));
}

TEST(TrustTest, ABadLabelFailsTheLoadNamingFileAndLine) {
  test::TempDir dir;
  ConductorConfig config;
  config.players_file = dir.File("players");
  Result<broker::CurveKeyPair> pair = broker::GenerateKeyPair();
  ASSERT_OK(pair.status());
  std::ofstream(config.players_file)
      << "# fleet\nweb-1 " << pair.value().public_key << " name=web-2\n";
  Result<TrustFiles> files = TrustFiles::Load(config);
  ASSERT_FALSE(files.ok());
  EXPECT_EQ(0u, files.status().message().find(config.players_file + ":2: "))
      << files.status().message();
}

}  // namespace
}  // namespace orchestra::conductor
