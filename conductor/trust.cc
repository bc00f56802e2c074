#include "conductor/trust.h"

#include "conductor/players_file.h"

namespace orchestra::conductor {

using common::Result;

Result<TrustFiles> TrustFiles::Load(const ConductorConfig& config) {
  TrustFiles files;
  Result<std::map<std::string, std::string>> players =
      LoadPlayersFile(config.players_file);
  if (!players.ok()) return players.status();
  files.players = std::move(players.value());
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

std::vector<std::string> Trust::Install(TrustFiles files) {
  ++epoch_;
  std::vector<std::string> cut;
  for (const auto& [name, key] : files_.players) {
    auto it = files.players.find(name);
    const bool kept = it != files.players.end() && it->second == key &&
                      !files.revoked.count(key);
    if (kept || files_.revoked.count(key)) continue;
    cut.push_back(name);
    TakeBack(key);
  }
  for (const auto& [key, name] : files_.audience.NamesByKey()) {
    const AudienceGrant* now = files.audience.FindByKey(key);
    if (now == nullptr || now->name != name) TakeBack(key);
  }
  // A key revoked now is taken back whatever it was, also one of a name
  // that was already revoked under another key.
  for (const std::string& key : files.revoked) {
    if (!files_.revoked.count(key)) TakeBack(key);
  }
  files_ = std::move(files);
  listed_.clear();
  for (const auto& [name, key] : files_.players) {
    if (!files_.revoked.count(key)) listed_.insert(name);
  }
  return cut;
}

bool Trust::TakenBackSince(const std::string& key, int64_t epoch) const {
  auto it = taken_back_.find(key);
  return it != taken_back_.end() && it->second > epoch;
}

bool Trust::AdmitsPlayer(const std::string& name, const std::string& key,
                         int64_t epoch) const {
  if (epoch < 1 || epoch > epoch_ || key.empty()) return false;
  auto it = files_.players.find(name);
  return it != files_.players.end() && it->second == key &&
         !files_.revoked.count(key) && !TakenBackSince(key, epoch);
}

const AudienceGrant* Trust::AudienceGrantFor(const std::string& name,
                                             const std::string& key,
                                             int64_t epoch) const {
  if (epoch < 1 || epoch > epoch_ || key.empty()) return nullptr;
  const AudienceGrant* grant = files_.audience.FindByKey(key);
  if (grant == nullptr || grant->name != name || TakenBackSince(key, epoch))
    return nullptr;
  return grant;
}

std::unordered_map<std::string, std::string> Trust::PlayerNamesByKey() const {
  std::unordered_map<std::string, std::string> names;
  for (const auto& [name, key] : files_.players) {
    if (!files_.revoked.count(key)) names[key] = name;
  }
  return names;
}

}  // namespace orchestra::conductor
