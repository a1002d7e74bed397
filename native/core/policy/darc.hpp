// darc: Dynamic Application-aware Reserved Cores (Perséphone). Per-type FIFO queues; workers
// reserved per group of similar types (darc_reserve.hpp), short groups may steal idle cores of
// longer groups but never the reverse, so a burst of long requests cannot occupy every core.
//
// Two modes:
//  - profiling (Perséphone's own): start as cFCFS over the type queues, learn each type's mean
//    execution time and share from completions and arrivals; after `profile_samples` completions
//    reserve. Afterwards, the re-check trigger (the 2nd-oldest queued request of a type has waited
//    longer than that type's mean) re-evaluates the reservation from the samples gathered since
//    the last evaluation (at least `recheck_samples`), and re-reserves only when some type's
//    demand moved by more than `rereserve_threshold` (10 %) or the set of active types changed.
//    With a warm profile it starts from that profile's reservation instead (steady state).
//  - given: the reservation comes from outside (a Pallas agent) and never changes by itself.
//
// Within a group the oldest request goes first; across groups a worker looks at the shortest
// group first (Perséphone's dispatcher walks types shortest-first). Unknown types (not in the
// reservation) run on the spillway core only, after everything else it may run.
#pragma once

#include <array>
#include <memory>
#include <vector>

#include "darc_reserve.hpp"
#include "policy.hpp"

namespace pallas::policy {

struct DarcConfig {
  uint32_t queue_capacity = 4096;     // per type
  uint64_t profile_samples = 50000;   // completions before the first reservation
  uint64_t recheck_samples = 5000;    // completions needed before a re-check may re-reserve
  double group_ratio = 1.2;           // a type joins a group within 20 % of its leader's mean
  double rereserve_threshold = 0.10;  // re-reserve when a demand moved by more than 10 %
  bool given = false;                 // true: use `groups`, no profiling
  std::vector<GivenGroup> groups;
  // Profiling mode, warm: start from the reservation this profile gives (as a Perséphone server
  // that finished profiling long ago), then re-check as usual. Empty: profile from scratch.
  std::vector<TypeProfile> warm;
  // Order in which a freed worker serves the groups it may run. false (Perséphone): shortest group
  // first, so a short backlog takes every core it may steal. true (a Pallas mixed server, whose
  // groups' shares the switch provisions by WRR): its own group first, then the shorter ones; a
  // shorter group still takes the worker when its own group has nothing queued.
  bool owner_first = false;
};

class Darc final : public Policy {
 public:
  Darc(uint32_t workers, const DarcConfig& cfg);
  const char* name() const override { return "darc"; }
  size_t queued() const override { return queued_; }

  bool profiling() const { return !res_.valid(); }
  const Reservation* reservation() const override { return res_.valid() ? &res_ : nullptr; }
  // Mean execution time per type behind the current reservation (0 when unknown).
  double type_mean_ns(uint8_t t) const { return mean_ns_[t]; }

 protected:
  Verdict enqueue(const Item& it, uint64_t now_ns) override;
  bool pick(uint32_t w, uint64_t now_ns, Dispatch* out) override;
  void completed(uint32_t w, const Item& it, uint64_t service_ns, uint64_t now_ns) override;
  bool can_start_now(const Item& it) override { return eligible_idle(it.type) != kNoWorker; }
  size_t purge(const BounceFilter& f, std::vector<Item>* out) override;

 private:
  ItemQueue* queue(uint8_t t);
  uint32_t eligible_idle(uint8_t t) const;
  // Pops the oldest head among `types` into *out.
  bool pop_oldest(const std::vector<uint8_t>& types, Item* out);
  void maybe_recheck(uint8_t t, uint64_t now_ns);
  std::vector<TypeProfile> window_profile() const;
  void reserve(Reservation r);
  void reset_window();

  DarcConfig cfg_;
  std::array<std::unique_ptr<ItemQueue>, 256> qs_{};
  std::vector<uint8_t> active_;   // types that have a queue, in order of first arrival
  std::vector<uint8_t> unknown_;  // active types outside the reservation (spillway only)
  size_t queued_ = 0;
  Reservation res_;
  std::array<double, 256> mean_ns_{};
  // Samples since the last evaluation.
  std::array<uint64_t, 256> win_arrivals_{};
  std::array<uint64_t, 256> win_done_{};
  std::array<double, 256> win_busy_ns_{};
  uint64_t win_total_done_ = 0;
};

}  // namespace pallas::policy
