// Histogram: log-linear buckets in the manner of HdrHistogram, 3 significant digits (relative
// error below 0.05 %), for non-negative integer values (ns, or fixed-point ratios). Recording is
// a few bit operations and one increment; the mean is kept exactly, apart from the buckets.
//
// Values 0..2047 have a bucket each; above, each power-of-two range [2^k, 2^(k+1)) has 1024
// buckets. Values at or above kMax (2^44, about 4.9 hours in ns) are counted in the last bucket.
// Not thread-safe: one writer; merge() to combine.
#pragma once

#include <cstdint>
#include <vector>

namespace pallas {

class Histogram {
 public:
  static constexpr int kLinear = 2048;
  static constexpr int kSub = 1024;
  static constexpr int kMaxBits = 44;
  static constexpr uint64_t kMax = (1ull << kMaxBits) - 1;
  static constexpr int kBuckets = kLinear + (kMaxBits - 11) * kSub;

  void record(uint64_t v) {
    if (v > kMax) v = kMax;
    if (counts_.empty()) counts_.assign(kBuckets, 0);  // lazily: 286 KB, and many stay empty
    counts_[index(v)]++;
    n_++;
    sum_ += static_cast<double>(v);
    if (v > max_) max_ = v;
  }
  void merge(const Histogram& o);
  void clear();

  uint64_t count() const { return n_; }
  double mean() const { return n_ ? sum_ / static_cast<double>(n_) : 0.0; }
  uint64_t max() const { return max_; }
  // The value at quantile q in [0, 1]: the middle of the bucket holding the ceil(q·n)-th smallest
  // value (clamped to the exact maximum). 0 when empty.
  double quantile(double q) const;

  // Calls f(lower, width, count) for every non-empty bucket, lowest first (to export the
  // histogram, e.g. into an HdrHistogram on the other side of N-API).
  template <typename F>
  void for_each(F f) const {
    for (int i = 0; i < static_cast<int>(counts_.size()); i++)
      if (counts_[i]) f(lower(i), width(i), counts_[i]);
  }

  static int index(uint64_t v) {
    if (v < kLinear) return static_cast<int>(v);
    const int k = 63 - __builtin_clzll(v);
    return kLinear + (k - 11) * kSub + static_cast<int>((v >> (k - 10)) - kSub);
  }
  static uint64_t lower(int i);
  static uint64_t width(int i);

 private:
  std::vector<uint64_t> counts_;
  uint64_t n_ = 0;
  double sum_ = 0;
  uint64_t max_ = 0;
};

}  // namespace pallas
