// Samples collects measured durations (microseconds) and summarises them:
// percentiles, mean, count. Used by the bench tools; one thread.

#ifndef ORCHESTRA_TOOLS_BENCH_SAMPLES_H_
#define ORCHESTRA_TOOLS_BENCH_SAMPLES_H_

#include <cstddef>
#include <vector>

namespace orchestra::bench {

class Samples {
 public:
  void Add(double micros) {
    values_.push_back(micros);
    sorted_ = false;
  }
  size_t size() const { return values_.size(); }

  // The value at quantile `q` (0..1) of the samples so far; 0 if none.
  double Percentile(double q);
  // The arithmetic mean; 0 if none.
  double Mean() const;
  double Max();

 private:
  void Sort();

  std::vector<double> values_;
  bool sorted_ = true;
};

}  // namespace orchestra::bench

#endif  // ORCHESTRA_TOOLS_BENCH_SAMPLES_H_
