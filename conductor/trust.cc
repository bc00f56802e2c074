#include "conductor/trust.h"

#include "conductor/players_file.h"

namespace orchestra::conductor {

using common::Result;

Result<TrustFiles> TrustFiles::Load(const ConductorConfig& config) {
  TrustFiles files;
  Result<PlayersFile> players = LoadPlayersFile(config.players_file);
  if (!players.ok()) return players.status();
  files.players = std::move(players.value().keys);
  files.labels = std::move(players.value().labels);
  Result<std::set<std::string>> revoked =
      LoadRevokedKeys(config.revoked_keys_file);
  if (!revoked.ok()) return revoked.status();
  files.revoked = std::move(revoked.value());
  Result<AudienceKeys> audience = AudienceKeys::Load(config.audience_keys_file);
  if (!audience.ok()) return audience.status();
  files.audience = std::move(audience.value());
  files.audience.Revoke(files.revoked);
  return files;
}

// A binding (key -> name) that holds in both the old and the new files
// keeps its epoch; any other starts now.
std::vector<std::string> Trust::Install(TrustFiles files) {
  ++epoch_;
  Since players;
  std::vector<std::string> cut;
  for (const auto& [name, key] : files_.players) {
    if (files_.revoked.count(key)) continue;  // Cut off when revoked
    auto it = files.players.find(name);
    const bool kept = it != files.players.end() && it->second == key &&
                      !files.revoked.count(key);
    if (kept)
      players[key] = player_since_[key];
    else
      cut.push_back(name);
  }
  for (const auto& [name, key] : files.players) {
    if (!files.revoked.count(key)) players.emplace(key, epoch_);
  }
  Since audience;
  for (const auto& [key, name] : files.audience.NamesByKey()) {
    const AudienceGrant* before = files_.audience.FindByKey(key);
    audience[key] =
        before && before->name == name ? audience_since_[key] : epoch_;
  }
  files_ = std::move(files);
  player_since_ = std::move(players);
  audience_since_ = std::move(audience);
  listed_.clear();
  for (const auto& [name, key] : files_.players) {
    if (!files_.revoked.count(key)) listed_.insert(name);
  }
  return cut;
}

bool Trust::Within(const Since& since, const std::string& key,
                   int64_t epoch) const {
  auto it = since.find(key);
  return it != since.end() && epoch >= it->second && epoch <= epoch_;
}

bool Trust::AdmitsPlayer(const std::string& name, const std::string& key,
                         int64_t epoch) const {
  auto it = files_.players.find(name);
  return !key.empty() && it != files_.players.end() && it->second == key &&
         !files_.revoked.count(key) && Within(player_since_, key, epoch);
}

const AudienceGrant* Trust::AudienceGrantFor(const std::string& name,
                                             const std::string& key,
                                             int64_t epoch) const {
  if (key.empty()) return nullptr;
  const AudienceGrant* grant = files_.audience.FindByKey(key);
  if (grant == nullptr || grant->name != name ||
      !Within(audience_since_, key, epoch))
    return nullptr;
  return grant;
}

const Labels* Trust::LabelsOf(const std::string& name) const {
  static const Labels* const kNone = new Labels();
  if (!listed_.count(name)) return nullptr;
  auto it = files_.labels.find(name);
  return it == files_.labels.end() ? kNone : &it->second;
}

std::unordered_map<std::string, std::string> Trust::PlayerNamesByKey() const {
  std::unordered_map<std::string, std::string> names;
  for (const auto& [name, key] : files_.players) {
    if (!files_.revoked.count(key)) names[key] = name;
  }
  return names;
}

}  // namespace orchestra::conductor
