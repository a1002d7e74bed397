// Burst stage (paper §4.5, docs/switch-contract.md). Register `burst` holds per group a pair
// {lo: window id, hi: requests counted in that window}. The window of a packet is
// w = (low 32 bits of now_ns >> 8) >> (tau_shift − 8), so a window is τ = 2^tau_shift ns and ids
// repeat every 2^40 ns (18.3 min) whatever τ: a Tofino takes one 32-bit slice of its 48-bit
// timestamp, then shifts it by a constant per τ. One register action
// per packet: if lo == w then hi += 1 else { lo = w; hi = 1 }; it returns the new hi.
//
// A fresh request of group g whose count exceeds C_thres[g] (> 0) is cloned to clone_target[g]
// (the control plane's choice, a table). The clone is counted in its target's window too; if that
// count exceeds the target's own C_thres (> 0), the target is bursting as well and the clone is
// suppressed at the switch (counted). Ablations (simulator only): an exact window now / τ for any τ,
// and the paper's target, the least-burst group (count / C_thres over every group with a threshold).
#pragma once

#include <cstdint>
#include <vector>

#include "tables.hpp"

namespace pallas::sw {

class Burst {
 public:
  static constexpr uint32_t kWindowBase = 8;  // the timestamp slice: bits [39:8]
  // The window id of `now` under tables t.
  static uint32_t window(const Tables& t, uint64_t now_ns) {
    if (t.ablation.exact_tau_ns > 0) return static_cast<uint32_t>(now_ns / t.ablation.exact_tau_ns);
    return static_cast<uint32_t>(now_ns >> kWindowBase) >> (t.tau_shift - kWindowBase);
  }
  // Register action `count` on group g: the request's position in its group's window (1, 2, …).
  uint32_t count(const Tables& t, uint32_t g, uint64_t now_ns) {
    const uint32_t w = window(t, now_ns);
    Cell& c = cells_[g];
    if (c.window == w) return ++c.count;
    c = Cell{w, 1};
    return 1;
  }
  // Ablation argmin_target: the group other than g with the lowest count / C_thres in the current
  // window (ties to the lowest index), among groups with a threshold and servers; -1 if none.
  int least_burst(const Tables& t, uint32_t g, uint64_t now_ns, const std::vector<bool>& has_servers) const {
    const uint32_t w = window(t, now_ns);
    int best = -1;
    double best_degree = 0;
    for (uint32_t h = 0; h < t.groups.size(); h++) {
      if (h == g || t.groups[h].c_thres == 0 || !has_servers[h]) continue;
      const Cell& c = cells_[h];
      const double degree = (c.window == w ? c.count : 0) / static_cast<double>(t.groups[h].c_thres);
      if (best < 0 || degree < best_degree) {
        best = static_cast<int>(h);
        best_degree = degree;
      }
    }
    return best;
  }
  // Register reads (the control plane's view): group g's window and its count ({0, 0} at start,
  // which behaves as an empty window: the first count is 1 either way).
  uint32_t window_of(uint32_t g) const { return g < kMaxGroups ? cells_[g].window : 0; }
  uint32_t count_of(uint32_t g) const { return g < kMaxGroups ? cells_[g].count : 0; }

 private:
  struct Cell {
    uint32_t window = 0;  // lo
    uint32_t count = 0;   // hi
  };
  Cell cells_[kMaxGroups];
};

}  // namespace pallas::sw
