// The web pages' stylesheet and script, embedded in the binary so that
// nothing is loaded from elsewhere (DESIGN.md section 14). The HTTP server
// serves them by path; the pages link them as /static/orchestra.css and
// /static/orchestra.js.

#ifndef ORCHESTRA_CONDUCTOR_WEB_ASSETS_H_
#define ORCHESTRA_CONDUCTOR_WEB_ASSETS_H_

#include <string_view>

namespace orchestra::conductor {

struct Asset {
  const char* content_type;  // with its charset
  std::string_view body;
};

// The asset served at `path` ("/static/orchestra.css"), or null for none.
// The assets live as long as the program.
const Asset* FindAsset(std::string_view path);

}  // namespace orchestra::conductor

#endif  // ORCHESTRA_CONDUCTOR_WEB_ASSETS_H_
