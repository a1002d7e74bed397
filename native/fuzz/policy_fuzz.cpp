// libFuzzer target for the intra-server policies: a policy::PolicyConfig built from the input
// (every kind, dfcfs push modes, ts slices, darc profiling / given groups / warm profiles) goes
// through make_policy; DARC's reservation rule (darc_reserve, darc_layout) is run on fuzzed
// profiles; then the policy runs a fuzzed schedule on a fake clock, driven as the runtime's
// dispatcher drives it (runtime/runtime.cpp): arrivals (plain, clone, original, bounced), worker
// offers, completions, ts slice ends, ps departures, ticks, bounces, epoch bouncing (epoch.hpp)
// and handovers to a successor policy (handover.hpp).
//
// Properties: no crash or UB; make_policy refuses exactly a zero worker count and unknown kinds; a
// reservation covers every worker with a non-decreasing serve_upto and puts every profiled type
// in a group; a worker is never handed a request while it runs one, and only a worker the policy
// had idle; every request handed out, bounced or drained was queued and leaves once; queued(),
// idle() and the counters agree with the driver's own count; no idle worker could take a
// queued request (the invariant policy.hpp states: one arrival wakes at most one worker).

#include <fuzzer/FuzzedDataProvider.h>

#include <array>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iterator>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "../core/policy/darc_reserve.hpp"
#include "../core/policy/epoch.hpp"
#include "../core/policy/factory.hpp"
#include "../core/policy/handover.hpp"
#include "fuzz_check.hpp"

using namespace pallas;
using namespace pallas::policy;

namespace {

const char* const kKinds[] = {"cfcfs", "dfcfs", "darc", "ts", "ps", "fifo", ""};
constexpr uint8_t kTypes = 8;  // the schedule's request types are 0..7 (and sometimes any)

double any_double(FuzzedDataProvider& in) {
  switch (in.ConsumeIntegralInRange<int>(0, 3)) {
    case 0:
      return in.ConsumeIntegralInRange<uint32_t>(0, 200000);
    case 1:
      return in.ConsumeFloatingPointInRange<double>(0, 1e6);
    case 2:
      return in.ConsumeProbability<double>();
    default:
      return in.ConsumeFloatingPoint<double>();  // anything, infinities and NaN included
  }
}

// Profiles of fuzzed types; `distinct`: one per type, as every caller that builds a Darc from one
// passes them (lib/sim/pallas.ts's warm profiles; Darc's own window). The addon's darcReserve
// takes any list: the reservation must stay well formed, if meaningless, for repeated types.
std::vector<TypeProfile> profiles(FuzzedDataProvider& in, uint32_t n, bool distinct) {
  std::vector<TypeProfile> p;
  bool seen[256] = {};
  for (uint32_t i = 0; i < n; i++) {
    TypeProfile t;
    t.type = in.ConsumeBool() ? in.ConsumeIntegralInRange<uint8_t>(0, kTypes - 1) : in.ConsumeIntegral<uint8_t>();
    t.mean_ns = any_double(in);
    t.share = any_double(in);
    if (distinct && seen[t.type]) continue;
    seen[t.type] = true;
    p.push_back(t);
  }
  return p;
}

// What every reservation promises its policy (darc_reserve.hpp, darc.cpp).
void check_reservation(const Reservation& r, uint32_t workers) {
  if (!r.valid()) return;
  CHECK(r.spillway == workers - 1);
  CHECK(r.serve_upto.size() == workers);
  for (uint32_t w = 0; w < workers; w++) {
    CHECK(r.serve_upto[w] >= 0 && static_cast<size_t>(r.serve_upto[w]) < r.groups.size());
    if (w > 0) CHECK(r.serve_upto[w] >= r.serve_upto[w - 1]);  // darc.cpp's eligible_idle relies on it
  }
  for (size_t g = 0; g < r.groups.size(); g++) {
    const GroupReservation& gr = r.groups[g];
    CHECK(gr.first < workers || (gr.count == 0 && gr.first <= workers));
    CHECK(gr.first + gr.count <= workers);
    // Every worker from the group's first core up may run it.
    for (uint32_t w = gr.first; w < workers; w++) CHECK(r.serve_upto[w] >= static_cast<int16_t>(g));
  }
  for (int t = 0; t < 256; t++) CHECK(r.group_of[t] < static_cast<int>(r.groups.size()));
}

void fuzz_reserve(FuzzedDataProvider& in) {
  const uint32_t workers = in.ConsumeIntegralInRange<uint32_t>(1, 130);
  const std::vector<TypeProfile> p = profiles(in, in.ConsumeIntegralInRange<uint32_t>(0, 12), false);
  const double ratio = in.ConsumeBool() ? 1.2 : any_double(in);
  const Reservation r = darc_reserve(p, workers, ratio);
  check_reservation(r, workers);
  bool any = false;
  for (const TypeProfile& t : p) any |= t.share > 0 && t.mean_ns > 0;
  CHECK(r.valid() == any);
  for (const TypeProfile& t : p)
    if (t.share > 0 && t.mean_ns > 0) CHECK(r.group_of[t.type] >= 0);
  // Demands are in cores (at most the worker count; any NaN is darc_reserve's to keep out).
  CHECK(darc_cores(in.ConsumeFloatingPointInRange<double>(-1, 1 << 20)) >= 1);
}

PolicyConfig make_config(FuzzedDataProvider& in, uint32_t workers) {
  PolicyConfig c;
  c.kind = kKinds[in.ConsumeIntegralInRange<size_t>(0, std::size(kKinds) - 1)];
  c.workers = workers;
  c.queue_capacity =
      in.ConsumeBool() ? in.ConsumeIntegralInRange<uint32_t>(0, 6) : in.ConsumeIntegralInRange<uint32_t>(0, 64);
  c.push_round_robin = in.ConsumeBool();
  c.seed = in.ConsumeIntegral<uint8_t>();
  c.slice_ns = in.ConsumeIntegralInRange<uint64_t>(0, 100000);
  c.switch_cost_ns = in.ConsumeIntegralInRange<uint64_t>(0, 5000);
  if (c.kind == "darc") {
    DarcConfig& d = c.darc;
    d.profile_samples = in.ConsumeIntegralInRange<uint64_t>(1, 20);
    d.recheck_samples = in.ConsumeIntegralInRange<uint64_t>(0, 20);
    d.group_ratio = in.ConsumeBool() ? 1.2 : in.ConsumeFloatingPointInRange<double>(1, 100);
    d.rereserve_threshold = in.ConsumeBool() ? 0.1 : any_double(in);
    d.owner_first = in.ConsumeBool();
    switch (in.ConsumeIntegralInRange<int>(0, 2)) {
      case 0:  // profiling from scratch
        break;
      case 1:  // warm: from a profile
        d.warm = profiles(in, in.ConsumeIntegralInRange<uint32_t>(1, 8), true);
        break;
      case 2: {  // given by an agent, as the configs' checks let through (lib/runtime/config.ts,
                 // lib/sim/scenario.ts): a type in one group at most, at most `workers` in all
        d.given = true;
        const uint32_t groups = in.ConsumeIntegralInRange<uint32_t>(0, 4);
        uint32_t left = workers;
        bool seen[kTypes] = {};
        for (uint32_t g = 0; g < groups; g++) {
          GivenGroup gg;
          gg.workers = in.ConsumeIntegralInRange<uint32_t>(0, left);
          left -= gg.workers;
          const uint32_t types = in.ConsumeIntegralInRange<uint32_t>(0, 3);
          for (uint32_t i = 0; i < types; i++) {
            const uint8_t t = in.ConsumeIntegralInRange<uint8_t>(0, kTypes - 1);
            if (!seen[t]) gg.types.push_back(t);
            seen[t] = true;
          }
          d.groups.push_back(std::move(gg));
        }
        break;
      }
    }
  }
  return c;
}

// The driver: the runtime dispatcher's protocol, with its own account of every request.
class Driver {
 public:
  Driver(std::unique_ptr<Policy> p, uint32_t workers) : p_(std::move(p)), busy_(workers, kIdle) {}

  void arrive(const Item& proto, uint64_t now) {
    if (epoch_.armed()) {
      BounceFilter f;
      if (epoch_.on_arrival(proto.type, &f)) bounce(f);
    }
    Item it = proto;
    it.handle = next_handle_++;
    n_arrivals_++;
    const Verdict v = p_->on_arrival(it, now);
    switch (v.admit) {
      case Admit::kQueued:
        queued_[it.handle] = it.flags;
        if (v.wake != kNoWorker) {
          CHECK(!p_->fluid());
          CHECK(v.wake < busy_.size() && busy_[v.wake] == kIdle);  // only a worker it has idle
          offer(v.wake, now);
        }
        break;
      case Admit::kDropFull:
        CHECK(v.wake == kNoWorker);
        n_drop_full_++;
        break;
      case Admit::kDropClone:
        CHECK(v.wake == kNoWorker);
        CHECK(clone_kind(it.flags) == wire::kCloneClone);
        n_drop_clone_++;
        break;
    }
  }

  // A busy worker's request ends (or, ts, its slice; or it finished paying a preemption).
  void run(uint32_t w, uint64_t service_ns, bool slice_end, uint64_t now) {
    if (busy_[w] == kIdle) return;
    if (busy_[w] == kSwitching) {  // paid the switch cost: idle now, offered next
      busy_[w] = kRunning;
      offer_after_switch(w, now);
      return;
    }
    if (slice_end && budget_[w] != kRunToCompletion) {
      uint64_t budget = 0, cost = 0;
      const SliceEnd e = p_->on_slice_end(w, item_[w], now, &budget, &cost);
      if (e == SliceEnd::kRequeued) {
        queued_[item_[w].handle] = item_[w].flags;
        busy_[w] = kSwitching;
      }
      budget_[w] = budget;
      return;
    }
    p_->on_completion(w, item_[w], service_ns, now);
    n_completed_++;
    busy_[w] = kIdle;
    offer(w, now);
  }

  void bounce(const BounceFilter& f) {
    out_.clear();
    const size_t n = p_->bounce(f, &out_);
    CHECK(n == out_.size());
    for (const Item& it : out_) {
      const auto q = queued_.find(it.handle);
      CHECK(q != queued_.end());
      CHECK(!is_bounced(q->second));  // never bounced twice
      CHECK(is_bounced(it.flags));
      CHECK(f.match(it));
      queued_.erase(q);
    }
    n_bounced_ += n;
  }

  void epoch(FuzzedDataProvider& in) {
    std::array<uint8_t, 256> served{};
    std::array<double, 256> mean{};
    for (uint8_t t = 0; t < kTypes; t++) {
      served[t] = in.ConsumeBool();
      mean[t] = in.ConsumeBool() ? 0 : in.ConsumeIntegralInRange<uint32_t>(1, 100000);
    }
    epoch_.on_epoch(served, mean);
  }

  // A policy epoch: the successor takes the queue and the running workers (runtime take_update).
  void handover(std::unique_ptr<Policy> next, uint64_t now) {
    CHECK(next->workers() == p_->workers());
    if (p_->fluid() || next->fluid()) return;  // the runtime refuses fluid policies
    dropped_.clear();
    const size_t before = queued_.size();
    policy::handover(*p_, *next, now, &dropped_);
    for (const Item& it : dropped_) CHECK(queued_.erase(it.handle) == 1);
    CHECK(next->queued() == before - dropped_.size());
    p_ = std::move(next);
    base_ = p_->counters();
    n_arrivals_ = n_completed_ = n_dispatched_ = n_drop_full_ = n_drop_clone_ = n_bounced_ = 0;
    for (uint32_t w = 0; w < busy_.size(); w++) CHECK(p_->idle().has(w) == (busy_[w] == kIdle));
    offer_idle(now);
  }

  // ps: the next departure, at its time.
  void depart(uint64_t* now) {
    if (!p_->fluid()) return;
    const uint64_t t = p_->next_departure_ns();
    if (t == kNever) {
      CHECK(p_->queued() == 0);
      return;
    }
    if (t > *now) *now = t;
    Item it;
    while (p_->pop_departure(*now, &it)) {
      CHECK(queued_.erase(it.handle) == 1);
      n_dispatched_++;
    }
  }

  void tick(uint64_t now) {
    if (p_->tick_ns() > 0) p_->on_tick(now);
  }

  // After each step, as the dispatcher loop ends: a kick offers every idle worker; then the
  // books must balance and no idle worker may be able to take a queued request.
  void settle(uint64_t now) {
    if (p_->take_kick()) offer_idle(now);
    CHECK(p_->queued() == queued_.size());
    const PolicyCounters& c = p_->counters();
    CHECK(c.n_arrivals - base_.n_arrivals == n_arrivals_);
    CHECK(c.n_completed - base_.n_completed == n_completed_);
    CHECK(c.n_dispatched - base_.n_dispatched == n_dispatched_);
    CHECK(c.n_drop_full - base_.n_drop_full == n_drop_full_);
    CHECK(c.n_drop_clone - base_.n_drop_clone == n_drop_clone_);
    CHECK(c.n_bounced - base_.n_bounced == n_bounced_);
    if (p_->fluid()) return;
    for (uint32_t w = 0; w < busy_.size(); w++) {
      CHECK(p_->idle().has(w) == (busy_[w] == kIdle));
      if (busy_[w] != kIdle) continue;
      Dispatch d;
      CHECK(!p_->next_for_worker(w, now, &d));  // an idle worker has nothing it may run
    }
  }

  Policy& policy() { return *p_; }
  uint32_t workers() const { return static_cast<uint32_t>(busy_.size()); }

 private:
  enum State : uint8_t { kIdle, kRunning, kSwitching };

  void offer(uint32_t w, uint64_t now) {
    CHECK(busy_[w] == kIdle);  // never a second request for a worker that runs one
    Dispatch d;
    if (!p_->next_for_worker(w, now, &d)) return;
    take(w, d);
  }
  void offer_after_switch(uint32_t w, uint64_t now) {
    Dispatch d;
    if (!p_->next_for_worker(w, now, &d)) {
      busy_[w] = kIdle;
      return;
    }
    busy_[w] = kIdle;
    take(w, d);
  }
  void take(uint32_t w, const Dispatch& d) {
    const auto q = queued_.find(d.item.handle);
    CHECK(q != queued_.end());  // handed out only what was queued, and once
    queued_.erase(q);
    CHECK(!p_->idle().has(w));
    busy_[w] = kRunning;
    item_[w] = d.item;
    budget_[w] = d.budget_ns;
    n_dispatched_++;
  }
  void offer_idle(uint64_t now) {
    const WorkerSet idle = p_->idle();
    for (uint32_t w = idle.next(0); w != kNoWorker; w = idle.next(w + 1)) offer(w, now);
  }

  std::unique_ptr<Policy> p_;
  std::vector<State> busy_;
  std::map<uint32_t, Item> item_;
  std::map<uint32_t, uint64_t> budget_;
  std::map<uint32_t, uint8_t> queued_;  // handle -> flags when it was queued
  std::vector<Item> out_, dropped_;
  EpochBounce epoch_;
  PolicyCounters base_;  // the counters of the policy in force when it took over
  uint32_t next_handle_ = 0;
  uint64_t n_arrivals_ = 0, n_completed_ = 0, n_dispatched_ = 0, n_drop_full_ = 0, n_drop_clone_ = 0;
  uint64_t n_bounced_ = 0;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  FuzzedDataProvider in(data, size);
  if (in.ConsumeProbability<float>() < 0.15f) {
    fuzz_reserve(in);
    return 0;
  }
  const uint32_t workers =
      in.ConsumeBool() ? in.ConsumeIntegralInRange<uint32_t>(0, 4) : in.ConsumeIntegralInRange<uint32_t>(0, 130);
  const PolicyConfig cfg = make_config(in, workers);
  std::string err;
  std::unique_ptr<Policy> p = make_policy(cfg, &err);
  const bool known =
      cfg.kind == "cfcfs" || cfg.kind == "dfcfs" || cfg.kind == "darc" || cfg.kind == "ts" || cfg.kind == "ps";
  CHECK((p != nullptr) == (known && workers > 0));
  CHECK((p == nullptr) == !err.empty());
  if (!p) return 0;
  CHECK(p->workers() == workers && p->idle().count() == workers && p->queued() == 0);
  CHECK(cfg.kind == p->name());
  if (const Reservation* r = p->reservation()) check_reservation(*r, workers);

  Driver d(std::move(p), workers);
  uint64_t now = in.ConsumeIntegral<uint32_t>();
  while (in.remaining_bytes() > 0) {
    switch (in.ConsumeIntegralInRange<int>(0, 9)) {
      case 0:
      case 1:
      case 2: {
        Item it;
        it.type = in.ConsumeBool() ? in.ConsumeIntegralInRange<uint8_t>(0, kTypes - 1) : in.ConsumeIntegral<uint8_t>();
        it.flags = in.ConsumeBool() ? 0 : static_cast<uint8_t>(in.ConsumeIntegral<uint8_t>() & 0x0B);
        if ((it.flags & wire::kCloneMask) == wire::kCloneMask) it.flags &= ~wire::kCloneClone;
        it.group = in.ConsumeIntegralInRange<uint8_t>(0, 3);
        it.work_ns = in.ConsumeIntegralInRange<uint64_t>(0, 100000);
        d.arrive(it, now);
        break;
      }
      case 3:
      case 4:
      case 5: {
        const uint32_t w = in.ConsumeIntegralInRange<uint32_t>(0, d.workers() - 1);
        const uint64_t service =
            in.ConsumeBool() ? in.ConsumeIntegralInRange<uint64_t>(0, 100000) : in.ConsumeIntegral<uint64_t>();
        d.run(w, service, in.ConsumeBool(), now);
        break;
      }
      case 6:
        now += in.ConsumeBool() ? in.ConsumeIntegralInRange<uint64_t>(0, 100000) : in.ConsumeIntegral<uint32_t>();
        d.tick(now);
        d.depart(&now);
        break;
      case 7: {
        BounceFilter f;
        f.by_type = in.ConsumeBool();
        const uint32_t n = in.ConsumeIntegralInRange<uint32_t>(0, 3);
        for (uint32_t i = 0; i < n; i++) f.add(in.ConsumeIntegralInRange<uint8_t>(0, kTypes - 1));
        d.bounce(f);
        break;
      }
      case 8:
        d.epoch(in);
        break;
      case 9: {
        PolicyConfig next = make_config(in, workers);
        std::unique_ptr<Policy> np = make_policy(next, &err);
        if (np) d.handover(std::move(np), now);
        break;
      }
    }
    d.settle(now);
  }
  return 0;
}
