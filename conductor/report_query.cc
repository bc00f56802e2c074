#include "conductor/report_query.h"

#include "conductor/schema.h"
#include "conductor/store_writes.h"

namespace orchestra::conductor {

using common::Result;
using common::Status;

Result<std::unique_ptr<ReportQuery>> ReportQuery::Create() {
  Result<common::Database> db = common::Database::Open(":memory:");
  if (!db.ok()) return db.status();
  for (int v = 0; v < kSchemaVersion; ++v) {
    Status s = db.value().Exec(kMigrations[v]);
    if (!s.ok()) return s;
  }
  Status s = db.value().AddFnmatchFunction();
  if (!s.ok()) return s;
  return std::unique_ptr<ReportQuery>(new ReportQuery(std::move(db.value())));
}

Status ReportQuery::Check(const std::string& sql) {
  if (sql.size() > kMaxReportSqlBytes)
    return Status::InvalidArgument(
        "sql", "the statement is longer than " +
                   std::to_string(kMaxReportSqlBytes) + " bytes");
  return schema_.CheckReadOnlyStatement(sql);
}

Result<StoreRows> ReportQuery::Run(StoreReader* reader,
                                   const std::string& sql) {
  Status s = Check(sql);
  if (!s.ok()) return s;
  Result<StoreQuery> query = reader->Prepare(sql.c_str());
  if (!query.ok()) return query.status();
  StoreQuery& q = query.value();
  StoreRows rows;
  size_t bytes = 0;
  Result<bool> row = q.Step();
  // Named after the first step: a remote query has run only then.
  for (int i = 0; i < q.ColumnCount(); ++i)
    rows.columns.push_back(q.ColumnName(i));
  for (; row.ok() && row.value(); row = q.Step()) {
    std::vector<StoreValue> values;
    for (int i = 0; i < q.ColumnCount(); ++i) {
      values.push_back(q.Value(i));
      if (const std::string* text = std::get_if<std::string>(&values.back()))
        bytes += text->size();
      bytes += 9;  // a number, or a string's header
    }
    if (bytes > kMaxReportBytes) {
      rows.truncated = true;
      break;
    }
    rows.rows.push_back(std::move(values));
  }
  q.Reset();
  if (!row.ok()) return row.status();
  return rows;
}

}  // namespace orchestra::conductor
