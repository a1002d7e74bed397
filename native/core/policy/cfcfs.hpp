// cfcfs: centralized first-come-first-served (ZygOS, Shenango). One FIFO; any idle worker takes
// its head. Work-conserving and, for a homogeneous workload, the policy a Pallas server runs when
// it serves one group. CentralFifo is the queue both cfcfs and ts (ts.hpp) are built on.
#pragma once

#include "policy.hpp"

namespace pallas::policy {

class CentralFifo : public Policy {
 public:
  size_t queued() const override { return q_.size(); }

 protected:
  CentralFifo(uint32_t workers, uint32_t queue_capacity) : Policy(workers), q_(queue_capacity) {}
  Verdict enqueue(const Item& it, uint64_t now_ns) override {
    if (!q_.push(it)) return {Admit::kDropFull, kNoWorker};
    return {Admit::kQueued, idle_.next(0)};
  }
  bool pick(uint32_t w, uint64_t now_ns, Dispatch* out) override {
    if (q_.empty()) return false;
    out->item = q_.pop();
    return true;
  }
  size_t purge(const BounceFilter& f, std::vector<Item>* out) override;

  ItemQueue q_;
};

class Cfcfs final : public CentralFifo {
 public:
  Cfcfs(uint32_t workers, uint32_t queue_capacity) : CentralFifo(workers, queue_capacity) {}
  const char* name() const override { return "cfcfs"; }
};

}  // namespace pallas::policy
