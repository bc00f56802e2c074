// StoreQuery is one read of the store, the same to its callers on either
// engine (DESIGN.md section 17): bind ?1, ?2, ..., step through the rows,
// read their columns. On SQLite it is a prepared statement on the read
// connection; on a cell it sends the statement to the node with its
// parameters at the first Step() and steps through the rows that came
// back. Not thread-safe: owned by the loop.

#ifndef ORCHESTRA_CONDUCTOR_STORE_QUERY_H_
#define ORCHESTRA_CONDUCTOR_STORE_QUERY_H_

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "common/result.h"
#include "common/sqlite.h"
#include "common/status.h"
#include "conductor/store_writes.h"

namespace orchestra::conductor {

// What a remote read returned.
struct StoreRows {
  std::vector<std::string> columns;
  std::vector<std::vector<StoreValue>> rows;
  bool truncated = false;  // rows past the byte limit were dropped
};

// Runs one statement with its parameters on a remote engine.
using RemoteQuery = std::function<common::Result<StoreRows>(
    const std::string& sql, const std::vector<StoreValue>& params)>;

class StoreQuery {
 public:
  StoreQuery() = default;
  explicit StoreQuery(common::Statement local) : local_(std::move(local)) {}
  StoreQuery(const RemoteQuery* remote, std::string sql)
      : remote_(remote), sql_(std::move(sql)) {}

  StoreQuery& Bind(int index, int64_t value);
  StoreQuery& Bind(int index, std::string_view text);
  StoreQuery& Bind(int index, const char* text) {
    return Bind(index, std::string_view(text));
  }
  StoreQuery& Bind(int index, const std::optional<int64_t>& value);
  StoreQuery& BindNull(int index);

  // Runs one step: true when a row is ready, false when done.
  common::Result<bool> Step();
  // Steps through the rows as common::Statement::ForEachRow does.
  template <typename Read>
  common::Status ForEachRow(Read&& read);
  // Resets the query and clears its bindings for reuse.
  void Reset();

  bool IsNull(int column) const;
  int64_t Int(int column) const;
  std::string Text(int column) const;
  // Valid until the next Step() or Reset().
  std::string_view TextView(int column) const;
  std::optional<int64_t> OptionalInt(int column) const;
  // The current row's value in `column`, typed as the engine typed it.
  StoreValue Value(int column) const;
  int ColumnCount() const;
  std::string ColumnName(int column) const;

 private:
  const StoreValue* Cell(int column) const;

  common::Statement local_;
  const RemoteQuery* remote_ = nullptr;  // set: a remote query
  std::string sql_;
  std::vector<StoreValue> params_;
  StoreRows result_;
  size_t next_ = 0;  // rows of result_ stepped over
  bool ran_ = false;
};

template <typename Read>
common::Status StoreQuery::ForEachRow(Read&& read) {
  using Returned = std::invoke_result_t<Read&, const StoreQuery&>;
  static_assert(std::is_void_v<Returned> || std::is_same_v<Returned, bool> ||
                    std::is_same_v<Returned, common::Status>,
                "a row reader returns void, bool or Status");
  const StoreQuery& row = *this;
  common::Status s;
  for (;;) {
    common::Result<bool> stepped = Step();
    if (!stepped.ok()) {
      s = stepped.status();
      break;
    }
    if (!stepped.value()) break;
    if constexpr (std::is_same_v<Returned, bool>) {
      if (!read(row)) break;
    } else if constexpr (std::is_same_v<Returned, common::Status>) {
      s = read(row);
      if (!s.ok()) break;
    } else {
      read(row);
    }
  }
  Reset();
  return s;
}

}  // namespace orchestra::conductor

#endif  // ORCHESTRA_CONDUCTOR_STORE_QUERY_H_
