// Pump: a closed-window packet generator for transport tests and bench/io. Not the open-loop load
// generator (that is native/client): it measures how many datagrams a path moves, nothing else.
//   tx-only:    send bursts of valid requests as fast as the transport accepts them;
//   rx-only:    take whatever arrives as fast as it arrives, and send nothing: the transport's RX
//               path alone (frames it drops while parsing count as taken, in rx_dropped);
//   round-trip: keep up to `window` requests outstanding and count the valid replies; each request
//               carries its send time in send_ts, so the echoed value gives the round-trip time.
// Runs in the calling thread until duration or abort; the transport must not be used elsewhere.
// The requests are built once; per datagram only req_id (and, round-trip, send_ts) is written.
#pragma once

#include <atomic>
#include <vector>

#include "transport.hpp"

namespace pallas::io {

enum class PumpMode : uint8_t { kRoundTrip, kTxOnly, kRxOnly };

struct PumpConfig {
  PumpMode mode = PumpMode::kRoundTrip;
  uint32_t duration_ms = 1000;
  uint32_t burst = 32;
  uint32_t window = 256;         // round-trip: most requests in flight
  uint8_t type = 1;              // request type
  std::vector<uint8_t> payload;  // request payload; empty: zeros of the type's size
  bool accept_requests = false;  // round-trip: also count echoed requests (testpmd's 5tswap echoes
                                 // frames unchanged, without RESPONSE)
  int core = -1;                 // pin the calling thread to this CPU for the run (-1: leave it)
  Endpoint dst;
};

struct PumpResult {
  uint64_t sent = 0;
  uint64_t received = 0;    // valid replies (round-trip); datagrams handed out by rx() (rx-only)
  uint64_t rx_dropped = 0;  // frames the transport took and dropped while parsing them, during the run
  uint64_t elapsed_ns = 0;
  double rtt_p50_ns = 0;  // round-trip: median and 99th percentile of the round-trip time
  double rtt_p99_ns = 0;
  bool pinned = false;  // the thread ran on `core`
};

PumpResult run_pump(Transport& t, const PumpConfig& cfg, const std::atomic<bool>& abort);

}  // namespace pallas::io
