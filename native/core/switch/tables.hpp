// The Pallas switch pipeline's tables (written by the control plane), named and sized as the P4
// program names them (docs/switch-contract.md). Pure data; the stages are in wrr.hpp, po2.hpp
// (balance), burst.hpp, filter.hpp and monitor.hpp, put together in pipeline.cpp. Sizes come from
// proto/wire.json (wire_gen.hpp), the one source the control plane and the P4 include share.
#pragma once

#include <array>
#include <cstdint>
#include <vector>

#include "../wire/wire_gen.hpp"

namespace pallas::sw {

inline constexpr uint32_t kMaxGroups = wire::kSwMaxGroups;       // MAX_GROUPS
inline constexpr uint32_t kMaxServers = wire::kSwMaxServers;     // MAX_SERVERS
inline constexpr uint32_t kMaxWrrEntries = wire::kSwWrrEntries;  // WRR_ENTRIES
inline constexpr uint32_t kFilterSlots = wire::kSwFilterSlots;   // FILTER_SLOTS
inline constexpr uint8_t kNoGroup = static_cast<uint8_t>(wire::kSwNoGroup);
inline constexpr uint8_t kUnmapped = kNoGroup;  // type_to_group of an unmapped type
inline constexpr uint8_t kDefaultTauShift = static_cast<uint8_t>(wire::kSwTauShiftDefault);

// How a group spreads its requests over its servers (the control plane chooses per group).
enum class Balance : uint8_t {
  kWrr = 0,  // weighted round robin: over any Σw consecutive requests each server gets its weight
  kPo2 = 1,  // power of two choices over the switch's own outstanding counts
};

struct WrrEntry {
  uint16_t server = 0;
  uint16_t weight = 1;  // cores this server gives the group
};

struct GroupTable {
  std::vector<WrrEntry> wrr;        // servers of the group, in range order
  uint32_t c_thres = 0;             // requests per window before cloning; 0: never clones, never suppresses
  uint8_t clone_target = kNoGroup;  // where its excess is cloned; kNoGroup: never cloned
  Balance balance = Balance::kWrr;
};

// The paper's rules that a Tofino cannot run as written (docs/switch-contract.md, "Ablations").
// Simulator only: the software switch refuses tables that set any of them.
struct Ablation {
  uint64_t exact_tau_ns = 0;          // > 0: the window is now / τ for any τ (the paper's 20 µs)
  bool argmin_target = false;         // the clone goes to the least-burst group (count / C_thres over
                                      // every group with a threshold), never suppressed
  bool shared_clone_counter = false;  // clones take their server from the target's own balancing
  bool any() const { return exact_tau_ns > 0 || argmin_target || shared_clone_counter; }
};

struct Tables {
  std::array<uint8_t, 256> type_to_group{};  // kUnmapped -> default_group
  uint8_t default_group = 0;
  std::vector<GroupTable> groups;        // at most kMaxGroups
  uint8_t tau_shift = kDefaultTauShift;  // burst window τ = 2^tau_shift ns
  bool clone = true;                     // burst cloning on (ablation: pallas-no-clone)
  Ablation ablation;
  Tables() { type_to_group.fill(kUnmapped); }
};

}  // namespace pallas::sw
