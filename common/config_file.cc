// The syntax is the original Orchestra's (configureit), so old files parse.
// Two things are stricter: a key given twice is an error (the original kept
// the last), and an unknown key names the closest known key.

#include "common/config_file.h"

#include <algorithm>
#include <cmath>
#include <sstream>

#include "common/files.h"
#include "common/text.h"

namespace orchestra::common {

namespace {

std::string NormaliseKey(std::string_view raw) {
  std::string key;
  bool blank = false;
  for (char c : Trim(raw)) {
    if (c == ' ' || c == '\t') {
      blank = true;
      continue;
    }
    if (blank && !key.empty()) key += ' ';
    blank = false;
    key += c;
  }
  return ToLower(key);
}

size_t EditDistance(const std::string& a, const std::string& b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diagonal = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1,
                         diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = up;
    }
  }
  return row[b.size()];
}

std::string Where(const std::string& path, int line) {
  return path + ":" + std::to_string(line);
}

}  // namespace

Result<ConfigFile> ConfigFile::Read(const std::string& path) {
  // ReadFile, not an ifstream: a stream "reads" a directory as empty, and a
  // daemon given --config /etc/orchestra/ would start on all defaults.
  Result<std::string> text = ReadFile(path, 1 << 20);
  if (!text.ok()) return text.status();
  return Parse(path, text.value());
}

Result<ConfigFile> ConfigFile::Parse(const std::string& path,
                                     std::string_view text) {
  ConfigFile file;
  file.path_ = path;
  int number = 0;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = Trim(text.substr(start, end - start));
    start = end + 1;
    ++number;
    if (line.empty() || line[0] == '#' || line[0] == ';') continue;
    size_t equals = line.find('=');
    if (equals == std::string_view::npos)
      return Status::InvalidArgument(
          Where(path, number),
          "expected 'key = value', found '" + std::string(line) + "'");
    ConfigEntry entry{NormaliseKey(line.substr(0, equals)),
                      std::string(Trim(line.substr(equals + 1))), number};
    if (entry.key.empty())
      return Status::InvalidArgument(Where(path, number),
                                     "missing key before '='");
    for (const ConfigEntry& other : file.entries_) {
      if (other.key == entry.key)
        return Status::InvalidArgument(
            Where(path, number), "key '" + entry.key +
                                     "' already set on line " +
                                     std::to_string(other.line));
    }
    file.entries_.push_back(std::move(entry));
  }
  return file;
}

const ConfigEntry* ConfigReader::Find(std::string_view key, Need need) {
  std::string wanted = NormaliseKey(key);
  known_.insert(wanted);
  for (const ConfigEntry& entry : file_.entries()) {
    if (entry.key == wanted) return &entry;
  }
  if (need == kRequired && first_error_.ok())
    first_error_ = Status::InvalidArgument(
        file_.path(), "missing required key '" + wanted + "'");
  return nullptr;
}

void ConfigReader::Fail(const ConfigEntry& entry, std::string_view what) {
  if (!first_error_.ok()) return;
  first_error_ = Status::InvalidArgument(
      Where(file_.path(), entry.line),
      "bad value for '" + entry.key + "': " + std::string(what));
}

void ConfigReader::String(std::string_view key, std::string* out, Need need) {
  const ConfigEntry* entry = Find(key, need);
  if (entry == nullptr) return;
  if (entry->value.empty() && need == kRequired) {
    Fail(*entry, "must not be empty");
    return;
  }
  *out = entry->value;
}

void ConfigReader::Int(std::string_view key, int64_t min, int64_t max,
                       int64_t* out, Need need) {
  const ConfigEntry* entry = Find(key, need);
  if (entry == nullptr) return;
  if (!ParseInt64(entry->value, min, max, out))
    Fail(*entry, "'" + entry->value + "' is not a whole number from " +
                     std::to_string(min) + " to " + std::to_string(max));
}

void ConfigReader::Int(std::string_view key, int min, int max, int* out,
                       Need need) {
  int64_t value = *out;
  Int(key, static_cast<int64_t>(min), static_cast<int64_t>(max), &value,
      need);
  *out = static_cast<int>(value);
}

void ConfigReader::Number(std::string_view key, double min, double max,
                          double* out) {
  const ConfigEntry* entry = Find(key, kOptional);
  if (entry == nullptr) return;
  const std::string& text = entry->value;
  bool digits_only = !text.empty() &&
                     text.find_first_not_of("0123456789.") ==
                         std::string::npos &&
                     std::count(text.begin(), text.end(), '.') <= 1 &&
                     text != ".";
  double value = digits_only ? std::strtod(text.c_str(), nullptr) : -1;
  if (!digits_only || !std::isfinite(value) || value < min || value > max) {
    std::ostringstream range;
    range << "'" << text << "' is not a number from " << min << " to " << max;
    Fail(*entry, range.str());
    return;
  }
  *out = value;
}

void ConfigReader::Mode(std::string_view key, int* out) {
  const ConfigEntry* entry = Find(key, kOptional);
  if (entry == nullptr) return;
  const std::string& text = entry->value;
  if (text.empty() || text.size() > 4 ||
      text.find_first_not_of("01234567") != std::string::npos) {
    Fail(*entry, "'" + text + "' is not an octal mode such as 0660");
    return;
  }
  *out = static_cast<int>(std::strtol(text.c_str(), nullptr, 8));
}

void ConfigReader::Level(std::string_view key, LogLevel* out) {
  const ConfigEntry* entry = Find(key, kOptional);
  if (entry == nullptr) return;
  if (!ParseLogLevel(entry->value, out))
    Fail(*entry, "'" + entry->value +
                     "' is not one of error, warning, info, debug");
}

void ConfigReader::Custom(
    std::string_view key,
    const std::function<Status(std::string_view value)>& parse, Need need) {
  const ConfigEntry* entry = Find(key, need);
  if (entry == nullptr) return;
  Status s = parse(entry->value);
  if (!s.ok()) Fail(*entry, s.message());
}

Status ConfigReader::Finish() {
  if (!first_error_.ok()) return first_error_;
  for (const ConfigEntry& entry : file_.entries()) {
    if (known_.count(entry.key)) continue;
    std::string best;
    size_t best_distance = 4;  // Suggest only close matches.
    for (const std::string& candidate : known_) {
      size_t d = EditDistance(entry.key, candidate);
      if (d < best_distance) {
        best = candidate;
        best_distance = d;
      }
    }
    std::string what = "unknown key '" + entry.key + "'";
    if (!best.empty()) what += " (did you mean '" + best + "'?)";
    return Status::InvalidArgument(Where(file_.path(), entry.line), what);
  }
  return Status();
}

}  // namespace orchestra::common
