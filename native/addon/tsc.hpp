// TSC frequency: measured once against CLOCK_MONOTONIC. The spin handler and latency stamps use
// the TSC (constant and invariant on the machines Pallas targets); 0 where there is no TSC.
#pragma once

#include <chrono>
#include <cstdint>
#include <thread>

#if defined(__x86_64__)
#include <x86intrin.h>
#endif

namespace pallas::addon {

inline double measure_tsc_hz() {
#if defined(__x86_64__)
  using clock = std::chrono::steady_clock;
  const auto t0 = clock::now();
  const uint64_t c0 = __rdtsc();
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  const uint64_t c1 = __rdtsc();
  const auto t1 = clock::now();
  const double secs = std::chrono::duration<double>(t1 - t0).count();
  return static_cast<double>(c1 - c0) / secs;
#else
  return 0;
#endif
}

}  // namespace pallas::addon
