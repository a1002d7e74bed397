// The simulator's event queue (native/sim/event_heap.hpp): whatever holds an event (the heap, the
// FIFO of events at the current time, a lane), events pop in (time, sequence) order, as one heap
// would pop them; re-arming a lane replaces its event.
#include <doctest/doctest.h>

#include <algorithm>
#include <cstdint>
#include <tuple>
#include <vector>

#include "core/rng.hpp"
#include "sim/event_heap.hpp"

using pallas::Rng;
using pallas::sim::Event;
using pallas::sim::EventHeap;

namespace {

struct Ref {
  uint64_t t, seq;
  uint32_t a;
  bool operator<(const Ref& o) const { return std::tie(t, seq) < std::tie(o.t, o.seq); }
};

}  // namespace

TEST_CASE("event heap: pops in (time, sequence) order across heap, FIFO and lanes, as one sorted list would") {
  for (uint64_t seed = 1; seed <= 20; seed++) {
    Rng rng(seed, 3);
    const size_t lanes = seed % 4;
    EventHeap q;
    q.set_lanes(lanes);
    std::vector<Ref> pending;                  // the reference: every live event
    std::vector<int64_t> lane_seq(lanes, -1);  // the sequence number armed in each lane
    uint64_t seq = 0, now = 0;
    uint32_t id = 0;
    for (int step = 0; step < 20000; step++) {
      const uint32_t op = rng.below(10);
      if (op < 5 || pending.empty()) {
        // Future, or now (the FIFO), or a tie with an event already pending.
        uint64_t t = now + (rng.below(3) == 0 ? 0 : rng.below(50));
        if (!pending.empty() && rng.below(4) == 0)
          t = std::max(now, pending[rng.below(static_cast<uint32_t>(pending.size()))].t);
        if (lanes && rng.below(3) == 0) {
          const size_t l = rng.below(static_cast<uint32_t>(lanes));
          if (lane_seq[l] >= 0)
            pending.erase(std::find_if(pending.begin(), pending.end(),
                                       [&](const Ref& r) { return r.seq == static_cast<uint64_t>(lane_seq[l]); }));
          q.arm(l, t, 1, id, 0);
          lane_seq[l] = static_cast<int64_t>(seq);
        } else {
          q.push(t, 0, id, 0);
        }
        pending.push_back({t, seq++, id++});
        continue;
      }
      const auto it = std::min_element(pending.begin(), pending.end());
      const Ref want = *it;
      pending.erase(it);
      REQUIRE_FALSE(q.empty());
      const Event e = q.pop();
      CHECK(e.t == want.t);
      CHECK(e.a == want.a);
      CHECK((e.seq_kind >> 8) == want.seq);
      now = e.t;
      for (int64_t& s : lane_seq)
        if (s == static_cast<int64_t>(want.seq)) s = -1;
    }
    CHECK(q.empty() == pending.empty());
  }
}

TEST_CASE("event heap: pop_until stops at the bound, disarm drops a lane's event") {
  EventHeap q;
  q.set_lanes(1);
  q.push(10, 0, 1, 0);
  q.arm(0, 5, 1, 2, 0);
  q.arm(0, 7, 1, 3, 0);  // replaces the event at 5
  Event e;
  REQUIRE(q.pop_until(8, &e));
  CHECK(e.a == 3);
  CHECK_FALSE(q.pop_until(9, &e));
  q.arm(0, 12, 1, 4, 0);
  q.disarm(0);
  REQUIRE(q.pop_until(100, &e));
  CHECK(e.a == 1);
  CHECK(q.empty());
}
