// ts: time slicing with preemption (Shinjuku), a simulator-only yardstick. One FIFO; a worker runs
// a request for at most `slice_ns`; when the slice ends and another request waits, the running one
// goes to the tail of the queue and the worker pays `switch_cost_ns` before it takes the next. When
// nothing waits, the request simply runs on (no preemption, no cost).
#pragma once

#include "cfcfs.hpp"

namespace pallas::policy {

class Ts final : public CentralFifo {
 public:
  Ts(uint32_t workers, uint32_t queue_capacity, uint64_t slice_ns, uint64_t switch_cost_ns)
      : CentralFifo(workers, queue_capacity), slice_ns_(slice_ns), cost_ns_(switch_cost_ns) {}
  const char* name() const override { return "ts"; }
  SliceEnd on_slice_end(uint32_t w, const Item& it, uint64_t now_ns, uint64_t* budget_ns,
                        uint64_t* switch_cost_ns) override;

 protected:
  bool pick(uint32_t w, uint64_t now_ns, Dispatch* out) override {
    if (!CentralFifo::pick(w, now_ns, out)) return false;
    out->budget_ns = slice_ns_;
    return true;
  }

 private:
  uint64_t slice_ns_, cost_ns_;
};

}  // namespace pallas::policy
