// dfcfs: see dfcfs.hpp.
#include "dfcfs.hpp"

#include "bounce.hpp"

namespace pallas::policy {

uint32_t Dfcfs::choose() {
  if (chosen_valid_) {
    chosen_valid_ = false;
    return chosen_;
  }
  if (push_ == Push::kRandom) return rng_.below(workers());
  const uint32_t w = rr_;
  rr_ = rr_ + 1 == workers() ? 0 : rr_ + 1;
  return w;
}

bool Dfcfs::can_start_now(const Item& it) {
  // The clone rule asks before enqueue: fix the worker now so that the answer is about the queue
  // the request will actually join.
  chosen_ = choose();
  chosen_valid_ = true;
  return idle_.has(chosen_);
}

Verdict Dfcfs::enqueue(const Item& it, uint64_t now_ns) {
  const uint32_t w = choose();
  if (!qs_[w].push(it)) return {Admit::kDropFull, kNoWorker};
  queued_++;
  return {Admit::kQueued, idle_.has(w) ? w : kNoWorker};
}

bool Dfcfs::pick(uint32_t w, uint64_t now_ns, Dispatch* out) {
  if (qs_[w].empty()) return false;
  out->item = qs_[w].pop();
  queued_--;
  return true;
}

size_t Dfcfs::purge(const BounceFilter& f, std::vector<Item>* out) {
  size_t n = 0;
  for (auto& q : qs_) n += bounce_from(&q, f, out);
  queued_ -= n;
  return n;
}

}  // namespace pallas::policy
