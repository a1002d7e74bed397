// Histogram: bucket geometry and quantiles (see histogram.hpp).
#include "histogram.hpp"

#include <algorithm>
#include <cmath>

namespace pallas {

uint64_t Histogram::lower(int i) {
  if (i < kLinear) return static_cast<uint64_t>(i);
  const int r = i - kLinear;
  const int k = 11 + r / kSub;
  return static_cast<uint64_t>(kSub + r % kSub) << (k - 10);
}

uint64_t Histogram::width(int i) {
  if (i < kLinear) return 1;
  return 1ull << ((i - kLinear) / kSub + 1);
}

void Histogram::merge(const Histogram& o) {
  if (o.counts_.empty()) return;
  if (counts_.empty()) counts_.assign(kBuckets, 0);
  for (int i = 0; i < kBuckets; i++) counts_[i] += o.counts_[i];
  n_ += o.n_;
  sum_ += o.sum_;
  max_ = std::max(max_, o.max_);
}

void Histogram::clear() {
  counts_.clear();
  n_ = 0;
  sum_ = 0;
  max_ = 0;
}

double Histogram::quantile(double q) const {
  if (n_ == 0) return 0.0;
  q = std::clamp(q, 0.0, 1.0);
  const uint64_t rank = std::max<uint64_t>(1, static_cast<uint64_t>(std::ceil(q * static_cast<double>(n_))));
  uint64_t seen = 0;
  for (int i = 0; i < kBuckets; i++) {
    seen += counts_[i];
    if (seen >= rank) {
      const double mid = i < kLinear ? static_cast<double>(i)
                                     : static_cast<double>(lower(i)) + static_cast<double>(width(i) - 1) / 2.0;
      return std::min(mid, static_cast<double>(max_));
    }
  }
  return static_cast<double>(max_);
}

}  // namespace pallas
