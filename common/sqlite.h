// The thin RAII wrapper over SQLite's C API that the conductor's stores and
// the player's Journal share: Database, Statement and Transaction. The only
// code that calls sqlite3_*; errors become Status. Not thread-safe: each
// object belongs to the thread that opened the database.

#ifndef ORCHESTRA_COMMON_SQLITE_H_
#define ORCHESTRA_COMMON_SQLITE_H_

#include <cstdint>
#include <initializer_list>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

#include "common/result.h"
#include "common/status.h"

struct sqlite3;
struct sqlite3_stmt;

namespace orchestra::common {

struct SqliteCloser {
  void operator()(sqlite3* db) const;
};
struct SqliteFinalizer {
  void operator()(sqlite3_stmt* stmt) const;
};

// A prepared statement. Bind parameters are 1-based, columns 0-based.
class Statement {
 public:
  Statement() = default;

  Statement& Bind(int index, int64_t value);
  Statement& Bind(int index, double value);
  Statement& Bind(int index, std::string_view text);
  Statement& Bind(int index, const char* text) {
    return Bind(index, std::string_view(text));
  }
  Statement& BindNull(int index);
  // Binds `value` or NULL.
  Statement& Bind(int index, const std::optional<int64_t>& value);

  // Runs one step: true when a row is ready, false when done.
  Result<bool> Step();
  // Runs the statement to completion, ignoring rows, then resets it.
  Status Run();
  // Steps through the rows, handing each to `read`, then resets the
  // statement. `read` returns nothing, or a bool (false stops), or a
  // Status (not OK stops and is returned). A failed step is returned.
  template <typename Read>
  Status ForEachRow(Read&& read);
  // Resets the statement and clears its bindings for reuse.
  void Reset();

  bool IsNull(int column) const;
  int64_t Int(int column) const;
  std::string Text(int column) const;
  // The same without a copy: valid until the next Step() or Reset().
  std::string_view TextView(int column) const;
  std::optional<int64_t> OptionalInt(int column) const;
  double Real(int column) const;
  // The row's shape, for tools that run any statement (reports).
  int ColumnCount() const;
  std::string ColumnName(int column) const;
  bool IsInteger(int column) const;
  bool IsReal(int column) const;
  // True when running the statement cannot write to the database.
  bool ReadOnly() const;

 private:
  friend class Database;
  Statement(sqlite3_stmt* stmt, sqlite3* db) : stmt_(stmt), db_(db) {}

  std::unique_ptr<sqlite3_stmt, SqliteFinalizer> stmt_;
  sqlite3* db_ = nullptr;  // For error messages; owned by Database.
  Status bind_error_;      // First failed bind, reported by Step().
};

// What a WAL checkpoint did, in frames (pages).
struct CheckpointResult {
  int wal_frames = 0;    // frames in the WAL
  int checkpointed = 0;  // of those, copied into the database
};

class Database {
 public:
  // Opens (creating if needed) `path` in WAL mode with synchronous=FULL,
  // foreign keys on and a busy timeout, so readers never block us for long.
  static Result<Database> Open(const std::string& path);
  // Opens an existing database read-only, as reporting tools do (`sqlite3
  // -readonly`): it never writes and, in WAL mode, never blocks a writer.
  static Result<Database> OpenReadOnly(const std::string& path);

  Status Exec(const char* sql);
  Result<Statement> Prepare(const char* sql);
  // Prepares each {&statement, sql} of `table` into its statement; stops
  // at the first error.
  Status PrepareAll(
      std::initializer_list<std::pair<Statement*, const char*>> table);
  // Adds the SQL function fnmatch(GLOB, TEXT): 1 when TEXT matches GLOB by
  // fnmatch(3) with no flags, else 0 (NULL for a NULL argument), so a query
  // matches globs exactly as the C++ code does.
  Status AddFnmatchFunction();
  // OK when `sql` is exactly one statement that only reads: SELECT (WITH
  // included) of tables and views, calling functions other than those
  // that reach outside the database (load_extension and the like). No
  // PRAGMA, ATTACH, write or second statement. Else InvalidArgument,
  // saying why. Prepares it only: nothing runs.
  Status CheckReadOnlyStatement(const std::string& sql);
  int64_t LastInsertId() const;
  // Rows changed by the last INSERT, UPDATE or DELETE.
  int64_t Changes() const;
  // Copies as much of the WAL into the database as it can without waiting
  // for readers or writers (a PASSIVE checkpoint). REQUIRES: no open
  // transaction on this connection.
  Result<CheckpointResult> Checkpoint();
  const std::string& path() const { return path_; }

 private:
  Database(sqlite3* db, std::string path) : db_(db), path_(std::move(path)) {}

  std::unique_ptr<sqlite3, SqliteCloser> db_;
  std::string path_;
};

// A write transaction (BEGIN IMMEDIATE). Begin() opens one at once; one
// made idle opens at its first Run() and, once committed or rolled back,
// at the next, so a loop's turns can share it (group commit). What is
// open when it goes away is rolled back, so every early `return s;`
// leaves the database unchanged.
class Transaction {
 public:
  // An idle transaction on `db`: nothing begins before Run().
  explicit Transaction(Database* db) : db_(db) {}
  static Result<Transaction> Begin(Database* db);

  // Runs `statement` in the transaction, beginning it first if idle. If
  // the begin fails, the statement is reset without running.
  Status Run(Statement* statement);
  // Commits what is open (OK if idle). A failed COMMIT is rolled back:
  // either way the transaction is idle after.
  Status Commit();
  // Drops what is open, if anything.
  void Rollback();
  bool is_open() const { return open_; }

  ~Transaction();
  Transaction(Transaction&& other) noexcept;
  Transaction& operator=(Transaction&&) = delete;
  Transaction(const Transaction&) = delete;

 private:
  Status Open();

  Database* db_;       // Null once moved from.
  bool open_ = false;  // Between BEGIN and COMMIT or ROLLBACK
};

// Adds fnmatch() (Database::AddFnmatchFunction) to every connection the
// process opens from now on, those of libraries that use SQLite too (a
// cell's dqlite node runs the conductor's queries on its own).
Status AddFnmatchToEveryConnection();

template <typename Read>
Status Statement::ForEachRow(Read&& read) {
  using Returned = std::invoke_result_t<Read&, const Statement&>;
  static_assert(std::is_void_v<Returned> || std::is_same_v<Returned, bool> ||
                    std::is_same_v<Returned, Status>,
                "a row reader returns void, bool or Status");
  const Statement& row = *this;
  Status s;
  for (;;) {
    Result<bool> stepped = Step();
    if (!stepped.ok()) {
      s = stepped.status();
      break;
    }
    if (!stepped.value()) break;
    if constexpr (std::is_same_v<Returned, bool>) {
      if (!read(row)) break;
    } else if constexpr (std::is_same_v<Returned, Status>) {
      s = read(row);
      if (!s.ok()) break;
    } else {
      read(row);
    }
  }
  Reset();
  return s;
}

}  // namespace orchestra::common

#endif  // ORCHESTRA_COMMON_SQLITE_H_
