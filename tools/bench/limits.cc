// orchestra-bench-limits: measures the limits of this machine that bound
// Orchestra's figures, each with a fixed, modest amount of work (the whole
// run takes a few seconds on a 2-core machine), and prints one JSON object:
//
//   curve_*     a CurveZMQ DEALER <-> ROUTER over tcp://127.0.0.1
//   sqlite_*    WAL, synchronous=FULL commits in a file under DIR, after
//               warming the WAL up past its first checkpoint
//   spawn_*     posix_spawn + waitpid of /bin/true, 1 and 2 at a time
//
//   orchestra-bench-limits [DIR]     (DIR defaults to build)

#include <cstdio>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "common/status.h"
#include "tools/bench/curve_probe.h"
#include "tools/bench/samples.h"
#include "tools/bench/spawn_probe.h"
#include "tools/bench/sqlite_probe.h"

using namespace orchestra;
using nlohmann::json;

namespace {

constexpr int kRoundTrips = 5000;
constexpr int kPipelined = 300000;
constexpr size_t kMessageBytes = 100;  // About a `task` or `result` message
// A fresh WAL grows with each commit, and growing it costs a second flush
// (the file's size); once a checkpoint has run (1000 pages, the default)
// the WAL is rewritten in place, as in a daemon that has run for a while.
// So the first kWarmCommits pass a checkpoint and are not counted.
constexpr int kWarmCommits = 800;
constexpr int kCommits = 500;
constexpr int kBatches = 20;
constexpr int kBatchRows = 1000;
constexpr int kSpawns = 2000;

json Summary(bench::Samples* samples) {
  return {{"count", samples->size()},
          {"p50_us", samples->Percentile(0.5)},
          {"mean_us", samples->Mean()},
          {"p99_us", samples->Percentile(0.99)}};
}

common::Status MeasureCurve(json* out) {
  auto probe = bench::CurveProbe::Open();
  if (!probe.ok()) return probe.status();
  auto trips = probe.value()->RoundTrips(kRoundTrips, kMessageBytes);
  if (!trips.ok()) return trips.status();
  (*out)["curve_round_trip"] = Summary(&trips.value());
  auto rate = probe.value()->Pipelined(kPipelined, kMessageBytes);
  if (!rate.ok()) return rate.status();
  (*out)["curve_pipelined_msgs_per_s"] = rate.value();
  (*out)["curve_message_bytes"] = kMessageBytes;
  return common::Status();
}

common::Status MeasureSqlite(const std::string& dir, json* out) {
  auto probe = bench::SqliteProbe::Open(dir + "/bench-limits.db");
  if (!probe.ok()) return probe.status();
  auto warm = probe.value()->SingleRowCommits(kWarmCommits);
  if (!warm.ok()) return warm.status();
  auto commits = probe.value()->SingleRowCommits(kCommits);
  if (!commits.ok()) return commits.status();
  (*out)["sqlite_commit"] = Summary(&commits.value());
  (*out)["sqlite_commits_per_s"] = 1e6 / commits.value().Mean();
  auto rows = probe.value()->BatchedRows(kBatches, kBatchRows);
  if (!rows.ok()) return rows.status();
  (*out)["sqlite_batched_rows_per_s"] = rows.value();
  (*out)["sqlite_batch_rows"] = kBatchRows;
  return common::Status();
}

common::Status MeasureSpawn(json* out) {
  bench::SpawnProbe probe("/bin/true");
  auto one = probe.Rate(kSpawns, 1);
  if (!one.ok()) return one.status();
  auto two = probe.Rate(kSpawns / 2, 2);
  if (!two.ok()) return two.status();
  (*out)["spawn_per_s"] = one.value();
  (*out)["spawn_per_s_2_parallel"] = two.value();
  return common::Status();
}

}  // namespace

int main(int argc, char** argv) {
  if (argc > 2 || (argc == 2 && argv[1][0] == '-')) {
    std::fprintf(stderr, "usage: %s [DIR]\n", argv[0]);
    return 2;
  }
  const std::string dir = argc == 2 ? argv[1] : "build";
  json out;
  common::Status s = MeasureCurve(&out);
  if (s.ok()) s = MeasureSqlite(dir, &out);
  if (s.ok()) s = MeasureSpawn(&out);
  if (!s.ok()) {
    std::fprintf(stderr, "limits: %s\n", s.ToString().c_str());
    return 1;
  }
  std::printf("%s\n", out.dump(2).c_str());
  return 0;
}
