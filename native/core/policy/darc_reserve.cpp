// DARC's reservation rule: see darc_reserve.hpp.
#include "darc_reserve.hpp"

#include <algorithm>
#include <cmath>

namespace pallas::policy {

uint32_t darc_cores(double d) {
  // NaN too (a profile whose mean * share overflows makes every demand NaN): casting it is UB.
  if (!(d >= 1.0)) return 1;
  const double fl = std::floor(d);
  return static_cast<uint32_t>(d - fl <= 0.5 ? fl : fl + 1.0);
}

namespace {

void finish(Reservation* r, uint32_t workers) {
  r->spillway = workers - 1;
  r->group_of.fill(-1);
  r->serve_upto.assign(workers, -1);
  for (size_t g = 0; g < r->groups.size(); g++) {
    const GroupReservation& gr = r->groups[g];
    for (uint8_t t : gr.types) r->group_of[t] = static_cast<int16_t>(g);
    for (uint32_t w = gr.first; w < gr.first + gr.count; w++) r->serve_upto[w] = static_cast<int16_t>(g);
  }
}

// Lays out cores for groups whose `count` holds the wanted cores.
void layout(Reservation* r, uint32_t workers) {
  uint32_t next = 0;
  for (GroupReservation& g : r->groups) {
    const uint32_t want = g.count;
    if (want == 0 && next < workers) {  // a given group without cores: it runs only on the longer groups' idle cores
      g.first = next;
      g.count = 0;
      continue;
    }
    if (next >= workers) {
      g.first = workers - 1;
      g.count = 1;
      g.spill = true;
    } else if (next + want > workers) {
      g.first = next;
      g.count = workers - next;
      g.spill = true;
      next = workers;
    } else {
      g.first = next;
      g.count = want;
      next += want;
    }
  }
  if (next < workers && !r->groups.empty()) r->groups.back().count += workers - next;
}

}  // namespace

Reservation darc_reserve(const std::vector<TypeProfile>& in, uint32_t workers, double group_ratio) {
  Reservation r;
  r.demand_of.fill(0);
  std::vector<TypeProfile> types;
  for (const TypeProfile& t : in)
    if (t.share > 0 && t.mean_ns > 0) types.push_back(t);
  if (types.empty() || workers == 0) {
    r.group_of.fill(-1);
    return r;
  }
  std::stable_sort(types.begin(), types.end(),
                   [](const TypeProfile& a, const TypeProfile& b) { return a.mean_ns < b.mean_ns; });
  double total = 0;
  for (const TypeProfile& t : types) total += t.mean_ns * t.share;
  for (const TypeProfile& t : types) {
    const double d = t.mean_ns * t.share / total * workers;
    r.demand_of[t.type] = d;
    // "Within 20 %" is inclusive; the epsilon keeps a mean of exactly 1.2× the leader in its group
    // despite floating-point rounding of the product.
    if (r.groups.empty() || t.mean_ns > r.groups.back().mean_ns * group_ratio * (1 + 1e-9)) {
      GroupReservation g;
      g.mean_ns = t.mean_ns;
      r.groups.push_back(g);
    }
    r.groups.back().types.push_back(t.type);
    r.groups.back().demand += d;
  }
  for (GroupReservation& g : r.groups) g.count = darc_cores(g.demand);
  layout(&r, workers);
  finish(&r, workers);
  return r;
}

Reservation darc_layout(const std::vector<GivenGroup>& groups, uint32_t workers) {
  Reservation r;
  r.demand_of.fill(0);
  for (const GivenGroup& gg : groups) {
    GroupReservation g;
    g.types = gg.types;
    g.count = gg.workers;
    g.demand = gg.workers;
    r.groups.push_back(g);
  }
  layout(&r, workers);
  finish(&r, workers);
  return r;
}

}  // namespace pallas::policy
