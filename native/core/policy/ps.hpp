// ps: processor sharing, the ideal yet impractical yardstick (simulator only: a real CPU cannot
// share itself in infinitely small slices). Every request at the server runs at once: with n
// requests and k workers each progresses at rate min(1, k/n). Modelled exactly, not by tiny
// slices: a virtual clock V advances at that rate, a request finishes when V reaches its tag
// (V at arrival + work), so each arrival and departure costs O(log n).
//
// A fluid policy: the driver calls on_arrival(), then next_departure_ns() to learn when the next
// request leaves, and pop_departure() at that time. Needs item.work_ns (the simulator knows it).
#pragma once

#include <queue>
#include <vector>

#include "policy.hpp"

namespace pallas::policy {

class Ps final : public Policy {
 public:
  explicit Ps(uint32_t workers) : Policy(workers), k_(workers) {}
  const char* name() const override { return "ps"; }
  size_t queued() const override { return heap_.size(); }
  bool fluid() const override { return true; }
  uint64_t next_departure_ns() const override;
  bool pop_departure(uint64_t now_ns, Item* out) override;

 protected:
  Verdict enqueue(const Item& it, uint64_t now_ns) override;
  bool pick(uint32_t w, uint64_t now_ns, Dispatch* out) override { return false; }
  bool can_start_now(const Item& it) override { return heap_.size() < k_; }
  size_t purge(const BounceFilter& f, std::vector<Item>* out) override;

 private:
  struct Entry {
    double tag;  // V at which the request has received all its work
    Item item;
    bool operator>(const Entry& o) const { return tag > o.tag; }
  };
  void advance(uint64_t now_ns);
  double rate() const { return heap_.size() <= k_ ? 1.0 : static_cast<double>(k_) / static_cast<double>(heap_.size()); }

  uint32_t k_;
  double v_ = 0;  // virtual time: service received by every request present since V = 0
  uint64_t last_ns_ = 0;
  std::priority_queue<Entry, std::vector<Entry>, std::greater<Entry>> heap_;
};

}  // namespace pallas::policy
