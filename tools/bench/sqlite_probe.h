// SqliteProbe measures what durable writes cost on this machine: a fresh
// database file opened as the daemons open theirs (common::Database: WAL,
// synchronous=FULL), one row per commit and many rows per commit. Removes
// the file afterwards. One thread.

#ifndef ORCHESTRA_TOOLS_BENCH_SQLITE_PROBE_H_
#define ORCHESTRA_TOOLS_BENCH_SQLITE_PROBE_H_

#include <memory>
#include <string>

#include "common/result.h"
#include "common/sqlite.h"
#include "tools/bench/samples.h"

namespace orchestra::bench {

class SqliteProbe {
 public:
  // Creates the database at `path` (replacing one left over).
  static common::Result<std::unique_ptr<SqliteProbe>> Open(
      const std::string& path);
  ~SqliteProbe();
  SqliteProbe(const SqliteProbe&) = delete;
  SqliteProbe& operator=(const SqliteProbe&) = delete;

  // `commits` transactions of one row each; each sample is one commit's
  // time in microseconds.
  common::Result<Samples> SingleRowCommits(int commits);

  // `commits` transactions of `rows` rows each; returns rows per second.
  common::Result<double> BatchedRows(int commits, int rows);

 private:
  SqliteProbe(std::string path, common::Database db)
      : path_(std::move(path)), db_(std::move(db)) {}
  common::Status InsertRows(int rows);

  std::string path_;
  common::Database db_;
  common::Statement insert_;
};

}  // namespace orchestra::bench

#endif  // ORCHESTRA_TOOLS_BENCH_SQLITE_PROBE_H_
