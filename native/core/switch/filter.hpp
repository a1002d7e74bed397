// Reply filter (docs/switch-contract.md, after NetClone): for a reply of a cloned request (clone
// flag ≠ 0), the first reply of an index is forwarded and the second dropped. One paired register
// `filter` of FILTER_SLOTS slots {lo, hi}, indexed by index mod FILTER_SLOTS; one register action
// per reply:
//   reply  lo == idx: drop,    lo = hi, hi = 0   (the second reply: its entry is cleared)
//          hi == idx: drop,    hi = 0
//          otherwise: forward, hi = lo, lo = idx (a non-zero hi was evicted: counted)
//   notice of a dropped clone (`forget`): the same two clears, but never stores; it is consumed.
// The filter stores indices, not bits, so a stale slot never makes it drop the only reply of a
// request; index 0 is never assigned (it marks an empty way). It is exact while at most two cloned
// requests awaiting their second reply share a slot; beyond that the evicted request's second reply
// is forwarded (a duplicate the client ignores, counted in n_filter_evicted), never a drop.
#pragma once

#include <cstdint>
#include <vector>

#include "../wire/wire_gen.hpp"
#include "tables.hpp"

namespace pallas::sw {

class ReplyFilter {
 public:
  explicit ReplyFilter(uint32_t slots = kFilterSlots) : cells_(slots), slots_(slots) {}
  // true: forward this reply.
  bool pass(uint32_t index) {
    Cell& c = cells_[index % slots_];
    if (c.lo == index) {
      c.lo = c.hi;
      c.hi = 0;
      return false;
    }
    if (c.hi == index) {
      c.hi = 0;
      return false;
    }
    if (c.hi != 0) n_evicted_++;
    c.hi = c.lo;
    c.lo = index;
    return true;
  }
  // A dropped clone's notice: clears the index if it is stored (the original answered first).
  void forget(uint32_t index) {
    Cell& c = cells_[index % slots_];
    if (c.lo == index) {
      c.lo = c.hi;
      c.hi = 0;
    } else if (c.hi == index) {
      c.hi = 0;
    }
  }
  uint64_t n_evicted() const { return n_evicted_; }
  uint32_t slots() const { return slots_; }
  uint32_t lo(uint32_t slot) const { return cells_[slot % slots_].lo; }  // register reads
  uint32_t hi(uint32_t slot) const { return cells_[slot % slots_].hi; }

 private:
  struct Cell {
    uint32_t lo = 0, hi = 0;
  };
  std::vector<Cell> cells_;  // register filter[FILTER_SLOTS] {lo, hi}
  uint32_t slots_;
  uint64_t n_evicted_ = 0;
};

// The reply path every cloning switch shares. A drop notice skips the filter's store: a
// dropped clone's notice stops at the switch (the original may still answer; it only clears an
// entry the original left); any other notice goes on to the client. A reply of a cloned request
// goes through the filter; any other reply is forwarded.
enum class ReplyVerdict : uint8_t { kForward, kForwardNotice, kCloneNotice, kFiltered };

inline ReplyVerdict classify_reply(ReplyFilter& f, uint8_t flags, uint32_t index) {
  if (flags & wire::kFlagDropNotice) {
    if ((flags & wire::kCloneMask) != wire::kCloneClone) return ReplyVerdict::kForwardNotice;
    f.forget(index);
    return ReplyVerdict::kCloneNotice;
  }
  if ((flags & wire::kCloneMask) != wire::kCloneNone && !f.pass(index)) return ReplyVerdict::kFiltered;
  return ReplyVerdict::kForward;
}

}  // namespace pallas::sw
