// ProcessStats: what Prometheus' standard process_* metrics say of this
// process (CPU time, resident memory, descriptors, start time), read from
// /proc and getrlimit. Plain functions; safe from any thread.

#ifndef ORCHESTRA_CONDUCTOR_PROCESS_STATS_H_
#define ORCHESTRA_CONDUCTOR_PROCESS_STATS_H_

#include <cstdint>

namespace orchestra::conductor {

struct ProcessStats {
  double cpu_seconds = 0;             // user and system time
  int64_t resident_memory_bytes = 0;  // resident set size
  int64_t open_fds = 0;
  double max_fds = 0;             // the soft RLIMIT_NOFILE; +Inf: unlimited
  double start_time_seconds = 0;  // since the Unix epoch
};

// This process's figures now; a figure that cannot be read stays 0.
ProcessStats ReadProcessStats();

// Descriptors open in this process; -1 when they cannot be counted.
int64_t CountOpenDescriptors();

}  // namespace orchestra::conductor

#endif  // ORCHESTRA_CONDUCTOR_PROCESS_STATS_H_
