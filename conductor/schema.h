// The conductor database's schema (DESIGN.md section 8): a public interface
// for reporting tools, versioned with PRAGMA user_version and migrated in
// place: kMigrations[v] takes a database from version v to v + 1.

#ifndef ORCHESTRA_CONDUCTOR_SCHEMA_H_
#define ORCHESTRA_CONDUCTOR_SCHEMA_H_

namespace orchestra::conductor {

// Creates the version 1 schema in an empty database.
constexpr const char* kSchemaV1 = R"sql(
CREATE TABLE jobs(
  id INTEGER PRIMARY KEY,
  score TEXT NOT NULL,
  scope TEXT NOT NULL CHECK (scope IN ('one', 'all')),
  params TEXT NOT NULL DEFAULT '{}',          -- JSON object
  state TEXT NOT NULL DEFAULT 'PENDING',
  submitted_by TEXT NOT NULL DEFAULT '',
  idempotency_key TEXT UNIQUE,
  timeout_s INTEGER,
  delivery_timeout_s INTEGER,
  created_at TEXT NOT NULL,                   -- ISO 8601 UTC
  finished_at TEXT
);
CREATE INDEX jobs_pending ON jobs(id) WHERE state = 'PENDING';
CREATE INDEX jobs_finished_at ON jobs(finished_at);
CREATE TABLE job_players(
  job_id INTEGER NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,
  player TEXT NOT NULL,
  position INTEGER NOT NULL,
  PRIMARY KEY (job_id, position)
) WITHOUT ROWID;
CREATE INDEX job_players_player ON job_players(player, job_id);
CREATE TABLE tasks(
  id INTEGER PRIMARY KEY,
  job_id INTEGER NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,
  player TEXT,                                -- NULL until a `one` task is placed
  attempt INTEGER NOT NULL DEFAULT 1,
  state TEXT NOT NULL DEFAULT 'QUEUED',
  exit_code INTEGER,
  signal INTEGER,
  stdout TEXT NOT NULL DEFAULT '',
  stderr TEXT NOT NULL DEFAULT '',
  stdout_truncated INTEGER NOT NULL DEFAULT 0,
  stderr_truncated INTEGER NOT NULL DEFAULT 0,
  response TEXT NOT NULL DEFAULT '{}',        -- JSON object
  error TEXT NOT NULL DEFAULT '',
  dispatched_at TEXT,
  started_at TEXT,
  finished_at TEXT
);
CREATE INDEX tasks_job ON tasks(job_id);
CREATE TABLE players(
  name TEXT PRIMARY KEY,
  public_key TEXT,
  version TEXT,
  slots INTEGER,
  connected INTEGER NOT NULL DEFAULT 0,
  first_seen TEXT,
  last_seen TEXT
);
CREATE TABLE player_scores(
  player TEXT NOT NULL,
  score TEXT NOT NULL,
  sha256 TEXT NOT NULL,
  interface TEXT NOT NULL,
  PRIMARY KEY (player, score)
) WITHOUT ROWID;
CREATE VIEW job_summary AS
SELECT j.id, j.score, j.scope, j.state, j.submitted_by, j.created_at,
       j.finished_at,
       ROUND((julianday(j.finished_at) - julianday(j.created_at)) * 86400.0,
             3) AS duration_s,
       (SELECT COUNT(*) FROM job_players p WHERE p.job_id = j.id) AS players,
       COUNT(t.id) AS tasks,
       COALESCE(SUM(t.state = 'OK'), 0) AS ok,
       COALESCE(SUM(t.state = 'FAIL'), 0) AS fail,
       COALESCE(SUM(t.state = 'TIMEOUT'), 0) AS timeout,
       COALESCE(SUM(t.state = 'CANCELLED'), 0) AS cancelled,
       COALESCE(SUM(t.state IN ('UNK_SCORE', 'HOST_ERROR', 'LOST',
                                'ABORTED', 'EXPIRED')), 0) AS other_failures,
       COALESCE(SUM(t.state IN ('QUEUED', 'DISPATCHED', 'RUNNING')), 0)
         AS unfinished
FROM jobs j LEFT JOIN tasks t ON t.job_id = j.id
GROUP BY j.id;
CREATE VIEW player_summary AS
SELECT p.name, p.connected, p.version, p.slots, p.first_seen, p.last_seen,
       (SELECT COUNT(*) FROM player_scores s WHERE s.player = p.name)
         AS scores,
       COUNT(t.id) AS tasks,
       COALESCE(SUM(t.state = 'OK'), 0) AS ok,
       COALESCE(SUM(t.state NOT IN ('OK', 'QUEUED', 'DISPATCHED',
                                    'RUNNING')), 0) AS not_ok,
       COALESCE(SUM(t.state IN ('DISPATCHED', 'RUNNING')), 0) AS running,
       MAX(t.finished_at) AS last_task_finished_at
FROM players p LEFT JOIN tasks t ON t.player = p.name
GROUP BY p.name;
PRAGMA user_version = 1;
)sql";

// Version 2:
// - Job and task ids are never reused (AUTOINCREMENT). Version 1 used plain
//   rowids, and SQLite hands out max(id) + 1: once retention deleted the
//   newest jobs, their ids came back for new jobs, so a client's old job id
//   named another job, and a task id could meet a player's journal twice.
//   SQLite cannot add AUTOINCREMENT to a table, so jobs and tasks are
//   rebuilt (with foreign keys off: dropping `jobs` would otherwise cascade)
//   and their indexes and the views that read them are made again.
// - score_summary: one row a score and UTC day (of the tasks' finished_at)
//   with `runs` (tasks that ended), `ok`, `success_rate` (ok / runs), and
//   the median, 95th percentile and maximum of the run time of the tasks
//   that started (started_at to finished_at, seconds; nearest rank, as
//   SQLite has no percentile function).
constexpr const char* kSchemaV2 = R"sql(
DROP VIEW job_summary;
DROP VIEW player_summary;
CREATE TABLE jobs_v2(
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  score TEXT NOT NULL,
  scope TEXT NOT NULL CHECK (scope IN ('one', 'all')),
  params TEXT NOT NULL DEFAULT '{}',          -- JSON object
  state TEXT NOT NULL DEFAULT 'PENDING',
  submitted_by TEXT NOT NULL DEFAULT '',
  idempotency_key TEXT UNIQUE,
  timeout_s INTEGER,
  delivery_timeout_s INTEGER,
  created_at TEXT NOT NULL,                   -- ISO 8601 UTC
  finished_at TEXT
);
INSERT INTO jobs_v2(id, score, scope, params, state, submitted_by,
                    idempotency_key, timeout_s, delivery_timeout_s,
                    created_at, finished_at)
  SELECT id, score, scope, params, state, submitted_by, idempotency_key,
         timeout_s, delivery_timeout_s, created_at, finished_at FROM jobs;
CREATE TABLE tasks_v2(
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  job_id INTEGER NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,
  player TEXT,                                -- NULL until a `one` task is placed
  attempt INTEGER NOT NULL DEFAULT 1,
  state TEXT NOT NULL DEFAULT 'QUEUED',
  exit_code INTEGER,
  signal INTEGER,
  stdout TEXT NOT NULL DEFAULT '',
  stderr TEXT NOT NULL DEFAULT '',
  stdout_truncated INTEGER NOT NULL DEFAULT 0,
  stderr_truncated INTEGER NOT NULL DEFAULT 0,
  response TEXT NOT NULL DEFAULT '{}',        -- JSON object
  error TEXT NOT NULL DEFAULT '',
  dispatched_at TEXT,
  started_at TEXT,
  finished_at TEXT
);
INSERT INTO tasks_v2(id, job_id, player, attempt, state, exit_code, signal,
                     stdout, stderr, stdout_truncated, stderr_truncated,
                     response, error, dispatched_at, started_at,
                     finished_at)
  SELECT id, job_id, player, attempt, state, exit_code, signal, stdout,
         stderr, stdout_truncated, stderr_truncated, response, error,
         dispatched_at, started_at, finished_at FROM tasks;
DROP TABLE tasks;
DROP TABLE jobs;
ALTER TABLE jobs_v2 RENAME TO jobs;
ALTER TABLE tasks_v2 RENAME TO tasks;
CREATE INDEX jobs_pending ON jobs(id) WHERE state = 'PENDING';
CREATE INDEX jobs_finished_at ON jobs(finished_at);
CREATE INDEX tasks_job ON tasks(job_id);
CREATE VIEW job_summary AS
SELECT j.id, j.score, j.scope, j.state, j.submitted_by, j.created_at,
       j.finished_at,
       ROUND((julianday(j.finished_at) - julianday(j.created_at)) * 86400.0,
             3) AS duration_s,
       (SELECT COUNT(*) FROM job_players p WHERE p.job_id = j.id) AS players,
       COUNT(t.id) AS tasks,
       COALESCE(SUM(t.state = 'OK'), 0) AS ok,
       COALESCE(SUM(t.state = 'FAIL'), 0) AS fail,
       COALESCE(SUM(t.state = 'TIMEOUT'), 0) AS timeout,
       COALESCE(SUM(t.state = 'CANCELLED'), 0) AS cancelled,
       COALESCE(SUM(t.state IN ('UNK_SCORE', 'HOST_ERROR', 'LOST',
                                'ABORTED', 'EXPIRED')), 0) AS other_failures,
       COALESCE(SUM(t.state IN ('QUEUED', 'DISPATCHED', 'RUNNING')), 0)
         AS unfinished
FROM jobs j LEFT JOIN tasks t ON t.job_id = j.id
GROUP BY j.id;
CREATE VIEW player_summary AS
SELECT p.name, p.connected, p.version, p.slots, p.first_seen, p.last_seen,
       (SELECT COUNT(*) FROM player_scores s WHERE s.player = p.name)
         AS scores,
       COUNT(t.id) AS tasks,
       COALESCE(SUM(t.state = 'OK'), 0) AS ok,
       COALESCE(SUM(t.state NOT IN ('OK', 'QUEUED', 'DISPATCHED',
                                    'RUNNING')), 0) AS not_ok,
       COALESCE(SUM(t.state IN ('DISPATCHED', 'RUNNING')), 0) AS running,
       MAX(t.finished_at) AS last_task_finished_at
FROM players p LEFT JOIN tasks t ON t.player = p.name
GROUP BY p.name;
CREATE VIEW score_summary AS
WITH runs AS (
  SELECT j.score AS score, date(t.finished_at) AS day, t.state AS state,
         CASE WHEN t.started_at IS NOT NULL THEN
           (julianday(t.finished_at) - julianday(t.started_at)) * 86400.0
         END AS duration_s
  FROM tasks t JOIN jobs j ON j.id = t.job_id
  WHERE t.finished_at IS NOT NULL
), ranked AS (
  SELECT score, day, state, duration_s,
         ROW_NUMBER() OVER (PARTITION BY score, day
                            ORDER BY duration_s NULLS LAST) AS position,
         COUNT(duration_s) OVER (PARTITION BY score, day) AS timed
  FROM runs
)
SELECT day, score,
       COUNT(*) AS runs,
       SUM(state = 'OK') AS ok,
       ROUND(SUM(state = 'OK') * 1.0 / COUNT(*), 4) AS success_rate,
       ROUND(MAX(CASE WHEN position = (timed + 1) / 2 THEN duration_s END),
             3) AS median_s,
       ROUND(MAX(CASE WHEN position = (timed * 95 + 99) / 100
                      THEN duration_s END), 3) AS p95_s,
       ROUND(MAX(duration_s), 3) AS max_s
FROM ranked
GROUP BY day, score;
PRAGMA user_version = 2;
)sql";

// Version 3: an idempotency key belongs to its submitter (DESIGN.md
// section 6): UNIQUE (submitted_by, idempotency_key) instead of a key
// unique across all submitters, which let one client claim another's key.
// SQLite cannot change a column's constraint, so `jobs` is rebuilt.
// legacy_alter_table keeps the rename from checking the views that name
// `jobs` (they would be broken for a moment), and the AUTOINCREMENT counter
// is carried over so that no job id ever comes back.
constexpr const char* kSchemaV3 = R"sql(
PRAGMA legacy_alter_table = ON;
CREATE TABLE jobs_v3(
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  score TEXT NOT NULL,
  scope TEXT NOT NULL CHECK (scope IN ('one', 'all')),
  params TEXT NOT NULL DEFAULT '{}',          -- JSON object
  state TEXT NOT NULL DEFAULT 'PENDING',
  submitted_by TEXT NOT NULL DEFAULT '',
  idempotency_key TEXT,
  timeout_s INTEGER,
  delivery_timeout_s INTEGER,
  created_at TEXT NOT NULL,                   -- ISO 8601 UTC
  finished_at TEXT,
  UNIQUE (submitted_by, idempotency_key)
);
INSERT INTO jobs_v3(id, score, scope, params, state, submitted_by,
                    idempotency_key, timeout_s, delivery_timeout_s,
                    created_at, finished_at)
  SELECT id, score, scope, params, state, submitted_by, idempotency_key,
         timeout_s, delivery_timeout_s, created_at, finished_at FROM jobs;
DELETE FROM sqlite_sequence WHERE name = 'jobs_v3';
INSERT INTO sqlite_sequence(name, seq)
  SELECT 'jobs_v3', MAX(COALESCE((SELECT seq FROM sqlite_sequence
                                  WHERE name = 'jobs'), 0),
                        COALESCE((SELECT MAX(id) FROM jobs), 0));
DROP TABLE jobs;
ALTER TABLE jobs_v3 RENAME TO jobs;
PRAGMA legacy_alter_table = OFF;
CREATE INDEX jobs_pending ON jobs(id) WHERE state = 'PENDING';
CREATE INDEX jobs_finished_at ON jobs(finished_at);
PRAGMA user_version = 3;
)sql";

// Version 4: fleet operations (DESIGN.md section 13, which calls these
// columns "schema v3": version 3 was taken by the idempotency keys above).
// - jobs.target: the target expression its players were resolved from,
//   NULL when they were listed by name (job_players has the players
//   either way, in the order they were resolved or given).
// - jobs.priority: -100 to 100, dispatch takes the highest first.
// - jobs.max_concurrency, jobs.max_errors: a rollout's limits as given,
//   "2" or "10%"; NULL when not set (and for every `one` job).
// - players.labels: the player's labels from the players file, a JSON
//   object of strings ({"role": "web", "dc": "syd"}).
// - Task state SKIPPED (the rollout's max_errors ran out before the task
//   was dispatched): job_summary counts it in other_failures. tasks.state
//   has no CHECK, so the state needs nothing else.
constexpr const char* kSchemaV4 = R"sql(
ALTER TABLE jobs ADD COLUMN target TEXT;
ALTER TABLE jobs ADD COLUMN priority INTEGER NOT NULL DEFAULT 0;
ALTER TABLE jobs ADD COLUMN max_concurrency TEXT;
ALTER TABLE jobs ADD COLUMN max_errors TEXT;
ALTER TABLE players ADD COLUMN labels TEXT NOT NULL DEFAULT '{}';
DROP VIEW job_summary;
CREATE VIEW job_summary AS
SELECT j.id, j.score, j.scope, j.state, j.submitted_by, j.created_at,
       j.finished_at,
       ROUND((julianday(j.finished_at) - julianday(j.created_at)) * 86400.0,
             3) AS duration_s,
       (SELECT COUNT(*) FROM job_players p WHERE p.job_id = j.id) AS players,
       COUNT(t.id) AS tasks,
       COALESCE(SUM(t.state = 'OK'), 0) AS ok,
       COALESCE(SUM(t.state = 'FAIL'), 0) AS fail,
       COALESCE(SUM(t.state = 'TIMEOUT'), 0) AS timeout,
       COALESCE(SUM(t.state = 'CANCELLED'), 0) AS cancelled,
       COALESCE(SUM(t.state IN ('UNK_SCORE', 'HOST_ERROR', 'LOST',
                                'ABORTED', 'EXPIRED', 'SKIPPED')), 0)
         AS other_failures,
       COALESCE(SUM(t.state IN ('QUEUED', 'DISPATCHED', 'RUNNING')), 0)
         AS unfinished,
       j.target, j.priority
FROM jobs j LEFT JOIN tasks t ON t.job_id = j.id
GROUP BY j.id;
PRAGMA user_version = 4;
)sql";

// Version 5: what a task cost, from its cgroup on the player (DESIGN.md
// section 16); NULL when the task had no cgroup (or never ran).
// - tasks.cpu_s: CPU time (user + system) of every process of the task,
//   in seconds (the player reports microseconds).
// - tasks.memory_peak_bytes: the most memory its cgroup held at once,
//   where the player's memory controller is on.
// - score_summary gains cpu_s (the day's tasks' CPU seconds, summed),
//   memory_peak_bytes (the largest peak of the day's tasks: peaks of tasks
//   that ran apart do not add up) and measured (the tasks with a cost).
constexpr const char* kSchemaV5 = R"sql(
ALTER TABLE tasks ADD COLUMN cpu_s REAL;
ALTER TABLE tasks ADD COLUMN memory_peak_bytes INTEGER;
DROP VIEW score_summary;
CREATE VIEW score_summary AS
WITH runs AS (
  SELECT j.score AS score, date(t.finished_at) AS day, t.state AS state,
         CASE WHEN t.started_at IS NOT NULL THEN
           (julianday(t.finished_at) - julianday(t.started_at)) * 86400.0
         END AS duration_s,
         t.cpu_s AS cpu_s, t.memory_peak_bytes AS memory_peak_bytes
  FROM tasks t JOIN jobs j ON j.id = t.job_id
  WHERE t.finished_at IS NOT NULL
), ranked AS (
  SELECT score, day, state, duration_s, cpu_s, memory_peak_bytes,
         ROW_NUMBER() OVER (PARTITION BY score, day
                            ORDER BY duration_s NULLS LAST) AS position,
         COUNT(duration_s) OVER (PARTITION BY score, day) AS timed
  FROM runs
)
SELECT day, score,
       COUNT(*) AS runs,
       SUM(state = 'OK') AS ok,
       ROUND(SUM(state = 'OK') * 1.0 / COUNT(*), 4) AS success_rate,
       ROUND(MAX(CASE WHEN position = (timed + 1) / 2 THEN duration_s END),
             3) AS median_s,
       ROUND(MAX(CASE WHEN position = (timed * 95 + 99) / 100
                      THEN duration_s END), 3) AS p95_s,
       ROUND(MAX(duration_s), 3) AS max_s,
       ROUND(SUM(cpu_s), 3) AS cpu_s,
       MAX(memory_peak_bytes) AS memory_peak_bytes,
       COUNT(cpu_s) AS measured
FROM ranked
GROUP BY day, score;
PRAGMA user_version = 5;
)sql";

// Version 6 (a cell of conductors, DESIGN.md section 17):
// - cell: one row, the active conductor of the cell: its epoch (one more
//   at every change of the active conductor), its dqlite address, the
//   endpoints the others send players and clients to, and since when. A
//   single conductor on SQLite leaves it empty.
constexpr const char* kSchemaV6 = R"sql(
CREATE TABLE cell(
  id INTEGER PRIMARY KEY CHECK (id = 1),
  epoch INTEGER NOT NULL,
  address TEXT NOT NULL,
  player_endpoint TEXT NOT NULL,
  audience_endpoint TEXT NOT NULL,
  since TEXT NOT NULL                         -- ISO 8601 UTC
);
PRAGMA user_version = 6;
)sql";

// kMigrations[v] takes a database at user_version v to v + 1. They run in
// one transaction, with foreign keys off, so a failed upgrade changes
// nothing; a foreign key check follows.
constexpr const char* kMigrations[] = {kSchemaV1, kSchemaV2, kSchemaV3,
                                       kSchemaV4, kSchemaV5, kSchemaV6};

}  // namespace orchestra::conductor

#endif  // ORCHESTRA_CONDUCTOR_SCHEMA_H_
