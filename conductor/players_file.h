// The conductor's trust lists: the players file (`NAME PUBLIC-KEY
// [KEY=VALUE ...]` a line: a player, its key and its labels) and the revoked
// keys file (one public key a line). Blank lines and `#` lines are ignored;
// anything else that is not well formed is an error naming FILE:LINE.

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

// A player's labels (DESIGN.md section 13): label key -> value.
using Labels = std::map<std::string, std::string>;

// What a players file lists.
struct PlayersFile {
  std::map<std::string, std::string> keys;  // player name -> Z85 public key
  std::map<std::string, Labels> labels;     // player name -> its labels
                                            // (only players that have some)
};

// The players file at `path`. A duplicate name or key is an error, and so
// is a bad label, a label key given twice on a line, `name=`, or more than
// kMaxPlayerLabels labels.
common::Result<PlayersFile> LoadPlayersFile(const std::string& path);
// The same for a players file holding `content` (`path` names it in errors).
common::Result<PlayersFile> ParsePlayersFile(const std::string& path,
                                             const std::string& content);

// Revoked Z85 public keys. An empty `path` means none.
common::Result<std::set<std::string>> LoadRevokedKeys(const std::string& path);
// The same for a revoked keys file holding `content`.
common::Result<std::set<std::string>> ParseRevokedKeys(
    const std::string& path, const std::string& content);

}  // namespace orchestra::conductor

#endif  // ORCHESTRA_CONDUCTOR_PLAYERS_FILE_H_
