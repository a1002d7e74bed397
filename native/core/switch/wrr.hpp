// WRR stage (DESIGN §4): per group a counter over Σ weights; the request goes to the server whose
// weight range holds the counter, then the counter advances (wrapping at Σw). Over any Σw
// consecutive requests of a group, each server gets exactly its weight.
#pragma once

#include <cstdint>
#include <vector>

#include "tables.hpp"

namespace pallas::sw {

class Wrr {
 public:
  // Rebuilds the ranges of group g (a control-plane write); the counter restarts at 0.
  void load(uint32_t g, const std::vector<WrrEntry>& entries) {
    if (g >= ranges_.size()) {
      ranges_.resize(g + 1);
      counter_.resize(g + 1, 0);
    }
    std::vector<Range>& r = ranges_[g];
    r.clear();
    uint32_t hi = 0;
    for (const WrrEntry& e : entries) {
      if (e.weight == 0) continue;
      hi += e.weight;
      r.push_back({hi, e.server});
    }
    counter_[g] = 0;
  }
  // The next server of group g; false when the group has no server.
  bool next(uint32_t g, uint16_t* server) {
    if (g >= ranges_.size() || ranges_[g].empty()) return false;
    const std::vector<Range>& r = ranges_[g];
    const uint32_t c = counter_[g];
    size_t i = 0;
    while (r[i].hi <= c) i++;  // ranges are few (servers of one group); a P4 range match does this
    *server = r[i].server;
    counter_[g] = c + 1 == r.back().hi ? 0 : c + 1;
    return true;
  }
  uint32_t counter(uint32_t g) const { return g < counter_.size() ? counter_[g] : 0; }  // register read
  uint32_t total(uint32_t g) const { return g < ranges_.size() && !ranges_[g].empty() ? ranges_[g].back().hi : 0; }

 private:
  struct Range {
    uint32_t hi;  // exclusive upper end of this server's counter range
    uint16_t server;
  };
  std::vector<std::vector<Range>> ranges_;
  std::vector<uint32_t> counter_;  // register wrr_counter[MAX_GROUPS]
};

}  // namespace pallas::sw
