// The probe rewrites the schema version unchanged: a real write even when
// nothing else changed, so a commit shows whether the store takes writes.

#include "conductor/store_writes.h"

#include <string>

namespace orchestra::conductor {

namespace {

constexpr const char* kSql[kWriteKinds] = {
    // kInsertJob
    "INSERT INTO jobs(id, score, scope, params, state, submitted_by, "
    "idempotency_key, timeout_s, delivery_timeout_s, created_at, target, "
    "priority, max_concurrency, max_errors) "
    "VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)",
    // kInsertJobPlayer
    "INSERT INTO job_players(job_id, player, position) VALUES(?1, ?2, ?3)",
    // kInsertTask
    "INSERT INTO tasks(id, job_id, player, attempt, state) "
    "VALUES(?1, ?2, ?3, ?4, ?5)",
    // kUpdateTask
    "UPDATE tasks SET player = ?2, attempt = ?3, state = ?4, "
    "exit_code = ?5, signal = ?6, stdout = ?7, stderr = ?8, "
    "stdout_truncated = ?9, stderr_truncated = ?10, response = ?11, "
    "error = ?12, dispatched_at = ?13, started_at = ?14, "
    "finished_at = ?15, cpu_s = ?16 / 1e6, memory_peak_bytes = ?17 "
    "WHERE id = ?1",
    // kUpdateJob
    "UPDATE jobs SET state = ?2, finished_at = ?3 WHERE id = ?1",
    // kDeleteTasks
    "DELETE FROM tasks WHERE id IN "
    "(SELECT id FROM tasks WHERE job_id = ?1 LIMIT ?2)",
    // kDeleteJobPlayers
    "DELETE FROM job_players WHERE job_id = ?1 AND position IN "
    "(SELECT position FROM job_players WHERE job_id = ?1 LIMIT ?2)",
    // kDeleteJob
    "DELETE FROM jobs WHERE id = ?1",
    // kSaveKey
    "INSERT INTO players(name, public_key, labels) VALUES(?1, ?2, ?3) "
    "ON CONFLICT(name) DO UPDATE SET public_key = excluded.public_key, "
    "labels = excluded.labels",
    // kSaveSession
    "INSERT INTO players(name, version, slots, connected, first_seen, "
    "last_seen) VALUES(?1, ?2, ?3, ?4, ?5, ?5) "
    "ON CONFLICT(name) DO UPDATE SET version = excluded.version, "
    "slots = excluded.slots, connected = excluded.connected, "
    "first_seen = COALESCE(players.first_seen, excluded.first_seen), "
    "last_seen = excluded.last_seen",
    // kDeleteScores
    "DELETE FROM player_scores WHERE player = ?1",
    // kInsertScore
    "INSERT OR REPLACE INTO player_scores(player, score, sha256, "
    "interface) VALUES(?1, ?2, ?3, ?4)",
    // kMarkAllDisconnected
    "UPDATE players SET connected = 0 WHERE connected != 0",
    // kProbe: made below
    nullptr,
};

}  // namespace

std::string StoreWriteSql(WriteKind kind) {
  if (kind == WriteKind::kProbe)
    return "PRAGMA user_version = " + std::to_string(kSchemaVersion);
  return kSql[static_cast<size_t>(kind)];
}

}  // namespace orchestra::conductor
