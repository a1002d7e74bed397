// The discrete-event rack simulator: open-loop clients, one-way network delay, a simple rack
// dispatcher, and servers whose workers are scheduled by the same native/core/policy code the
// server runtime runs. Virtual clock in ns; deterministic for a seed: every system in a comparison
// sees the same request sequence (arrival times, types, service times), drawn from separate
// random streams that do not depend on what the servers do.
//
// Thread contract: run() is pure computation on the calling thread (the addon calls it from a
// libuv worker). It calls `tick(requests generated so far)` every 1024 requests; a true return
// stops generating (the run drains and reports what it has, flagged aborted).
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "../core/policy/factory.hpp"
#include "../core/status.hpp"

namespace pallas::sim {

enum class Dist : uint8_t { kFixed, kExp, kLognormal };
enum class Process : uint8_t { kPoisson, kGamma, kFixed };
enum class SwitchKind : uint8_t { kRandom, kRoundRobin, kCentral };

struct ServiceSpec {
  Dist dist = Dist::kExp;
  double mean_ns = 1000;
  double sigma = 1;  // lognormal: σ of the underlying normal
};

struct ArrivalSpec {
  Process process = Process::kPoisson;
  double cv = 1;  // gamma: coefficient of variation of the inter-arrival time
};

struct TypeSpec {
  std::string name;
  ServiceSpec service;
  double share = 1;          // weight in the mix (normalised over all types)
  bool own_arrivals = false; // true: this type arrives as its own process (e.g. bursty shorts)
  ArrivalSpec arrivals;
};

// A phase of the run: from its start, for duration_ns (0: to the end of the run), the mix and
// the rate change. Load stays a fraction of the capacity for the phase's own mix.
struct PhaseSpec {
  uint64_t duration_ns = 0;
  double load_scale = 1;
  std::vector<double> shares;  // empty: the types' own shares
};

struct SimConfig {
  uint32_t servers = 1;
  uint32_t workers = 1;  // per server
  uint64_t one_way_ns = 0;
  std::vector<TypeSpec> types;
  ArrivalSpec arrivals;
  std::vector<PhaseSpec> phases;
  SwitchKind sw = SwitchKind::kRandom;
  policy::PolicyConfig server;  // `workers` is filled in by run()
  double load = 0.5;            // of capacity = servers · workers / mean service
  uint64_t requests = 100000;
  uint64_t seed = 1;
  double warmup_fraction = 0.1; // the first requests, not measured
};

struct Summary {
  uint64_t count = 0;
  double mean = 0, p50 = 0, p99 = 0, p999 = 0;
};

struct TypeResult {
  std::string name;
  uint64_t generated = 0;
  Summary latency_us, wait_us, slowdown;
};

struct SimResult {
  double offered_rps = 0;   // configured rate, time-averaged over the measurement window
  double arrival_rps = 0;   // measured sends in the window / window
  double achieved_rps = 0;  // completions in the window / window
  uint64_t requests = 0, measured = 0, completed = 0, dropped_full = 0, dropped_clone = 0;
  uint64_t events = 0;
  double wall_s = 0, events_per_sec = 0, sim_time_s = 0;
  Summary latency_us, wait_us, slowdown;
  double waited_fraction = 0;  // measured requests that waited at all (wait > 0)
  double in_system_mean = 0;   // time-average of requests at the servers in the window (Little's L)
  std::vector<TypeResult> per_type;
  std::vector<uint64_t> per_server_completed;
  policy::PolicyCounters policy;  // summed over servers
  std::string reservation;        // darc: the last reservation of server 0, for inspection
  bool aborted = false;
};

using Tick = std::function<bool(uint64_t generated)>;
Status run(const SimConfig& cfg, SimResult* out, const Tick& tick = {});

}  // namespace pallas::sim
