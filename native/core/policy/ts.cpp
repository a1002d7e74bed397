// ts: see ts.hpp.
#include "ts.hpp"

namespace pallas::policy {

SliceEnd Ts::on_slice_end(uint32_t w, const Item& it, uint64_t now_ns, uint64_t* budget_ns, uint64_t* switch_cost_ns) {
  *budget_ns = slice_ns_;
  *switch_cost_ns = 0;
  if (q_.empty()) return SliceEnd::kContinue;
  // The preempted request keeps its first arrival time (enq_ns) and rejoins at the tail. The queue
  // may be full: a preempted request is never dropped, it runs on instead.
  if (!q_.push(it)) return SliceEnd::kContinue;
  c_.n_preempted++;
  // w stays busy while it pays the switch; the driver calls next_for_worker(w) afterwards.
  *switch_cost_ns = cost_ns_;
  return SliceEnd::kRequeued;
}

}  // namespace pallas::policy
