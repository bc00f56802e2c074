// Tests for conductor/html_writer.h: text is escaped for content and
// attributes, ill-formed UTF-8 and control characters become U+FFFD, and
// URL components are percent-encoded.

#include "conductor/html_writer.h"

#include <gtest/gtest.h>

#include <string>

namespace orchestra::conductor {
namespace {

std::string Escaped(std::string_view text) {
  HtmlWriter html;
  return html.Text(text).Take();
}

TEST(HtmlWriterTest, MarkupCharactersBecomeReferences) {
  EXPECT_EQ("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;",
            Escaped("<script>alert(\"x\")</script>"));
  EXPECT_EQ("a &amp; b &#39;c&#39;", Escaped("a & b 'c'"));
}

TEST(HtmlWriterTest, PlainTextIsUnchanged) {
  EXPECT_EQ("caf\xC3\xA9 line\n\ttab\r", Escaped("caf\xC3\xA9 line\n\ttab\r"));
}

TEST(HtmlWriterTest, NulAndControlCharactersBecomeReplacement) {
  EXPECT_EQ(
      "a\xEF\xBF\xBD"
      "b\xEF\xBF\xBD"
      "c\xEF\xBF\xBD",
      Escaped(std::string("a\0b\x1b"
                          "c\x7f",
                          6)));
}

TEST(HtmlWriterTest, IllFormedUtf8BecomesReplacement) {
  EXPECT_EQ(
      "x\xEF\xBF\xBD"
      "&lt;y",
      Escaped("x\xFF<y"));
  EXPECT_EQ("\xEF\xBF\xBD", Escaped("\xC3"));  // cut sequence
}

TEST(HtmlWriterTest, UrlComponentIsPercentEncoded) {
  HtmlWriter html;
  html.UrlComponent("web-*&x=\"1\" \xC3\xA9/~._");
  EXPECT_EQ("web-%2A%26x%3D%221%22%20%C3%A9%2F~._", html.Take());
}

TEST(HtmlWriterTest, TakeEmptiesTheWriter) {
  HtmlWriter html;
  html.Raw("<p>").Number(-42);
  EXPECT_EQ("<p>-42", html.Take());
  EXPECT_EQ(0u, html.size());
}

}  // namespace
}  // namespace orchestra::conductor
