#include "common/sqlite.h"

#include <fnmatch.h>
#include <sqlite3.h>

#include <cctype>
#include <mutex>
#include <utility>

namespace orchestra::common {

namespace {

// The one place SQLite's result codes become Status. A database that
// cannot be written now (SQLITE_FULL, SQLITE_IOERR, SQLITE_READONLY: a full
// disk, an I/O error, a read-only file system) is IoError with a short
// `what` ("disk full") that a daemon can pass on to its peers as it is.
Status FromSqlite(int rc, const std::string& where, const std::string& what) {
  switch (rc) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      return Status::Unavailable(where, what);
    case SQLITE_CONSTRAINT:
      return Status::Conflict(where, what);
    case SQLITE_FULL:
      return Status::IoError(where, "disk full");
    case SQLITE_IOERR:
      return Status::IoError(where, "I/O error");
    case SQLITE_READONLY:
      return Status::IoError(where, "read-only");
    default:
      return Status::IoError(where, what);
  }
}

Status SqliteError(sqlite3* db, const std::string& where, int rc) {
  return FromSqlite(rc, where, db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
}

std::string Where(sqlite3* db) {
  const char* file = db ? sqlite3_db_filename(db, "main") : nullptr;
  return std::string("sqlite ") + (file && *file ? file : ":memory:");
}

void Fnmatch(sqlite3_context* context, int, sqlite3_value** args) {
  const unsigned char* glob = sqlite3_value_text(args[0]);
  const unsigned char* text = sqlite3_value_text(args[1]);
  if (glob == nullptr || text == nullptr) {
    sqlite3_result_null(context);
    return;
  }
  sqlite3_result_int(context,
                     ::fnmatch(reinterpret_cast<const char*>(glob),
                               reinterpret_cast<const char*>(text), 0) == 0);
}

// An auto extension's entry point: fnmatch() on a new connection.
int AddFnmatch(sqlite3* db, const char**, const struct sqlite3_api_routines*) {
  return sqlite3_create_function_v2(db, "fnmatch", 2,
                                    SQLITE_UTF8 | SQLITE_DETERMINISTIC, nullptr,
                                    Fnmatch, nullptr, nullptr, nullptr);
}

// The authorizer of CheckReadOnlyStatement(): reading only.
int AllowReading(void*, int action, const char* arg1, const char*,
                 const char*, const char*) {
  switch (action) {
    case SQLITE_SELECT:
    case SQLITE_READ:
    case SQLITE_RECURSIVE:
      return SQLITE_OK;
    case SQLITE_FUNCTION: {
      const std::string name = arg1 ? arg1 : "";
      for (const char* banned :
           {"load_extension", "readfile", "writefile", "edit",
            "fts3_tokenizer", "sqlite_dbpage", "zipfile"}) {
        if (sqlite3_stricmp(name.c_str(), banned) == 0) return SQLITE_DENY;
      }
      return SQLITE_OK;
    }
    default:
      return SQLITE_DENY;
  }
}

}  // namespace

Status Database::CheckReadOnlyStatement(const std::string& sql) {
  sqlite3* db = db_.get();
  sqlite3_set_authorizer(db, AllowReading, nullptr);
  sqlite3_stmt* raw = nullptr;
  const char* tail = nullptr;
  int rc = sqlite3_prepare_v2(db, sql.c_str(), static_cast<int>(sql.size()),
                              &raw, &tail);
  std::unique_ptr<sqlite3_stmt, SqliteFinalizer> stmt(raw);
  sqlite3_set_authorizer(db, nullptr, nullptr);
  if (rc == SQLITE_AUTH)
    return Status::InvalidArgument(
        "sql", "only reading is allowed: one SELECT of tables and views");
  if (rc != SQLITE_OK)
    return Status::InvalidArgument("sql", sqlite3_errmsg(db));
  if (stmt == nullptr) return Status::InvalidArgument("sql", "no statement");
  for (const char* rest = tail; rest && *rest; ++rest) {
    if (*rest != ';' && !std::isspace(static_cast<unsigned char>(*rest)))
      return Status::InvalidArgument("sql", "give one statement only");
  }
  if (!sqlite3_stmt_readonly(stmt.get()))
    return Status::InvalidArgument("sql", "only reading is allowed");
  return Status();
}

Status AddFnmatchToEveryConnection() {
  using EntryPoint = void (*)();
  int rc = sqlite3_auto_extension(reinterpret_cast<EntryPoint>(AddFnmatch));
  if (rc != SQLITE_OK) return Status::Internal("sqlite", sqlite3_errstr(rc));
  return Status();
}

void SqliteCloser::operator()(sqlite3* db) const { sqlite3_close_v2(db); }
void SqliteFinalizer::operator()(sqlite3_stmt* stmt) const {
  sqlite3_finalize(stmt);
}

Statement& Statement::Bind(int index, int64_t value) {
  int rc = sqlite3_bind_int64(stmt_.get(), index, value);
  if (rc != SQLITE_OK && bind_error_.ok())
    bind_error_ = SqliteError(db_, Where(db_), rc);
  return *this;
}

Statement& Statement::Bind(int index, double value) {
  int rc = sqlite3_bind_double(stmt_.get(), index, value);
  if (rc != SQLITE_OK && bind_error_.ok())
    bind_error_ = SqliteError(db_, Where(db_), rc);
  return *this;
}

Statement& Statement::Bind(int index, std::string_view text) {
  int rc = sqlite3_bind_text64(stmt_.get(), index, text.data(), text.size(),
                               SQLITE_TRANSIENT, SQLITE_UTF8);
  if (rc != SQLITE_OK && bind_error_.ok())
    bind_error_ = SqliteError(db_, Where(db_), rc);
  return *this;
}

Statement& Statement::BindNull(int index) {
  int rc = sqlite3_bind_null(stmt_.get(), index);
  if (rc != SQLITE_OK && bind_error_.ok())
    bind_error_ = SqliteError(db_, Where(db_), rc);
  return *this;
}

Statement& Statement::Bind(int index, const std::optional<int64_t>& value) {
  return value ? Bind(index, *value) : BindNull(index);
}

Result<bool> Statement::Step() {
  if (!bind_error_.ok()) {
    Status s = bind_error_;
    Reset();
    return s;
  }
  int rc = sqlite3_step(stmt_.get());
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  Status s = SqliteError(db_, Where(db_), rc);
  sqlite3_reset(stmt_.get());
  return s;
}

Status Statement::Run() {
  return ForEachRow([](const Statement&) {});
}

void Statement::Reset() {
  sqlite3_reset(stmt_.get());
  sqlite3_clear_bindings(stmt_.get());
  bind_error_ = Status();
}

bool Statement::IsNull(int column) const {
  return sqlite3_column_type(stmt_.get(), column) == SQLITE_NULL;
}

int64_t Statement::Int(int column) const {
  return sqlite3_column_int64(stmt_.get(), column);
}

std::string Statement::Text(int column) const {
  return std::string(TextView(column));
}

std::string_view Statement::TextView(int column) const {
  const unsigned char* text = sqlite3_column_text(stmt_.get(), column);
  int size = sqlite3_column_bytes(stmt_.get(), column);
  if (text == nullptr) return std::string_view();
  return std::string_view(reinterpret_cast<const char*>(text),
                          static_cast<size_t>(size));
}

std::optional<int64_t> Statement::OptionalInt(int column) const {
  if (IsNull(column)) return std::nullopt;
  return Int(column);
}

double Statement::Real(int column) const {
  return sqlite3_column_double(stmt_.get(), column);
}

int Statement::ColumnCount() const { return sqlite3_column_count(stmt_.get()); }

std::string Statement::ColumnName(int column) const {
  const char* name = sqlite3_column_name(stmt_.get(), column);
  return name ? name : "";
}

bool Statement::IsInteger(int column) const {
  return sqlite3_column_type(stmt_.get(), column) == SQLITE_INTEGER;
}

bool Statement::IsReal(int column) const {
  return sqlite3_column_type(stmt_.get(), column) == SQLITE_FLOAT;
}

bool Statement::ReadOnly() const { return sqlite3_stmt_readonly(stmt_.get()); }

namespace {

// Before SQLite starts: no memory statistics, which cost a global mutex on
// every allocation of every connection (the conductor's loop reads while
// its store thread writes). Too late, once SQLite has started, changes
// nothing.
void ConfigureSqlite() {
  static std::once_flag once;
  std::call_once(once,
                 [] { (void)sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0); });
}

}  // namespace

Result<Database> Database::Open(const std::string& path) {
  ConfigureSqlite();
  sqlite3* raw = nullptr;
  int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;
  int rc = sqlite3_open_v2(path.c_str(), &raw, flags, nullptr);
  Database db(raw, path);
  if (rc != SQLITE_OK) return SqliteError(raw, "sqlite " + path, rc);
  sqlite3_busy_timeout(raw, 5000);
  sqlite3_extended_result_codes(raw, 0);
  for (const char* pragma :
       {"PRAGMA journal_mode=WAL", "PRAGMA synchronous=FULL",
        "PRAGMA foreign_keys=ON"}) {
    Status s = db.Exec(pragma);
    if (!s.ok()) return s;
  }
  return db;
}

Result<Database> Database::OpenReadOnly(const std::string& path) {
  ConfigureSqlite();
  sqlite3* raw = nullptr;
  int rc = sqlite3_open_v2(path.c_str(), &raw,
                           SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, nullptr);
  Database db(raw, path);
  if (rc != SQLITE_OK) return SqliteError(raw, "sqlite " + path, rc);
  sqlite3_busy_timeout(raw, 5000);
  sqlite3_extended_result_codes(raw, 0);
  return db;
}

Status Database::Exec(const char* sql) {
  char* error = nullptr;
  int rc = sqlite3_exec(db_.get(), sql, nullptr, nullptr, &error);
  if (rc == SQLITE_OK) return Status();
  std::string what = error ? error : sqlite3_errstr(rc);
  sqlite3_free(error);
  return FromSqlite(rc, Where(db_.get()), what);
}

Result<Statement> Database::Prepare(const char* sql) {
  sqlite3_stmt* stmt = nullptr;
  int rc = sqlite3_prepare_v3(db_.get(), sql, -1, SQLITE_PREPARE_PERSISTENT,
                              &stmt, nullptr);
  if (rc != SQLITE_OK) return SqliteError(db_.get(), Where(db_.get()), rc);
  return Statement(stmt, db_.get());
}

Status Database::PrepareAll(
    std::initializer_list<std::pair<Statement*, const char*>> table) {
  for (const auto& [statement, sql] : table) {
    Result<Statement> prepared = Prepare(sql);
    if (!prepared.ok()) return prepared.status();
    *statement = std::move(prepared.value());
  }
  return Status();
}

Status Database::AddFnmatchFunction() {
  int rc = sqlite3_create_function_v2(
      db_.get(), "fnmatch", 2, SQLITE_UTF8 | SQLITE_DETERMINISTIC, nullptr,
      Fnmatch, nullptr, nullptr, nullptr);
  if (rc != SQLITE_OK) return SqliteError(db_.get(), Where(db_.get()), rc);
  return Status();
}

int64_t Database::LastInsertId() const {
  return sqlite3_last_insert_rowid(db_.get());
}

int64_t Database::Changes() const { return sqlite3_changes64(db_.get()); }

Result<CheckpointResult> Database::Checkpoint() {
  CheckpointResult result;
  int rc =
      sqlite3_wal_checkpoint_v2(db_.get(), nullptr, SQLITE_CHECKPOINT_PASSIVE,
                                &result.wal_frames, &result.checkpointed);
  if (rc != SQLITE_OK) return SqliteError(db_.get(), Where(db_.get()), rc);
  return result;
}

Result<Transaction> Transaction::Begin(Database* db) {
  Transaction transaction(db);
  Status s = transaction.Open();
  if (!s.ok()) return s;
  return transaction;
}

Status Transaction::Open() {
  if (open_) return Status();
  Status s = db_->Exec("BEGIN IMMEDIATE");
  open_ = s.ok();
  return s;
}

Status Transaction::Run(Statement* statement) {
  Status s = Open();
  if (!s.ok()) {
    statement->Reset();
    return s;
  }
  return statement->Run();
}

// A failed COMMIT (SQLITE_FULL, SQLITE_IOERR) may or may not have rolled
// the transaction back already (SQLITE_BUSY leaves it open): ROLLBACK
// makes sure, and its own error, if none was open, means nothing.
Status Transaction::Commit() {
  if (!open_) return Status();
  Status s = db_->Exec("COMMIT");
  if (s.ok()) {
    open_ = false;
  } else {
    Rollback();
  }
  return s;
}

void Transaction::Rollback() {
  if (open_) (void)db_->Exec("ROLLBACK");
  open_ = false;
}

Transaction::~Transaction() { Rollback(); }

Transaction::Transaction(Transaction&& other) noexcept
    : db_(std::exchange(other.db_, nullptr)),
      open_(std::exchange(other.open_, false)) {}

}  // namespace orchestra::common
