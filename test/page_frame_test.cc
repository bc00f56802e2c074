// Tests for conductor/page_frame.h: the frame links the embedded assets,
// says who is signed in, and prints times and ages as documented.

#include "conductor/page_frame.h"

#include <gtest/gtest.h>

#include <string>

namespace orchestra::conductor {
namespace {

std::string Frame(const PageContext& ctx) {
  HtmlWriter html;
  OpenPage(&html, "Jobs", "jobs", ctx, "data-x=\"1\"");
  ClosePage(&html, "9.9");
  return html.Take();
}

TEST(PageFrameTest, AgesReadAsPeopleSayThem) {
  EXPECT_EQ("0 ms", FormatAge(-5));
  EXPECT_EQ("850 ms", FormatAge(850));
  EXPECT_EQ("12 s", FormatAge(12999));
  EXPECT_EQ("3 min 4 s", FormatAge(184000));
  EXPECT_EQ("2 h 5 min", FormatAge((2 * 3600 + 5 * 60 + 59) * 1000));
  EXPECT_EQ("4 d 3 h", FormatAge((4 * 86400 + 3 * 3600 + 100) * 1000));
}

TEST(PageFrameTest, TimesUseTheProtocolFormatAndUnsetIsEmpty) {
  HtmlWriter html;
  WriteTime(&html, 1795836000123);
  WriteTime(&html, 0);
  EXPECT_EQ(
      "<time datetime=\"2026-11-28T03:20:00.123Z\">2026-11-28T03:20:00.123Z"
      "</time>",
      html.Take());
}

TEST(PageFrameTest, FrameLinksTheAssetsAndMarksThePage) {
  const std::string page = Frame(PageContext{"ann", true, false, 0});
  EXPECT_EQ(0u, page.find("<!DOCTYPE html>"));
  EXPECT_NE(std::string::npos, page.find("<body data-page=\"jobs\""));
  EXPECT_NE(std::string::npos, page.find(" data-x=\"1\">"));
  EXPECT_NE(std::string::npos, page.find("<a href=\"/jobs\" aria-current"));
  EXPECT_NE(std::string::npos, page.find("ann (operate)"));
  EXPECT_NE(std::string::npos, page.find("id=\"version\">9.9<"));
}

TEST(PageFrameTest, ViewersAndAnonymousReadersAreNamed) {
  EXPECT_NE(std::string::npos,
            Frame(PageContext{"vic", false, false, 0}).find("vic (view)"));
  EXPECT_NE(std::string::npos,
            Frame(PageContext{}).find("read-only (no users file)"));
}

}  // namespace
}  // namespace orchestra::conductor
