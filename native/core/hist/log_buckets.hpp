// LogBuckets: a compact log-linear bucketing of non-negative integers (ns) for histograms that
// live in shared memory and are read by TypeScript (the runtime's per-type service and sojourn
// histograms). 32 buckets per power of two, so a bucket spans at most 1/32 of its values (about
// 3 %); values below 32 have a bucket each; values at or above 2^40 (about 18 minutes in ns) go to
// the last bucket. The layout is exported to TS as bucket lower bounds (never re-derived there).
#pragma once

#include <cstdint>

namespace pallas {

struct LogBuckets {
  static constexpr int kSubBits = 5;
  static constexpr int kSub = 1 << kSubBits;  // 32
  static constexpr int kMaxBits = 40;
  static constexpr int kCount = kSub + (kMaxBits - kSubBits) * kSub;  // 1152

  static int index(uint64_t v) {
    if (v < kSub) return static_cast<int>(v);
    int k = 63 - __builtin_clzll(v);  // v in [2^k, 2^(k+1))
    if (k >= kMaxBits) return kCount - 1;
    return kSub + (k - kSubBits) * kSub + static_cast<int>((v >> (k - kSubBits)) - kSub);
  }
  // The smallest value of bucket i.
  static uint64_t lower(int i) {
    if (i < kSub) return static_cast<uint64_t>(i);
    const int k = kSubBits + (i - kSub) / kSub;
    const uint64_t sub = static_cast<uint64_t>((i - kSub) % kSub);
    return (uint64_t{1} << k) + (sub << (k - kSubBits));
  }
};

}  // namespace pallas
