// DqliteEngine is the store's engine on a cell (DESIGN.md section 17):
// each transaction is sent to this host's dqlite node, which runs it only
// while it leads and commits it once a majority of the cell has it. The
// statements are the SQLite engine's, sent with their parameters. A node
// that no longer leads, or a lost connection, fails the commit: the loop
// undoes what was not committed, as for a full disk (section 15).

#ifndef ORCHESTRA_CONDUCTOR_DQLITE_ENGINE_H_
#define ORCHESTRA_CONDUCTOR_DQLITE_ENGINE_H_

#include <array>
#include <string>

#include "conductor/dqlite_client.h"
#include "conductor/store_engine.h"

namespace orchestra::conductor {

// The database's name in the cell, and how long one request may take.
constexpr const char* kCellDatabase = "orchestra";
constexpr DqliteClient::Millis kCellRequestTimeout{5000};

// Connects `client` to `address` and opens the cell's database.
common::Status ConnectToCellDatabase(DqliteClient* client,
                                     const std::string& address);

class DqliteEngine : public StoreEngine {
 public:
  // The engine sends to the node at `address` (connected at first use).
  explicit DqliteEngine(std::string address);

  common::Status Execute(const StoreWrite& write) override;
  common::Status Commit() override;
  void Rollback() override;
  // The node checkpoints its own log: nothing to do.
  common::Result<common::CheckpointResult> Checkpoint() override;

 private:
  common::Status Begin();

  std::string address_;
  DqliteClient client_;
  bool open_ = false;  // between BEGIN and COMMIT or ROLLBACK
  std::array<std::string, kWriteKinds> sql_;
};

}  // namespace orchestra::conductor

#endif  // ORCHESTRA_CONDUCTOR_DQLITE_ENGINE_H_
