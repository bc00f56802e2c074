// Fleet runs simulated players for the load bench in shard processes (a
// process holds at most RLIMIT_NOFILE descriptors, and each player needs
// two), each a PlayerShard of up to `per_shard` players, and sums what the
// shards report. Owned and used by the bench's main thread.

#ifndef ORCHESTRA_TOOLS_BENCH_FLEET_H_
#define ORCHESTRA_TOOLS_BENCH_FLEET_H_

#include <sys/types.h>

#include <cstdint>
#include <vector>

#include "broker/curve_keys.h"
#include "common/status.h"
#include "tools/bench/player_shard.h"
#include "tools/bench/shard_counters.h"

namespace orchestra::bench {

// The shards' counters added up; times are the latest of any shard.
struct FleetTotals {
  int64_t welcomed = 0, refused = 0, tasks = 0, acks = 0, heartbeats = 0;
  int64_t moves = 0;
  int64_t last_welcome_ns = 0, last_task_ns = 0, last_ack_ns = 0;
  int failed = 0;
};

class Fleet {
 public:
  Fleet(const ShardSettings& settings, size_t per_shard);
  ~Fleet();
  Fleet(const Fleet&) = delete;
  Fleet& operator=(const Fleet&) = delete;

  // Starts players with the first `count` of `keys` (each connects and says
  // hello at once). The shard processes use the copies of `keys` that
  // fork() gives them. REQUIRES: no players running (Stop() first).
  common::Status Start(const std::vector<broker::CurveKeyPair>& keys,
                       size_t count);
  // Ends every shard process and forgets its counters.
  void Stop();

  FleetTotals Totals() const;
  // The shard processes, e.g. for their CPU time.
  const std::vector<pid_t>& pids() const { return pids_; }

 private:
  ShardSettings settings_;
  size_t per_shard_;
  ShardCounters* counters_ = nullptr;  // shared memory, kMaxShards of them
  std::vector<pid_t> pids_;
};

}  // namespace orchestra::bench

#endif  // ORCHESTRA_TOOLS_BENCH_FLEET_H_
