// Tests for conductor/target.h: target expressions (DESIGN.md section 13):
// each form of term, lists, bare names, whitespace, the normalized text,
// every malformed case with its message, and resolving over listed players.

#include "conductor/target.h"

#include <gtest/gtest.h>

#include <map>
#include <set>
#include <string>
#include <vector>

#include "common/limits.h"
#include "test/test_util.h"

namespace orchestra::conductor {
namespace {

using common::Result;

class TargetTest : public testing::Test {
 protected:
  void SetUp() override {
    labels_["web-01"] = {{"role", "web"}, {"dc", "syd"}, {"tier", "prod"}};
    labels_["web-12"] = {{"role", "web"}, {"dc", "mel"}};
    labels_["web-23"] = {{"role", "web"}, {"dc", "per"}, {"tier", "test"}};
    labels_["db-1"] = {{"role", "db"}, {"dc", "syd"}};
    labels_["bare"] = {};
    for (const auto& [name, labels] : labels_) listed_.insert(name);
  }

  // The players `expression` picks from the fixture's fleet; {"ERROR: ..."}
  // when it does not parse or resolve.
  std::vector<std::string> Pick(const std::string& expression) {
    Result<Target> target = Target::Parse(expression);
    if (!target.ok()) return {"ERROR: " + target.status().message()};
    Result<std::vector<std::string>> players =
        target.value().Resolve(listed_, [this](const std::string& name) {
          auto it = labels_.find(name);
          return it == labels_.end() ? nullptr : &it->second;
        });
    if (!players.ok()) return {"ERROR: " + players.status().message()};
    return players.value();
  }
  // The error of parsing `expression`.
  std::string Error(const std::string& expression) {
    Result<Target> target = Target::Parse(expression);
    EXPECT_FALSE(target.ok()) << expression;
    return target.status().message();
  }
  // The normalized text of `expression`.
  std::string Normal(const std::string& expression) {
    Result<Target> target = Target::Parse(expression);
    EXPECT_OK(target.status());
    return target.ok() ? target.value().ToString() : "";
  }

  std::map<std::string, Labels> labels_;
  std::set<std::string> listed_;
};

using Names = std::vector<std::string>;

TEST_F(TargetTest, ALabelTermPicksPlayersWhoseValueMatches) {
  EXPECT_EQ((Names{"web-01", "web-12", "web-23"}), Pick("role=web"));
  EXPECT_EQ((Names{"db-1"}), Pick("role=db"));
  EXPECT_EQ((Names{"web-01"}), Pick("tier=prod"));
}

TEST_F(TargetTest, ALabelTermTakesAListOfGlobs) {
  EXPECT_EQ((Names{"db-1", "web-01", "web-12"}), Pick("dc=syd,mel"));
  EXPECT_EQ((Names{"web-01", "web-23"}), Pick("tier=p*,t?st"));
  EXPECT_EQ((Names{"web-12", "web-23"}), Pick("dc=[mp]e[lr]"));
}

TEST_F(TargetTest, NotEqualsHoldsWhenTheLabelIsMissingOrMatchesNone) {
  EXPECT_EQ((Names{"bare", "db-1", "web-12"}), Pick("tier!=prod,test"));
  EXPECT_EQ((Names{"bare", "web-12", "web-23"}), Pick("dc!=syd"));
  EXPECT_EQ((Names{"bare", "db-1", "web-12"}), Pick("tier!=*"));
}

TEST_F(TargetTest, ABareGlobMatchesThePlayersName) {
  EXPECT_EQ((Names{"web-01", "web-12", "web-23"}), Pick("web-*"));
  EXPECT_EQ((Names{"bare", "db-1"}), Pick("db-?,bare"));
  EXPECT_EQ((Names{"web-12", "web-23"}), Pick("web-[!0]*"));
  EXPECT_EQ((Names{"web-01"}), Pick("web-01"));
}

TEST_F(TargetTest, TheNameKeyIsThePlayersName) {
  EXPECT_EQ(Pick("web-*"), Pick("name=web-*"));
  EXPECT_EQ((Names{"bare", "db-1", "web-23"}), Pick("name!=web-0*,web-1*"));
}

TEST_F(TargetTest, ALabelCalledNameNeverStandsForTheName) {
  Result<Target> target = Target::Parse("name=db-*");
  ASSERT_OK(target.status());
  EXPECT_FALSE(target.value().Matches("web-1", {{"name", "db-1"}}));
  EXPECT_TRUE(target.value().Matches("db-1", {{"name", "web-1"}}));
}

TEST_F(TargetTest, EveryTermMustHold) {
  EXPECT_EQ((Names{"web-12"}), Pick("role=web dc=syd,mel name!=web-0*"));
  EXPECT_EQ((Names{"db-1"}), Pick("dc=syd db-*"));
  EXPECT_EQ((Names{"web-01"}), Pick("role=web role=web tier=prod"));
}

TEST_F(TargetTest, RunsOfSpacesAndTabsSeparateTerms) {
  EXPECT_EQ("role=web dc=syd", Normal("  role=web \t\t dc=syd\t "));
  EXPECT_EQ((Names{"web-01"}), Pick("\trole=web    dc=syd  "));
}

TEST_F(TargetTest, ToStringWritesNameTermsBare) {
  EXPECT_EQ("web-*,db-1", Normal("name=web-*,db-1"));
  EXPECT_EQ("name!=web-0*", Normal("name!=web-0*"));
  EXPECT_EQ("role=web dc!=syd,mel web-?", Normal("role=web dc!=syd,mel web-?"));
}

TEST_F(TargetTest, ToStringParsesBackToItself) {
  for (const std::string expression :
       {"role=web dc=syd,mel name!=web-0*", " name=a,b  c!=[!x]*\t?",
        "os.v_1-b=12.* rack=syd/r4:*", "w**", "[a-c-]"}) {
    const std::string normal = Normal(expression);
    EXPECT_EQ(normal, Normal(normal)) << expression;
  }
}

TEST_F(TargetTest, AnEmptyExpressionIsAnError) {
  const std::string error =
      "target: empty; give terms such as role=web dc!=syd web-*";
  EXPECT_EQ(error, Error(""));
  EXPECT_EQ(error, Error(" \t  "));
}

TEST_F(TargetTest, AnEmptyGlobIsAnErrorNamingItsTerm) {
  EXPECT_EQ("term 1 'role=': a glob after '=' is empty", Error("role="));
  EXPECT_EQ("term 2 'role=': a glob after '=' is empty", Error("dc=syd role="));
  EXPECT_EQ("term 1 'dc=syd,,mel': a glob after '=' is empty",
            Error("dc=syd,,mel"));
  EXPECT_EQ("term 1 'dc!=syd,': a glob after '!=' is empty", Error("dc!=syd,"));
  EXPECT_EQ("term 1 ',web-1': a glob is empty", Error(",web-1"));
}

TEST_F(TargetTest, AMissingOrBadKeyIsAnError) {
  EXPECT_EQ("term 1 '=web': a label key is missing before '='", Error("=web"));
  EXPECT_EQ("term 2 '!=web': a label key is missing before '!='",
            Error("role=web !=web"));
  EXPECT_EQ(
      "term 1 'Role=web': 'Role' is not a label key ([a-z][a-z0-9_.-]{0,62})",
      Error("Role=web"));
  EXPECT_EQ(0u, Error("role==web").find("term 1 'role==web': glob '=web': "));
  EXPECT_EQ(0u, Error("dc!!=syd").find("term 1 'dc!!=syd': 'dc!' is not"));
}

TEST_F(TargetTest, ABadGlobIsAnErrorNamingTermAndGlob) {
  EXPECT_EQ(
      "term 1 'role=w@b': glob 'w@b': '@' may not appear in a glob (letters, "
      "digits, '.', '_', ':', '/', '-' and * ? [ ])",
      Error("role=w@b"));
  EXPECT_EQ("term 2 'web-[1,web-2': glob 'web-[1': '[' without a closing ']'",
            Error("role=web web-[1,web-2"));
  EXPECT_EQ(0u, Error("!web-1").find("term 1 '!web-1': glob '!web-1': '!' "
                                     "only negates inside [...]"));
  EXPECT_EQ(0u, Error("role=\x01\xff").find("term 1 'role=\\x01\\xff': "));
}

TEST_F(TargetTest, ALongTermIsShownCut) {
  const std::string term = "role=" + std::string(100, 'w') + "@";
  EXPECT_EQ(0u, Error(term).find("term 1 '" + term.substr(0, 64) + "...': "));
}

TEST_F(TargetTest, TooLongTooManyTermsOrGlobsIsAnError) {
  EXPECT_EQ("target: 1025 bytes; at most 1024",
            Error(std::string(kMaxTargetBytes + 1, 'w')));
  EXPECT_EQ(Normal(std::string(kMaxTargetBytes, 'w')),
            std::string(kMaxTargetBytes, 'w'));
  std::string terms;
  for (size_t i = 0; i <= kMaxTargetTerms; ++i) terms += "a ";
  EXPECT_EQ("target: 33 terms; at most 32", Error(terms));
  std::string globs = "a";
  for (size_t i = 0; i < kMaxTargetGlobs; ++i) globs += ",a";
  EXPECT_EQ("target: 129 globs; at most 128 in all", Error(globs));
}

TEST_F(TargetTest, ResolvePicksListedPlayersInNameOrder) {
  listed_ = {"web-9", "web-10", "db-1", "web-1"};
  EXPECT_EQ((Names{"web-1", "web-10", "web-9"}), Pick("web-*"));
}

TEST_F(TargetTest, ResolveOfNoMatchSaysSo) {
  EXPECT_EQ((Names{"ERROR: no listed player matches 'role=web dc=bne'"}),
            Pick("  role=web   dc=bne "));
  listed_.clear();
  EXPECT_EQ((Names{"ERROR: no listed player matches 'web-*'"}),
            Pick("name=web-*"));
}

TEST_F(TargetTest, ResolveWithoutLabelsSeesNamesOnly) {
  Result<Target> target = Target::Parse("role!=db web-0*,db-*");
  ASSERT_OK(target.status());
  Result<Names> players = target.value().Resolve(listed_, nullptr);
  ASSERT_OK(players.status());
  EXPECT_EQ((Names{"db-1", "web-01"}), players.value());
}

}  // namespace
}  // namespace orchestra::conductor
