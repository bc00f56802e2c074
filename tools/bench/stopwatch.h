// Stopwatch measures elapsed wall time on the monotonic clock, for the bench
// tools (never used by the daemons or the tests).

#ifndef ORCHESTRA_TOOLS_BENCH_STOPWATCH_H_
#define ORCHESTRA_TOOLS_BENCH_STOPWATCH_H_

#include <chrono>

namespace orchestra::bench {

class Stopwatch {
 public:
  Stopwatch() : start_(std::chrono::steady_clock::now()) {}
  void Restart() { start_ = std::chrono::steady_clock::now(); }
  double Seconds() const {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() -
                                         start_)
        .count();
  }
  double Micros() const { return Seconds() * 1e6; }

 private:
  std::chrono::steady_clock::time_point start_;
};

}  // namespace orchestra::bench

#endif  // ORCHESTRA_TOOLS_BENCH_STOPWATCH_H_
