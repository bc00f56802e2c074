// SpawnProbe measures how fast this machine starts and reaps processes:
// posix_spawn of a program (no shell, empty environment) and waitpid, from
// one thread or from several at once. The bound for how many trivial tasks
// players can run. Stateless; any thread.

#ifndef ORCHESTRA_TOOLS_BENCH_SPAWN_PROBE_H_
#define ORCHESTRA_TOOLS_BENCH_SPAWN_PROBE_H_

#include <string>

#include "common/result.h"

namespace orchestra::bench {

class SpawnProbe {
 public:
  explicit SpawnProbe(std::string program) : program_(std::move(program)) {}

  // Spawns and reaps the program `count` times on each of `threads`
  // threads; returns processes per second over all threads. An error if a
  // spawn fails or the program does not exit 0.
  common::Result<double> Rate(int count, int threads) const;

 private:
  common::Status SpawnAndReap(int count) const;

  std::string program_;
};

}  // namespace orchestra::bench

#endif  // ORCHESTRA_TOOLS_BENCH_SPAWN_PROBE_H_
