// CPU time a thread has used (user + system, ns): the calling thread's, or another running thread's
// of this process. The benchmarks' CPU budget reads what each role of the request path costs per
// request from it (docs/bench.md). 0 when the clock cannot be read.
#pragma once

#include <pthread.h>
#include <time.h>

#include <cstdint>

namespace pallas::platform {

inline uint64_t cpu_clock_ns(clockid_t c) {
  timespec ts{};
  if (clock_gettime(c, &ts) != 0) return 0;
  return static_cast<uint64_t>(ts.tv_sec) * 1000000000ull + static_cast<uint64_t>(ts.tv_nsec);
}

inline uint64_t this_thread_cpu_ns() { return cpu_clock_ns(CLOCK_THREAD_CPUTIME_ID); }

// `t` must be running (not yet joined).
inline uint64_t thread_cpu_ns(pthread_t t) {
  clockid_t c;
  if (pthread_getcpuclockid(t, &c) != 0) return 0;
  return cpu_clock_ns(c);
}

}  // namespace pallas::platform
