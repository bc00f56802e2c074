// ShardCounters is what one shard of simulated players reports to the bench
// tool: event counts and the time of the latest event of each kind. It
// lives in memory shared between the tool and its shard processes, so every
// field is a lock-free atomic. Times are CLOCK_MONOTONIC nanoseconds.

#ifndef ORCHESTRA_TOOLS_BENCH_SHARD_COUNTERS_H_
#define ORCHESTRA_TOOLS_BENCH_SHARD_COUNTERS_H_

#include <atomic>
#include <cstdint>
#include <ctime>

namespace orchestra::bench {

struct ShardCounters {
  std::atomic<int64_t> welcomed{0};       // sessions accepted (welcome)
  std::atomic<int64_t> refused{0};        // session errors received
  std::atomic<int64_t> tasks{0};          // task messages received
  std::atomic<int64_t> acks{0};           // result_ack messages received
  std::atomic<int64_t> heartbeats{0};     // heartbeats sent
  std::atomic<int64_t> moves{0};          // a cell's players moving on
  std::atomic<int64_t> open_failures{0};  // no socket for a move, retried
  std::atomic<int64_t> last_welcome_ns{0};
  std::atomic<int64_t> last_task_ns{0};
  std::atomic<int64_t> last_ack_ns{0};
  std::atomic<int> failed{0};  // the shard could not start
};

// CLOCK_MONOTONIC in nanoseconds: one clock for the tool and its shards.
inline int64_t MonotonicNs() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

// Raises `*slot` to `value` if it is smaller.
inline void StoreMax(std::atomic<int64_t>* slot, int64_t value) {
  int64_t seen = slot->load(std::memory_order_relaxed);
  while (seen < value && !slot->compare_exchange_weak(seen, value)) {
  }
}

}  // namespace orchestra::bench

#endif  // ORCHESTRA_TOOLS_BENCH_SHARD_COUNTERS_H_
