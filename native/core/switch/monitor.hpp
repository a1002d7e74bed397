// Monitor stage (DESIGN §4): on every forwarded reply (so a cloned request counts once), per type:
// count += 1 and ewma += (time − ewma) / 8 (a forwarded drop notice of an uncloned request: count
// only), the division an arithmetic shift (floor), as the P4
// program computes it; the first sample of a type sets ewma = time. The control plane reads and
// resets the counts every monitor interval (10 ms); the EWMA persists.
#pragma once

#include <array>
#include <cstdint>

namespace pallas::sw {

class Monitor {
 public:
  void record(uint8_t type, uint32_t time_ns) {
    if (seen_[type] == 0) ewma_[type] = time_ns;
    else ewma_[type] = static_cast<uint32_t>(static_cast<int64_t>(ewma_[type]) + ((static_cast<int64_t>(time_ns) - ewma_[type]) >> 3));
    seen_[type] = 1;
    count_[type]++;
  }
  // A request of this type that was dropped (its notice): counted, no execution time.
  void count_demand(uint8_t type) { count_[type]++; }
  uint32_t count(uint8_t t) const { return count_[t]; }
  uint32_t ewma_ns(uint8_t t) const { return ewma_[t]; }
  bool seen(uint8_t t) const { return seen_[t] != 0; }
  void reset_counts() { count_.fill(0); }

 private:
  std::array<uint32_t, 256> count_{};  // register mon_count[256]
  std::array<uint32_t, 256> ewma_{};   // register mon_ewma[256]
  std::array<uint8_t, 256> seen_{};
};

}  // namespace pallas::sw
