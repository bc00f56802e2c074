// The rows look like a task's journal row (an id, a short text and ~200
// bytes of payload) so a commit writes what a daemon's commit writes.

#include "tools/bench/sqlite_probe.h"

#include <unistd.h>

#include "tools/bench/stopwatch.h"

namespace orchestra::bench {

using common::Result;
using common::Status;

namespace {

const std::string kPayload(200, 'x');

void RemoveDatabase(const std::string& path) {
  for (const char* suffix : {"", "-wal", "-shm"})
    ::unlink((path + suffix).c_str());
}

}  // namespace

Result<std::unique_ptr<SqliteProbe>> SqliteProbe::Open(
    const std::string& path) {
  RemoveDatabase(path);
  Result<common::Database> db = common::Database::Open(path);
  if (!db.ok()) return db.status();
  std::unique_ptr<SqliteProbe> probe(
      new SqliteProbe(path, std::move(db.value())));
  Status s = probe->db_.Exec(
      "CREATE TABLE rows (id INTEGER PRIMARY KEY, state TEXT, payload TEXT)");
  if (!s.ok()) return s;
  Result<common::Statement> insert = probe->db_.Prepare(
      "INSERT INTO rows (state, payload) VALUES ('accepted', ?1)");
  if (!insert.ok()) return insert.status();
  probe->insert_ = std::move(insert.value());
  return probe;
}

SqliteProbe::~SqliteProbe() { RemoveDatabase(path_); }

Status SqliteProbe::InsertRows(int rows) {
  Result<common::Transaction> transaction = common::Transaction::Begin(&db_);
  if (!transaction.ok()) return transaction.status();
  for (int i = 0; i < rows; ++i) {
    Status s = insert_.Bind(1, kPayload).Run();
    if (!s.ok()) return s;
  }
  return transaction.value().Commit();
}

Result<Samples> SqliteProbe::SingleRowCommits(int commits) {
  Samples samples;
  for (int i = 0; i < commits; ++i) {
    Stopwatch watch;
    Status s = InsertRows(1);
    if (!s.ok()) return s;
    samples.Add(watch.Micros());
  }
  return samples;
}

Result<double> SqliteProbe::BatchedRows(int commits, int rows) {
  Stopwatch watch;
  for (int i = 0; i < commits; ++i) {
    Status s = InsertRows(rows);
    if (!s.ok()) return s;
  }
  return commits * static_cast<double>(rows) / watch.Seconds();
}

}  // namespace orchestra::bench
