// Tests for common/text.h: trimming, lists, UTF-8 checks, the name rules of
// DESIGN.md sections 4 and 13 (labels) and integer parsing.

#include "common/text.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

namespace orchestra::common {
namespace {

class TextTest : public testing::Test {
 protected:
  static std::string Repeat(char c, size_t n) { return std::string(n, c); }

  // ParseInt64 over the whole int64 range; nullopt-like flag on failure.
  static bool Parses(std::string_view text, int64_t* value) {
    return ParseInt64(text, INT64_MIN, INT64_MAX, value);
  }
};

TEST_F(TextTest, ToLowerChangesOnlyAsciiLetters) {
  EXPECT_EQ("heartbeat interval 1", ToLower("HeartBeat INTERVAL 1"));
  EXPECT_EQ("\xC3\x84", ToLower("\xC3\x84"));  // A-umlaut stays as it is
}

TEST_F(TextTest, TrimRemovesSurroundingWhitespaceOnly) {
  EXPECT_EQ("a b", Trim(" \t a b \r\n"));
  EXPECT_EQ("", Trim(" \t\r\n"));
  EXPECT_EQ("", Trim(""));
}

TEST_F(TextTest, SplitListTrimsAndDropsEmptyPieces) {
  std::vector<std::string> expected = {"tcp://a:1", "ipc:///x"};
  EXPECT_EQ(expected, SplitList(" tcp://a:1 , ,ipc:///x,", ','));
  EXPECT_TRUE(SplitList("", ',').empty());
  EXPECT_TRUE(SplitList(" , ", ',').empty());
}

TEST_F(TextTest, WellFormedUtf8IsValid) {
  EXPECT_TRUE(IsValidUtf8(""));
  EXPECT_TRUE(IsValidUtf8("plain ascii"));
  EXPECT_TRUE(IsValidUtf8(std::string("nul \0 inside", 12)));
  EXPECT_TRUE(IsValidUtf8("\xC2\x80"));          // U+0080
  EXPECT_TRUE(IsValidUtf8("\xE0\xA0\x80"));      // U+0800
  EXPECT_TRUE(IsValidUtf8("\xED\x9F\xBF"));      // U+D7FF
  EXPECT_TRUE(IsValidUtf8("\xEE\x80\x80"));      // U+E000
  EXPECT_TRUE(IsValidUtf8("\xF0\x90\x80\x80"));  // U+10000
  EXPECT_TRUE(IsValidUtf8("\xF4\x8F\xBF\xBF"));  // U+10FFFF
}

TEST_F(TextTest, OverlongEncodingsAreInvalid) {
  EXPECT_FALSE(IsValidUtf8("\xC0\x80"));  // NUL in two bytes
  EXPECT_FALSE(IsValidUtf8("\xC1\xBF"));
  EXPECT_FALSE(IsValidUtf8("\xE0\x80\xAF"));  // '/' in three bytes
  EXPECT_FALSE(IsValidUtf8("\xE0\x9F\xBF"));
  EXPECT_FALSE(IsValidUtf8("\xF0\x80\x80\xAF"));  // '/' in four bytes
  EXPECT_FALSE(IsValidUtf8("\xF0\x8F\xBF\xBF"));
}

TEST_F(TextTest, SurrogatesAreInvalid) {
  EXPECT_FALSE(IsValidUtf8("\xED\xA0\x80"));              // U+D800
  EXPECT_FALSE(IsValidUtf8("\xED\xBF\xBF"));              // U+DFFF
  EXPECT_FALSE(IsValidUtf8("\xED\xA0\xBD\xED\xB8\x80"));  // CESU pair
}

TEST_F(TextTest, CodePointsAboveTheUnicodeRangeAreInvalid) {
  EXPECT_FALSE(IsValidUtf8("\xF4\x90\x80\x80"));  // U+110000
  EXPECT_FALSE(IsValidUtf8("\xF5\x80\x80\x80"));
  EXPECT_FALSE(IsValidUtf8("\xF8\x88\x80\x80\x80"));
  EXPECT_FALSE(IsValidUtf8("\xFF"));
}

TEST_F(TextTest, BrokenSequencesAreInvalid) {
  EXPECT_FALSE(IsValidUtf8("\x80"));          // lone continuation
  EXPECT_FALSE(IsValidUtf8("a\xC3"));         // truncated at the end
  EXPECT_FALSE(IsValidUtf8("\xE2\x82"));      // truncated three-byte
  EXPECT_FALSE(IsValidUtf8("\xF0\x9F\x98"));  // truncated four-byte
  EXPECT_FALSE(IsValidUtf8("\xC3\x28"));      // bad continuation
  EXPECT_FALSE(IsValidUtf8("\xE2\x28\xA1"));
}

TEST_F(TextTest, SanitizeKeepsValidTextUnchanged) {
  const std::string text = "caf\xC3\xA9 \xF0\x9F\x8E\xBB";
  EXPECT_EQ(text, SanitizeUtf8(text));
}

TEST_F(TextTest, SanitizeReplacesIllFormedBytesWithReplacementCharacter) {
  EXPECT_EQ(
      "a\xEF\xBF\xBD"
      "b",
      SanitizeUtf8("a\xFF"
                   "b"));
  EXPECT_EQ("\xEF\xBF\xBD\xEF\xBF\xBD", SanitizeUtf8("\xC0\x80"));
}

TEST_F(TextTest, SanitizedTextIsAlwaysValid) {
  for (const char* bad : {"\xED\xA0\x80", "x\xE2\x82", "\xF4\x90\x80\x80",
                          "\x80\x80 ok \xC3\xA9 \xF0"}) {
    std::string clean = SanitizeUtf8(bad);
    EXPECT_TRUE(IsValidUtf8(clean)) << bad;
    EXPECT_NE(std::string::npos, clean.find("\xEF\xBF\xBD")) << bad;
  }
}

TEST_F(TextTest, ScoreNamesFollowTheDesignRule) {
  EXPECT_TRUE(IsValidScoreName("backup"));
  EXPECT_TRUE(IsValidScoreName("Restart_apache-2.sh"));
  EXPECT_TRUE(IsValidScoreName(Repeat('s', 128)));
  EXPECT_FALSE(IsValidScoreName(""));
  EXPECT_FALSE(IsValidScoreName(Repeat('s', 129)));
  EXPECT_FALSE(IsValidScoreName(".hidden"));
  EXPECT_FALSE(IsValidScoreName(".."));
}

TEST_F(TextTest, ScoreNamesCannotLeaveTheScoreDirectory) {
  EXPECT_FALSE(IsValidScoreName("../x"));
  EXPECT_FALSE(IsValidScoreName("a/b"));
  EXPECT_FALSE(IsValidScoreName("/bin/sh"));
  EXPECT_FALSE(IsValidScoreName("a b"));
  EXPECT_FALSE(IsValidScoreName(std::string("a\0b", 3)));
  EXPECT_FALSE(IsValidScoreName("caf\xC3\xA9"));
}

TEST_F(TextTest, ParamKeysFollowTheDesignRule) {
  EXPECT_TRUE(IsValidParamKey("a"));
  EXPECT_TRUE(IsValidParamKey("_private"));
  EXPECT_TRUE(IsValidParamKey("Mode_2"));
  EXPECT_TRUE(IsValidParamKey(Repeat('k', 64)));
  EXPECT_FALSE(IsValidParamKey(""));
  EXPECT_FALSE(IsValidParamKey(Repeat('k', 65)));
  EXPECT_FALSE(IsValidParamKey("1st"));
  EXPECT_FALSE(IsValidParamKey("a-b"));
  EXPECT_FALSE(IsValidParamKey("a.b"));
  EXPECT_FALSE(IsValidParamKey("a b"));
  EXPECT_FALSE(IsValidParamKey("PATH="));
}

TEST_F(TextTest, PlayerNamesFollowTheDesignRule) {
  EXPECT_TRUE(IsValidPlayerName("web-3"));
  EXPECT_TRUE(IsValidPlayerName("db1.example.com"));
  EXPECT_TRUE(IsValidPlayerName("_x"));
  EXPECT_TRUE(IsValidPlayerName(Repeat('p', 253)));
  EXPECT_FALSE(IsValidPlayerName(""));
  EXPECT_FALSE(IsValidPlayerName(Repeat('p', 254)));
  EXPECT_FALSE(IsValidPlayerName(".web"));
  EXPECT_FALSE(IsValidPlayerName("-web"));
  EXPECT_FALSE(IsValidPlayerName("web/3"));
  EXPECT_FALSE(IsValidPlayerName("web 3"));
  EXPECT_FALSE(IsValidPlayerName("web:3"));
}

TEST_F(TextTest, LabelKeysFollowTheDesignRule) {
  EXPECT_TRUE(IsValidLabelKey("role"));
  EXPECT_TRUE(IsValidLabelKey("os.version_2-b"));
  EXPECT_TRUE(IsValidLabelKey("a"));
  EXPECT_TRUE(IsValidLabelKey("name")) << "well formed; reserved elsewhere";
  EXPECT_TRUE(IsValidLabelKey("k" + Repeat('0', 62)));
  EXPECT_FALSE(IsValidLabelKey("k" + Repeat('0', 63)));
  EXPECT_FALSE(IsValidLabelKey(""));
  EXPECT_FALSE(IsValidLabelKey("Role"));
  EXPECT_FALSE(IsValidLabelKey("roLe"));
  EXPECT_FALSE(IsValidLabelKey("1dc"));
  EXPECT_FALSE(IsValidLabelKey("_dc"));
  EXPECT_FALSE(IsValidLabelKey("dc/1"));
  EXPECT_FALSE(IsValidLabelKey("dc=1"));
  EXPECT_EQ("[a-z][a-z0-9_.-]{0,62}", LabelKeyRule());
}

TEST_F(TextTest, LabelValuesFollowTheDesignRule) {
  EXPECT_TRUE(IsValidLabelValue("web"));
  EXPECT_TRUE(IsValidLabelValue("syd/r4:u12"));
  EXPECT_TRUE(IsValidLabelValue("-._:/AZaz09"));
  EXPECT_TRUE(IsValidLabelValue(Repeat('v', 128)));
  EXPECT_FALSE(IsValidLabelValue(Repeat('v', 129)));
  EXPECT_FALSE(IsValidLabelValue(""));
  EXPECT_FALSE(IsValidLabelValue("a b"));
  EXPECT_FALSE(IsValidLabelValue("a=b"));
  EXPECT_FALSE(IsValidLabelValue("a,b"));
  EXPECT_FALSE(IsValidLabelValue("web-*"));
  EXPECT_FALSE(IsValidLabelValue("\xC3\x84"));
  EXPECT_EQ("[A-Za-z0-9._:/-]{1,128}", LabelValueRule());
}

TEST_F(TextTest, LabelProblemSaysWhatIsWrong) {
  EXPECT_EQ("", LabelProblem("role", "web"));
  EXPECT_EQ("label key 'Role' must match [a-z][a-z0-9_.-]{0,62}",
            LabelProblem("Role", "web"));
  EXPECT_EQ("label key 'name' is reserved: it stands for the player's name",
            LabelProblem("name", "web-1"));
  EXPECT_EQ("value 'a b' of label 'role' must match [A-Za-z0-9._:/-]{1,128}",
            LabelProblem("role", "a b"));
}

TEST_F(TextTest, ParseInt64AcceptsWholeNumbersInRange) {
  int64_t value = 0;
  ASSERT_TRUE(ParseInt64("42", 0, 100, &value));
  EXPECT_EQ(42, value);
  ASSERT_TRUE(ParseInt64("-7", -10, 10, &value));
  EXPECT_EQ(-7, value);
  ASSERT_TRUE(ParseInt64("007", 0, 10, &value));
  EXPECT_EQ(7, value);
}

TEST_F(TextTest, ParseInt64RangeIsInclusive) {
  int64_t value = 0;
  EXPECT_TRUE(ParseInt64("1", 1, 5, &value));
  EXPECT_TRUE(ParseInt64("5", 1, 5, &value));
  EXPECT_FALSE(ParseInt64("0", 1, 5, &value));
  EXPECT_FALSE(ParseInt64("6", 1, 5, &value));
}

TEST_F(TextTest, ParseInt64HandlesTheInt64Limits) {
  int64_t value = 0;
  ASSERT_TRUE(Parses("9223372036854775807", &value));
  EXPECT_EQ(INT64_MAX, value);
  ASSERT_TRUE(Parses("-9223372036854775808", &value));
  EXPECT_EQ(INT64_MIN, value);
  EXPECT_FALSE(Parses("9223372036854775808", &value));
  EXPECT_FALSE(Parses("-9223372036854775809", &value));
  EXPECT_FALSE(Parses("99999999999999999999", &value));
}

TEST_F(TextTest, ParseInt64RejectsAnythingButDigits) {
  int64_t value = 0;
  for (const char* bad :
       {"", "-", "+1", " 1", "1 ", "1.0", "0x10", "12a", "1e3", "--1", "1-"}) {
    EXPECT_FALSE(Parses(bad, &value)) << "'" << bad << "'";
  }
}

TEST_F(TextTest, ParseInt64LeavesValueAloneOnFailure) {
  int64_t value = 17;
  EXPECT_FALSE(ParseInt64("200", 0, 100, &value));
  EXPECT_FALSE(ParseInt64("x", 0, 100, &value));
  EXPECT_EQ(17, value);
}

TEST_F(TextTest, CutsOfUtf8TextNeverSplitACharacter) {
  const std::string text =
      "a\xe2\x82\xac"
      "b\xf0\x9f\x8e\xbb";  // a€b🎻
  EXPECT_EQ(text, LastUtf8Bytes(text, 100));
  EXPECT_EQ("\xf0\x9f\x8e\xbb", LastUtf8Bytes(text, 4));
  EXPECT_EQ("", LastUtf8Bytes(text, 3));  // only part of the violin
  EXPECT_EQ("b\xf0\x9f\x8e\xbb", LastUtf8Bytes(text, 5));
  EXPECT_EQ("", LastUtf8Bytes(text, 0));
  EXPECT_EQ(text, FirstUtf8Bytes(text, 100));
  EXPECT_EQ("a", FirstUtf8Bytes(text, 1));
  EXPECT_EQ("a", FirstUtf8Bytes(text, 3));  // not a part of the euro
  EXPECT_EQ("a\xe2\x82\xac", FirstUtf8Bytes(text, 4));
  EXPECT_EQ(
      "a\xe2\x82\xac"
      "b",
      FirstUtf8Bytes(text, 8));
  EXPECT_EQ("", FirstUtf8Bytes(text, 0));
}

}  // namespace
}  // namespace orchestra::common
