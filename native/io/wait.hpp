// Waiting, as the runtime's dispatcher and the software switch both do it (docs/runtime.md,
// waiting modes): spin with a pause, yielding now and then, and in hybrid mode block on the
// transport's descriptor and the thread's wake-up eventfd.
#pragma once

#include <poll.h>
#include <sched.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>

#include "../platform/tsc.hpp"
#include "transport.hpp"

namespace pallas::io {

// The n-th empty poll in a row. Every 32nd also offers the CPU to another runnable thread: free on
// an isolated core (nothing else runs there), and on a shared one it lets the thread we wait for
// run instead of spinning out our time slice (a 2-vCPU machine with a pump, a dispatcher and a
// worker).
inline void poll_pause(uint32_t n) {
  if ((n & 31) == 0)
    sched_yield();
  else
    platform::cpu_relax();
}

// Blocks until the transport may have data, `efd` is written, or about `wait_us` passes. A
// transport without a descriptor (in-memory link, DPDK) is polled with short sleeps instead, so
// that arrivals wait at most a few tens of µs.
inline void block_rx(Transport& t, int efd, uint32_t wait_us) {
  const int fd = t.rx_fd();
  if (fd >= 0) {
    pollfd p[2] = {{fd, POLLIN, 0}, {efd, POLLIN, 0}};
    poll(p, 2, static_cast<int>(std::max<uint32_t>(1, wait_us / 1000)));
  } else {
    t.wait_rx(std::min<uint32_t>(wait_us, 20));
  }
}

// Empties a wake-up eventfd (its value means nothing; only that it was written).
inline void drain_eventfd(int efd) {
  uint64_t v;
  while (read(efd, &v, sizeof v) > 0) {
  }
}

}  // namespace pallas::io
