// DARC's reservation rule (Perséphone, as its public runtime implements it), a pure
// function so that tests can check it on hand-worked cases and a Pallas agent can show what it
// would reserve.
//
//   demand   d_i = mean_i · share_i / Σ_j(mean_j · share_j) · workers
//   groups   types sorted by mean; a type joins the current group while its mean is within
//            `group_ratio` (1.2: 20 %) of the group leader's (its first, shortest) mean
//   cores    per group, from its summed demand D: 1 if D < 1; ⌊D⌋ if frac(D) ≤ 0.5; else ⌈D⌉
//   layout   the shortest group takes the lowest worker indices. A group that wants more than is
//            left takes the rest, which ends with the spillway core (the last worker); a group
//            that finds nothing left gets the spillway core alone. Cores left over after the last
//            group go to the last group (our choice: otherwise they would only ever be stolen).
//   serving  worker w may run its own group's requests and those of every shorter group (short
//            steals idle long cores, never the reverse); the spillway also runs unknown types.
#pragma once

#include <array>
#include <cstdint>
#include <vector>

namespace pallas::policy {

struct TypeProfile {
  uint8_t type = 0;
  double mean_ns = 0;  // mean execution time
  double share = 0;    // fraction (or any weight) of arrivals
};

struct GroupReservation {
  std::vector<uint8_t> types;  // shortest mean first
  double mean_ns = 0;          // the leader's mean
  double demand = 0;           // D, in cores
  uint32_t first = 0;          // lowest worker index
  uint32_t count = 0;          // workers [first, first + count)
  bool spill = false;          // wanted more than was left: runs on the rest and the spillway
};

struct Reservation {
  std::vector<GroupReservation> groups;  // shortest first
  uint32_t spillway = 0;                 // the last worker
  std::array<int16_t, 256> group_of{};   // type -> group index, -1 when unknown
  std::array<double, 256> demand_of{};   // type -> d_i (0 when unknown)
  std::vector<int16_t> serve_upto;       // worker -> the highest group index it may run
  bool valid() const { return !groups.empty(); }
};

// Computes DARC's reservation for `types` on `workers` workers. Types with share 0 are ignored.
Reservation darc_reserve(const std::vector<TypeProfile>& types, uint32_t workers, double group_ratio = 1.2);

// A reservation given from outside (a Pallas agent): groups in order, shortest first, each with
// its types and worker count. Counts sum to at most `workers` (the rest goes to the last group);
// a group other than the last may have 0 workers: it then runs only on idle cores of the longer
// groups, ahead of their own requests (shortest first), i.e. non-preemptive priority without a
// reservation. The caller validates; this only lays the groups out.
struct GivenGroup {
  std::vector<uint8_t> types;
  uint32_t workers = 1;
};
Reservation darc_layout(const std::vector<GivenGroup>& groups, uint32_t workers);

// Cores for a group of demand d (the rounding rule above).
uint32_t darc_cores(double d);

}  // namespace pallas::policy
