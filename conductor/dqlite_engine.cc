// One transaction is BEGIN, each write, COMMIT, all on one connection:
// the node keeps the transaction open between requests and replicates it
// at COMMIT. A failure anywhere rolls back what the node holds and, when
// the connection itself failed, drops it: the next transaction connects
// again.

#include "conductor/dqlite_engine.h"

namespace orchestra::conductor {

using common::Result;
using common::Status;

Status ConnectToCellDatabase(DqliteClient* client, const std::string& address) {
  Status s = client->Connect(address, kCellRequestTimeout);
  if (s.ok()) s = client->Open(kCellDatabase);
  if (!s.ok()) client->Close();
  return s;
}

DqliteEngine::DqliteEngine(std::string address) : address_(std::move(address)) {
  for (size_t i = 0; i < kWriteKinds; ++i)
    sql_[i] = StoreWriteSql(static_cast<WriteKind>(i));
}

Status DqliteEngine::Begin() {
  if (!client_.connected()) {
    Status s = ConnectToCellDatabase(&client_, address_);
    if (!s.ok()) return s;
  }
  Result<DqliteExecResult> begun = client_.Exec("BEGIN");
  if (!begun.ok()) return begun.status();
  open_ = true;
  return Status();
}

Status DqliteEngine::Execute(const StoreWrite& write) {
  if (!open_) {
    Status s = Begin();
    if (!s.ok()) return s;
  }
  Result<DqliteExecResult> done =
      client_.Exec(sql_[static_cast<size_t>(write.kind)], write.values);
  return done.status();
}

Status DqliteEngine::Commit() {
  if (!open_) return Status();
  Result<DqliteExecResult> done = client_.Exec("COMMIT");
  if (done.ok()) {
    open_ = false;
    return Status();
  }
  Rollback();
  return done.status();
}

void DqliteEngine::Rollback() {
  if (!open_) return;
  open_ = false;
  if (client_.connected() && !client_.Exec("ROLLBACK").ok()) client_.Close();
}

Result<common::CheckpointResult> DqliteEngine::Checkpoint() {
  return common::CheckpointResult{};
}

}  // namespace orchestra::conductor
