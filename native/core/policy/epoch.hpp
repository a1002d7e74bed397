// Epoch bouncing (paper §4.4 and Fig. 6): when a policy epoch changes a server's
// roles (the types it serves, or its reservations), requests queued under the old roles may now
// hold up the shorter requests the server is meant to serve. After the epoch, the first request
// that arrives of a type t purges the queued requests of every type with a longer mean than t's
// back to the switch (Policy::bounce: flagged BOUNCED, never twice), which re-schedules them with
// its current tables — onto the servers that now serve them. Types not longer than the shortest
// type the server serves now are never bounced. Means are the control plane's per-type estimates
// pushed with the policy. Pure logic on the driver's thread; the driver calls on_epoch when it
// applies a changed policy and on_arrival before Policy::on_arrival.
#pragma once

#include <array>
#include <cstdint>

#include "policy.hpp"

namespace pallas::policy {

class EpochBounce {
 public:
  // served_now: per type, non-zero when the server serves it from now on; mean_ns: per type
  // (0: unknown, never bounced).
  void on_epoch(const std::array<uint8_t, 256>& served_now, const std::array<double, 256>& mean_ns) {
    mean_ = mean_ns;
    double shortest = 0;
    for (int t = 0; t < 256; t++)
      if (served_now[t] && mean_[t] > 0 && (shortest == 0 || mean_[t] < shortest)) shortest = mean_[t];
    armed_ = false;
    for (int t = 0; t < 256; t++) {
      pending_[t] = mean_[t] > shortest;
      armed_ |= pending_[t] != 0;
    }
  }
  // A request of `type` arrived. True (and *f set, by type) when queued requests must bounce.
  bool on_arrival(uint8_t type, BounceFilter* f) {
    if (!armed_ || mean_[type] <= 0) return false;
    *f = BounceFilter{};
    f->by_type = true;
    bool any = false, left = false;
    for (int t = 0; t < 256; t++) {
      if (!pending_[t]) continue;
      if (mean_[t] > mean_[type]) {
        f->add(static_cast<uint8_t>(t));
        pending_[t] = 0;
        any = true;
      } else {
        left = true;
      }
    }
    armed_ = left;
    return any;
  }
  bool armed() const { return armed_; }

 private:
  std::array<uint8_t, 256> pending_{};  // types still to bounce at the next shorter arrival
  std::array<double, 256> mean_{};
  bool armed_ = false;
};

}  // namespace pallas::policy
