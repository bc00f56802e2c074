#include "conductor/players_file.h"

#include <vector>

#include "broker/curve_keys.h"
#include "common/files.h"
#include "common/limits.h"
#include "common/text.h"

namespace orchestra::conductor {

using common::Result;
using common::Status;

namespace {

std::string Where(const std::string& path, int line) {
  return path + ":" + std::to_string(line);
}

// The words of `line`, split on white space. REQUIRES: `line` is
// trimmed and not empty, so there is at least one word.
std::vector<std::string> Words(const std::string& line) {
  std::vector<std::string> words;
  const char* space = " \t\r\v\f";
  size_t start = line.find_first_not_of(space);
  while (start != std::string::npos) {
    size_t end = line.find_first_of(space, start);
    words.push_back(line.substr(start, end - start));
    start = end == std::string::npos ? end : line.find_first_not_of(space, end);
  }
  return words;
}

// Reads `words` (each `KEY=VALUE`) into `labels`; an error message, or "".
std::string ReadLabels(const std::vector<std::string>& words, Labels* labels) {
  if (words.size() > kMaxPlayerLabels)
    return std::to_string(words.size()) +
           " labels; a player may have at most " +
           std::to_string(kMaxPlayerLabels);
  for (const std::string& word : words) {
    const size_t equals = word.find('=');
    if (equals == std::string::npos)
      return "unexpected '" + word +
             "'; after NAME PUBLIC-KEY only labels KEY=VALUE may follow";
    const std::string key = word.substr(0, equals);
    const std::string value = word.substr(equals + 1);
    std::string problem = common::LabelProblem(key, value);
    if (!problem.empty()) return problem;
    if (!labels->emplace(key, value).second)
      return "label '" + key + "' is given twice";
  }
  return "";
}

}  // namespace

std::vector<std::pair<int, std::string>> ListFileLines(
    const std::string& content) {
  std::vector<std::pair<int, std::string>> lines;
  int number = 0;
  size_t start = 0;
  while (start < content.size()) {
    size_t end = content.find('\n', start);
    if (end == std::string::npos) end = content.size();
    std::string_view line =
        common::Trim(std::string_view(content).substr(start, end - start));
    ++number;
    start = end + 1;
    if (line.empty() || line[0] == '#') continue;
    lines.emplace_back(number, std::string(line));
  }
  return lines;
}

Result<PlayersFile> LoadPlayersFile(const std::string& path) {
  Result<std::string> content = common::ReadFile(path);
  if (!content.ok()) return content.status();
  return ParsePlayersFile(path, content.value());
}

Result<PlayersFile> ParsePlayersFile(const std::string& path,
                                     const std::string& content) {
  PlayersFile file;
  std::map<std::string, int> key_lines;
  for (const auto& [number, line] : ListFileLines(content)) {
    std::vector<std::string> words = Words(line);
    const std::string name = words[0];
    const std::string key = words.size() > 1 ? words[1] : "";
    if (!common::IsValidPlayerName(name))
      return Status::InvalidArgument(
          Where(path, number),
          "'" + name +
              "' is not a valid player name (letters, digits, "
              "'.', '_', '-')");
    if (!broker::IsCurveKey(key))
      return Status::InvalidArgument(
          Where(path, number),
          "expected 'NAME PUBLIC-KEY [KEY=VALUE ...]' with a 40-character "
          "Z85 key (the player's .pub file)");
    if (file.keys.count(name))
      return Status::InvalidArgument(Where(path, number),
                                     "player '" + name + "' listed twice");
    auto [it, fresh] = key_lines.emplace(key, number);
    if (!fresh)
      return Status::InvalidArgument(
          Where(path, number), "key already given to another player on line " +
                                   std::to_string(it->second));
    Labels labels;
    words.erase(words.begin(), words.begin() + 2);
    std::string problem = ReadLabels(words, &labels);
    if (!problem.empty())
      return Status::InvalidArgument(Where(path, number), problem);
    file.keys[name] = key;
    if (!labels.empty()) file.labels[name] = std::move(labels);
  }
  return file;
}

Result<std::set<std::string>> LoadRevokedKeys(const std::string& path) {
  if (path.empty()) return std::set<std::string>();
  Result<std::string> content = common::ReadFile(path);
  if (!content.ok()) return content.status();
  return ParseRevokedKeys(path, content.value());
}

Result<std::set<std::string>> ParseRevokedKeys(const std::string& path,
                                               const std::string& content) {
  std::set<std::string> revoked;
  for (const auto& [number, line] : ListFileLines(content)) {
    if (!broker::IsCurveKey(line))
      return Status::InvalidArgument(
          Where(path, number), "expected one 40-character Z85 public key");
    revoked.insert(line);
  }
  return revoked;
}

}  // namespace orchestra::conductor
