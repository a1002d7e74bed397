// The discrete-event rack simulator: see sim.hpp. One Simulation object per run; the event loop
// is in run_loop(). Each server is a Policy plus per-worker run state; the simulator plays the
// runtime's dispatcher: it calls the policy's hooks and turns their answers into events.
#include "sim.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <memory>

#include "../core/hist/histogram.hpp"
#include "../core/policy/darc.hpp"
#include "../core/rng.hpp"
#include "event_heap.hpp"

namespace pallas::sim {

namespace {

using policy::Dispatch;
using policy::Item;
using policy::kNoWorker;
using policy::Policy;

enum Kind : uint8_t { kSource, kServerArrival, kDone, kSliceEnd, kSwitchDone, kPsDepart, kPhase };

struct Req {
  uint64_t send_ns = 0;
  uint64_t arrive_ns = 0;  // at the server
  uint64_t service_ns = 0;
  uint64_t remaining_ns = 0;
  uint32_t server = 0;
  uint8_t type = 0;
  bool measured = false;
};

struct Run {  // what a busy worker is running
  Item item;
  uint64_t ran_ns = 0;  // length of the current stint
};

struct Server {
  std::unique_ptr<Policy> policy;
  std::vector<Run> runs;
  uint32_t ps_gen = 0;
  uint64_t completed = 0;
};

struct Source {
  std::vector<uint8_t> types;  // type indices this source draws from
  std::vector<double> cum;     // cumulative weights over `types` (last = 1)
  Process process = Process::kPoisson;
  double cv = 1;
  double rate_per_ns = 0;      // 0: dormant in this phase
  double next_t = 0;           // exact next send time (ns)
  uint32_t gen = 0;
  Rng rng;
};

struct TypeStats {
  Histogram latency, wait, slowdown;
  uint64_t generated = 0;
};

Summary summarize(const Histogram& h, double scale) {
  Summary s;
  s.count = h.count();
  s.mean = h.mean() * scale;
  s.p50 = h.quantile(0.50) * scale;
  s.p99 = h.quantile(0.99) * scale;
  s.p999 = h.quantile(0.999) * scale;
  return s;
}

class Simulation {
 public:
  Simulation(const SimConfig& cfg, SimResult* out, const Tick& tick)
      : cfg_(cfg), out_(out), tick_(tick), svc_rng_(cfg.seed, 1), dispatch_rng_(cfg.seed, 3) {}

  Status setup();
  void run_loop();
  void finish(double wall_s);

 private:
  // Arrivals.
  void apply_phase(size_t i, uint64_t now);
  void schedule_source(uint32_t s, uint64_t now, bool restart);
  void on_source(uint32_t s, uint64_t now);
  uint64_t sample_service(uint8_t t);
  // Servers.
  void server_arrival(uint32_t h, uint64_t now);
  void try_start(uint32_t s, uint32_t w, uint64_t now);
  void start_stint(uint32_t s, uint32_t w, uint64_t now, uint64_t budget);
  void offer_idle(uint32_t s, uint64_t now);
  void after_policy_call(uint32_t s, uint64_t now);
  void on_done(uint32_t s, uint32_t w, uint64_t now);
  void on_slice_end(uint32_t s, uint32_t w, uint64_t now);
  void ps_reschedule(uint32_t s);
  void on_ps_depart(uint32_t s, uint64_t now);
  void complete(uint32_t h, uint64_t now);
  void drop(uint32_t h, uint64_t now, policy::Admit why);
  // Accounting.
  void account(uint64_t now);
  uint32_t alloc_req();

  const SimConfig& cfg_;
  SimResult* out_;
  const Tick& tick_;

  EventHeap ev_;
  std::vector<Server> servers_;
  std::vector<Source> sources_;
  std::vector<Req> reqs_;
  std::vector<uint32_t> free_;
  std::vector<double> mean_ns_;  // per type
  std::vector<double> inv_mean_milli_;
  Rng svc_rng_, dispatch_rng_;
  uint32_t rr_ = 0;
  uint64_t generated_ = 0, warmup_n_ = 0;
  double lambda_per_ns_ = 0;  // current configured total rate

  // Measurement window [t0, t1]: from the first measured send to the last send.
  bool measuring_ = false, started_ = false, generating_ = true;
  uint64_t t0_ = 0, t1_ = 0, last_acct_ = 0;
  uint64_t in_server_ = 0;
  double area_ = 0, offered_area_ = 0;
  uint64_t done_in_window_ = 0;

  Histogram lat_, wait_, slow_;
  std::vector<TypeStats> per_type_;
  uint64_t waited_ = 0;
};

Status Simulation::setup() {
  const SimConfig& c = cfg_;
  if (c.types.empty()) return Status::Error("BAD_CONFIG", "the workload has no types");
  if (c.servers == 0 || c.workers == 0) return Status::Error("BAD_CONFIG", "the rack needs servers and workers");
  const bool central = c.sw == SwitchKind::kCentral;
  const uint32_t n_servers = central ? 1 : c.servers;
  for (uint32_t s = 0; s < n_servers; s++) {
    policy::PolicyConfig pc = c.server;
    pc.workers = central ? c.servers * c.workers : c.workers;
    pc.seed = c.seed * 7919 + s;
    std::string err;
    Server sv;
    sv.policy = policy::make_policy(pc, &err);
    if (!sv.policy) return Status::Error("BAD_CONFIG", err);
    sv.runs.resize(pc.workers);
    servers_.push_back(std::move(sv));
  }
  for (const TypeSpec& t : c.types) {
    mean_ns_.push_back(t.service.mean_ns);
    inv_mean_milli_.push_back(1000.0 / t.service.mean_ns);
  }
  per_type_.resize(c.types.size());

  bool per_type_sources = false;
  for (const TypeSpec& t : c.types) per_type_sources |= t.own_arrivals;
  if (per_type_sources) {
    for (size_t i = 0; i < c.types.size(); i++) {
      Source s;
      s.types = {static_cast<uint8_t>(i)};
      const ArrivalSpec& a = c.types[i].own_arrivals ? c.types[i].arrivals : c.arrivals;
      s.process = a.process;
      s.cv = a.cv;
      s.rng = Rng(c.seed, 100 + i);
      sources_.push_back(std::move(s));
    }
  } else {
    Source s;
    for (size_t i = 0; i < c.types.size(); i++) s.types.push_back(static_cast<uint8_t>(i));
    s.process = c.arrivals.process;
    s.cv = c.arrivals.cv;
    s.rng = Rng(c.seed, 100);
    sources_.push_back(std::move(s));
  }
  warmup_n_ = static_cast<uint64_t>(std::floor(c.warmup_fraction * static_cast<double>(c.requests)));
  if (warmup_n_ >= c.requests) warmup_n_ = c.requests - 1;
  reqs_.reserve(1024);
  apply_phase(0, 0);
  if (c.phases.size() > 1 && c.phases[0].duration_ns > 0) ev_.push(c.phases[0].duration_ns, kPhase, 1, 0);
  return Status::Ok();
}

// Sets rates and mixes for phase i (phase 0 is the types' own shares when there are no phases)
// and restarts every source from `now`.
void Simulation::apply_phase(size_t i, uint64_t now) {
  account(now);
  const SimConfig& c = cfg_;
  std::vector<double> shares;
  double scale = 1;
  for (const TypeSpec& t : c.types) shares.push_back(t.share);
  if (i < c.phases.size()) {
    if (!c.phases[i].shares.empty()) shares = c.phases[i].shares;
    scale = c.phases[i].load_scale;
  }
  double total = 0, work = 0;
  for (size_t t = 0; t < shares.size(); t++) {
    total += shares[t];
    work += shares[t] * mean_ns_[t];
  }
  const double mean_service = total > 0 ? work / total : 1;
  const double workers = static_cast<double>(c.servers) * c.workers;
  lambda_per_ns_ = total > 0 ? c.load * scale * workers / mean_service : 0;
  for (uint32_t s = 0; s < sources_.size(); s++) {
    Source& src = sources_[s];
    double w = 0;
    for (uint8_t t : src.types) w += shares[t];
    src.cum.clear();
    double acc = 0;
    for (uint8_t t : src.types) {
      acc += w > 0 ? shares[t] / w : 0;
      src.cum.push_back(acc);
    }
    src.rate_per_ns = total > 0 ? lambda_per_ns_ * w / total : 0;
    schedule_source(s, now, true);
  }
}

void Simulation::schedule_source(uint32_t s, uint64_t now, bool restart) {
  Source& src = sources_[s];
  if (restart) {
    src.gen++;
    src.next_t = static_cast<double>(now);
  }
  if (!generating_ || src.rate_per_ns <= 0) return;
  const double mean = 1.0 / src.rate_per_ns;
  double gap = mean;
  switch (src.process) {
    case Process::kPoisson: gap = src.rng.exponential(mean); break;
    case Process::kGamma: {
      const double k = 1.0 / (src.cv * src.cv);
      gap = src.rng.gamma(k, mean / k);
      break;
    }
    case Process::kFixed: break;
  }
  src.next_t += gap;
  ev_.push(static_cast<uint64_t>(std::llround(src.next_t)), kSource, s, src.gen);
}

uint64_t Simulation::sample_service(uint8_t t) {
  const ServiceSpec& sp = cfg_.types[t].service;
  double v = sp.mean_ns;
  switch (sp.dist) {
    case Dist::kFixed: break;
    case Dist::kExp: v = svc_rng_.exponential(sp.mean_ns); break;
    case Dist::kLognormal: v = svc_rng_.lognormal(sp.mean_ns, sp.sigma); break;
  }
  return std::max<uint64_t>(1, static_cast<uint64_t>(std::llround(v)));
}

uint32_t Simulation::alloc_req() {
  if (!free_.empty()) {
    const uint32_t h = free_.back();
    free_.pop_back();
    return h;
  }
  reqs_.emplace_back();
  return static_cast<uint32_t>(reqs_.size() - 1);
}

void Simulation::account(uint64_t now) {
  if (measuring_ && now > last_acct_) {
    const double dt = static_cast<double>(now - last_acct_);
    area_ += static_cast<double>(in_server_) * dt;
    offered_area_ += lambda_per_ns_ * dt;
  }
  if (now > last_acct_) last_acct_ = now;
}

void Simulation::on_source(uint32_t s, uint64_t now) {
  Source& src = sources_[s];
  if (!generating_) return;
  // The request.
  uint8_t t = src.types[0];
  if (src.types.size() > 1) {
    const double u = src.rng.uniform();
    size_t i = 0;
    while (i + 1 < src.cum.size() && u >= src.cum[i]) i++;
    t = src.types[i];
  }
  const uint32_t h = alloc_req();
  Req& r = reqs_[h];
  r.send_ns = now;
  r.type = t;
  r.service_ns = r.remaining_ns = sample_service(t);
  r.measured = generated_ >= warmup_n_;
  per_type_[t].generated++;
  if (generated_ == warmup_n_) {
    measuring_ = started_ = true;
    t0_ = last_acct_ = now;
  }
  generated_++;
  if ((generated_ & 1023) == 0 && tick_ && tick_(generated_)) out_->aborted = true;
  if (generated_ >= cfg_.requests || out_->aborted) {
    account(now);
    t1_ = now;
    generating_ = false;
    measuring_ = false;
  }
  // The switch.
  switch (cfg_.sw) {
    case SwitchKind::kRandom: r.server = dispatch_rng_.below(static_cast<uint32_t>(servers_.size())); break;
    case SwitchKind::kRoundRobin:
      r.server = rr_;
      rr_ = rr_ + 1 == servers_.size() ? 0 : rr_ + 1;
      break;
    case SwitchKind::kCentral: r.server = 0; break;
  }
  if (cfg_.one_way_ns == 0) server_arrival(h, now);
  else ev_.push(now + cfg_.one_way_ns, kServerArrival, h, 0);
  schedule_source(s, now, false);
}

void Simulation::server_arrival(uint32_t h, uint64_t now) {
  Req& r = reqs_[h];
  r.arrive_ns = now;
  Server& sv = servers_[r.server];
  Item it;
  it.handle = h;
  it.type = r.type;
  it.work_ns = r.service_ns;
  const policy::Verdict v = sv.policy->on_arrival(it, now);
  if (v.admit != policy::Admit::kQueued) {
    drop(h, now, v.admit);
    return;
  }
  account(now);
  in_server_++;
  if (sv.policy->fluid()) {
    ps_reschedule(r.server);
    return;
  }
  if (v.wake != kNoWorker) try_start(r.server, v.wake, now);
  after_policy_call(r.server, now);
}

void Simulation::after_policy_call(uint32_t s, uint64_t now) {
  if (servers_[s].policy->take_kick()) offer_idle(s, now);
}

void Simulation::offer_idle(uint32_t s, uint64_t now) {
  Policy& p = *servers_[s].policy;
  for (uint32_t w = p.idle().next(0); w != kNoWorker && p.queued() > 0; w = p.idle().next(w + 1)) try_start(s, w, now);
}

void Simulation::try_start(uint32_t s, uint32_t w, uint64_t now) {
  Server& sv = servers_[s];
  Dispatch d;
  if (!sv.policy->next_for_worker(w, now, &d)) return;
  sv.runs[w].item = d.item;
  start_stint(s, w, now, d.budget_ns);
}

void Simulation::start_stint(uint32_t s, uint32_t w, uint64_t now, uint64_t budget) {
  Run& run = servers_[s].runs[w];
  const Req& r = reqs_[run.item.handle];
  if (r.remaining_ns <= budget) {
    run.ran_ns = r.remaining_ns;
    ev_.push(now + r.remaining_ns, kDone, s, w);
  } else {
    run.ran_ns = budget;
    ev_.push(now + budget, kSliceEnd, s, w);
  }
}

void Simulation::on_done(uint32_t s, uint32_t w, uint64_t now) {
  Server& sv = servers_[s];
  const Item it = sv.runs[w].item;
  Req& r = reqs_[it.handle];
  r.remaining_ns = 0;
  sv.policy->on_completion(w, it, r.service_ns, now);
  complete(it.handle, now);
  try_start(s, w, now);
  after_policy_call(s, now);
}

void Simulation::on_slice_end(uint32_t s, uint32_t w, uint64_t now) {
  Server& sv = servers_[s];
  Run& run = sv.runs[w];
  Req& r = reqs_[run.item.handle];
  r.remaining_ns -= run.ran_ns;
  run.item.work_ns = r.remaining_ns;
  uint64_t budget = 0, cost = 0;
  if (sv.policy->on_slice_end(w, run.item, now, &budget, &cost) == policy::SliceEnd::kContinue) {
    start_stint(s, w, now, budget);
    return;
  }
  if (cost > 0) ev_.push(now + cost, kSwitchDone, s, w);
  else try_start(s, w, now);
}

void Simulation::ps_reschedule(uint32_t s) {
  Server& sv = servers_[s];
  sv.ps_gen++;
  const uint64_t t = sv.policy->next_departure_ns();
  if (t != policy::kNever) ev_.push(t, kPsDepart, s, sv.ps_gen);
}

void Simulation::on_ps_depart(uint32_t s, uint64_t now) {
  Server& sv = servers_[s];
  Item it;
  while (sv.policy->pop_departure(now, &it)) {
    sv.policy->on_completion(0, it, reqs_[it.handle].service_ns, now);
    complete(it.handle, now);
  }
  ps_reschedule(s);
}

void Simulation::complete(uint32_t h, uint64_t now) {
  const Req& r = reqs_[h];
  account(now);
  in_server_--;
  servers_[r.server].completed++;
  out_->completed++;
  if (measuring_) done_in_window_++;
  if (r.measured) {
    const uint64_t sojourn = now - r.arrive_ns;
    const uint64_t latency = now + cfg_.one_way_ns - r.send_ns;
    const uint64_t wait = sojourn > r.service_ns ? sojourn - r.service_ns : 0;
    const uint64_t slow = static_cast<uint64_t>(std::llround(static_cast<double>(latency) * inv_mean_milli_[r.type]));
    lat_.record(latency);
    wait_.record(wait);
    slow_.record(slow);
    if (wait > 0) waited_++;
    TypeStats& ts = per_type_[r.type];
    ts.latency.record(latency);
    ts.wait.record(wait);
    ts.slowdown.record(slow);
  }
  free_.push_back(h);
}

void Simulation::drop(uint32_t h, uint64_t now, policy::Admit why) {
  if (why == policy::Admit::kDropClone) out_->dropped_clone++;
  else out_->dropped_full++;
  free_.push_back(h);
}

void Simulation::run_loop() {
  uint64_t events = 0;
  while (!ev_.empty()) {
    const Event e = ev_.pop();
    events++;
    switch (e.kind) {
      case kSource:
        if (e.b == sources_[e.a].gen) on_source(e.a, e.t);
        break;
      case kServerArrival: server_arrival(e.a, e.t); break;
      case kDone: on_done(e.a, e.b, e.t); break;
      case kSliceEnd: on_slice_end(e.a, e.b, e.t); break;
      case kSwitchDone:
        try_start(e.a, e.b, e.t);
        after_policy_call(e.a, e.t);
        break;
      case kPsDepart:
        if (e.b == servers_[e.a].ps_gen) on_ps_depart(e.a, e.t);
        break;
      case kPhase:
        if (!generating_) break;
        apply_phase(e.a, e.t);
        if (e.a + 1 < cfg_.phases.size() && cfg_.phases[e.a].duration_ns > 0)
          ev_.push(e.t + cfg_.phases[e.a].duration_ns, kPhase, e.a + 1, 0);
        break;
    }
    out_->sim_time_s = static_cast<double>(e.t) * 1e-9;
  }
  out_->events = events;
}

void Simulation::finish(double wall_s) {
  SimResult& o = *out_;
  const double window_s = started_ && t1_ > t0_ ? static_cast<double>(t1_ - t0_) * 1e-9 : 0;
  o.requests = generated_;
  o.measured = lat_.count();
  o.wall_s = wall_s;
  o.events_per_sec = wall_s > 0 ? static_cast<double>(o.events) / wall_s : 0;
  if (window_s > 0) {
    o.offered_rps = offered_area_ / (window_s * 1e9) * 1e9;
    o.arrival_rps = static_cast<double>(generated_ - warmup_n_ - 1) / window_s;
    o.achieved_rps = static_cast<double>(done_in_window_) / window_s;
    o.in_system_mean = area_ / (window_s * 1e9);
  }
  o.latency_us = summarize(lat_, 1e-3);
  o.wait_us = summarize(wait_, 1e-3);
  o.slowdown = summarize(slow_, 1e-3);
  o.waited_fraction = o.measured ? static_cast<double>(waited_) / static_cast<double>(o.measured) : 0;
  for (size_t t = 0; t < cfg_.types.size(); t++) {
    TypeResult tr;
    tr.name = cfg_.types[t].name;
    tr.generated = per_type_[t].generated;
    tr.latency_us = summarize(per_type_[t].latency, 1e-3);
    tr.wait_us = summarize(per_type_[t].wait, 1e-3);
    tr.slowdown = summarize(per_type_[t].slowdown, 1e-3);
    o.per_type.push_back(std::move(tr));
  }
  for (const Server& sv : servers_) {
    o.per_server_completed.push_back(sv.completed);
    const policy::PolicyCounters& c = sv.policy->counters();
    o.policy.n_arrivals += c.n_arrivals;
    o.policy.n_dispatched += c.n_dispatched;
    o.policy.n_completed += c.n_completed;
    o.policy.n_drop_full += c.n_drop_full;
    o.policy.n_drop_clone += c.n_drop_clone;
    o.policy.n_bounced += c.n_bounced;
    o.policy.n_preempted += c.n_preempted;
    o.policy.n_reserved += c.n_reserved;
  }
  if (cfg_.server.kind == "darc") {
    const policy::Reservation* rp = servers_[0].policy->reservation();
    const policy::Reservation r = rp ? *rp : policy::Reservation{};
    std::string s;
    if (!rp) s = "profiling";
    for (size_t g = 0; g < r.groups.size(); g++) {
      const policy::GroupReservation& gr = r.groups[g];
      if (!s.empty()) s += "; ";
      s += "{";
      for (size_t i = 0; i < gr.types.size(); i++) s += (i ? "," : "") + cfg_.types[gr.types[i]].name;
      char buf[96];
      std::snprintf(buf, sizeof buf, "} workers %u-%u%s", gr.first, gr.first + gr.count - 1, gr.spill ? " +spill" : "");
      s += buf;
    }
    o.reservation = s;
  }
}

}  // namespace

Status run(const SimConfig& cfg, SimResult* out, const Tick& tick) {
  *out = SimResult{};
  if (cfg.requests == 0) return Status::Error("BAD_CONFIG", "requests must be at least 1");
  Simulation sim(cfg, out, tick);
  Status st = sim.setup();
  if (!st.ok()) return st;
  const auto t0 = std::chrono::steady_clock::now();
  sim.run_loop();
  const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  sim.finish(wall);
  if (tick) tick(out->requests);
  return Status::Ok();
}

}  // namespace pallas::sim
