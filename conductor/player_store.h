// PlayerStore records the conductor's players in its SQLite database
// (DESIGN.md section 8): each player's key, its sessions and its score
// list, read back at start-up. It shares JobStore's read connection and
// records its writes in the turn's batch, which JobStore hands to the
// store's thread. Not thread-safe: owned by the conductor's loop thread.

#ifndef ORCHESTRA_CONDUCTOR_PLAYER_STORE_H_
#define ORCHESTRA_CONDUCTOR_PLAYER_STORE_H_

#include <memory>
#include <string>
#include <vector>

#include "broker/protocol.h"
#include "common/clock.h"
#include "common/result.h"
#include "common/sqlite.h"
#include "conductor/store_reader.h"
#include "conductor/store_writes.h"

namespace orchestra::conductor {

// What the database remembers of a player between conductor runs.
struct StoredPlayer {
  std::string name;
  std::string version;
  int slots = 0;
  common::TimeMs last_seen = 0;
  std::vector<broker::ScoreInfo> scores;
  bool scores_known = false;
  broker::StringMap labels;  // From the players file, as last saved.
};

class PlayerStore {
 public:
  // A store reading `db`, whose schema JobStore::Open() applied, and
  // adding its writes to `writes`. REQUIRES: both outlive the store.
  static common::Result<std::unique_ptr<PlayerStore>> Create(
      StoreReader* db, std::vector<StoreWrite>* writes);

  // Records that player `name` has key `public_key` and `labels` (players
  // file).
  common::Status SaveKey(const std::string& name, const std::string& public_key,
                         const broker::StringMap& labels = {});
  // Records a session start or end of player `name`.
  common::Status SaveSession(const std::string& name,
                             const std::string& version, int slots,
                             bool connected, common::TimeMs now);
  // Replaces the score list of player `name`.
  common::Status SaveScores(const std::string& name,
                            const std::vector<broker::ScoreInfo>& scores);
  // Marks every player disconnected (start-up: no session survives).
  common::Status MarkAllDisconnected();
  // Every player with a recorded session, with its latest score list.
  common::Result<std::vector<StoredPlayer>> LoadKnown();

 private:
  PlayerStore(StoreReader* db, std::vector<StoreWrite>* writes)
      : db_(db), writes_(writes) {}
  void Add(WriteKind kind, std::vector<StoreValue> values) {
    writes_->push_back(StoreWrite{kind, std::move(values)});
  }

  StoreReader* db_;
  std::vector<StoreWrite>* writes_;
};

}  // namespace orchestra::conductor

#endif  // ORCHESTRA_CONDUCTOR_PLAYER_STORE_H_
