// The players table holds one row a player: its key and labels from the
// players file and, once it has had a session, its latest version, slots
// and times; player_scores holds its latest score list. A player with only
// a key is not a known player (it never connected).

#include "conductor/player_store.h"

#include <map>

#include "conductor/json_column.h"
#include "conductor/time_column.h"

namespace orchestra::conductor {

using common::Result;
using common::Status;
using common::TimeMs;

Result<std::unique_ptr<PlayerStore>> PlayerStore::Create(
    StoreReader* db, std::vector<StoreWrite>* writes) {
  return std::unique_ptr<PlayerStore>(new PlayerStore(db, writes));
}

Status PlayerStore::SaveKey(const std::string& name,
                            const std::string& public_key,
                            const broker::StringMap& labels) {
  Add(WriteKind::kSaveKey, {name, public_key, MapToJson(labels)});
  return Status();
}

Status PlayerStore::SaveSession(const std::string& name,
                                const std::string& version, int slots,
                                bool connected, TimeMs now) {
  Add(WriteKind::kSaveSession,
      {name, version, int64_t{slots}, int64_t{connected}, TimeValue(now)});
  return Status();
}

Status PlayerStore::SaveScores(const std::string& name,
                               const std::vector<broker::ScoreInfo>& scores) {
  Add(WriteKind::kDeleteScores, {name});
  for (const broker::ScoreInfo& score : scores)
    Add(WriteKind::kInsertScore,
        {name, score.name, score.sha256, score.interface});
  return Status();
}

Status PlayerStore::MarkAllDisconnected() {
  Add(WriteKind::kMarkAllDisconnected, {});
  return Status();
}

Result<std::vector<StoredPlayer>> PlayerStore::LoadKnown() {
  Result<StoreQuery> query = db_->Prepare(
      "SELECT name, version, slots, last_seen, labels FROM players "
      "WHERE first_seen IS NOT NULL ORDER BY name");
  if (!query.ok()) return query.status();
  std::vector<StoredPlayer> players;
  std::map<std::string, size_t> index;
  Status s = query.value().ForEachRow([&](const StoreQuery& row) {
    StoredPlayer p;
    p.name = row.Text(0);
    p.version = row.Text(1);
    p.slots = static_cast<int>(row.Int(2));
    p.last_seen = ColumnTime(row, 3);
    p.labels = MapFromJson(row.TextView(4));
    p.scores_known = true;  // A session reported its list.
    index[p.name] = players.size();
    players.push_back(std::move(p));
  });
  if (!s.ok()) return s;
  Result<StoreQuery> scores = db_->Prepare(
      "SELECT player, score, sha256, interface FROM player_scores");
  if (!scores.ok()) return scores.status();
  s = scores.value().ForEachRow([&](const StoreQuery& row) {
    auto it = index.find(row.Text(0));
    if (it == index.end()) return;
    players[it->second].scores.push_back(
        broker::ScoreInfo{row.Text(1), row.Text(2), row.Text(3)});
  });
  if (!s.ok()) return s;
  return players;
}

}  // namespace orchestra::conductor
