// Handover: a server moves from one intra-server policy to another at a policy epoch (a Pallas
// agent applied a new policy, e.g. cfcfs -> darc with reservations). The queued requests move to
// the successor in arrival order (enq_ns kept); workers still running a request dispatched by the
// predecessor stay busy in the successor, which sees their completions. Runs on the driver's
// thread (dispatcher or simulator) between two policy calls. The driver then offers every idle
// worker (Policy::idle()) to the successor.
#pragma once

#include <algorithm>
#include <vector>

#include "policy.hpp"

namespace pallas::policy {

// Requests the successor would not take (its queue is full) go to *dropped, to be dropped and
// counted by the driver like any full-queue drop. Both policies must have the same worker count.
inline void handover(Policy& from, Policy& to, uint64_t now_ns, std::vector<Item>* dropped) {
  std::vector<Item> items;
  from.drain(&items);
  std::stable_sort(items.begin(), items.end(), [](const Item& a, const Item& b) { return a.enq_ns < b.enq_ns; });
  for (uint32_t w = 0; w < from.workers() && w < to.workers(); w++)
    if (!from.idle().has(w)) to.adopt_busy(w);
  for (const Item& it : items)
    if (to.requeue(it, now_ns).admit != Admit::kQueued) dropped->push_back(it);
}

}  // namespace pallas::policy
