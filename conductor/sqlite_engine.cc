#include "conductor/sqlite_engine.h"

#include <iterator>

#include "common/log.h"
#include "conductor/schema.h"

namespace orchestra::conductor {

using common::Result;
using common::Statement;
using common::Status;

Result<std::unique_ptr<SqliteEngine>> SqliteEngine::Open(
    const std::string& path) {
  Result<common::Database> db = common::Database::Open(path);
  if (!db.ok()) return db.status();
  std::unique_ptr<SqliteEngine> engine(new SqliteEngine(std::move(db.value())));
  Status s = engine->Migrate();
  // Bounds the WAL file: after a checkpoint lets it start over, a WAL grown
  // past this by a large turn is truncated back.
  if (s.ok()) s = engine->db_.Exec("PRAGMA journal_size_limit = 16777216");
  if (s.ok()) s = engine->PrepareStatements();
  if (!s.ok()) return s;
  return engine;
}

Status SqliteEngine::Migrate() {
  Result<Statement> version = db_.Prepare("PRAGMA user_version");
  if (!version.ok()) return version.status();
  Result<bool> row = version.value().Step();
  if (!row.ok()) return row.status();
  const int64_t current = version.value().Int(0);
  version.value().Reset();
  if (current == kSchemaVersion) return Status();
  if (current > kSchemaVersion || current < 0)
    return Status::InvalidArgument(
        db_.path(), "schema version " + std::to_string(current) +
                        " is newer than this conductor (" +
                        std::to_string(kSchemaVersion) + "); upgrade it");
  static_assert(std::size(kMigrations) == kSchemaVersion,
                "one migration per schema version");
  // Off while tables are rebuilt: dropping one would cascade (a no-op
  // inside a transaction, so it comes first).
  Status s = db_.Exec("PRAGMA foreign_keys = OFF");
  if (s.ok()) s = ApplyMigrations(current);
  Status on = db_.Exec("PRAGMA foreign_keys = ON");
  if (!s.ok()) return s;
  if (!on.ok()) return on;
  if (current == 0) {
    common::LogInfo("database created path=%s schema=%d", db_.path().c_str(),
                    kSchemaVersion);
  } else {
    common::LogInfo("database migrated path=%s from=%lld to=%d",
                    db_.path().c_str(), static_cast<long long>(current),
                    kSchemaVersion);
  }
  return Status();
}

Status SqliteEngine::ApplyMigrations(int64_t from) {
  Result<common::Transaction> txn = common::Transaction::Begin(&db_);
  if (!txn.ok()) return txn.status();
  for (int64_t v = from; v < kSchemaVersion; ++v) {
    Status s = db_.Exec(kMigrations[v]);
    if (!s.ok()) return s;
  }
  Result<Statement> check = db_.Prepare("PRAGMA foreign_key_check");
  if (!check.ok()) return check.status();
  Result<bool> violation = check.value().Step();
  if (!violation.ok()) return violation.status();
  if (violation.value())
    return Status::Internal(
        db_.path(),
        "migration broke a foreign key in table " + check.value().Text(0));
  check.value().Reset();
  return txn.value().Commit();
}

Status SqliteEngine::PrepareStatements() {
  for (size_t i = 0; i < kWriteKinds; ++i) {
    const std::string sql = StoreWriteSql(static_cast<WriteKind>(i));
    Result<Statement> prepared = db_.Prepare(sql.c_str());
    if (!prepared.ok()) return prepared.status();
    statements_[i] = std::move(prepared.value());
  }
  return Status();
}

Status SqliteEngine::Execute(const StoreWrite& write) {
  Statement& s = statements_[static_cast<size_t>(write.kind)];
  for (size_t i = 0; i < write.values.size(); ++i) {
    const int index = static_cast<int>(i) + 1;
    const StoreValue& v = write.values[i];
    if (const int64_t* n = std::get_if<int64_t>(&v))
      s.Bind(index, *n);
    else if (const std::string* text = std::get_if<std::string>(&v))
      s.Bind(index, std::string_view(*text));
    else if (const double* x = std::get_if<double>(&v))
      s.Bind(index, *x);
    else
      s.BindNull(index);
  }
  return turn_.Run(&s);
}

Status SqliteEngine::Commit() { return turn_.Commit(); }

void SqliteEngine::Rollback() { turn_.Rollback(); }

Result<common::CheckpointResult> SqliteEngine::Checkpoint() {
  if (turn_.is_open())
    return Status::Internal(db_.path(), "checkpoint inside a transaction");
  return db_.Checkpoint();
}

}  // namespace orchestra::conductor
