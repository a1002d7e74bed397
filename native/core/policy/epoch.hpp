// Epoch bouncing (DESIGN §4, paper §4.4): when a policy epoch moves a server off some request
// types ("leaving" types: served before, not now), the first request that arrives afterwards of a
// type with a shorter mean than a leaving type purges the queued requests of those longer leaving
// types back to the switch (Policy::bounce, flagged BOUNCED, never twice), which re-schedules
// them with its current tables. They would otherwise hold up the shorter requests this server now
// serves. Means are the control plane's per-type estimates pushed with the policy. Pure logic on
// the driver's thread; the driver calls on_arrival before Policy::on_arrival.
#pragma once

#include <array>
#include <cstdint>

#include "policy.hpp"

namespace pallas::policy {

class EpochBounce {
 public:
  // served_*: per type, non-zero when the server serves it; mean_ns: per type (0: unknown).
  void on_epoch(const std::array<uint8_t, 256>& served_before, const std::array<uint8_t, 256>& served_now,
                const std::array<double, 256>& mean_ns) {
    mean_ = mean_ns;
    leaving_.fill(0);
    armed_ = false;
    for (int t = 0; t < 256; t++)
      if (served_before[t] && !served_now[t]) {
        leaving_[t] = 1;
        armed_ = true;
      }
  }
  // A request of `type` arrived. True (and *f set, by type) when it must bounce queued requests.
  bool on_arrival(uint8_t type, BounceFilter* f) {
    if (!armed_ || leaving_[type]) return false;
    *f = BounceFilter{};
    f->by_type = true;
    bool any = false, left = false;
    for (int t = 0; t < 256; t++) {
      if (!leaving_[t]) continue;
      if (mean_[t] > mean_[type]) {
        f->add(static_cast<uint8_t>(t));
        leaving_[t] = 0;
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
  std::array<uint8_t, 256> leaving_{};
  std::array<double, 256> mean_{};
  bool armed_ = false;
};

}  // namespace pallas::policy
