// darc: see darc.hpp.
#include "darc.hpp"

#include <cmath>

#include "bounce.hpp"

namespace pallas::policy {

Darc::Darc(uint32_t workers, const DarcConfig& cfg) : Policy(workers), cfg_(cfg) {
  res_.group_of.fill(-1);
  if (cfg_.given) {
    reserve(darc_layout(cfg_.groups, workers));
  } else if (!cfg_.warm.empty()) {
    Reservation r = darc_reserve(cfg_.warm, workers, cfg_.group_ratio);
    if (r.valid()) {
      reserve(std::move(r));
      for (const TypeProfile& p : cfg_.warm) mean_ns_[p.type] = p.mean_ns;
    }
  }
}

ItemQueue* Darc::queue(uint8_t t) {
  if (!qs_[t]) {
    qs_[t] = std::make_unique<ItemQueue>(cfg_.queue_capacity);
    active_.push_back(t);
    if (res_.valid() && res_.group_of[t] < 0) unknown_.push_back(t);
  }
  return qs_[t].get();
}

uint32_t Darc::eligible_idle(uint8_t t) const {
  if (!res_.valid()) return idle_.next(0);
  const int16_t g = res_.group_of[t];
  if (g < 0) return idle_.has(res_.spillway) ? res_.spillway : kNoWorker;
  // serve_upto is non-decreasing in the worker index, so the workers that may run group g are
  // exactly those from the group's first core up.
  return idle_.next(res_.groups[g].first);
}

Verdict Darc::enqueue(const Item& it, uint64_t now_ns) {
  ItemQueue* q = queue(it.type);
  if (!q->push(it)) return {Admit::kDropFull, kNoWorker};
  queued_++;
  win_arrivals_[it.type]++;
  const uint32_t wake = eligible_idle(it.type);
  if (!cfg_.given && res_.valid()) maybe_recheck(it.type, now_ns);
  return {Admit::kQueued, wake};
}

bool Darc::pop_oldest(const std::vector<uint8_t>& types, Item* out) {
  ItemQueue* best = nullptr;
  for (uint8_t t : types) {
    ItemQueue* q = qs_[t].get();
    if (q && !q->empty() && (!best || q->front().enq_ns < best->front().enq_ns)) best = q;
  }
  if (!best) return false;
  *out = best->pop();
  queued_--;
  return true;
}

bool Darc::pick(uint32_t w, uint64_t now_ns, Dispatch* out) {
  if (queued_ == 0) return false;
  if (!res_.valid()) return pop_oldest(active_, &out->item);  // profiling: cFCFS
  const int16_t own = res_.serve_upto[w];                     // workers of group g may run groups 0..g
  if (cfg_.owner_first && own >= 0 && pop_oldest(res_.groups[own].types, &out->item)) return true;
  for (int16_t g = 0; g <= own; g++)
    if (pop_oldest(res_.groups[g].types, &out->item)) return true;
  return w == res_.spillway && pop_oldest(unknown_, &out->item);
}

void Darc::completed(uint32_t w, const Item& it, uint64_t service_ns, uint64_t now_ns) {
  win_done_[it.type]++;
  win_busy_ns_[it.type] += static_cast<double>(service_ns);
  win_total_done_++;
  if (!res_.valid() && !cfg_.given && win_total_done_ >= cfg_.profile_samples) {
    reserve(darc_reserve(window_profile(), workers(), cfg_.group_ratio));
    reset_window();
  }
}

std::vector<TypeProfile> Darc::window_profile() const {
  std::vector<TypeProfile> p;
  for (uint8_t t : active_) {
    // A type that arrived but never completed in this window (starved) keeps its last known mean.
    const double mean = win_done_[t] ? win_busy_ns_[t] / static_cast<double>(win_done_[t]) : mean_ns_[t];
    if (win_arrivals_[t] == 0 || mean <= 0) continue;
    p.push_back({t, mean, static_cast<double>(win_arrivals_[t])});
  }
  return p;
}

void Darc::maybe_recheck(uint8_t t, uint64_t now_ns) {
  const ItemQueue* q = qs_[t].get();
  if (q->size() < 2 || static_cast<double>(now_ns - q->at(1).enq_ns) <= mean_ns_[t]) return;
  if (win_total_done_ < cfg_.recheck_samples) return;
  Reservation next = darc_reserve(window_profile(), workers(), cfg_.group_ratio);
  bool changed = false;
  for (int i = 0; i < 256 && !changed; i++) {
    const double d0 = res_.demand_of[i], d1 = next.demand_of[i];
    const bool active_set_changed = (res_.group_of[i] >= 0) != (next.group_of[i] >= 0);
    const bool demand_moved = d0 > 0 && std::fabs(d1 - d0) > cfg_.rereserve_threshold * d0;
    changed = active_set_changed || demand_moved;
  }
  if (changed && next.valid()) reserve(std::move(next));
  reset_window();
}

void Darc::reserve(Reservation r) {
  res_ = std::move(r);
  c_.n_reserved++;
  for (int t = 0; t < 256; t++) {
    if (res_.group_of[t] < 0 || cfg_.given) continue;
    if (win_done_[t]) mean_ns_[t] = win_busy_ns_[t] / static_cast<double>(win_done_[t]);
  }
  unknown_.clear();
  for (uint8_t t : active_)
    if (res_.group_of[t] < 0) unknown_.push_back(t);
  kick();  // which worker may run what changed: idle workers may now be eligible
}

void Darc::reset_window() {
  win_arrivals_.fill(0);
  win_done_.fill(0);
  win_busy_ns_.fill(0);
  win_total_done_ = 0;
}

size_t Darc::purge(const BounceFilter& f, std::vector<Item>* out) {
  size_t n = 0;
  for (uint8_t t : active_) n += bounce_from(qs_[t].get(), f, out);
  queued_ -= n;
  return n;
}

}  // namespace pallas::policy
