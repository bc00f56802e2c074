// Tests of `orchestra sql`'s check and run (conductor/report_query.h), on
// a real SQLite store, and of a remote StoreQuery on a fake engine.

#include "conductor/report_query.h"

#include <gtest/gtest.h>

#include "conductor/job_store.h"
#include "test/conductor_samples.h"
#include "test/test_util.h"

namespace orchestra::conductor {
namespace {

using common::Result;
using common::Status;

class ReportQueryTest : public testing::Test {
 protected:
  void SetUp() override {
    Result<std::unique_ptr<JobStore>> store =
        JobStore::Open(dir_.path() + "/conductor.db");
    ASSERT_OK(store.status());
    store_ = std::move(store.value());
    Result<std::unique_ptr<ReportQuery>> report = ReportQuery::Create();
    ASSERT_OK(report.status());
    report_ = std::move(report.value());
  }

  void AddJobs(int n, const std::string& score) {
    for (int i = 0; i < n; ++i) {
      JobRecord job =
          test::SampleJob(broker::Scope::kOne, {"web-1"}, 1700000000000, score);
      ASSERT_OK(store_->InsertJob(&job, ""));
    }
    ASSERT_OK(store_->Commit());
  }

  test::TempDir dir_;
  std::unique_ptr<JobStore> store_;
  std::unique_ptr<ReportQuery> report_;
};

TEST_F(ReportQueryTest, OnlyOneStatementThatReadsPasses) {
  for (const char* ok :
       {"SELECT * FROM jobs", "SELECT count(*) FROM tasks;  ",
        "WITH t AS (SELECT state FROM tasks) SELECT state, count(*) FROM t "
        "GROUP BY state",
        "SELECT * FROM job_summary", "SELECT fnmatch('web-*', 'web-1')",
        "SELECT julianday('now') - julianday(created_at) FROM jobs"}) {
    EXPECT_TRUE(report_->Check(ok).ok()) << ok;
  }
  struct Case {
    const char* sql;
    const char* says;
  };
  for (const Case& c : {
           Case{"DELETE FROM jobs", "only reading"},
           Case{"UPDATE jobs SET state = 'OK'", "only reading"},
           Case{"INSERT INTO cell VALUES (1, 9, 'a', 'b', 'c', 'd')",
                "only reading"},
           Case{"DROP TABLE jobs", "only reading"},
           Case{"PRAGMA user_version = 1", "only reading"},
           Case{"PRAGMA table_info(jobs)", "only reading"},
           Case{"ATTACH '/tmp/x.db' AS x", "only reading"},
           Case{"SELECT load_extension('/tmp/evil.so')", "not authorized"},
           Case{"SELECT 1; DELETE FROM jobs", "one statement"},
           Case{"SELECT 1; SELECT 2", "one statement"},
           Case{"SELEC 1", "syntax error"},
           Case{"", "no statement"},
           Case{"BEGIN", "only reading"},
           Case{"VACUUM", "only reading"},
       }) {
    Status s = report_->Check(c.sql);
    ASSERT_FALSE(s.ok()) << c.sql;
    EXPECT_EQ(Status::Code::kInvalidArgument, s.code()) << c.sql;
    EXPECT_NE(std::string::npos, s.message().find(c.says))
        << c.sql << " -> " << s.ToString();
  }
  EXPECT_FALSE(report_->Check(std::string(kMaxSqlBytes + 1, ' ')).ok());
}

TEST_F(ReportQueryTest, RunsOnTheStoreWithNamesAndTypes) {
  AddJobs(3, "backup");
  Result<StoreRows> rows = report_->Run(
      store_->reader(),
      "SELECT id, score, 0.5 AS half, NULL AS none FROM jobs ORDER BY id");
  ASSERT_OK(rows.status());
  EXPECT_EQ((std::vector<std::string>{"id", "score", "half", "none"}),
            rows.value().columns);
  ASSERT_EQ(3u, rows.value().rows.size());
  const std::vector<StoreValue>& first = rows.value().rows[0];
  EXPECT_EQ(StoreValue(int64_t{1}), first[0]);
  EXPECT_EQ(StoreValue(std::string("backup")), first[1]);
  EXPECT_EQ(StoreValue(0.5), first[2]);
  EXPECT_EQ(StoreValue(std::monostate()), first[3]);
  EXPECT_FALSE(rows.value().truncated);
  // No rows: the names all the same.
  rows = report_->Run(store_->reader(), "SELECT id AS n FROM jobs WHERE 0");
  ASSERT_OK(rows.status());
  EXPECT_EQ(std::vector<std::string>{"n"}, rows.value().columns);
  EXPECT_TRUE(rows.value().rows.empty());
  // A refused statement never reaches the store.
  EXPECT_FALSE(report_->Run(store_->reader(), "DELETE FROM jobs").ok());
  rows = report_->Run(store_->reader(), "SELECT count(*) FROM jobs");
  ASSERT_OK(rows.status());
  EXPECT_EQ(StoreValue(int64_t{3}), rows.value().rows[0][0]);
}

TEST_F(ReportQueryTest, ALargeResultIsCutAtItsBound) {
  AddJobs(1, "backup");
  // 1 KiB a row from a recursive query: far more than one reply carries.
  Result<StoreRows> rows = report_->Run(
      store_->reader(),
      "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n "
      "WHERE i < 20000) SELECT i, printf('%1000d', i) FROM n");
  ASSERT_OK(rows.status());
  EXPECT_TRUE(rows.value().truncated);
  EXPECT_GT(rows.value().rows.size(), 1000u);
  EXPECT_LT(rows.value().rows.size(), 20000u);
  size_t bytes = 0;
  for (const auto& row : rows.value().rows)
    bytes += std::get<std::string>(row[1]).size();
  EXPECT_LE(bytes, kMaxReportBytes);
}

// A remote query sends its statement and parameters at the first step and
// reads its columns as SQLite would coerce them.
TEST(StoreQueryTest, ARemoteQueryBindsInOrderAndCoerces) {
  std::string sent;
  std::vector<StoreValue> params;
  RemoteQuery remote =
      [&](const std::string& sql,
          const std::vector<StoreValue>& p) -> Result<StoreRows> {
    sent = sql;
    params = p;
    StoreRows rows;
    rows.columns = {"a", "b", "c"};
    rows.rows.push_back(
        {int64_t{42}, std::string("17 apples"), std::monostate()});
    rows.rows.push_back({2.5, std::string("x"), int64_t{7}});
    return rows;
  };
  StoreReader reader(std::move(remote));
  Result<StoreQuery> query = reader.Prepare("SELECT ?1, ?3");
  ASSERT_OK(query.status());
  StoreQuery& q = query.value();
  q.Bind(3, "three").Bind(1, int64_t{1}).BindNull(2);
  Result<bool> row = q.Step();
  ASSERT_OK(row.status());
  ASSERT_TRUE(row.value());
  EXPECT_EQ("SELECT ?1, ?3", sent);
  EXPECT_EQ((std::vector<StoreValue>{int64_t{1}, std::monostate(),
                                     std::string("three")}),
            params);
  EXPECT_EQ(42, q.Int(0));
  EXPECT_EQ("42", q.Text(0));
  EXPECT_EQ(17, q.Int(1));
  EXPECT_TRUE(q.IsNull(2));
  EXPECT_EQ(std::nullopt, q.OptionalInt(2));
  EXPECT_EQ("b", q.ColumnName(1));
  ASSERT_TRUE(q.Step().value());
  EXPECT_EQ(2, q.Int(0));
  EXPECT_EQ(StoreValue(2.5), q.Value(0));
  EXPECT_EQ(std::optional<int64_t>(7), q.OptionalInt(2));
  EXPECT_FALSE(q.Step().value());
  q.Reset();
  EXPECT_TRUE(q.Step().value()) << "a reset query runs again";
}

TEST(StoreQueryTest, ARemoteFailureIsTheQuerysStatus) {
  RemoteQuery remote = [](const std::string&,
                          const std::vector<StoreValue>&) -> Result<StoreRows> {
    return Status::Unavailable("node", "not leader");
  };
  StoreReader reader(std::move(remote));
  Result<StoreQuery> query = reader.Prepare("SELECT 1");
  ASSERT_OK(query.status());
  Status s = query.value().ForEachRow([](const StoreQuery&) {});
  EXPECT_EQ(Status::Code::kUnavailable, s.code());
}

}  // namespace
}  // namespace orchestra::conductor
