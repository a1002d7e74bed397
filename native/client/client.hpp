// The open-loop load generator (native/client). A run is a schedule computed before it starts —
// send times from an arrival process (Poisson; gamma for bursts; fixed), request types by their
// shares, per-request work drawn from each type's service distribution (the simulator's
// distributions, native/core/dist.hpp), in phases whose rate and mix change for workload shifts —
// then one thread that sends each request at its scheduled time, never waiting for replies, and
// receives replies in between.
//
// Latency is measured from the scheduled send time, not from when the request actually left: a
// generator that falls behind (a late send) must show that delay, or it would hide queueing
// (coordinated omission). Sends later than `late_ns` are counted as late.
//
// Every scheduled request ends as exactly one of: a reply, a drop notice (by cause), a timeout
// (no answer `timeout_ns` after the last send), or never sent (the run was aborted, or the
// transport refused it past the deadline). The result says whether sent = replies + drops +
// timeouts held.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "../core/dist.hpp"
#include "../core/hist/histogram.hpp"
#include "../core/status.hpp"
#include "../core/wire/wire.hpp"
#include "../io/transport.hpp"

namespace pallas::client {

struct TypeSpec {
  uint8_t wire_type = 1;
  double share = 1;
  ServiceSpec service;   // spin payload: the request's spin_ns
  uint32_t keys = 5000;  // kv payload: key uniform in [0, keys)
  uint16_t count = 1;    // kv payload: GET/SCAN count
  // true: this type arrives as a process of its own (e.g. bursty shorts among Poisson longs), at
  // its share of the phase's rate; the other types share the schedule's process.
  bool own_arrivals = false;
  ArrivalSpec arrivals;
};

// From its start, for duration_ns, requests arrive at rate_rps with the mix `shares` (empty: the
// types' own).
struct PhaseSpec {
  uint64_t duration_ns = 1000000000;
  double rate_rps = 1000;
  std::vector<double> shares;
};

struct ScheduleConfig {
  std::vector<TypeSpec> types;
  std::vector<PhaseSpec> phases;
  ArrivalSpec arrivals;
  uint64_t seed = 1;
  uint64_t max_requests = 20000000;
};

struct Entry {
  uint64_t t_ns = 0;  // send time, from the start of the run
  uint32_t arg = 0;   // spin ns (saturated), or key
  uint8_t type = 0;   // index into ScheduleConfig::types
};

// BAD_CONFIG for no types, no phases, negative or all-zero shares, a rate or duration out of range,
// or more than max_requests requests.
Status build_schedule(const ScheduleConfig& c, std::vector<Entry>* out);

struct ClientConfig {
  ScheduleConfig schedule;
  io::Endpoint dst;
  uint64_t timeout_ns = 1000000000;  // after the last send, how long to wait for answers
  uint64_t late_ns = 50000;          // a send this much after its scheduled time is late
  uint64_t lead_ns = 2000000;        // the schedule starts this long after the run does
  uint64_t warmup_ns = 0;            // requests scheduled before this are answered and counted, not measured
  // Before a send the thread sleeps until twice the wake-up lateness it has seen (at least 20 µs)
  // before the send is due, and spins the rest: at most this long. 0 never spins (a machine whose
  // cores the generator shares with the rack: a send is as late as the wake-up, and counted so).
  uint64_t spin_max_ns = 500000;
  // Run the thread at SCHED_FIFO (priority 1) for the run, when the process may (root or
  // CAP_SYS_NICE; ClientResult::realtime says): on a machine whose cores the generator shares with
  // the rack, a send then waits for no other thread, only for the timer. Restored after the run.
  bool realtime = false;
};

inline constexpr uint32_t kDropCauses = 8;  // wire drop causes are < 8

struct TypeOutcome {
  uint64_t scheduled = 0, sent = 0, replies = 0, drops = 0, timeouts = 0, never_sent = 0, late = 0;
  Histogram latency;       // replies after the warm-up, ns from the scheduled send time
  uint64_t measured = 0;   // replies in `latency`
  double exec_ns_sum = 0;  // the servers' execution time, as their replies report it (measured replies)
};

struct ClientResult {
  uint64_t scheduled = 0, sent = 0, replies = 0, drops = 0, timeouts = 0, never_sent = 0;
  uint64_t late = 0, late_max_ns = 0, duplicates = 0, unexpected = 0, invalid = 0, tx_retries = 0;
  std::array<uint64_t, kDropCauses> drops_by_cause{};
  uint64_t first_send_ns = 0, last_send_ns = 0, end_ns = 0;  // from the start of the schedule
  uint64_t cpu_ns = 0;                                       // CPU time the run used (its thread)
  bool realtime = false;                                     // it ran at SCHED_FIFO
  std::vector<TypeOutcome> per_type;
  bool aborted = false;
  bool accounting_ok() const { return sent == replies + drops + timeouts && scheduled == sent + never_sent; }
};

// Called with the number of requests sent so far whenever it changes (and now and then when it
// does not); returning true stops sending (the rest counts as never sent).
using Tick = std::function<bool(uint64_t sent)>;

// Runs on the calling thread until every request is answered or timed out, or `tick` says stop.
ClientResult run_client(io::Transport& t, const ClientConfig& c, const std::vector<Entry>& schedule, const Tick& tick);

}  // namespace pallas::client
