// The discrete-event rack simulator: open-loop clients, one-way network delay, a simple rack
// dispatcher, and servers whose workers are scheduled by the same native/core/policy code the
// server runtime runs. Virtual clock in ns; deterministic for a seed: every system in a comparison
// sees the same request sequence (arrival times, types, service times), drawn from separate
// random streams that do not depend on what the servers do.
//
// The rack: clients -> switch -> servers and back, the switch half-way (one_way_ns/2 each side).
// The switch is a native/core/switch Dispatcher (Pallas or a baseline), so its decisions see the
// same staleness a real switch sees: queue lengths learnt from replies, credits returned by
// replies. Clones run as separate copies of one request; the client keeps the first reply the
// switch forwards. Servers bounce requests back through the switch at policy epochs.
//
// Thread contract: run() and Session are pure computation on the calling thread (the addon calls
// them from a libuv worker; a Session is used by one thread at a time). They call `tick(requests
// generated so far)` every 1024 requests; a true return stops generating (the run drains and
// reports what it has, flagged aborted). A Session runs in steps (advance) so that a control
// plane can read the switch's monitor and apply new policies between steps (lib/control).
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "../core/dist.hpp"
#include "../core/policy/factory.hpp"
#include "../core/status.hpp"
#include "../core/switch/dispatcher.hpp"

namespace pallas::sim {

using pallas::ArrivalSpec;
using pallas::Dist;
using pallas::Process;
using pallas::ServiceSpec;

struct TypeSpec {
  std::string name;
  ServiceSpec service;
  double share = 1;           // weight in the mix (normalised over all types)
  bool own_arrivals = false;  // true: this type arrives as its own process (e.g. bursty shorts)
  ArrivalSpec arrivals;
};

// A phase of the run: from its start, for duration_ns (0: to the end of the run), the mix and
// the rate change. Load stays a fraction of the capacity for the phase's own mix.
struct PhaseSpec {
  uint64_t duration_ns = 0;
  double load_scale = 1;
  std::vector<double> shares;  // empty: the types' own shares
};

// One server's intra-server policy and the request types it serves (Pallas: the types of its
// groups, for epoch bouncing; empty: every type).
struct ServerSpec {
  policy::PolicyConfig policy;
  std::vector<uint8_t> types;
};

// A control-plane update applied between two steps of a Session: new switch tables (Pallas) and
// new policies for some servers, with the control plane's mean execution time per type (ns).
struct Update {
  bool has_tables = false;
  sw::Tables tables;
  std::vector<std::pair<uint32_t, ServerSpec>> servers;
  std::array<double, 256> mean_ns{};
};

struct SimConfig {
  uint32_t servers = 1;
  uint32_t workers = 1;  // per server
  uint64_t one_way_ns = 0;
  std::vector<TypeSpec> types;
  ArrivalSpec arrivals;
  std::vector<PhaseSpec> phases;
  sw::DispatcherConfig sw;             // servers, workers, seed are filled in from the rack
  bool central = false;                // ideal yardstick: one server with every worker, one queue
  policy::PolicyConfig server;         // every server's policy; `workers` is filled in by run()
  std::vector<ServerSpec> per_server;  // instead of `server`: one per server (Pallas)
  std::array<double, 256> mean_ns{};   // the control plane's per-type means (epoch bouncing)
  bool bounce = true;                  // servers bounce at policy epochs (ablation: pallas-no-bounce)
  uint64_t timeline_ns = 0;            // > 0: per-type p99 over time, in buckets of this width (by send time)
  double load = 0.5;                   // of capacity = servers · workers / mean service
  uint64_t requests = 100000;
  uint64_t seed = 1;
  double warmup_fraction = 0.1;  // the first requests, not measured
};

struct Summary {
  uint64_t count = 0;
  double mean = 0, p50 = 0, p99 = 0, p999 = 0;
  // The p99's 95 % confidence interval, distribution-free: the order statistics at ranks
  // n·0.99 ∓ 1.96·√(n·0.99·0.01). p99_hi < 0 when the upper rank is past the last sample (too few
  // samples to bound the p99 from above).
  double p99_lo = 0, p99_hi = -1;
};

struct TypeResult {
  std::string name;
  uint64_t generated = 0;
  Summary latency_us, wait_us, slowdown;
};

struct TimelinePoint {
  double t_ms = 0;              // bucket start
  std::vector<uint64_t> count;  // per type, requests sent in the bucket and answered
  std::vector<double> p99_us;   // per type (0 when none)
};

struct SimResult {
  double offered_rps = 0;   // configured rate, time-averaged over the measurement window
  double arrival_rps = 0;   // measured sends in the window / window
  double achieved_rps = 0;  // completions in the window / window
  uint64_t requests = 0, measured = 0, completed = 0, dropped_full = 0, dropped_clone = 0;
  uint64_t dropped_switch = 0;    // requests the switch dropped (no server, its queue full)
  uint64_t lost = 0;              // requests that ended with neither a reply nor a drop (must be 0)
  uint64_t duplicates = 0;        // second replies the switch forwarded (must be 0 for pallas)
  uint64_t clone_copies = 0;      // extra copies the switch made
  uint64_t bounced_reroutes = 0;  // bounced copies the switch re-scheduled
  uint64_t updates = 0;           // control-plane updates applied
  uint64_t server_moves = 0;      // servers whose policy or served types changed in those updates
  uint64_t events = 0;
  double wall_s = 0, events_per_sec = 0, sim_time_s = 0;
  Summary latency_us, wait_us, slowdown;
  double waited_fraction = 0;  // measured requests that waited at all (wait > 0)
  double in_system_mean = 0;   // time-average of requests at the servers in the window (Little's L)
  std::vector<TypeResult> per_type;
  std::vector<uint64_t> per_server_completed;
  policy::PolicyCounters policy;  // summed over servers
  std::string reservation;        // darc: the last reservation of server 0, for inspection
  sw::DispatchCounters sw;
  std::vector<TimelinePoint> timeline;
  bool aborted = false;
};

using Tick = std::function<bool(uint64_t generated)>;
Status run(const SimConfig& cfg, SimResult* out, const Tick& tick = {});

class Simulation;

// A run in steps. open() validates and starts; advance() runs every event up to until_ns and
// returns true once the run is over; apply() installs an update at the current time; finish()
// fills the result (once). monitor() is the Pallas switch's monitor (nullptr for baselines).
class Session {
 public:
  Session();
  ~Session();
  Status open(const SimConfig& cfg);
  bool advance(uint64_t until_ns, const Tick& tick = {});
  uint64_t now_ns() const;
  Status apply(const Update& u);
  const sw::Monitor* monitor() const;
  void finish(SimResult* out);

 private:
  std::unique_ptr<Simulation> impl_;
};

}  // namespace pallas::sim
