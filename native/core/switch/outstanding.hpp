// Outstanding counts (docs/switch-contract.md, "po2 balancing"): per (group, server), requests the
// switch sent that have not come back. +1 for every request or clone sent to a server (whatever the
// group's balancing), −1 for every reply or drop notice from it and for every request it bounces
// (each carries the group it was sent with, so the count it decrements is the one its send
// incremented, even across a table change that renumbers groups). A decrement saturates at 0, so a
// reply whose send was never counted cannot wrap a count.
//
// A po2 group compares two candidates drawn from its po2_pick table by random numbers: each is
// scored outstanding − weight (requests beyond the cores it gives the group); the lower score
// wins, a tie goes to the first. The P4 program keeps two copies of this register (one read per
// candidate) and resubmits the request once to add the winner's +1 to both; here one array does.
#pragma once

#include <cstdint>
#include <vector>

#include "tables.hpp"

namespace pallas::sw {

class Outstanding {
 public:
  Outstanding() : cells_(size_t{kMaxGroups} * kMaxServers, 0) {}
  static size_t slot(uint32_t g, uint32_t s) { return size_t{g} * kMaxServers + s; }  // index = group ++ server
  void inc(uint32_t g, uint32_t s) { cells_[slot(g, s)]++; }
  void dec(uint32_t g, uint32_t s) {
    if (g >= kMaxGroups || s >= kMaxServers) return;
    uint32_t& c = cells_[slot(g, s)];
    if (c > 0) c--;
  }
  uint32_t value(uint32_t g, uint32_t s) const { return g < kMaxGroups && s < kMaxServers ? cells_[slot(g, s)] : 0; }
  // The po2 score of candidate s (weight w): outstanding − w, offset so that it stays unsigned.
  uint32_t score(uint32_t g, uint32_t s, uint32_t w) const { return cells_[slot(g, s)] + 65536u - w; }

 private:
  std::vector<uint32_t> cells_;  // registers outstanding_a, outstanding_b [MAX_GROUPS × MAX_SERVERS]
};

}  // namespace pallas::sw
