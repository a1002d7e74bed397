// Bouncing hook: when a server's groups change towards shorter requests, the runtime
// purges the queues of the groups it no longer serves well and hands those requests back to the
// switch, flagged BOUNCED, to be re-scheduled with the current tables. Deciding *when* is the
// runtime's (policy epochs); this file is the mechanism every policy offers: remove the
// matching queued requests in queue order, skip any request already bounced once (never bounced
// twice), and mark the removed ones BOUNCED.
#pragma once

#include <vector>

#include "item.hpp"
#include "policy.hpp"

namespace pallas::policy {

// Moves the items of q matching f (and not yet bounced) to *out, flagged BOUNCED.
// With f.drain, moves every item, unflagged (a handover, not a bounce).
inline uint32_t bounce_from(ItemQueue* q, const BounceFilter& f, std::vector<Item>* out) {
  if (f.drain) return q->remove_if([](const Item&) { return true; }, out);
  const size_t first = out->size();
  const uint32_t n = q->remove_if([&](const Item& it) { return f.match(it) && !is_bounced(it.flags); }, out);
  for (size_t i = first; i < out->size(); i++) (*out)[i].flags |= wire::kFlagBounced;
  return n;
}

}  // namespace pallas::policy
