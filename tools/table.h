// Table lays rows of text out in aligned columns for a terminal, two spaces
// apart, widths counted in characters. Cells are made printable first, so
// output from a score cannot drive the terminal. Used by tools/report.

#ifndef ORCHESTRA_TOOLS_TABLE_H_
#define ORCHESTRA_TOOLS_TABLE_H_

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace orchestra::tools {

class Table {
 public:
  explicit Table(std::vector<std::string> header);

  // Adds a row; missing cells are blank, extra cells are dropped.
  void AddRow(std::vector<std::string> cells);
  // Right-aligns column `index` (for numbers).
  void AlignRight(size_t index);
  // Cuts cells of column `index` to `width` characters, marking the cut.
  void LimitWidth(size_t index, size_t width);

  // The header and the rows, one line each; no trailing blanks.
  std::string ToString() const;

 private:
  std::vector<std::vector<std::string>> rows_;  // rows_[0] is the header.
  std::vector<bool> right_;
  std::vector<size_t> limit_;  // 0: no limit.
};

// `text` safe for a terminal: invalid UTF-8 becomes U+FFFD, control
// characters become escapes ("\x1b", "\r"); tabs and, with `keep_newlines`,
// newlines stay.
std::string Printable(std::string_view text, bool keep_newlines = false);

// The number of characters (UTF-8 code points) in `text`.
size_t DisplayWidth(std::string_view text);

// `text` cut to at most `width` characters, ending in "..." when cut.
std::string Shorten(std::string_view text, size_t width);

}  // namespace orchestra::tools

#endif  // ORCHESTRA_TOOLS_TABLE_H_
