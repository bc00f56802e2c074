// Tests for conductor/glob.h: the globs of target expressions, what they
// match (as fnmatch(3) does), what they refuse, and that no glob takes
// exponential time.

#include "conductor/glob.h"

#include <fnmatch.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "test/test_util.h"

namespace orchestra::conductor {
namespace {

using common::Result;

// True when `glob` parses and matches `text`.
bool Matches(const std::string& glob, const std::string& text) {
  Result<Glob> parsed = Glob::Parse(glob);
  EXPECT_OK(parsed.status());
  return parsed.ok() && parsed.value().Matches(text);
}

// The error of parsing `glob`.
std::string Error(const std::string& glob) {
  Result<Glob> parsed = Glob::Parse(glob);
  EXPECT_FALSE(parsed.ok()) << glob;
  return parsed.status().message();
}

TEST(GlobTest, ALiteralMatchesOnlyItself) {
  EXPECT_TRUE(Matches("web-1", "web-1"));
  EXPECT_FALSE(Matches("web-1", "web-10"));
  EXPECT_FALSE(Matches("web-1", "web-"));
  EXPECT_FALSE(Matches("web-1", "Web-1"));
  EXPECT_TRUE(Matches("syd/r4:u12", "syd/r4:u12"));
}

TEST(GlobTest, AStarMatchesAnyRunIncludingNone) {
  EXPECT_TRUE(Matches("web-*", "web-"));
  EXPECT_TRUE(Matches("web-*", "web-10.example"));
  EXPECT_FALSE(Matches("web-*", "db-1"));
  EXPECT_TRUE(Matches("*", ""));
  EXPECT_TRUE(Matches("*.example", ".example"));
  EXPECT_TRUE(Matches("*/*", "syd/r4"));
  EXPECT_TRUE(Matches("w**1", "web-1"));
  EXPECT_TRUE(Matches("*a*b", "xaxaxb"));
  EXPECT_FALSE(Matches("*a*b", "xaxbxa"));
}

TEST(GlobTest, AQuestionMarkMatchesExactlyOneCharacter) {
  EXPECT_TRUE(Matches("web-?", "web-7"));
  EXPECT_FALSE(Matches("web-?", "web-"));
  EXPECT_FALSE(Matches("web-?", "web-17"));
  EXPECT_TRUE(Matches("??", ".."));
}

TEST(GlobTest, BracketsMatchOneCharacterOfTheirSet) {
  EXPECT_TRUE(Matches("web-[13]", "web-3"));
  EXPECT_FALSE(Matches("web-[13]", "web-2"));
  EXPECT_TRUE(Matches("web-[0-9][0-9]", "web-42"));
  EXPECT_FALSE(Matches("web-[0-9][0-9]", "web-4x"));
  EXPECT_TRUE(Matches("[a-cx-z]", "y"));
  EXPECT_TRUE(Matches("[-a]", "-"));
  EXPECT_TRUE(Matches("[a-]", "-"));
  EXPECT_TRUE(Matches("[a-c-]", "-"));
  EXPECT_TRUE(Matches("[--/]", "."));
}

TEST(GlobTest, BangOrCaretNegatesABracket) {
  EXPECT_TRUE(Matches("web-[!0]*", "web-17"));
  EXPECT_FALSE(Matches("web-[!0]*", "web-07"));
  EXPECT_TRUE(Matches("[^a-c]", "d"));
  EXPECT_FALSE(Matches("[^a-c]", "b"));
  EXPECT_FALSE(Matches("[!a]", "")) << "a bracket is one character";
  EXPECT_TRUE(Matches("[!a]", "\xff")) << "any byte but those listed";
}

TEST(GlobTest, MalformedGlobsSayWhatIsWrong) {
  EXPECT_EQ("the glob is empty", Error(""));
  EXPECT_EQ("'[' without a closing ']'", Error("web-[12"));
  EXPECT_EQ("']' without '[' before it", Error("web-]"));
  EXPECT_EQ("'[]' lists no character", Error("[]a]"));
  EXPECT_EQ("'[]' lists no character", Error("[!]"));
  EXPECT_EQ("'[' inside [...] (character classes) is not allowed",
            Error("[[:digit:]]"));
  EXPECT_EQ("the range 'z-a' is backwards", Error("[z-a]"));
  EXPECT_EQ("a '-' after a range inside [...] must be last", Error("[a-c-e]"));
  EXPECT_EQ("'*' may not appear inside [...]", Error("[*]"));
  EXPECT_EQ("'!' may not appear inside [...]", Error("[a!]"));
  EXPECT_EQ(
      "'!' only negates inside [...]; to leave players out, write KEY!=GLOB "
      "(name!=GLOB for names)",
      Error("!web-1"));
  EXPECT_EQ(0u, Error("web^").find("'^' only negates"));
  EXPECT_EQ(
      "'@' may not appear in a glob (letters, digits, '.', '_', ':', '/', "
      "'-' and * ? [ ])",
      Error("w@b"));
  EXPECT_EQ(0u, Error("a\\*").find("'\\' may not appear"));
  EXPECT_EQ(0u, Error("a\x01").find("'\\x01' may not appear"));
  EXPECT_EQ(0u, Error("a b").find("'\\x20' may not appear"));
  EXPECT_EQ(0u, Error("a\xC3\x84").find("'\\xc3' may not appear"));
}

TEST(GlobTest, EveryAcceptedGlobAgreesWithFnmatch) {
  const std::vector<std::string> globs = {
      "web-1", "web-*",    "*-1",   "w?b-*", "[a-c]*[!0-9]", "[^w]*",
      "*.*",   "*/r[4]:*", "[-.]*", "[a-]?", "*?*?",         "[!--/]"};
  const std::vector<std::string> texts = {
      "",  "web-1", "web-10", "wab-x", "db-1", "a.b",          "syd/r4:u12",
      "-", ".x",    "b-",     "a",     "ab1c", "web-1.example"};
  for (const std::string& glob : globs) {
    for (const std::string& text : texts)
      EXPECT_EQ(::fnmatch(glob.c_str(), text.c_str(), 0) == 0,
                Matches(glob, text))
          << "glob '" << glob << "' text '" << text << "'";
  }
}

TEST(GlobTest, GlobsOfMoreThan64StepsMatchToo) {
  const std::string glob =
      std::string(100, 'a') + "*" + std::string(100, 'b') + "?[!c]";
  const std::string text =
      std::string(100, 'a') + "x*y" + std::string(100, 'b') + "cd";
  EXPECT_TRUE(Matches(glob, text));
  EXPECT_FALSE(Matches(glob, text.substr(1)));
  EXPECT_FALSE(Matches(glob, text + "d"));
  EXPECT_FALSE(Matches(glob, text.substr(0, text.size() - 1) + "c"));
  EXPECT_EQ(::fnmatch(glob.c_str(), text.c_str(), 0) == 0, Matches(glob, text));
}

TEST(GlobTest, AGlobOfOver1024BytesIsRefused) {
  EXPECT_TRUE(Matches(std::string(1023, 'a') + "*", std::string(1100, 'a')));
  EXPECT_EQ("the glob is longer than 1024 bytes",
            Error(std::string(1025, 'a')));
}

// glibc's fnmatch recurses at each '*' and would take years here.
TEST(GlobTest, ManyStarsTakeLinearTimeNotExponential) {
  const std::string text(250, 'a');
  std::string glob;
  for (int i = 0; i < 60; ++i) glob += "*a";
  EXPECT_FALSE(Matches(glob + "*b", text));
  EXPECT_TRUE(Matches(glob + "*", text));
}

}  // namespace
}  // namespace orchestra::conductor
