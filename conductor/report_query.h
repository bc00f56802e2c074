// ReportQuery checks and runs `orchestra sql` (DESIGN.md section 17): one
// read-only statement on the store, as a reporting tool runs it. Before it
// reaches the store a statement is prepared on an empty copy of the schema
// under an authorizer that allows only reading tables and calling
// harmless functions: no writes, no PRAGMA, no ATTACH, no
// load_extension(), and exactly one statement. What passes runs on the
// store's reader (either engine), its rows kept up to a byte limit.

#ifndef ORCHESTRA_CONDUCTOR_REPORT_QUERY_H_
#define ORCHESTRA_CONDUCTOR_REPORT_QUERY_H_

#include <memory>
#include <string>

#include "common/result.h"
#include "common/sqlite.h"
#include "common/status.h"
#include "conductor/store_query.h"
#include "conductor/store_reader.h"

namespace orchestra::conductor {

// The most statement text a report may send, and the most value bytes of
// rows its reply carries (the rest are dropped: StoreRows::truncated).
constexpr size_t kMaxReportSqlBytes = 64 << 10;
constexpr size_t kMaxReportBytes = 4 << 20;

class ReportQuery {
 public:
  static common::Result<std::unique_ptr<ReportQuery>> Create();

  // InvalidArgument, saying why, unless `sql` is one statement that only
  // reads.
  common::Status Check(const std::string& sql);
  // Check(), then runs it on `reader`.
  common::Result<StoreRows> Run(StoreReader* reader, const std::string& sql);

 private:
  explicit ReportQuery(common::Database schema) : schema_(std::move(schema)) {}

  common::Database schema_;  // in memory, empty tables
};

}  // namespace orchestra::conductor

#endif  // ORCHESTRA_CONDUCTOR_REPORT_QUERY_H_
