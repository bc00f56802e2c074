// Tests for conductor/web_assets.h: the stylesheet and script are found by
// path, load nothing from elsewhere, and every id the script looks up is on
// a page.

#include "conductor/web_assets.h"

#include <gtest/gtest.h>

#include <regex>
#include <string>

#include "broker/states.h"
#include "conductor/web_pages.h"

namespace orchestra::conductor {
namespace {

TEST(WebAssetsTest, FindsTheStylesheetAndTheScript) {
  const Asset* css = FindAsset("/static/orchestra.css");
  ASSERT_NE(nullptr, css);
  EXPECT_EQ(std::string("text/css; charset=utf-8"), css->content_type);
  const Asset* js = FindAsset("/static/orchestra.js");
  ASSERT_NE(nullptr, js);
  EXPECT_EQ(std::string("text/javascript; charset=utf-8"), js->content_type);
  EXPECT_NE(std::string_view::npos, js->body.find("/api/v1/overview"));
}

TEST(WebAssetsTest, UnknownPathsAreNotFound) {
  EXPECT_EQ(nullptr, FindAsset("/static/other.js"));
  EXPECT_EQ(nullptr, FindAsset("/static/orchestra.css/"));
  EXPECT_EQ(nullptr, FindAsset(""));
}

TEST(WebAssetsTest, AssetsLoadNothingFromElsewhere) {
  for (const char* path : {"/static/orchestra.css", "/static/orchestra.js"}) {
    std::string body(FindAsset(path)->body);
    const std::string svg_namespace = "http://www.w3.org/2000/svg";
    for (size_t at; (at = body.find(svg_namespace)) != std::string::npos;)
      body.erase(at, svg_namespace.size());
    EXPECT_EQ(std::string::npos, body.find("http")) << path;
    EXPECT_EQ(std::string::npos, body.find("url(")) << path;
    EXPECT_EQ(std::string::npos, body.find("@import")) << path;
  }
}

// Each task state has its colour in text, and each final one its own in
// the chart of tasks finished (a new state is not drawn in a default).
TEST(WebAssetsTest, EveryTaskStateHasItsColours) {
  const std::string css(FindAsset("/static/orchestra.css")->body);
  // The stylesheet without the chart's rules.
  const std::string text_rules = std::regex_replace(
      css, std::regex(R"(\.chart \[data-state=[A-Z_]+\][^\n]*\n)"), "");
  for (int i = 0; i < broker::kTaskStateCount; ++i) {
    const auto state = static_cast<broker::TaskState>(i);
    const std::string selector =
        std::string("[data-state=") + broker::TaskStateName(state) + "]";
    EXPECT_NE(std::string::npos, text_rules.find(selector)) << selector;
    if (broker::IsFinal(state)) {
      EXPECT_NE(std::string::npos, css.find(".chart " + selector)) << selector;
    }
  }
}

TEST(WebAssetsTest, EveryIdTheScriptUsesIsOnAPage) {
  OverviewData data;
  broker::JobRecord job;
  job.state = broker::JobState::kPending;
  const std::string pages =
      RenderOverview(data, {}) + RenderJob(job, {}) + RenderPlayers({}, "", {});
  const std::string script(FindAsset("/static/orchestra.js")->body);
  const std::regex by_id("byId\\('([a-z-]+)'\\)");
  int ids = 0;
  for (std::sregex_iterator it(script.begin(), script.end(), by_id), end;
       it != end; ++it, ++ids) {
    const std::string id = (*it)[1];
    EXPECT_NE(std::string::npos, pages.find("id=\"" + id + "\"")) << id;
  }
  EXPECT_GT(ids, 10);
}

}  // namespace
}  // namespace orchestra::conductor
