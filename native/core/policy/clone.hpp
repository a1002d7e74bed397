// Clone rule: a request flagged clone (2) that finds no idle worker able to run it is
// dropped and counted, never queued: the original is already queued elsewhere, and a queued clone
// would only add load. Originals (1) and plain requests are unaffected. Runs in Policy::on_arrival,
// before the policy's own enqueue, in every policy.
#pragma once

#include "item.hpp"

namespace pallas::policy {

inline bool clone_must_drop(const Item& it, bool can_start_now) {
  return clone_kind(it.flags) == wire::kCloneClone && !can_start_now;
}

}  // namespace pallas::policy
