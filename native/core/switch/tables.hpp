// The Pallas switch pipeline's tables (written by the control plane) and registers (state the data
// plane keeps), named and sized as the P4 program will name them (docs/switch-contract.md). Pure
// data; the stages are in shaper.hpp, wrr.hpp, burst.hpp, filter.hpp and monitor.hpp.
#pragma once

#include <array>
#include <cstdint>
#include <vector>

namespace pallas::sw {

inline constexpr uint32_t kMaxGroups = 32;          // MAX_GROUPS
inline constexpr uint32_t kMaxWrrEntries = 1024;    // WRR_ENTRIES: (group, server, weight) rows
inline constexpr uint32_t kFilterSlots = 65536;     // FILTER_SLOTS per filter table (two tables)
inline constexpr uint8_t kUnmapped = 0xFF;          // type_to_group value of an unmapped type
inline constexpr uint64_t kDefaultTauNs = 20000;    // τ = 20 µs

struct WrrEntry {
  uint16_t server = 0;
  uint16_t weight = 1;  // cores this server gives the group
};

struct GroupTable {
  std::vector<WrrEntry> wrr;  // servers of the group, in range order
  uint32_t c_thres = 0;       // requests per τ window before cloning; 0: no burst detection
  bool clone_out = true;      // its excess may be cloned to another group (the control plane turns
                              // it off for the longest group: its clone would hold a core of a
                              // shorter group for longer than any request there)
};

struct Tables {
  std::array<uint8_t, 256> type_to_group{};  // kUnmapped -> default_group
  uint8_t default_group = 0;
  std::vector<GroupTable> groups;            // at most kMaxGroups
  uint64_t tau_ns = kDefaultTauNs;
  bool clone = true;                         // burst cloning on (ablation: pallas-no-clone)
  Tables() { type_to_group.fill(kUnmapped); }
};

}  // namespace pallas::sw
