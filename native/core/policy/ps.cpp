// ps: see ps.hpp.
#include "ps.hpp"

#include <cmath>

namespace pallas::policy {

void Ps::advance(uint64_t now_ns) {
  if (now_ns > last_ns_ && !heap_.empty()) v_ += static_cast<double>(now_ns - last_ns_) * rate();
  if (now_ns > last_ns_) last_ns_ = now_ns;
}

Verdict Ps::enqueue(const Item& it, uint64_t now_ns) {
  advance(now_ns);
  heap_.push({v_ + static_cast<double>(it.work_ns), it});
  return {Admit::kQueued, kNoWorker};
}

uint64_t Ps::next_departure_ns() const {
  if (heap_.empty()) return kNever;
  const double left = heap_.top().tag - v_;
  if (left <= 0) return last_ns_;
  return last_ns_ + static_cast<uint64_t>(std::ceil(left / rate()));
}

bool Ps::pop_departure(uint64_t now_ns, Item* out) {
  advance(now_ns);
  // Departure times are rounded up to whole ns, so V has reached the tag; the slack absorbs
  // floating-point rounding of V.
  if (heap_.empty() || heap_.top().tag > v_ + 1e-6 * (1.0 + v_ * 1e-9)) return false;
  *out = heap_.top().item;
  heap_.pop();
  c_.n_dispatched++;
  return true;
}

size_t Ps::purge(const BounceFilter& f, std::vector<Item>* out) {
  // Every request at a PS server is already running; there is no queue to purge.
  return 0;
}

}  // namespace pallas::policy
