// The clock of every native hot loop (the runtime, the software switch, the load generator): the TSC (constant and
// invariant on the machines Pallas targets), calibrated once against CLOCK_MONOTONIC. Workers stamp execution with it
// and the spin handler spins on it; the dispatcher turns it into the ns timeline its policy runs on. Where there is no
// TSC (not x86-64) it falls back to the monotonic clock in ns, so that the code still runs, slower.
#pragma once

#include <chrono>
#include <cstdint>
#include <thread>

#if defined(__x86_64__)
#include <x86intrin.h>
#endif

namespace pallas::platform {

inline uint64_t rdtsc() {
#if defined(__x86_64__)
  return __rdtsc();
#else
  return static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
          .count());
#endif
}

inline void cpu_relax() {
#if defined(__x86_64__)
  _mm_pause();
#endif
}

// Ticks per second, measured over `ms` milliseconds of sleep.
inline double measure_tsc_hz(int ms = 20) {
#if defined(__x86_64__)
  using clock = std::chrono::steady_clock;
  const auto t0 = clock::now();
  const uint64_t c0 = __rdtsc();
  std::this_thread::sleep_for(std::chrono::milliseconds(ms));
  const uint64_t c1 = __rdtsc();
  const auto t1 = clock::now();
  return static_cast<double>(c1 - c0) / std::chrono::duration<double>(t1 - t0).count();
#else
  return 1e9;
#endif
}

// Tick <-> ns conversion for one calibration; shared read-only by every runtime thread.
struct TscClock {
  double ns_per_tick = 1.0;
  uint64_t origin = 0;  // tick of ns 0
  static TscClock calibrate() {
    static const double hz = measure_tsc_hz();  // once per process: every runtime shares it
    TscClock c;
    c.ns_per_tick = 1e9 / hz;
    c.origin = rdtsc();
    return c;
  }
  uint64_t ticks(uint64_t ns) const { return static_cast<uint64_t>(static_cast<double>(ns) / ns_per_tick); }
  uint64_t ns(uint64_t ticks) const { return static_cast<uint64_t>(static_cast<double>(ticks) * ns_per_tick); }
  uint64_t now_ns() const { return ns(rdtsc() - origin); }
};

}  // namespace pallas::platform
