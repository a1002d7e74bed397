// WRR stage (docs/switch-contract.md): per group, table `wrr` maps (group, position) to the server
// whose weight range holds the position: server i of a group owns [Σ_{j<i} w_j, Σ_{j≤i} w_j). A
// counter register walks the positions: its register action returns the position and advances it,
// wrapping at Σw (the group's `wrr_total`). Over any Σw consecutive requests of a group each server
// gets exactly its weight. Two counter registers use the same ranges: `wrr_counter` for the group's
// own requests and `clone_counter` for the clones it receives, so clones never take a turn from
// the group's own requests.
#pragma once

#include <cstdint>
#include <vector>

#include "tables.hpp"

namespace pallas::sw {

class WrrRanges {
 public:
  // Rebuilds the ranges of group g (a control-plane write). Entries of weight 0 are skipped.
  void load(uint32_t g, const std::vector<WrrEntry>& entries) {
    if (g >= ranges_.size()) ranges_.resize(g + 1);
    std::vector<Range>& r = ranges_[g];
    r.clear();
    uint32_t hi = 0;
    for (const WrrEntry& e : entries) {
      if (e.weight == 0) continue;
      hi += e.weight;
      r.push_back({hi, e.server, e.weight});
    }
  }
  void resize(size_t groups) { ranges_.resize(groups); }
  uint32_t total(uint32_t g) const { return g < ranges_.size() && !ranges_[g].empty() ? ranges_[g].back().hi : 0; }
  // The server whose range holds `pos` (pos < total(g)); a P4 range match does this lookup.
  uint16_t server_at(uint32_t g, uint32_t pos) const {
    const std::vector<Range>& r = ranges_[g];
    size_t i = 0;
    while (r[i].hi <= pos) i++;  // ranges are few (the servers of one group)
    return r[i].server;
  }
  // Table po2_pick: a 16-bit random number → (server, weight). Row i of a group covers
  // [⌊2^16·lo_i/Σw⌋, ⌊2^16·hi_i/Σw⌋), so a server is drawn in proportion to its weight.
  void pick(uint32_t g, uint32_t rand16, uint16_t* server, uint16_t* weight) const {
    const std::vector<Range>& r = ranges_[g];
    const uint64_t total = r.back().hi;
    size_t i = 0;
    while (i + 1 < r.size() && ((static_cast<uint64_t>(r[i].hi) << 16) / total) <= rand16) i++;
    *server = r[i].server;
    *weight = r[i].weight;
  }

 private:
  struct Range {
    uint32_t hi;  // exclusive upper end of this server's position range
    uint16_t server;
    uint16_t weight;
  };
  std::vector<std::vector<Range>> ranges_;
};

// A counter register of MAX_GROUPS u32 cells (wrr_counter, clone_counter). Register action
// `next`: return the cell's value v; store v + 1, or 0 when v + 1 ≥ total (total from the
// group's table entry). A value left ≥ total by a table change wraps to 0 on its next use.
class WrrCounter {
 public:
  uint32_t next(uint32_t g, uint32_t total) {
    uint32_t& c = cells_[g];
    uint32_t v = c;
    if (v >= total) v = 0;  // after a table change shrank the group
    c = v + 1 >= total ? 0 : v + 1;
    return v;
  }
  void reset(uint32_t g) { cells_[g] = 0; }
  uint32_t value(uint32_t g) const { return g < kMaxGroups ? cells_[g] : 0; }

 private:
  uint32_t cells_[kMaxGroups] = {};
};

}  // namespace pallas::sw
