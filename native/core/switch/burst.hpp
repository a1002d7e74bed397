// Burst stage (paper §4.5, DESIGN §4): requests per group are counted in the current τ window
// (windows aligned to multiples of τ); request k of a window with k > C_thres[g] is cloned. The
// clone goes to the group with the lowest degree of burst (count / C_thres in the current window,
// clones it received included; ties to the lowest index); groups without a threshold are never
// clone targets. A group with clone_out off is counted (it can still receive clones) but never
// clones its own requests.
#pragma once

#include <cstdint>
#include <vector>

#include "tables.hpp"

namespace pallas::sw {

class Burst {
 public:
  void resize(size_t groups) {
    window_.assign(groups, UINT64_MAX);
    count_.assign(groups, 0);
  }
  // Counts a request of group g at now; true when it exceeds the threshold (clone it).
  bool count(const Tables& t, uint32_t g, uint64_t now_ns) {
    const uint32_t thr = t.groups[g].c_thres;
    return bump(t, g, now_ns) > thr && thr > 0 && t.groups[g].clone_out;
  }
  // Counts a clone sent to group h in its window (so that one burst does not pile every clone of
  // a window onto the same group), without cloning it again.
  void add_clone(const Tables& t, uint32_t h, uint64_t now_ns) { bump(t, h, now_ns); }
  // The least-burst group other than g, or -1.
  int target(const Tables& t, uint32_t g, uint64_t now_ns, const std::vector<bool>& has_servers) const {
    const uint64_t w = now_ns / t.tau_ns;
    int best = -1;
    double best_degree = 0;
    for (uint32_t h = 0; h < t.groups.size(); h++) {
      if (h == g || t.groups[h].c_thres == 0 || !has_servers[h]) continue;
      const double degree = (window_[h] == w ? count_[h] : 0) / static_cast<double>(t.groups[h].c_thres);
      if (best < 0 || degree < best_degree) {
        best = static_cast<int>(h);
        best_degree = degree;
      }
    }
    return best;
  }
  // Register reads (the control plane's view): group g's window (UINT64_MAX before its first
  // request) and its count in that window.
  uint64_t window(uint32_t g) const { return g < window_.size() ? window_[g] : UINT64_MAX; }
  uint32_t window_count(uint32_t g) const { return g < count_.size() ? count_[g] : 0; }

 private:
  // Counts one request in group g's current window (a new window starts at 0); returns the count.
  uint32_t bump(const Tables& t, uint32_t g, uint64_t now_ns) {
    const uint64_t w = now_ns / t.tau_ns;
    if (window_[g] != w) {
      window_[g] = w;
      count_[g] = 0;
    }
    return ++count_[g];
  }
  std::vector<uint64_t> window_;  // register burst_window[MAX_GROUPS]
  std::vector<uint32_t> count_;   // register burst_count[MAX_GROUPS]
};

}  // namespace pallas::sw
