// dfcfs: decentralized first-come-first-served (IX, Arrakis-style RSS). Each worker has its own
// FIFO; an arrival is pushed to one worker's queue (at random, or round robin) and never moves,
// so a worker can idle while another has a backlog. A baseline, to show what cfcfs buys.
#pragma once

#include <vector>

#include "../rng.hpp"
#include "policy.hpp"

namespace pallas::policy {

class Dfcfs final : public Policy {
 public:
  enum class Push : uint8_t { kRandom, kRoundRobin };
  Dfcfs(uint32_t workers, uint32_t queue_capacity, Push push, uint64_t seed)
      : Policy(workers), qs_(workers, ItemQueue(queue_capacity)), push_(push), rng_(seed, 0xDFCF5) {}
  const char* name() const override { return "dfcfs"; }
  size_t queued() const override { return queued_; }

 protected:
  Verdict enqueue(const Item& it, uint64_t now_ns) override;
  bool pick(uint32_t w, uint64_t now_ns, Dispatch* out) override;
  bool can_start_now(const Item& it) override;
  size_t purge(const BounceFilter& f, std::vector<Item>* out) override;

 private:
  uint32_t choose();
  std::vector<ItemQueue> qs_;
  Push push_;
  Rng rng_;
  uint32_t rr_ = 0;
  bool chosen_valid_ = false;  // a choice made by can_start_now() for the next enqueue
  uint32_t chosen_ = 0;
  size_t queued_ = 0;
};

}  // namespace pallas::policy
