// Reply filter (DESIGN §4, after NetClone): for a reply of a cloned request (clone flag ≠ 0), the
// first reply of an index is forwarded and the second dropped. Two register tables of FILTER_SLOTS
// indices each, both indexed by index mod FILTER_SLOTS, form a 2-way set:
//   - a reply whose index is stored in either table is the second one: clear the slot, drop it;
//   - otherwise forward it and store its index in an empty way, or else keep the two newest of the
//     three (wrap-aware): the oldest is most likely a stale entry left by a lost clone.
// The filter stores indices, not bits, so a stale slot never makes it drop the only reply of a
// request. It is exact while at most two cloned requests awaiting their second reply share a
// slot; beyond that the evicted request's second reply is forwarded (a duplicate, counted in
// n_filter_evicted), never a drop. Index 0 is never assigned (it marks an empty slot).
#pragma once

#include <cstdint>
#include <vector>

#include "../wire/wire_gen.hpp"
#include "tables.hpp"

namespace pallas::sw {

class ReplyFilter {
 public:
  explicit ReplyFilter(uint32_t slots = kFilterSlots) : a_(slots, 0), b_(slots, 0), slots_(slots) {}
  // true: forward this reply.
  bool pass(uint32_t index) {
    const uint32_t s = index % slots_;
    if (a_[s] == index) {
      a_[s] = 0;
      return false;
    }
    if (b_[s] == index) {
      b_[s] = 0;
      return false;
    }
    if (a_[s] == 0) a_[s] = index;
    else if (b_[s] == 0) b_[s] = index;
    else {
      // Full: keep the two newest of {a, b, index}. An index older than both is most likely the
      // late second reply of an entry evicted earlier; storing it would evict a live one.
      uint32_t& oldest = older(a_[s], b_[s]) ? a_[s] : b_[s];
      if (older(oldest, index)) {
        oldest = index;
        n_evicted_++;
      }
    }
    return true;
  }
  uint64_t n_evicted() const { return n_evicted_; }

 private:
  static bool older(uint32_t x, uint32_t y) { return static_cast<int32_t>(x - y) < 0; }
  std::vector<uint32_t> a_, b_;  // registers filter_a[FILTER_SLOTS], filter_b[FILTER_SLOTS]
  uint32_t slots_;
  uint64_t n_evicted_ = 0;
};

// The reply path every cloning switch shares (DESIGN §4). A drop notice skips the filter: a dropped
// clone's notice stops at the switch (the original may still answer, and the filter must not take
// the notice for its first reply); any other notice goes on to the client. A reply of a cloned
// request goes through the filter; any other reply is forwarded.
enum class ReplyVerdict : uint8_t { kForward, kForwardNotice, kCloneNotice, kFiltered };

inline ReplyVerdict classify_reply(ReplyFilter& f, uint8_t flags, uint32_t index) {
  if (flags & wire::kFlagDropNotice)
    return (flags & wire::kCloneMask) == wire::kCloneClone ? ReplyVerdict::kCloneNotice : ReplyVerdict::kForwardNotice;
  if ((flags & wire::kCloneMask) != wire::kCloneNone && !f.pass(index)) return ReplyVerdict::kFiltered;
  return ReplyVerdict::kForward;
}

}  // namespace pallas::sw
