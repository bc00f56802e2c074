// The conductor's trust lists: the players file (`NAME PUBLIC-KEY` a line)
// and the revoked keys file (one public key a line). Blank lines and `#`
// lines are ignored; anything else that is not well formed is an error
// naming FILE:LINE.

#ifndef ORCHESTRA_CONDUCTOR_PLAYERS_FILE_H_
#define ORCHESTRA_CONDUCTOR_PLAYERS_FILE_H_

#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "common/result.h"

namespace orchestra::conductor {

// The meaningful lines of a list file's `content` as (line number, trimmed
// text): blank lines and `#` lines are left out.
std::vector<std::pair<int, std::string>> ListFileLines(
    const std::string& content);

// Player name -> Z85 public key. A duplicate name or key is an error.
common::Result<std::map<std::string, std::string>> LoadPlayersFile(
    const std::string& path);
// The same for a players file holding `content` (`path` names it in errors).
common::Result<std::map<std::string, std::string>> ParsePlayersFile(
    const std::string& path, const std::string& content);

// Revoked Z85 public keys. An empty `path` means none.
common::Result<std::set<std::string>> LoadRevokedKeys(const std::string& path);
// The same for a revoked keys file holding `content`.
common::Result<std::set<std::string>> ParseRevokedKeys(
    const std::string& path, const std::string& content);

}  // namespace orchestra::conductor

#endif  // ORCHESTRA_CONDUCTOR_PLAYERS_FILE_H_
