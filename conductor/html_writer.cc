// Escaping is one pass that copies runs of plain bytes whole. Text that is
// not well-formed UTF-8 is first repaired by common::SanitizeUtf8, so the
// pass only has to deal with ASCII.

#include "conductor/html_writer.h"

#include <utility>

#include "common/text.h"

namespace orchestra::conductor {

namespace {

constexpr std::string_view kReplacement = "\xEF\xBF\xBD";  // U+FFFD

// What stands for byte `c` in escaped text; empty when it stands for itself.
std::string_view Escape(unsigned char c) {
  switch (c) {
    case '&':
      return "&amp;";
    case '<':
      return "&lt;";
    case '>':
      return "&gt;";
    case '"':
      return "&quot;";
    case '\'':
      return "&#39;";
    case '\t':
    case '\n':
    case '\r':
      return {};
    default:
      return c < 0x20 || c == 0x7f ? kReplacement : std::string_view();
  }
}

bool IsUnreserved(unsigned char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
         (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' || c == '~';
}

}  // namespace

HtmlWriter& HtmlWriter::Raw(std::string_view markup) {
  out_.append(markup);
  return *this;
}

HtmlWriter& HtmlWriter::Text(std::string_view text) {
  if (common::IsValidUtf8(text)) {
    AppendEscaped(text);
  } else {
    AppendEscaped(common::SanitizeUtf8(text));
  }
  return *this;
}

void HtmlWriter::AppendEscaped(std::string_view text) {
  size_t plain = 0;  // start of the run not yet copied
  for (size_t i = 0; i < text.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(text[i]);
    if (c >= 0x80) continue;
    const std::string_view escaped = Escape(c);
    if (escaped.empty()) continue;
    out_.append(text.substr(plain, i - plain));
    out_.append(escaped);
    plain = i + 1;
  }
  out_.append(text.substr(plain));
}

HtmlWriter& HtmlWriter::Number(int64_t value) {
  out_.append(std::to_string(value));
  return *this;
}

HtmlWriter& HtmlWriter::UrlComponent(std::string_view value) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  for (char ch : value) {
    const unsigned char c = static_cast<unsigned char>(ch);
    if (IsUnreserved(c)) {
      out_.push_back(ch);
    } else {
      out_.push_back('%');
      out_.push_back(kHex[c >> 4]);
      out_.push_back(kHex[c & 15]);
    }
  }
  return *this;
}

std::string HtmlWriter::Take() {
  std::string document = std::move(out_);
  out_.clear();
  return document;
}

}  // namespace orchestra::conductor
