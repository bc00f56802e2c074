// AudienceKeys is the audience keys file: the Curve keys allowed on tcp://
// audience endpoints, one `NAME PUBLIC-KEY [scores=GLOB,...]
// [players=GLOB,...]` a line, and what each key may run. Pure data and
// decisions (no sockets); the conductor's loop thread owns it.

#ifndef ORCHESTRA_CONDUCTOR_AUDIENCE_KEYS_H_
#define ORCHESTRA_CONDUCTOR_AUDIENCE_KEYS_H_

#include <map>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/result.h"

namespace orchestra::conductor {

// One line of the file: a named key and the globs (fnmatch(3)) limiting it.
struct AudienceGrant {
  std::string name;
  std::string public_key;            // Z85
  std::vector<std::string> scores;   // empty: any score
  std::vector<std::string> players;  // empty: any player

  // Why this key may not submit `score` to `players` (every one must
  // match), or "" when it may.
  std::string WhyNotSubmit(const std::string& score,
                           const std::vector<std::string>& players) const;
  // True when this key could submit `score` to `players`: it may then read
  // and cancel such a job; other jobs do not exist for it.
  bool MaySee(const std::string& score,
              const std::vector<std::string>& players) const;
  // True when `player` matches the `players=` globs (or there are none).
  bool MaySeePlayer(const std::string& player) const;
  bool restricted() const { return !scores.empty() || !players.empty(); }
};

class AudienceKeys {
 public:
  // Reads `path`; an empty `path` means no keys. InvalidArgument naming
  // FILE:LINE for a malformed line, a bad glob, a duplicate name or key.
  static common::Result<AudienceKeys> Load(const std::string& path);
  // The same for a file holding `content` (`path` names it in errors).
  static common::Result<AudienceKeys> Parse(const std::string& path,
                                            const std::string& content);

  // Keys from grants made in code (tests); names and keys must be unique.
  static AudienceKeys FromGrants(std::vector<AudienceGrant> grants);

  // Forgets the keys listed in `revoked`.
  void Revoke(const std::set<std::string>& revoked);

  // The grant of the key named `name`, or nullptr.
  const AudienceGrant* Find(const std::string& name) const;
  // The grant of the key whose public key is `public_key`, or nullptr.
  const AudienceGrant* FindByKey(const std::string& public_key) const;
  // Public key -> name, for the authenticator.
  std::unordered_map<std::string, std::string> NamesByKey() const;
  size_t size() const { return grants_.size(); }

 private:
  std::map<std::string, AudienceGrant> grants_;         // by name
  std::unordered_map<std::string, std::string> names_;  // public key -> name
};

}  // namespace orchestra::conductor

#endif  // ORCHESTRA_CONDUCTOR_AUDIENCE_KEYS_H_
