#include "conductor/players_file.h"

#include <vector>

#include "broker/curve_keys.h"
#include "common/files.h"
#include "common/text.h"

namespace orchestra::conductor {

using common::Result;
using common::Status;

namespace {

std::string Where(const std::string& path, int line) {
  return path + ":" + std::to_string(line);
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

Result<std::map<std::string, std::string>> LoadPlayersFile(
    const std::string& path) {
  Result<std::string> content = common::ReadFile(path);
  if (!content.ok()) return content.status();
  return ParsePlayersFile(path, content.value());
}

Result<std::map<std::string, std::string>> ParsePlayersFile(
    const std::string& path, const std::string& content) {
  std::map<std::string, std::string> players;
  std::map<std::string, int> key_lines;
  for (const auto& [number, line] : ListFileLines(content)) {
    size_t space = line.find_first_of(" \t");
    std::string name = line.substr(0, space);
    std::string key = space == std::string::npos
                          ? ""
                          : std::string(common::Trim(line.substr(space)));
    if (!common::IsValidPlayerName(name))
      return Status::InvalidArgument(
          Where(path, number),
          "'" + name +
              "' is not a valid player name (letters, digits, "
              "'.', '_', '-')");
    if (!broker::IsCurveKey(key))
      return Status::InvalidArgument(
          Where(path, number),
          "expected 'NAME PUBLIC-KEY' with a 40-character Z85 key (the "
          "player's .pub file)");
    if (players.count(name))
      return Status::InvalidArgument(Where(path, number),
                                     "player '" + name + "' listed twice");
    auto [it, fresh] = key_lines.emplace(key, number);
    if (!fresh)
      return Status::InvalidArgument(
          Where(path, number), "key already given to another player on line " +
                                   std::to_string(it->second));
    players[name] = key;
  }
  return players;
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
