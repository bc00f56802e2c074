// The frame every web page shares: the document's head (the embedded
// stylesheet and script, by path), the navigation, who is signed in and the
// footer; and how the pages print states, times and ages. Used by the units
// behind conductor/web_pages.h.

#ifndef ORCHESTRA_CONDUCTOR_PAGE_FRAME_H_
#define ORCHESTRA_CONDUCTOR_PAGE_FRAME_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "common/clock.h"
#include "conductor/html_writer.h"
#include "conductor/web_pages.h"

namespace orchestra::conductor {

// Writes the doctype, the head titled `title`, the navigation, and opens
// <main>. `page` names the page for the script (<body data-page>);
// `body_data` holds more attributes of <body> (markup: the caller escapes).
void OpenPage(HtmlWriter* html, std::string_view title, std::string_view page,
              const PageContext& ctx, std::string_view body_data = {});
// Closes <main>, writes the footer showing `version`, ends the document.
void ClosePage(HtmlWriter* html, std::string_view version);

// `<span class="state" data-state="S">S</span>`, S escaped.
void WriteState(HtmlWriter* html, std::string_view state);
// `<time datetime="T">T</time>` (T as the protocol writes times); nothing
// when `ms` is 0 (unset).
void WriteTime(HtmlWriter* html, common::TimeMs ms);
// A duration as people read it: "850 ms", "12 s", "3 min 4 s", "2 h 5 min",
// "4 d 3 h". The script's formatAge() prints the same.
std::string FormatAge(int64_t ms);

}  // namespace orchestra::conductor

#endif  // ORCHESTRA_CONDUCTOR_PAGE_FRAME_H_
