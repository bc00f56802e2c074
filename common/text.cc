#include "common/text.h"

#include <cerrno>
#include <cstdint>
#include <cstdlib>

#include "common/limits.h"

namespace orchestra::common {

namespace {

bool IsNameChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
         (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
}

// Length of the well-formed UTF-8 sequence at text[i], or 0 if ill-formed.
size_t Utf8SequenceLength(std::string_view text, size_t i) {
  const unsigned char c = static_cast<unsigned char>(text[i]);
  if (c < 0x80) return 1;
  size_t length;
  unsigned char low = 0x80, high = 0xBF;
  if (c >= 0xC2 && c <= 0xDF) {
    length = 2;
  } else if (c >= 0xE0 && c <= 0xEF) {
    length = 3;
    if (c == 0xE0) low = 0xA0;
    if (c == 0xED) high = 0x9F;  // no surrogates
  } else if (c >= 0xF0 && c <= 0xF4) {
    length = 4;
    if (c == 0xF0) low = 0x90;
    if (c == 0xF4) high = 0x8F;
  } else {
    return 0;
  }
  if (i + length > text.size()) return 0;
  const unsigned char second = static_cast<unsigned char>(text[i + 1]);
  if (second < low || second > high) return 0;
  for (size_t k = 2; k < length; ++k) {
    const unsigned char next = static_cast<unsigned char>(text[i + k]);
    if (next < 0x80 || next > 0xBF) return 0;
  }
  return length;
}

}  // namespace

std::string ToLower(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

std::string_view Trim(std::string_view text) {
  const char* space = " \t\r\n\v\f";
  size_t begin = text.find_first_not_of(space);
  if (begin == std::string_view::npos) return {};
  size_t end = text.find_last_not_of(space);
  return text.substr(begin, end - begin + 1);
}

std::vector<std::string> SplitList(std::string_view text, char separator) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= text.size()) {
    size_t end = text.find(separator, start);
    if (end == std::string_view::npos) end = text.size();
    std::string_view piece = Trim(text.substr(start, end - start));
    if (!piece.empty()) out.emplace_back(piece);
    start = end + 1;
  }
  return out;
}

namespace {

bool IsContinuationByte(char c) {
  return (static_cast<unsigned char>(c) & 0xC0) == 0x80;
}

}  // namespace

std::string_view LastUtf8Bytes(std::string_view text, size_t limit) {
  if (text.size() <= limit) return text;
  text.remove_prefix(text.size() - limit);
  for (int i = 0; i < 3 && !text.empty() && IsContinuationByte(text[0]); ++i)
    text.remove_prefix(1);
  return text;
}

std::string_view FirstUtf8Bytes(std::string_view text, size_t limit) {
  if (text.size() <= limit) return text;
  // A continuation byte just past the cut: back up to its lead byte.
  size_t end = limit;
  for (int i = 0; i < 3 && end > 0 && IsContinuationByte(text[end]); ++i) --end;
  return text.substr(0, end);
}

bool IsValidUtf8(std::string_view text) {
  for (size_t i = 0; i < text.size();) {
    size_t length = Utf8SequenceLength(text, i);
    if (length == 0) return false;
    i += length;
  }
  return true;
}

std::string SanitizeUtf8(std::string_view text) {
  if (IsValidUtf8(text)) return std::string(text);
  std::string out;
  out.reserve(text.size() + 16);
  for (size_t i = 0; i < text.size();) {
    size_t length = Utf8SequenceLength(text, i);
    if (length == 0) {
      out += "\xEF\xBF\xBD";
      ++i;
    } else {
      out.append(text.substr(i, length));
      i += length;
    }
  }
  return out;
}

bool IsValidScoreName(std::string_view name) {
  if (name.empty() || name.size() > kMaxScoreNameBytes || name[0] == '.')
    return false;
  for (char c : name) {
    if (!IsNameChar(c)) return false;
  }
  return true;
}

bool IsValidParamKey(std::string_view key) {
  if (key.empty() || key.size() > kMaxParamKeyBytes) return false;
  const char first = key[0];
  if (!(first == '_' || (first >= 'a' && first <= 'z') ||
        (first >= 'A' && first <= 'Z')))
    return false;
  for (char c : key) {
    if (!(IsNameChar(c) && c != '.' && c != '-')) return false;
  }
  return true;
}

bool IsValidPlayerName(std::string_view name) {
  if (name.empty() || name.size() > kMaxPlayerNameBytes || name[0] == '.' ||
      name[0] == '-')
    return false;
  for (char c : name) {
    if (!IsNameChar(c)) return false;
  }
  return true;
}

bool IsValidLabelKey(std::string_view key) {
  if (key.empty() || key.size() > kMaxLabelKeyBytes) return false;
  if (!(key[0] >= 'a' && key[0] <= 'z')) return false;
  for (char c : key) {
    if (!(IsNameChar(c) && !(c >= 'A' && c <= 'Z'))) return false;
  }
  return true;
}

bool IsValidLabelValue(std::string_view value) {
  if (value.empty() || value.size() > kMaxLabelValueBytes) return false;
  for (char c : value) {
    if (!(IsNameChar(c) || c == ':' || c == '/')) return false;
  }
  return true;
}

std::string ScoreNameRule() {
  return "[A-Za-z0-9._-]{1," + std::to_string(kMaxScoreNameBytes) +
         "} and not start with '.'";
}

std::string ParamKeyRule() {
  return "[A-Za-z_][A-Za-z0-9_]{0," + std::to_string(kMaxParamKeyBytes - 1) +
         "}";
}

std::string PlayerNameRule() {
  return "[A-Za-z0-9._-]{1," + std::to_string(kMaxPlayerNameBytes) +
         "} and not start with '.' or '-'";
}

std::string LabelKeyRule() {
  return "[a-z][a-z0-9_.-]{0," + std::to_string(kMaxLabelKeyBytes - 1) + "}";
}

std::string LabelValueRule() {
  return "[A-Za-z0-9._:/-]{1," + std::to_string(kMaxLabelValueBytes) + "}";
}

std::string LabelProblem(std::string_view key, std::string_view value) {
  if (!IsValidLabelKey(key))
    return "label key '" + std::string(key) + "' must match " + LabelKeyRule();
  if (key == kNameLabel)
    return "label key 'name' is reserved: it stands for the player's name";
  if (!IsValidLabelValue(value))
    return "value '" + std::string(value) + "' of label '" + std::string(key) +
           "' must match " + LabelValueRule();
  return "";
}

bool ParseInt64(std::string_view text, int64_t min, int64_t max,
                int64_t* value) {
  std::string copy(text);
  if (copy.empty() || copy.size() > 20) return false;
  for (size_t i = 0; i < copy.size(); ++i) {
    const bool sign = (i == 0 && copy[i] == '-');
    if (!sign && (copy[i] < '0' || copy[i] > '9')) return false;
  }
  errno = 0;
  char* end = nullptr;
  long long parsed = std::strtoll(copy.c_str(), &end, 10);
  if (errno != 0 || end != copy.c_str() + copy.size()) return false;
  if (parsed < min || parsed > max) return false;
  *value = parsed;
  return true;
}

}  // namespace orchestra::common
