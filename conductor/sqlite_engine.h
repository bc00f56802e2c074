// SqliteEngine is the store's engine on a local SQLite file (DESIGN.md
// section 8): WAL mode, synchronous=FULL, the schema created or migrated
// in place when it opens, every write statement prepared once.

#ifndef ORCHESTRA_CONDUCTOR_SQLITE_ENGINE_H_
#define ORCHESTRA_CONDUCTOR_SQLITE_ENGINE_H_

#include <array>
#include <memory>
#include <string>

#include "common/result.h"
#include "common/sqlite.h"
#include "conductor/store_engine.h"

namespace orchestra::conductor {

class SqliteEngine : public StoreEngine {
 public:
  // Opens (creating and migrating if needed) the database at `path`.
  static common::Result<std::unique_ptr<SqliteEngine>> Open(
      const std::string& path);

  common::Status Execute(const StoreWrite& write) override;
  common::Status Commit() override;
  void Rollback() override;
  common::Result<common::CheckpointResult> Checkpoint() override;

  // The connection, for tests that break it on purpose.
  common::Database* database() { return &db_; }

 private:
  explicit SqliteEngine(common::Database db) : db_(std::move(db)) {}
  common::Status Migrate();
  common::Status ApplyMigrations(int64_t from);
  common::Status PrepareStatements();

  common::Database db_;
  common::Transaction turn_{&db_};  // Open from the first Execute()
  std::array<common::Statement, kWriteKinds> statements_;
};

}  // namespace orchestra::conductor

#endif  // ORCHESTRA_CONDUCTOR_SQLITE_ENGINE_H_
