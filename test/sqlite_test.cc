// Tests for common/sqlite.h: the pragmas Database::Open promises, Statement
// binding and reuse, reading rows with ForEachRow (a failed step surfaces),
// Transaction's roll-back-unless-committed rule, scoped and turn-long, and
// how SQLite errors become Status codes.

#include "common/sqlite.h"

#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <vector>

#include "test/small_disk.h"
#include "test/test_util.h"

namespace orchestra::common {
namespace {

class SqliteTest : public testing::Test {
 protected:
  void SetUp() override {
    db_ = OpenDb();
    ASSERT_TRUE(db_);
    ASSERT_OK(
        db_->Exec("CREATE TABLE jobs(id INTEGER PRIMARY KEY, score TEXT, "
                  "key TEXT UNIQUE, timeout INTEGER)"));
  }
  std::optional<Database> OpenDb() {
    Result<Database> db = Database::Open(dir_.File("test.db"));
    EXPECT_OK(db.status());
    if (!db.ok()) return std::nullopt;
    return std::move(db.value());
  }
  // The first column of the first row of `sql`, as text.
  static std::string Scalar(Database* db, const char* sql) {
    Result<Statement> stmt = db->Prepare(sql);
    if (!stmt.ok()) return "error: " + stmt.status().ToString();
    Result<bool> row = stmt.value().Step();
    if (!row.ok()) return "error: " + row.status().ToString();
    return row.value() ? stmt.value().Text(0) : "no row";
  }
  std::string Count() { return Scalar(&*db_, "SELECT count(*) FROM jobs"); }
  Status Insert(const std::string& score, const std::string& key) {
    Result<Statement> stmt =
        db_->Prepare("INSERT INTO jobs(score, key) VALUES(?1, ?2)");
    if (!stmt.ok()) return stmt.status();
    return stmt.value().Bind(1, score).Bind(2, key).Run();
  }

  test::TempDir dir_;
  std::optional<Database> db_;
};

TEST_F(SqliteTest, OpenUsesWalAndSynchronousFull) {
  EXPECT_EQ("wal", Scalar(&*db_, "PRAGMA journal_mode"));
  EXPECT_EQ("2", Scalar(&*db_, "PRAGMA synchronous"));  // 2 = FULL
  EXPECT_EQ("1", Scalar(&*db_, "PRAGMA foreign_keys"));
}

TEST_F(SqliteTest, InMemoryDatabaseOpens) {
  Result<Database> db = Database::Open(":memory:");
  ASSERT_OK(db.status());
  ASSERT_OK(db.value().Exec("CREATE TABLE t(x)"));
  EXPECT_EQ("0", Scalar(&db.value(), "SELECT count(*) FROM t"));
}

TEST_F(SqliteTest, OpenInAMissingDirectoryFails) {
  Result<Database> db = Database::Open(dir_.File("no/such/dir/x.db"));
  EXPECT_FALSE(db.ok());
  EXPECT_NE(std::string::npos, db.status().message().find("no/such/dir"));
}

TEST_F(SqliteTest, TransactionRollsBackUnlessCommitted) {
  {
    Result<Transaction> tx = Transaction::Begin(&*db_);
    ASSERT_OK(tx.status());
    ASSERT_OK(Insert("backup", "k1"));
    EXPECT_EQ("1", Count());
  }
  EXPECT_EQ("0", Count());
}

TEST_F(SqliteTest, CommittedTransactionStays) {
  {
    Result<Transaction> tx = Transaction::Begin(&*db_);
    ASSERT_OK(tx.status());
    ASSERT_OK(Insert("backup", "k1"));
    ASSERT_OK(tx.value().Commit());
  }
  EXPECT_EQ("1", Count());
}

TEST_F(SqliteTest, MovedTransactionRollsBackOnce) {
  Result<Transaction> tx = Transaction::Begin(&*db_);
  ASSERT_OK(tx.status());
  ASSERT_OK(Insert("backup", "k1"));
  { Transaction moved(std::move(tx.value())); }
  EXPECT_EQ("0", Count());
  ASSERT_OK(Transaction::Begin(&*db_).status());  // none left open
}

// A turn-long transaction: idle until a statement runs in it, then open
// until Commit() or Rollback(), and again at the next statement.
TEST_F(SqliteTest, IdleTransactionBeginsAtItsFirstStatement) {
  Transaction turn(&*db_);
  EXPECT_FALSE(turn.is_open());
  ASSERT_OK(turn.Commit());  // nothing to commit
  Result<Statement> insert =
      db_->Prepare("INSERT INTO jobs(score, key) VALUES('a', ?1)");
  ASSERT_OK(insert.status());
  ASSERT_OK(turn.Run(&insert.value().Bind(1, "k1")));
  EXPECT_TRUE(turn.is_open());
  EXPECT_FALSE(Transaction::Begin(&*db_).ok());  // one is open
  turn.Rollback();
  EXPECT_FALSE(turn.is_open());
  EXPECT_EQ("0", Count());
  ASSERT_OK(turn.Run(&insert.value().Bind(1, "k2")));
  ASSERT_OK(turn.Run(&insert.value().Bind(1, "k3")));
  ASSERT_OK(turn.Commit());
  EXPECT_FALSE(turn.is_open());
  EXPECT_EQ("2", Count());
}

TEST_F(SqliteTest, IdleTransactionRollsBackWhatIsOpenWhenItGoesAway) {
  Result<Statement> insert =
      db_->Prepare("INSERT INTO jobs(score, key) VALUES('a', 'k1')");
  ASSERT_OK(insert.status());
  {
    Transaction turn(&*db_);
    ASSERT_OK(turn.Run(&insert.value()));
  }
  EXPECT_EQ("0", Count());
}

// A statement whose transaction cannot begin is not run, and is reset.
TEST_F(SqliteTest, RunInATransactionThatCannotBeginRunsNothing) {
  Result<Transaction> other = Transaction::Begin(&*db_);
  ASSERT_OK(other.status());
  Transaction turn(&*db_);
  Result<Statement> insert =
      db_->Prepare("INSERT INTO jobs(score, key) VALUES('a', ?1)");
  ASSERT_OK(insert.status());
  EXPECT_FALSE(turn.Run(&insert.value().Bind(1, "k1")).ok());
  EXPECT_FALSE(turn.is_open());
  ASSERT_OK(other.value().Commit());
  EXPECT_EQ("0", Count());
  ASSERT_OK(turn.Run(&insert.value()));  // bindings cleared: key is NULL
  ASSERT_OK(turn.Commit());
  EXPECT_EQ("", Scalar(&*db_, "SELECT key FROM jobs"));
}

TEST_F(SqliteTest, CommitIsVisibleToAnotherConnection) {
  std::optional<Database> reader = OpenDb();
  ASSERT_TRUE(reader);
  Result<Transaction> tx = Transaction::Begin(&*db_);
  ASSERT_OK(tx.status());
  ASSERT_OK(Insert("backup", "k1"));
  EXPECT_EQ("0", Scalar(&*reader, "SELECT count(*) FROM jobs"));
  ASSERT_OK(tx.value().Commit());
  EXPECT_EQ("1", Scalar(&*reader, "SELECT count(*) FROM jobs"));
}

TEST_F(SqliteTest, StatementIsReusedWithFreshBindings) {
  Result<Statement> stmt =
      db_->Prepare("INSERT INTO jobs(score, timeout) VALUES(?1, ?2)");
  ASSERT_OK(stmt.status());
  ASSERT_OK(stmt.value().Bind(1, "a").Bind(2, int64_t{10}).Run());
  ASSERT_OK(stmt.value().Bind(1, "b").Run());  // ?2 no longer bound
  EXPECT_EQ("2", Count());
  EXPECT_EQ("10", Scalar(&*db_, "SELECT timeout FROM jobs WHERE score='a'"));
  EXPECT_EQ("", Scalar(&*db_, "SELECT timeout FROM jobs WHERE score='b'"));
}

TEST_F(SqliteTest, StepWalksRowsThenReportsDone) {
  ASSERT_OK(Insert("a", "k1"));
  ASSERT_OK(Insert("b", "k2"));
  Result<Statement> stmt = db_->Prepare("SELECT score FROM jobs ORDER BY id");
  ASSERT_OK(stmt.status());
  Statement& s = stmt.value();
  ASSERT_TRUE(s.Step().value());
  EXPECT_EQ("a", s.Text(0));
  ASSERT_TRUE(s.Step().value());
  EXPECT_EQ("b", s.Text(0));
  EXPECT_FALSE(s.Step().value());
}

// Rows 1 to 5 of a query, then an error: at row 6, abs() of the least
// integer overflows.
constexpr const char* kFailsAtRowSix =
    "WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n "
    "WHERE x < 9) SELECT CASE WHEN x < 6 THEN x "
    "ELSE abs(x - 6 - 9223372036854775807 - 1) END FROM n";

TEST_F(SqliteTest, ForEachRowReadsEveryRowInOrder) {
  ASSERT_OK(Insert("a", "k1"));
  ASSERT_OK(Insert("b", "k2"));
  ASSERT_OK(Insert("c", "k3"));
  Result<Statement> stmt = db_->Prepare("SELECT score FROM jobs ORDER BY id");
  ASSERT_OK(stmt.status());
  std::vector<std::string> scores;
  ASSERT_OK(stmt.value().ForEachRow(
      [&](const Statement& row) { scores.push_back(row.Text(0)); }));
  EXPECT_EQ((std::vector<std::string>{"a", "b", "c"}), scores);
}

TEST_F(SqliteTest, ForEachRowOfNoRowsReadsNothing) {
  Result<Statement> stmt = db_->Prepare("SELECT score FROM jobs");
  ASSERT_OK(stmt.status());
  int rows = 0;
  ASSERT_OK(stmt.value().ForEachRow([&](const Statement&) { ++rows; }));
  EXPECT_EQ(0, rows);
}

// A reader that returns false stops the walk, and the statement is reset:
// the next walk starts again from the first row, with fresh bindings.
TEST_F(SqliteTest, ForEachRowStopsWhenTheReaderSaysSoAndResets) {
  for (const char* key : {"k1", "k2", "k3"}) ASSERT_OK(Insert("a", key));
  Result<Statement> stmt =
      db_->Prepare("SELECT key FROM jobs WHERE score = ?1 ORDER BY id");
  ASSERT_OK(stmt.status());
  std::vector<std::string> keys;
  auto take_two = [&](const Statement& row) {
    keys.push_back(row.Text(0));
    return keys.size() < 2;
  };
  ASSERT_OK(stmt.value().Bind(1, "a").ForEachRow(take_two));
  EXPECT_EQ((std::vector<std::string>{"k1", "k2"}), keys);
  keys.clear();
  ASSERT_OK(stmt.value().Bind(1, "a").ForEachRow(take_two));
  EXPECT_EQ((std::vector<std::string>{"k1", "k2"}), keys);
  keys.clear();
  ASSERT_OK(stmt.value().ForEachRow(take_two));  // ?1 is NULL now
  EXPECT_TRUE(keys.empty());
}

TEST_F(SqliteTest, ForEachRowReturnsTheReadersError) {
  ASSERT_OK(Insert("a", "k1"));
  ASSERT_OK(Insert("b", "k2"));
  Result<Statement> stmt = db_->Prepare("SELECT score FROM jobs ORDER BY id");
  ASSERT_OK(stmt.status());
  int rows = 0;
  Status s = stmt.value().ForEachRow([&](const Statement& row) {
    ++rows;
    return Status::InvalidArgument("row", row.Text(0));
  });
  EXPECT_EQ(Status::Code::kInvalidArgument, s.code());
  EXPECT_EQ("a", s.what());
  EXPECT_EQ(1, rows);
}

TEST_F(SqliteTest, ForEachRowSurfacesAFailedStep) {
  Result<Statement> stmt = db_->Prepare(kFailsAtRowSix);
  ASSERT_OK(stmt.status());
  std::vector<int64_t> seen;
  Status s = stmt.value().ForEachRow(
      [&](const Statement& row) { seen.push_back(row.Int(0)); });
  EXPECT_FALSE(s.ok());
  EXPECT_NE(std::string::npos, s.ToString().find("overflow")) << s.ToString();
  EXPECT_EQ((std::vector<int64_t>{1, 2, 3, 4, 5}), seen);
  seen.clear();
  EXPECT_FALSE(
      stmt.value()
          .ForEachRow([&](const Statement& row) { seen.push_back(row.Int(0)); })
          .ok());  // Reset: it walks again from the first row
  EXPECT_EQ(5u, seen.size());
}

TEST_F(SqliteTest, ForEachRowSurfacesABadBindWithoutReading) {
  ASSERT_OK(Insert("a", "k1"));
  Result<Statement> stmt =
      db_->Prepare("SELECT score FROM jobs WHERE key = ?1");
  ASSERT_OK(stmt.status());
  int rows = 0;
  Status s = stmt.value().Bind(1, "k1").Bind(9, "x").ForEachRow(
      [&](const Statement&) { ++rows; });
  EXPECT_FALSE(s.ok());
  EXPECT_EQ(0, rows);
  ASSERT_OK(
      stmt.value().Bind(1, "k1").ForEachRow([&](const Statement&) { ++rows; }));
  EXPECT_EQ(1, rows);
}

TEST_F(SqliteTest, TextWithNulAndIntegersRoundTrip) {
  const std::string score("a\0b", 3);
  Result<Statement> insert =
      db_->Prepare("INSERT INTO jobs(score, timeout) VALUES(?1, ?2)");
  ASSERT_OK(insert.value().Bind(1, score).Bind(2, int64_t{INT64_MIN}).Run());
  Result<Statement> select =
      db_->Prepare("SELECT score, timeout, key FROM jobs");
  ASSERT_TRUE(select.value().Step().value());
  EXPECT_EQ(score, select.value().Text(0));
  EXPECT_EQ(INT64_MIN, select.value().Int(1));
  EXPECT_TRUE(select.value().IsNull(2));
}

TEST_F(SqliteTest, OptionalIntBindsAndReadsNull) {
  Result<Statement> insert =
      db_->Prepare("INSERT INTO jobs(score, timeout) VALUES('x', ?1)");
  ASSERT_OK(insert.value().Bind(1, std::optional<int64_t>()).Run());
  ASSERT_OK(insert.value().Bind(1, std::optional<int64_t>(5)).Run());
  Result<Statement> select =
      db_->Prepare("SELECT timeout FROM jobs ORDER BY id");
  ASSERT_TRUE(select.value().Step().value());
  EXPECT_EQ(std::nullopt, select.value().OptionalInt(0));
  ASSERT_TRUE(select.value().Step().value());
  EXPECT_EQ(std::optional<int64_t>(5), select.value().OptionalInt(0));
}

TEST_F(SqliteTest, DoubleBindsAsReal) {
  Result<Statement> insert =
      db_->Prepare("INSERT INTO jobs(score, timeout) VALUES('x', ?1)");
  ASSERT_OK(insert.value().Bind(1, 2.5).Run());
  EXPECT_EQ(
      "real 2.5",
      Scalar(&*db_, "SELECT typeof(timeout) || ' ' || timeout FROM jobs"));
}

TEST_F(SqliteTest, LastInsertIdAndChanges) {
  ASSERT_OK(Insert("a", "k1"));
  EXPECT_EQ(1, db_->LastInsertId());
  ASSERT_OK(Insert("b", "k2"));
  EXPECT_EQ(2, db_->LastInsertId());
  ASSERT_OK(db_->Exec("UPDATE jobs SET timeout = 1"));
  EXPECT_EQ(2, db_->Changes());
}

TEST_F(SqliteTest, ConstraintViolationIsConflict) {
  ASSERT_OK(Insert("a", "same"));
  Status s = Insert("b", "same");
  EXPECT_EQ(Status::Code::kConflict, s.code()) << s.ToString();
  EXPECT_EQ("1", Count());
}

TEST_F(SqliteTest, ConstraintViolationThroughExecIsConflict) {
  ASSERT_OK(db_->Exec("INSERT INTO jobs(score, key) VALUES('a', 'same')"));
  Status s = db_->Exec("INSERT INTO jobs(score, key) VALUES('b', 'same')");
  EXPECT_EQ(Status::Code::kConflict, s.code()) << s.ToString();
}

TEST_F(SqliteTest, StatementWorksAgainAfterAConflict) {
  Result<Statement> stmt =
      db_->Prepare("INSERT INTO jobs(score, key) VALUES(?1, ?2)");
  ASSERT_OK(stmt.value().Bind(1, "a").Bind(2, "k").Run());
  EXPECT_EQ(Status::Code::kConflict,
            stmt.value().Bind(1, "b").Bind(2, "k").Run().code());
  EXPECT_OK(stmt.value().Bind(1, "c").Bind(2, "k2").Run());
  EXPECT_EQ("2", Count());
}

TEST_F(SqliteTest, BadBindIndexIsReportedByStep) {
  Result<Statement> stmt = db_->Prepare("INSERT INTO jobs(score) VALUES(?1)");
  ASSERT_OK(stmt.status());
  Status s = stmt.value().Bind(1, "a").Bind(7, int64_t{1}).Run();
  EXPECT_FALSE(s.ok());
  EXPECT_EQ("0", Count());
  EXPECT_OK(stmt.value().Bind(1, "a").Run());
}

TEST_F(SqliteTest, BadSqlNamesTheDatabase) {
  Result<Statement> stmt = db_->Prepare("SELEKT 1");
  ASSERT_FALSE(stmt.ok());
  EXPECT_NE(std::string::npos, stmt.status().message().find("test.db"));
  EXPECT_FALSE(db_->Exec("DROP TABLE nothing").ok());
}

// SQLite's own SQLITE_FULL, here from a page limit rather than a full file
// system (test/small_disk.h has the real thing).
TEST_F(SqliteTest, AFullDatabaseIsIoErrorSayingDiskFull) {
  ASSERT_OK(db_->Exec("PRAGMA max_page_count = 3"));
  Status s = db_->Exec("INSERT INTO jobs(score) VALUES(zeroblob(100000))");
  EXPECT_EQ(Status::Code::kIoError, s.code()) << s.ToString();
  EXPECT_EQ("disk full", s.what());
  EXPECT_NE(std::string::npos, s.message().find("test.db"));
  Result<Statement> insert =
      db_->Prepare("INSERT INTO jobs(score) VALUES(zeroblob(100000))");
  ASSERT_OK(insert.status());
  EXPECT_EQ("disk full", insert.value().Run().what());
}

// The real thing: a WAL database on a file system with no byte left.
TEST_F(SqliteTest, ACommitOnAFullFileSystemSaysDiskFullAndWorksOnceFreed) {
  test::SmallDisk disk(1 << 20);
  if (!disk.error().empty()) GTEST_SKIP() << disk.error();
  Result<Database> db = Database::Open(disk.File("full.db"));
  ASSERT_OK(db.status());
  ASSERT_OK(db.value().Exec("CREATE TABLE t(x)"));
  ASSERT_TRUE(disk.Fill());
  const char* insert = "INSERT INTO t VALUES(zeroblob(20000))";
  Status s = db.value().Exec(insert);
  EXPECT_EQ("disk full", s.what()) << s.ToString();
  disk.Free();
  EXPECT_OK(db.value().Exec(insert));
}

TEST_F(SqliteTest, WritingAReadOnlyDatabaseIsIoErrorSayingReadOnly) {
  ASSERT_OK(Insert("a", "k1"));
  Result<Database> reader = Database::OpenReadOnly(dir_.File("test.db"));
  ASSERT_OK(reader.status());
  Status s = reader.value().Exec("DELETE FROM jobs");
  EXPECT_EQ(Status::Code::kIoError, s.code()) << s.ToString();
  EXPECT_EQ("read-only", s.what());
  EXPECT_EQ("1", Count());
}

TEST_F(SqliteTest, NestedBeginFails) {
  Result<Transaction> outer = Transaction::Begin(&*db_);
  ASSERT_OK(outer.status());
  EXPECT_FALSE(Transaction::Begin(&*db_).ok());
}

}  // namespace
}  // namespace orchestra::common
