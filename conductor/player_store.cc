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
using common::Statement;
using common::Status;
using common::TimeMs;

Result<std::unique_ptr<PlayerStore>> PlayerStore::Create(
    common::Database* db, common::Transaction* turn) {
  std::unique_ptr<PlayerStore> store(new PlayerStore(db, turn));
  Status s = store->PrepareStatements();
  if (!s.ok()) return s;
  return store;
}

Status PlayerStore::PrepareStatements() {
  return db_->PrepareAll({
      {&save_key_,
       "INSERT INTO players(name, public_key, labels) VALUES(?1, ?2, ?3) "
       "ON CONFLICT(name) DO UPDATE SET public_key = excluded.public_key, "
       "labels = excluded.labels"},
      {&save_session_,
       "INSERT INTO players(name, version, slots, connected, first_seen, "
       "last_seen) VALUES(?1, ?2, ?3, ?4, ?5, ?5) "
       "ON CONFLICT(name) DO UPDATE SET version = excluded.version, "
       "slots = excluded.slots, connected = excluded.connected, "
       "first_seen = COALESCE(players.first_seen, excluded.first_seen), "
       "last_seen = excluded.last_seen"},
      {&delete_scores_, "DELETE FROM player_scores WHERE player = ?1"},
      {&insert_score_,
       "INSERT OR REPLACE INTO player_scores(player, score, sha256, "
       "interface) VALUES(?1, ?2, ?3, ?4)"},
  });
}

Status PlayerStore::SaveKey(const std::string& name,
                            const std::string& public_key,
                            const broker::StringMap& labels) {
  save_key_.Bind(1, name).Bind(2, public_key).Bind(3, MapToJson(labels));
  return turn_->Run(&save_key_);
}

Status PlayerStore::SaveSession(const std::string& name,
                                const std::string& version, int slots,
                                bool connected, TimeMs now) {
  save_session_.Bind(1, name)
      .Bind(2, version)
      .Bind(3, int64_t{slots})
      .Bind(4, int64_t{connected});
  BindTime(&save_session_, 5, now);
  return turn_->Run(&save_session_);
}

Status PlayerStore::SaveScores(const std::string& name,
                               const std::vector<broker::ScoreInfo>& scores) {
  delete_scores_.Bind(1, name);
  Status s = turn_->Run(&delete_scores_);
  for (const broker::ScoreInfo& score : scores) {
    if (!s.ok()) return s;
    insert_score_.Bind(1, name)
        .Bind(2, score.name)
        .Bind(3, score.sha256)
        .Bind(4, score.interface);
    s = turn_->Run(&insert_score_);
  }
  return s;
}

Status PlayerStore::MarkAllDisconnected() {
  Result<Statement> update =
      db_->Prepare("UPDATE players SET connected = 0 WHERE connected != 0");
  if (!update.ok()) return update.status();
  return turn_->Run(&update.value());
}

Result<std::vector<StoredPlayer>> PlayerStore::LoadKnown() {
  Result<Statement> query = db_->Prepare(
      "SELECT name, version, slots, last_seen, labels FROM players "
      "WHERE first_seen IS NOT NULL ORDER BY name");
  if (!query.ok()) return query.status();
  std::vector<StoredPlayer> players;
  std::map<std::string, size_t> index;
  Status s = query.value().ForEachRow([&](const Statement& row) {
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
  Result<Statement> scores = db_->Prepare(
      "SELECT player, score, sha256, interface FROM player_scores");
  if (!scores.ok()) return scores.status();
  s = scores.value().ForEachRow([&](const Statement& row) {
    auto it = index.find(row.Text(0));
    if (it == index.end()) return;
    players[it->second].scores.push_back(
        broker::ScoreInfo{row.Text(1), row.Text(2), row.Text(3)});
  });
  if (!s.ok()) return s;
  return players;
}

}  // namespace orchestra::conductor
