// Tests of tools/table.h: aligned columns and text made safe to print.

#include "tools/table.h"

#include "test/test_util.h"

namespace orchestra::tools {
namespace {

class TableTest : public testing::Test {};

TEST_F(TableTest, AlignsColumnsTwoSpacesApart) {
  Table table({"A", "BB", "C"});
  table.AddRow({"xxx", "y", "z"});
  EXPECT_EQ("A    BB  C\nxxx  y   z\n", table.ToString());
}

TEST_F(TableTest, RightAlignsNumbers) {
  Table table({"N", "NAME"});
  table.AlignRight(0);
  table.AddRow({"7", "a"});
  table.AddRow({"123", "b"});
  EXPECT_EQ("  N  NAME\n  7  a\n123  b\n", table.ToString());
}

TEST_F(TableTest, DropsTrailingBlanksAndFillsMissingCells) {
  Table table({"A", "B"});
  table.AddRow({"long value"});
  EXPECT_EQ("A           B\nlong value\n", table.ToString());
}

TEST_F(TableTest, CountsCharactersNotBytes) {
  Table table({"A", "B"});
  table.AddRow({"\xC3\xA9t\xC3\xA9", "x"});  // "été"
  EXPECT_EQ("A    B\n\xC3\xA9t\xC3\xA9  x\n", table.ToString());
}

TEST_F(TableTest, ShortensALimitedColumn) {
  Table table({"OUTPUT"});
  table.LimitWidth(0, 8);
  table.AddRow({"0123456789"});
  EXPECT_EQ("OUTPUT\n01234...\n", table.ToString());
}

TEST_F(TableTest, EscapesControlCharactersInCells) {
  Table table({"OUTPUT"});
  table.AddRow({"red\x1b[31m\tbell\a"});
  EXPECT_EQ("OUTPUT\nred\\x1b[31m bell\\x07\n", table.ToString());
}

TEST_F(TableTest, PrintableEscapesC1AndFixesUtf8) {
  EXPECT_EQ("a\\x9bb", Printable("a\xC2\x9B"
                                 "b"));
  EXPECT_EQ("a\xEF\xBF\xBD", Printable("a\xFF"));
  EXPECT_EQ("a\nb", Printable("a\nb", /*keep_newlines=*/true));
  EXPECT_EQ("a\\nb\\r", Printable("a\nb\r"));
}

TEST_F(TableTest, ShortenKeepsShortTextWhole) {
  EXPECT_EQ("abc", Shorten("abc", 3));
  EXPECT_EQ("\xC3\xA9\xC3\xA9...",
            Shorten("\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9", 5));
}

}  // namespace
}  // namespace orchestra::tools
