// Trust is what the conductor believes about keys: the players file (with
// each player's labels), the revoked keys file and the audience keys file
// as of the last (re)load, and since which load each key has held its
// place. Every connection is bound to the key that opened it, the name it
// was admitted as and the epoch (the count of loads) that admitted it; on
// every message Trust says whether that binding still holds: the key still
// names the same player or audience key and has done so without a break
// since that epoch. So a key that was rotated, removed or revoked stays cut
// off for as long as its old connections live, however many others come
// and go, and even if it is listed again later (DESIGN.md section 6). Pure
// data; owned by the conductor's loop thread.

#ifndef ORCHESTRA_CONDUCTOR_TRUST_H_
#define ORCHESTRA_CONDUCTOR_TRUST_H_

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/result.h"
#include "conductor/audience_keys.h"
#include "conductor/config.h"
#include "conductor/players_file.h"

namespace orchestra::conductor {

// What the three files say.
struct TrustFiles {
  std::map<std::string, std::string> players;  // name -> public key
  std::map<std::string, Labels> labels;        // name -> labels, if any
  std::set<std::string> revoked;
  AudienceKeys audience;  // revoked keys already left out

  // Reads the files `config` names; the error names FILE:LINE.
  static common::Result<TrustFiles> Load(const ConductorConfig& config);
};

class Trust {
 public:
  // Makes `files` the truth and starts a new epoch. A key whose line is
  // gone, now names someone else, or is revoked is taken back: nothing a
  // connection it opened before sends is acted on again. Returns the names
  // of players whose key was taken back (their sessions must end).
  std::vector<std::string> Install(TrustFiles files);

  // True when a connection opened with `key` in epoch `epoch` and admitted
  // as player `name` may still speak for it.
  bool AdmitsPlayer(const std::string& name, const std::string& key,
                    int64_t epoch) const;
  // The grant a connection opened with `key` in epoch `epoch` and admitted
  // as audience key `name` is held to now, or nullptr when it is no longer
  // admitted.
  const AudienceGrant* AudienceGrantFor(const std::string& name,
                                        const std::string& key,
                                        int64_t epoch) const;

  // For the authenticator: public key -> name of listed, unrevoked players
  // and audience keys.
  std::unordered_map<std::string, std::string> PlayerNamesByKey() const;
  std::unordered_map<std::string, std::string> AudienceNamesByKey() const {
    return files_.audience.NamesByKey();
  }

  // The labels of listed, unrevoked player `name` (empty when it has
  // none), or nullptr when it is not listed. Valid until the next Install.
  const Labels* LabelsOf(const std::string& name) const;

  int64_t epoch() const { return epoch_; }
  // Names of listed, unrevoked players. The set lives as long as we do.
  const std::set<std::string>* listed() const { return &listed_; }
  const TrustFiles& files() const { return files_; }

 private:
  // Key -> the epoch since which it has named the same player (audience
  // key) without a break. Only keys listed now: the maps are as large as
  // the files, whatever peers do.
  using Since = std::unordered_map<std::string, int64_t>;
  // True when a connection of epoch `epoch` with `key` falls within the
  // key's present run in `since`.
  bool Within(const Since& since, const std::string& key, int64_t epoch) const;

  TrustFiles files_;
  std::set<std::string> listed_;
  int64_t epoch_ = 0;
  Since player_since_;
  Since audience_since_;
};

}  // namespace orchestra::conductor

#endif  // ORCHESTRA_CONDUCTOR_TRUST_H_
