// StoreEngine is where a store's writes land: one transaction at a time,
// begun by the first Execute(), ended by Commit() or Rollback(). The
// SQLite engine writes a local file; a replicated engine (dqlite, DESIGN.md
// section 17) sends the same statements to its cell. Used by StoreThread
// alone, on its thread.

#ifndef ORCHESTRA_CONDUCTOR_STORE_ENGINE_H_
#define ORCHESTRA_CONDUCTOR_STORE_ENGINE_H_

#include "common/result.h"
#include "common/sqlite.h"
#include "common/status.h"
#include "conductor/store_writes.h"

namespace orchestra::conductor {

class StoreEngine {
 public:
  virtual ~StoreEngine() = default;

  // Runs `write` in the open transaction, opening one if none is.
  virtual common::Status Execute(const StoreWrite& write) = 0;
  // Commits the open transaction (OK when none is). On failure it is
  // rolled back: nothing of it stays.
  virtual common::Status Commit() = 0;
  // Drops the open transaction, if any.
  virtual void Rollback() = 0;
  // Copies the WAL into the database as far as readers allow, without
  // waiting for them. REQUIRES: no open transaction.
  virtual common::Result<common::CheckpointResult> Checkpoint() = 0;
};

}  // namespace orchestra::conductor

#endif  // ORCHESTRA_CONDUCTOR_STORE_ENGINE_H_
