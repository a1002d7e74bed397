// Policy: the hooks every policy shares (idle-worker bookkeeping, the clone rule, counters).
#include "policy.hpp"

#include "clone.hpp"

namespace pallas::policy {

Verdict Policy::on_arrival(Item it, uint64_t now_ns) {
  c_.n_arrivals++;
  it.enq_ns = now_ns;
  if (clone_must_drop(it, can_start_now(it))) {
    c_.n_drop_clone++;
    return {Admit::kDropClone, kNoWorker};
  }
  const Verdict v = enqueue(it, now_ns);
  if (v.admit == Admit::kDropFull) c_.n_drop_full++;
  return v;
}

bool Policy::next_for_worker(uint32_t w, uint64_t now_ns, Dispatch* out) {
  out->budget_ns = kRunToCompletion;
  if (pick(w, now_ns, out)) {
    idle_.clear(w);
    c_.n_dispatched++;
    return true;
  }
  idle_.set(w);
  return false;
}

void Policy::on_completion(uint32_t w, const Item& it, uint64_t service_ns, uint64_t now_ns) {
  c_.n_completed++;
  idle_.set(w);
  completed(w, it, service_ns, now_ns);
}

SliceEnd Policy::on_slice_end(uint32_t w, const Item& it, uint64_t now_ns, uint64_t* budget_ns,
                              uint64_t* switch_cost_ns) {
  // A non-preemptive policy never hands out a finite budget; if a driver asks anyway, run on.
  *budget_ns = kRunToCompletion;
  *switch_cost_ns = 0;
  return SliceEnd::kContinue;
}

size_t Policy::bounce(const BounceFilter& f, std::vector<Item>* out) {
  if (f.drain) return 0;  // drain() is the only way to empty a queue unflagged
  const size_t n = purge(f, out);
  c_.n_bounced += n;
  return n;
}

size_t Policy::drain(std::vector<Item>* out) {
  BounceFilter f;
  f.drain = true;
  return purge(f, out);
}

Verdict Policy::requeue(const Item& it, uint64_t now_ns) {
  const Verdict v = enqueue(it, now_ns);
  if (v.admit == Admit::kDropFull) c_.n_drop_full++;
  return v;
}

}  // namespace pallas::policy
