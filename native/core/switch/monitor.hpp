// Monitor stage (docs/switch-contract.md): per type, cumulative 32-bit registers that only ever
// add, so that nothing is lost between two reads and no read resets them:
//   mon[type]          {lo: replies, hi: Σ execution time in units of 2^MON_TIME_SHIFT ns}, on
//                      every forwarded reply (a cloned request counts once): lo += 1,
//                      hi += (time_ns + 2^(shift−1)) >> shift (rounded);
//   mon_requests[type] on every fresh request (from a client: not bounced, not a clone): += 1;
//   mon_notices[type]  on every forwarded drop notice of an uncloned request: += 1.
// All wrap modulo 2^32. The control plane reads them every interval and takes differences modulo
// 2^32 (lib/control/adapt.ts): the mean execution time over an interval is Δhi·2^shift / Δlo, the
// demand (rate and shares) is Δrequests, counted where requests arrive, so that an overloaded
// group shows what it is asked, not what it manages to answer; Δnotices is what its servers dropped. It must read often
// enough that no register wraps twice between reads: Δhi wraps after 2^32·16 ns ≈ 68.7 s of execution time of one type
// per interval.
#pragma once

#include <array>
#include <cstdint>

#include "../wire/wire_gen.hpp"

namespace pallas::sw {

inline constexpr uint32_t kMonTimeShift = wire::kSwMonTimeShift;

class Monitor {
 public:
  void record(uint8_t type, uint32_t time_ns) {
    replies_[type]++;
    units_[type] +=
        static_cast<uint32_t>((static_cast<uint64_t>(time_ns) + (1u << (kMonTimeShift - 1))) >> kMonTimeShift);
  }
  void count_notice(uint8_t type) { notices_[type]++; }
  void count_request(uint8_t type) { requests_[type]++; }
  uint32_t requests(uint8_t t) const { return requests_[t]; }
  uint32_t replies(uint8_t t) const { return replies_[t]; }
  uint32_t time_units(uint8_t t) const { return units_[t]; }
  uint32_t notices(uint8_t t) const { return notices_[t]; }

 private:
  std::array<uint32_t, 256> replies_{};   // register mon[256].lo
  std::array<uint32_t, 256> units_{};     // register mon[256].hi
  std::array<uint32_t, 256> notices_{};   // register mon_notices[256]
  std::array<uint32_t, 256> requests_{};  // register mon_requests[256]
};

}  // namespace pallas::sw
