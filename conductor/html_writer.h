// HtmlWriter builds an HTML document in one string: markup as the program
// gives it, and everything else escaped so that no input can end an element
// or an attribute. Used by the web pages; one writer a page, one thread.

#ifndef ORCHESTRA_CONDUCTOR_HTML_WRITER_H_
#define ORCHESTRA_CONDUCTOR_HTML_WRITER_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace orchestra::conductor {

class HtmlWriter {
 public:
  // Appends `markup` as it is. REQUIRES: it is the program's own text,
  // never input.
  HtmlWriter& Raw(std::string_view markup);
  // Appends `text` escaped for element content and quoted attributes alike:
  // & < > " ' become references; ill-formed UTF-8, NUL and the other
  // control characters but tab, LF and CR become U+FFFD.
  HtmlWriter& Text(std::string_view text);
  // Appends `value` in decimal.
  HtmlWriter& Number(int64_t value);
  // Appends `value` percent-encoded for a URL's query or path: all but
  // A-Z a-z 0-9 - . _ ~ (so it needs no further escaping in an attribute).
  HtmlWriter& UrlComponent(std::string_view value);

  size_t size() const { return out_.size(); }
  // The document so far; the writer is empty afterwards.
  std::string Take();

 private:
  // Text() of well-formed UTF-8.
  void AppendEscaped(std::string_view text);

  std::string out_;
};

}  // namespace orchestra::conductor

#endif  // ORCHESTRA_CONDUCTOR_HTML_WRITER_H_
