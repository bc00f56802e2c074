// The pages hold no inline script or style (not even style attributes), so
// the server may send a Content-Security-Policy of `default-src 'self'`.

#include "conductor/page_frame.h"

#include "broker/states.h"

namespace orchestra::conductor {

namespace {

struct NavLink {
  const char* page;
  const char* path;
  const char* label;
};

constexpr NavLink kNavigation[] = {
    {"overview", "/", "Overview"},
    {"jobs", "/jobs", "Jobs"},
    {"players", "/players", "Players"},
};

void WriteHead(HtmlWriter* html, std::string_view title) {
  html->Raw(
      "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n"
      "<meta charset=\"utf-8\">\n"
      "<meta name=\"viewport\" content=\"width=device-width, "
      "initial-scale=1\">\n<title>");
  html->Text(title).Raw(" \xC2\xB7 Orchestra</title>\n");
  html->Raw(
      "<link rel=\"stylesheet\" href=\"/static/orchestra.css\">\n"
      "<script src=\"/static/orchestra.js\" defer></script>\n</head>\n");
}

void WriteUser(HtmlWriter* html, const PageContext& ctx) {
  html->Raw("<span class=\"user\" id=\"user\">");
  if (ctx.user.empty()) {
    html->Raw("read-only (no users file)");
  } else {
    html->Text(ctx.user).Raw(ctx.operate ? " (operate)" : " (view)");
  }
  html->Raw("</span>\n");
}

void WriteNavigation(HtmlWriter* html, std::string_view page,
                     const PageContext& ctx) {
  html->Raw("<header>\n<nav>");
  for (const NavLink& link : kNavigation) {
    html->Raw("<a href=\"").Raw(link.path).Raw("\"");
    if (page == link.page) html->Raw(" aria-current=\"page\"");
    html->Raw(">").Raw(link.label).Raw("</a> ");
  }
  html->Raw("</nav>\n");
  WriteUser(html, ctx);
  html->Raw("</header>\n");
}

// The task states, space-separated, in their order: for the script's
// sorting and stacking.
void WriteTaskStates(HtmlWriter* html) {
  for (int i = 0; i < broker::kTaskStateCount; ++i) {
    if (i > 0) html->Raw(" ");
    html->Raw(broker::TaskStateName(static_cast<broker::TaskState>(i)));
  }
}

}  // namespace

void OpenPage(HtmlWriter* html, std::string_view title, std::string_view page,
              const PageContext& ctx, std::string_view body_data) {
  WriteHead(html, title);
  html->Raw("<body data-page=\"").Text(page).Raw("\" data-task-states=\"");
  WriteTaskStates(html);
  html->Raw("\"");
  if (!body_data.empty()) html->Raw(" ").Raw(body_data);
  html->Raw(">\n");
  WriteNavigation(html, page, ctx);
  html->Raw("<main>\n");
}

void ClosePage(HtmlWriter* html, std::string_view version) {
  html->Raw("</main>\n<footer>Orchestra <span id=\"version\">");
  html->Text(version).Raw("</span></footer>\n</body>\n</html>\n");
}

void WriteState(HtmlWriter* html, std::string_view state) {
  html->Raw("<span class=\"state\" data-state=\"").Text(state).Raw("\">");
  html->Text(state).Raw("</span>");
}

void WriteTime(HtmlWriter* html, common::TimeMs ms) {
  if (ms == 0) return;
  const std::string text = common::FormatTime(ms);
  html->Raw("<time datetime=\"").Raw(text).Raw("\">").Raw(text);
  html->Raw("</time>");
}

std::string FormatAge(int64_t ms) {
  if (ms < 0) ms = 0;
  if (ms < 1000) return std::to_string(ms) + " ms";
  const int64_t s = ms / 1000;
  if (s < 60) return std::to_string(s) + " s";
  if (s < 3600)
    return std::to_string(s / 60) + " min " + std::to_string(s % 60) + " s";
  if (s < 86400)
    return std::to_string(s / 3600) + " h " + std::to_string(s / 60 % 60) +
           " min";
  return std::to_string(s / 86400) + " d " + std::to_string(s / 3600 % 24) +
         " h";
}

}  // namespace orchestra::conductor
