// Bounds: each response key and value is at most kMaxResponseBytes,
// there are at most kMaxResponseEntries keys, and all of them
// together stay under kMaxResponseTotal so that a result with two full
// output streams still fits in one message (kMaxMessageBytes).
// A later line with the same key replaces the earlier value.

#include "player/output_capture.h"

#include "common/text.h"

namespace orchestra::player {

namespace {

constexpr size_t kMaxResponseTotal = 1 << 20;
constexpr size_t kMaxLine = 2 * kMaxResponseBytes + 1;

}  // namespace

OutputCapture::OutputCapture(size_t limit, bool parse_response)
    : limit_(limit), parse_response_(parse_response) {}

void OutputCapture::Append(std::string_view data) {
  total_ += data.size();
  tail_.append(common::LastUtf8Bytes(data, limit_));
  if (tail_.size() > 2 * limit_) tail_.erase(0, tail_.size() - limit_);
  if (!parse_response_) return;
  while (!data.empty()) {
    size_t newline = data.find('\n');
    std::string_view piece = data.substr(0, newline);
    if (!line_too_long_) line_.append(piece);
    if (line_.size() > kMaxLine) {
      line_too_long_ = true;
      line_.clear();
    }
    if (newline == std::string_view::npos) break;
    if (line_too_long_) {
      ++dropped_lines_;
    } else {
      AddLine(line_);
    }
    line_.clear();
    line_too_long_ = false;
    data.remove_prefix(newline + 1);
  }
}

void OutputCapture::Finish() {
  if (!parse_response_) return;
  if (line_too_long_) ++dropped_lines_;
  if (!line_.empty() && !line_too_long_) AddLine(line_);
  line_.clear();
  line_too_long_ = false;
}

void OutputCapture::AddLine(std::string_view line) {
  size_t equals = line.find('=');
  if (equals == std::string_view::npos || equals == 0) return;
  std::string key = common::SanitizeUtf8(line.substr(0, equals));
  std::string value = common::SanitizeUtf8(line.substr(equals + 1));
  auto it = response_.find(key);
  size_t old_size = it == response_.end() ? 0 : key.size() + it->second.size();
  bool fits = key.size() <= kMaxResponseBytes &&
              value.size() <= kMaxResponseBytes &&
              (it != response_.end() ||
               response_.size() < kMaxResponseEntries) &&
              response_bytes_ - old_size + key.size() + value.size() <=
                  kMaxResponseTotal;
  if (!fits) {
    ++dropped_lines_;
    return;
  }
  response_bytes_ += key.size() + value.size() - old_size;
  response_[std::move(key)] = std::move(value);
}

std::string OutputCapture::Tail(bool* truncated) const {
  *truncated = total_ > limit_;
  std::string text = common::SanitizeUtf8(common::LastUtf8Bytes(tail_, limit_));
  if (text.size() > limit_) {  // U+FFFD is longer than the byte it replaced
    text = std::string(common::LastUtf8Bytes(text, limit_));
    *truncated = true;
  }
  return text;
}

}  // namespace orchestra::player
