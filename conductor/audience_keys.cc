// The file keeps the players file's shape (`NAME PUBLIC-KEY`, `#` comments)
// and adds optional `scores=` and `players=` lists of fnmatch(3) globs. A
// glob may use the characters of names ([A-Za-z0-9._-]) and * ? [ ] ! ^;
// anything else (a space inside a list, a quote, a slash) is refused so
// that a typing error never widens what a key may do.

#include "conductor/audience_keys.h"

#include <fnmatch.h>

#include <sstream>

#include "broker/curve_keys.h"
#include "common/files.h"
#include "common/limits.h"
#include "common/text.h"
#include "conductor/players_file.h"

namespace orchestra::conductor {

using common::Result;
using common::Status;

namespace {

constexpr size_t kMaxListed = 10;  // names quoted in a refusal

bool IsGlob(const std::string& glob) {
  if (glob.empty() || glob.size() > kMaxPlayerNameBytes) return false;
  for (char c : glob) {
    const bool name_char = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                           (c >= '0' && c <= '9') || c == '.' || c == '_' ||
                           c == '-';
    if (!name_char && std::string("*?[]!^").find(c) == std::string::npos)
      return false;
  }
  return true;
}

bool Matches(const std::vector<std::string>& globs, const std::string& name) {
  if (globs.empty()) return true;
  for (const std::string& glob : globs) {
    if (::fnmatch(glob.c_str(), name.c_str(), 0) == 0) return true;
  }
  return false;
}

std::string Join(const std::vector<std::string>& items) {
  std::string text;
  for (const std::string& item : items)
    text += (text.empty() ? "" : ",") + item;
  return text;
}

// Reads `word` (`scores=...` or `players=...`) into `grant`; an error
// message when it is neither or holds a bad glob.
std::string ReadLimit(const std::string& word, AudienceGrant* grant) {
  const size_t equals = word.find('=');
  const std::string what = word.substr(0, equals);
  std::vector<std::string>* globs = what == "scores"    ? &grant->scores
                                    : what == "players" ? &grant->players
                                                        : nullptr;
  if (globs == nullptr || equals == std::string::npos)
    return "unexpected '" + word +
           "'; after NAME PUBLIC-KEY only scores=GLOB,... and "
           "players=GLOB,... may follow";
  if (!globs->empty()) return "'" + what + "=' is given twice";
  const std::string list = word.substr(equals + 1);
  for (size_t start = 0;;) {
    const size_t comma = list.find(',', start);
    std::string glob = list.substr(start, comma - start);
    if (!IsGlob(glob))
      return "'" + glob + "' in " + what +
             "= is not a glob of names (letters, digits, '.', '_', '-' and "
             "* ? [ ] !; no spaces, commas only between globs)";
    globs->push_back(std::move(glob));
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return "";
}

// Parses one line into `grant`; an error message or "".
std::string ReadGrant(const std::string& line, AudienceGrant* grant) {
  std::istringstream words(line);
  std::string word;
  words >> grant->name >> grant->public_key;
  if (!common::IsValidPlayerName(grant->name))
    return "'" + grant->name +
           "' is not a valid key name (letters, digits, '.', '_', '-')";
  if (!broker::IsCurveKey(grant->public_key))
    return "expected 'NAME PUBLIC-KEY [scores=GLOB,...] [players=GLOB,...]' "
           "with a 40-character Z85 key (the client's .pub file)";
  while (words >> word) {
    std::string problem = ReadLimit(word, grant);
    if (!problem.empty()) return problem;
  }
  return "";
}

}  // namespace

std::string AudienceGrant::WhyNotSubmit(
    const std::string& score, const std::vector<std::string>& targets) const {
  if (!Matches(scores, score))
    return "audience key '" + name + "' may not run score '" + score +
           "' (it may run: " + Join(scores) + ")";
  std::vector<std::string> refused;
  for (const std::string& player : targets) {
    if (!Matches(players, player)) refused.push_back(player);
  }
  if (refused.empty()) return "";
  const size_t more =
      refused.size() > kMaxListed ? refused.size() - kMaxListed : 0;
  refused.resize(refused.size() - more);
  return "audience key '" + name + "' may not run scores on " + Join(refused) +
         (more ? " and " + std::to_string(more) + " more" : "") +
         " (it may use players: " + Join(players) + ")";
}

bool AudienceGrant::MaySee(const std::string& score,
                           const std::vector<std::string>& targets) const {
  if (!Matches(scores, score)) return false;
  for (const std::string& player : targets) {
    if (!Matches(players, player)) return false;
  }
  return true;
}

bool AudienceGrant::MaySeePlayer(const std::string& player) const {
  return Matches(players, player);
}

Result<AudienceKeys> AudienceKeys::Load(const std::string& path) {
  if (path.empty()) return AudienceKeys();
  Result<std::string> content = common::ReadFile(path);
  if (!content.ok()) return content.status();
  return Parse(path, content.value());
}

Result<AudienceKeys> AudienceKeys::Parse(const std::string& path,
                                         const std::string& content) {
  AudienceKeys keys;
  std::map<std::string, int> key_lines;
  for (const auto& [number, line] : ListFileLines(content)) {
    const std::string where = path + ":" + std::to_string(number);
    AudienceGrant grant;
    std::string problem = ReadGrant(line, &grant);
    if (!problem.empty()) return Status::InvalidArgument(where, problem);
    if (keys.grants_.count(grant.name))
      return Status::InvalidArgument(
          where, "key name '" + grant.name + "' listed twice");
    auto [it, fresh] = key_lines.emplace(grant.public_key, number);
    if (!fresh)
      return Status::InvalidArgument(where,
                                     "key already given another name on line " +
                                         std::to_string(it->second));
    keys.names_[grant.public_key] = grant.name;
    keys.grants_.emplace(grant.name, std::move(grant));
  }
  return keys;
}

AudienceKeys AudienceKeys::FromGrants(std::vector<AudienceGrant> grants) {
  AudienceKeys keys;
  for (AudienceGrant& grant : grants) {
    keys.names_[grant.public_key] = grant.name;
    keys.grants_.emplace(grant.name, std::move(grant));
  }
  return keys;
}

void AudienceKeys::Revoke(const std::set<std::string>& revoked) {
  for (auto it = grants_.begin(); it != grants_.end();) {
    if (!revoked.count(it->second.public_key)) {
      ++it;
      continue;
    }
    names_.erase(it->second.public_key);
    it = grants_.erase(it);
  }
}

const AudienceGrant* AudienceKeys::FindByKey(
    const std::string& public_key) const {
  auto it = names_.find(public_key);
  return it == names_.end() ? nullptr : Find(it->second);
}

const AudienceGrant* AudienceKeys::Find(const std::string& name) const {
  auto it = grants_.find(name);
  return it == grants_.end() ? nullptr : &it->second;
}

std::unordered_map<std::string, std::string> AudienceKeys::NamesByKey() const {
  return names_;
}

}  // namespace orchestra::conductor
