#include "conductor/store_reader.h"

namespace orchestra::conductor {

using common::Result;
using common::Status;

Result<StoreQuery> StoreReader::Prepare(const char* sql) {
  if (remote_) return StoreQuery(remote_.get(), sql);
  Result<common::Statement> statement = local_->Prepare(sql);
  if (!statement.ok()) return statement.status();
  return StoreQuery(std::move(statement.value()));
}

Status StoreReader::PrepareAll(
    std::initializer_list<std::pair<StoreQuery*, const char*>> table) {
  for (const auto& [query, sql] : table) {
    Result<StoreQuery> prepared = Prepare(sql);
    if (!prepared.ok()) return prepared.status();
    *query = std::move(prepared.value());
  }
  return Status();
}

}  // namespace orchestra::conductor
