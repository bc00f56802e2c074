// StoreReader prepares the loop's reads (StoreQuery) on the store's
// engine: a read connection of its own on the SQLite file, or a cell's
// leader through its client (DESIGN.md section 17). Either way a read sees
// what is committed. Not thread-safe: owned by the loop.

#ifndef ORCHESTRA_CONDUCTOR_STORE_READER_H_
#define ORCHESTRA_CONDUCTOR_STORE_READER_H_

#include <initializer_list>
#include <memory>
#include <optional>
#include <utility>

#include "common/result.h"
#include "common/sqlite.h"
#include "common/status.h"
#include "conductor/store_query.h"

namespace orchestra::conductor {

class StoreReader {
 public:
  explicit StoreReader(common::Database local) : local_(std::move(local)) {}
  explicit StoreReader(RemoteQuery remote)
      : remote_(std::make_unique<RemoteQuery>(std::move(remote))) {}

  common::Result<StoreQuery> Prepare(const char* sql);
  // Prepares each {&query, sql}; stops at the first error.
  common::Status PrepareAll(
      std::initializer_list<std::pair<StoreQuery*, const char*>> table);

  // The SQLite connection, or null on a cell: for tests and tools that
  // need SQLite itself.
  common::Database* local() { return local_ ? &*local_ : nullptr; }

 private:
  std::optional<common::Database> local_;
  std::unique_ptr<RemoteQuery> remote_;  // its address is in each query
};

}  // namespace orchestra::conductor

#endif  // ORCHESTRA_CONDUCTOR_STORE_READER_H_
