#include "tools/bench/samples.h"

#include <algorithm>
#include <numeric>

namespace orchestra::bench {

void Samples::Sort() {
  if (!sorted_) std::sort(values_.begin(), values_.end());
  sorted_ = true;
}

double Samples::Percentile(double q) {
  if (values_.empty()) return 0;
  Sort();
  q = std::clamp(q, 0.0, 1.0);
  return values_[static_cast<size_t>(q * (values_.size() - 1) + 0.5)];
}

double Samples::Mean() const {
  if (values_.empty()) return 0;
  return std::accumulate(values_.begin(), values_.end(), 0.0) /
         static_cast<double>(values_.size());
}

double Samples::Max() {
  if (values_.empty()) return 0;
  Sort();
  return values_.back();
}

}  // namespace orchestra::bench
