#include "tools/table.h"

#include <algorithm>
#include <cstdio>

#include "common/text.h"

namespace orchestra::tools {

namespace {

bool IsContinuationByte(char c) {
  return (static_cast<unsigned char>(c) & 0xC0) == 0x80;
}

void AppendEscape(unsigned char c, std::string* out) {
  if (c == '\r') {
    *out += "\\r";
  } else if (c == '\n') {
    *out += "\\n";
  } else {
    char escape[8];
    std::snprintf(escape, sizeof(escape), "\\x%02x", c);
    *out += escape;
  }
}

}  // namespace

Table::Table(std::vector<std::string> header)
    : right_(header.size(), false), limit_(header.size(), 0) {
  rows_.push_back(std::move(header));
}

void Table::AddRow(std::vector<std::string> cells) {
  cells.resize(rows_[0].size());
  for (std::string& cell : cells) {
    cell = Printable(cell);
    std::replace(cell.begin(), cell.end(), '\t', ' ');
  }
  rows_.push_back(std::move(cells));
}

void Table::AlignRight(size_t index) {
  if (index < right_.size()) right_[index] = true;
}

void Table::LimitWidth(size_t index, size_t width) {
  if (index < limit_.size()) limit_[index] = width;
}

std::string Table::ToString() const {
  const size_t columns = rows_[0].size();
  std::vector<std::vector<std::string>> cells = rows_;
  std::vector<size_t> widths(columns, 0);
  for (std::vector<std::string>& row : cells) {
    for (size_t i = 0; i < columns; ++i) {
      if (limit_[i] > 0) row[i] = Shorten(row[i], limit_[i]);
      widths[i] = std::max(widths[i], DisplayWidth(row[i]));
    }
  }
  std::string out;
  for (const std::vector<std::string>& row : cells) {
    std::string line;
    for (size_t i = 0; i < columns; ++i) {
      const std::string padding(widths[i] - DisplayWidth(row[i]), ' ');
      if (i > 0) line += "  ";
      line += right_[i] ? padding + row[i] : row[i] + padding;
    }
    line.erase(line.find_last_not_of(' ') + 1);
    out += line + "\n";
  }
  return out;
}

std::string Printable(std::string_view text, bool keep_newlines) {
  const std::string valid = common::SanitizeUtf8(text);
  std::string out;
  out.reserve(valid.size());
  for (size_t i = 0; i < valid.size(); ++i) {
    const unsigned char u = static_cast<unsigned char>(valid[i]);
    if (u == 0xC2 && i + 1 < valid.size() &&
        static_cast<unsigned char>(valid[i + 1]) < 0xA0) {
      AppendEscape(static_cast<unsigned char>(valid[++i]), &out);  // C1
    } else if ((u >= 0x20 && u != 0x7f) || u == '\t' ||
               (u == '\n' && keep_newlines)) {
      out += valid[i];
    } else {
      AppendEscape(u, &out);
    }
  }
  return out;
}

size_t DisplayWidth(std::string_view text) {
  return static_cast<size_t>(std::count_if(
      text.begin(), text.end(), [](char c) { return !IsContinuationByte(c); }));
}

std::string Shorten(std::string_view text, size_t width) {
  if (DisplayWidth(text) <= width) return std::string(text);
  const size_t keep = width > 3 ? width - 3 : 0;
  size_t end = 0;
  for (size_t chars = 0; end < text.size(); ++end) {
    if (!IsContinuationByte(text[end]) && chars++ == keep) break;
  }
  return std::string(text.substr(0, end)) + "...";
}

}  // namespace orchestra::tools
