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
#include "../core/policy/epoch.hpp"
#include "../core/policy/handover.hpp"
#include "../core/rng.hpp"
#include "event_heap.hpp"

namespace pallas::sim {

namespace {

using policy::Dispatch;
using policy::Item;
using policy::kNoWorker;
using policy::Policy;

enum Kind : uint8_t {
  kSource,
  kSwitchReq,
  kServerArrival,
  kDone,
  kSliceEnd,
  kSwitchDone,
  kPsDepart,
  kPhase,
  kSwitchReply
};

// One request as the client sees it; its copies (a clone, a bounced re-send) point back here.
struct Logical {
  uint64_t send_ns = 0;
  uint64_t service_ns = 0;
  uint32_t copies = 0;  // copies not yet resolved (replied, dropped)
  uint8_t type = 0;
  bool measured = false;
  bool answered = false;
  uint8_t drop_why = 0;  // 1 queue full, 2 clone, 3 switch (the last copy's fate when unanswered)
};

// One copy of a request travelling the rack.
struct Req {
  uint32_t logical = 0;
  uint64_t arrive_ns = 0;  // at the server
  uint64_t remaining_ns = 0;
  uint32_t server = 0;
  uint32_t index = 0;
  uint32_t queue_len = 0;  // reported in its reply
  uint8_t type = 0;
  uint8_t flags = 0;
  uint8_t group = 0;
};

struct Run {  // what a busy worker is running
  Item item;
  uint64_t ran_ns = 0;  // length of the current stint
};

struct Server {
  std::unique_ptr<Policy> policy;
  bool fluid = false;  // policy->fluid(), asked once: it is asked of every request several times
  policy::PolicyConfig pc;
  std::array<uint8_t, 256> served{};
  policy::EpochBounce epoch;
  policy::PolicyCounters retired;  // counters of policies replaced at epochs
  std::vector<Run> runs;
  uint32_t ps_gen = 0;
  uint64_t completed = 0;
};

struct Source {
  std::vector<uint8_t> types;  // type indices this source draws from
  std::vector<double> cum;     // cumulative weights over `types` (last = 1)
  Process process = Process::kPoisson;
  double cv = 1;
  double rate_per_ns = 0;  // 0: dormant in this phase
  double mean_gap_ns = 0;  // 1 / rate_per_ns
  double next_t = 0;       // exact next send time (ns)
  uint32_t gen = 0;
  LogStream rng;
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
  const double n = static_cast<double>(s.count);
  if (s.count > 0) {
    const double half = 1.96 * std::sqrt(n * 0.99 * 0.01);
    const double lo = std::floor(n * 0.99 - half), hi = std::ceil(n * 0.99 + half);
    s.p99_lo = h.quantile(std::max(0.0, lo) / n) * scale;
    s.p99_hi = hi <= n ? h.quantile(hi / n) * scale : -1;
  }
  return s;
}

void add_counters(policy::PolicyCounters* a, const policy::PolicyCounters& c) {
  a->n_arrivals += c.n_arrivals;
  a->n_dispatched += c.n_dispatched;
  a->n_completed += c.n_completed;
  a->n_drop_full += c.n_drop_full;
  a->n_drop_clone += c.n_drop_clone;
  a->n_bounced += c.n_bounced;
  a->n_preempted += c.n_preempted;
  a->n_reserved += c.n_reserved;
}

bool same_policy(const policy::PolicyConfig& a, const policy::PolicyConfig& b) {
  if (a.kind != b.kind || a.workers != b.workers || a.queue_capacity != b.queue_capacity) return false;
  if (a.kind != "darc") return true;
  if (a.darc.given != b.darc.given || a.darc.groups.size() != b.darc.groups.size()) return false;
  for (size_t i = 0; i < a.darc.groups.size(); i++)
    if (a.darc.groups[i].types != b.darc.groups[i].types || a.darc.groups[i].workers != b.darc.groups[i].workers)
      return false;
  return true;
}

}  // namespace

class Simulation {
 public:
  explicit Simulation(const SimConfig& cfg) : cfg_(cfg), svc_rng_(cfg.seed, 1) {}

  Status setup();
  bool advance(uint64_t until_ns, const Tick& tick);
  uint64_t now() const { return now_; }
  Status apply(const Update& u);
  const sw::Monitor* monitor() const { return disp_->monitor(); }
  void finish(SimResult* out);

 private:
  // Arrivals.
  void apply_phase(size_t i, uint64_t now);
  void schedule_source(uint32_t s, uint64_t now, bool restart);
  void on_source(uint32_t s, uint64_t now);
  uint64_t sample_service(uint8_t t);
  // The switch.
  void switch_request(uint32_t h, uint64_t now);
  void switch_reply(uint32_t h, uint64_t now);
  void send_all(uint64_t now);
  void resolve(uint32_t h, uint8_t why);
  // Servers.
  Status set_server_policy(uint32_t s, const ServerSpec& spec, uint64_t now, bool initial);
  void server_arrival(uint32_t h, uint64_t now);
  void server_reply(uint32_t h, uint64_t now, bool dropped);
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
  void bounce(uint32_t s, const std::vector<Item>& items, uint64_t now);
  uint32_t outstanding(uint32_t s) const;
  // Accounting.
  void account(uint64_t now);
  uint32_t alloc_req();
  uint32_t alloc_logical();
  void record(const Logical& l, uint64_t now);

  SimConfig cfg_;
  SimResult* out_ = nullptr;  // counters accumulate here during the run
  SimResult acc_;
  const Tick* tick_ = nullptr;

  EventHeap ev_;
  uint64_t now_ = 0;
  uint64_t events_ = 0;
  double wall_s_ = 0;
  std::unique_ptr<sw::Dispatcher> disp_;
  std::vector<sw::Send> sends_;
  std::vector<Item> scratch_;
  uint64_t half_a_ = 0, half_b_ = 0;  // client -> switch, switch -> server
  std::vector<Server> servers_;
  std::vector<Source> sources_;
  std::vector<Req> reqs_;
  std::vector<uint32_t> free_;
  std::vector<Logical> logicals_;
  std::vector<uint32_t> free_logical_;
  std::vector<double> mean_ns_;  // per type
  std::vector<double> inv_mean_milli_;
  LogStream svc_rng_;
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
  std::vector<std::vector<std::vector<uint64_t>>> timeline_;  // bucket -> type -> latencies (ns)
};

Status Simulation::setup() {
  const SimConfig& c = cfg_;
  if (c.types.empty()) return Status::Error("BAD_CONFIG", "the workload has no types");
  if (c.servers == 0 || c.workers == 0) return Status::Error("BAD_CONFIG", "the rack needs servers and workers");
  const uint32_t n_servers = c.central ? 1 : c.servers;
  if (!c.per_server.empty() && (c.central || c.per_server.size() != c.servers))
    return Status::Error("BAD_CONFIG", "per-server policies need one entry per server (and no central queue)");
  servers_.resize(n_servers);
  for (uint32_t s = 0; s < n_servers; s++) {
    ServerSpec spec;
    if (c.per_server.empty())
      spec.policy = c.server;
    else
      spec = c.per_server[s];
    Status st = set_server_policy(s, spec, 0, true);
    if (!st.ok()) return st;
  }
  sw::DispatcherConfig dc = c.sw;
  dc.servers = n_servers;
  dc.workers = c.central ? c.servers * c.workers : c.workers;
  dc.seed = c.seed;
  dc.allow_ablation = true;  // the simulator runs the paper's ideal rules as ablations
  if (c.central) dc.kind = "random";
  std::string err;
  disp_ = sw::make_dispatcher(dc, &err);
  if (!disp_) return Status::Error("BAD_CONFIG", err);
  half_a_ = c.one_way_ns / 2;
  half_b_ = c.one_way_ns - half_a_;
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
      s.rng = LogStream(c.seed, 100 + i);
      sources_.push_back(std::move(s));
    }
  } else {
    Source s;
    for (size_t i = 0; i < c.types.size(); i++) s.types.push_back(static_cast<uint8_t>(i));
    s.process = c.arrivals.process;
    s.cv = c.arrivals.cv;
    s.rng = LogStream(c.seed, 100);
    sources_.push_back(std::move(s));
  }
  ev_.set_lanes(sources_.size());
  warmup_n_ = static_cast<uint64_t>(std::floor(c.warmup_fraction * static_cast<double>(c.requests)));
  if (warmup_n_ >= c.requests) warmup_n_ = c.requests - 1;
  reqs_.reserve(1024);
  out_ = &acc_;
  apply_phase(0, 0);
  if (c.phases.size() > 1 && c.phases[0].duration_ns > 0) ev_.push(c.phases[0].duration_ns, kPhase, 1, 0);
  return Status::Ok();
}

// Installs a server's policy. Initially: a fresh policy. At an epoch: a successor takes over the
// queue and the busy workers (handover.hpp), and epoch bouncing is armed for the types the server
// stops serving. An unchanged policy stays in place (its queue untouched).
Status Simulation::set_server_policy(uint32_t s, const ServerSpec& spec, uint64_t now, bool initial) {
  Server& sv = servers_[s];
  policy::PolicyConfig pc = spec.policy;
  pc.workers = cfg_.central ? cfg_.servers * cfg_.workers : cfg_.workers;
  pc.seed = cfg_.seed * 7919 + s;
  std::array<uint8_t, 256> served{};
  if (spec.types.empty()) served.fill(1);
  for (uint8_t t : spec.types) served[t] = 1;
  if (!initial && same_policy(pc, sv.pc) && served == sv.served) return Status::Ok();
  std::string err;
  std::unique_ptr<Policy> p = policy::make_policy(pc, &err);
  if (!p) return Status::Error("BAD_CONFIG", "server " + std::to_string(s) + ": " + err);
  if (initial) {
    sv.fluid = p->fluid();
    sv.policy = std::move(p);
    sv.runs.resize(pc.workers);
    sv.pc = pc;
    sv.served = served;
    return Status::Ok();
  }
  if (sv.policy->fluid() || p->fluid())
    return Status::Error("BAD_CONFIG", "a processor-sharing server cannot change policy");
  if (!same_policy(pc, sv.pc)) {
    scratch_.clear();
    policy::handover(*sv.policy, *p, now, &scratch_);
    add_counters(&sv.retired, sv.policy->counters());
    sv.policy = std::move(p);
    sv.pc = pc;
    for (const Item& it : scratch_) {
      account(now);
      in_server_--;
      drop(it.handle, now, policy::Admit::kDropFull);
    }
  }
  out_->server_moves++;
  if (cfg_.bounce) sv.epoch.on_epoch(served, cfg_.mean_ns);
  sv.served = served;
  offer_idle(s, now);
  return Status::Ok();
}

Status Simulation::apply(const Update& u) {
  for (const auto& [s, spec] : u.servers)
    if (s >= servers_.size())
      return Status::Error("BAD_POLICY",
                           "an update names server " + std::to_string(s) + " of " + std::to_string(servers_.size()));
  if (u.has_tables) {
    for (const sw::GroupTable& g : u.tables.groups)
      for (const sw::WrrEntry& e : g.wrr)
        if (e.server >= servers_.size())
          return Status::Error("BAD_POLICY", "a WRR entry names server " + std::to_string(e.server));
    Status st = disp_->load(u.tables);
    if (!st.ok()) return st;
  }
  cfg_.mean_ns = u.mean_ns;
  for (const auto& [s, spec] : u.servers) {
    Status st = set_server_policy(s, spec, now_, false);
    if (!st.ok()) return st;
  }
  out_->updates++;
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
    src.mean_gap_ns = src.rate_per_ns > 0 ? 1.0 / src.rate_per_ns : 0;
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
  src.next_t += next_gap(ArrivalSpec{src.process, src.cv}, src.mean_gap_ns, src.rng);
  ev_.arm(s, round_nonneg(src.next_t), kSource, s, src.gen);  // a source has one send pending: its lane
}

uint64_t Simulation::sample_service(uint8_t t) { return pallas::sample_service(cfg_.types[t].service, svc_rng_); }

uint32_t Simulation::alloc_req() {
  if (!free_.empty()) {
    const uint32_t h = free_.back();
    free_.pop_back();
    return h;
  }
  reqs_.emplace_back();
  return static_cast<uint32_t>(reqs_.size() - 1);
}

uint32_t Simulation::alloc_logical() {
  if (!free_logical_.empty()) {
    const uint32_t h = free_logical_.back();
    free_logical_.pop_back();
    return h;
  }
  logicals_.emplace_back();
  return static_cast<uint32_t>(logicals_.size() - 1);
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
  uint8_t t = src.types[0];
  if (src.types.size() > 1) {
    const double u = src.rng.uniform();
    size_t i = 0;
    while (i + 1 < src.cum.size() && u >= src.cum[i]) i++;
    t = src.types[i];
  }
  const uint32_t li = alloc_logical();
  Logical& l = logicals_[li];
  l = Logical{};
  l.send_ns = now;
  l.type = t;
  l.service_ns = sample_service(t);
  l.measured = generated_ >= warmup_n_;
  l.copies = 1;
  per_type_[t].generated++;
  if (generated_ == warmup_n_) {
    measuring_ = started_ = true;
    t0_ = last_acct_ = now;
  }
  generated_++;
  if ((generated_ & 1023) == 0 && tick_ && *tick_ && (*tick_)(generated_)) out_->aborted = true;
  if (generated_ >= cfg_.requests || out_->aborted) {
    account(now);
    t1_ = now;
    generating_ = false;
    measuring_ = false;
  }
  const uint32_t h = alloc_req();
  Req& r = reqs_[h];
  r = Req{};
  r.logical = li;
  r.type = t;
  r.remaining_ns = l.service_ns;
  if (half_a_ == 0)
    switch_request(h, now);
  else
    ev_.push(now + half_a_, kSwitchReq, h, 0);
  schedule_source(s, now, false);
}

// A copy reaches the switch (from a client, or bounced by a server).
void Simulation::switch_request(uint32_t h, uint64_t now) {
  const Req& r = reqs_[h];
  if (r.flags & wire::kFlagBounced) out_->bounced_reroutes++;
  sends_.clear();
  sw::ReqIn in{h, r.type, r.flags, r.index};
  if (r.flags & wire::kFlagBounced) {
    in.group = r.group;
    in.server = static_cast<uint16_t>(r.server);
  }
  const sw::Fate f = disp_->on_request(in, now, &sends_);
  if (f == sw::Fate::kDropped) {
    resolve(h, 3);
    return;
  }
  send_all(now);
}

// Carries out the dispatcher's sends: the first send of a handle moves the copy itself, a second
// one (a clone) makes a new copy of the same request.
void Simulation::send_all(uint64_t now) {
  for (size_t i = 0; i < sends_.size(); i++) {
    const sw::Send sd = sends_[i];
    uint32_t h = sd.handle;
    if (i > 0 && sends_[i - 1].handle == sd.handle) {
      h = alloc_req();
      reqs_[h] = reqs_[sd.handle];
      logicals_[reqs_[h].logical].copies++;
      out_->clone_copies++;
    }
    Req& r = reqs_[h];
    r.server = sd.server;
    r.flags = sd.flags;
    r.group = sd.group;
    r.index = sd.index;
    if (half_b_ == 0)
      server_arrival(h, now);
    else
      ev_.push(now + half_b_, kServerArrival, h, 0);
  }
}

void Simulation::server_arrival(uint32_t h, uint64_t now) {
  Req& r = reqs_[h];
  r.arrive_ns = now;
  Server& sv = servers_[r.server];
  policy::BounceFilter bf;
  if (sv.epoch.armed() && sv.epoch.on_arrival(r.type, &bf)) {
    scratch_.clear();
    sv.policy->bounce(bf, &scratch_);
    bounce(r.server, scratch_, now);
  }
  const Item it{h, r.type, r.flags, r.group, 0, 0, r.remaining_ns};
  const policy::Verdict v = sv.policy->on_arrival(it, now);
  if (v.admit != policy::Admit::kQueued) {
    drop(h, now, v.admit);
    return;
  }
  account(now);
  in_server_++;
  if (sv.fluid) {
    ps_reschedule(r.server);
    return;
  }
  if (v.wake != kNoWorker) try_start(r.server, v.wake, now);
  after_policy_call(r.server, now);
}

void Simulation::bounce(uint32_t s, const std::vector<Item>& items, uint64_t now) {
  for (const Item& it : items) {
    account(now);
    in_server_--;
    Req& r = reqs_[it.handle];
    r.flags = it.flags;
    ev_.push(now + half_b_, kSwitchReq, it.handle, 0);
  }
}

uint32_t Simulation::outstanding(uint32_t s) const {
  const Policy& p = *servers_[s].policy;
  const uint32_t busy = servers_[s].fluid ? 0 : p.workers() - p.idle().count();
  return static_cast<uint32_t>(p.queued()) + busy;
}

void Simulation::after_policy_call(uint32_t s, uint64_t now) {
  if (servers_[s].policy->take_kick()) offer_idle(s, now);
}

void Simulation::offer_idle(uint32_t s, uint64_t now) {
  if (servers_[s].fluid) return;
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
  sv.policy->on_completion(w, it, logicals_[r.logical].service_ns, now);
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
  if (cost > 0)
    ev_.push(now + cost, kSwitchDone, s, w);
  else
    try_start(s, w, now);
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
    sv.policy->on_completion(0, it, logicals_[reqs_[it.handle].logical].service_ns, now);
    complete(it.handle, now);
  }
  ps_reschedule(s);
}

// A copy finished at its server: the reply heads for the switch.
void Simulation::complete(uint32_t h, uint64_t now) {
  Req& r = reqs_[h];
  account(now);
  in_server_--;
  servers_[r.server].completed++;
  out_->completed++;
  server_reply(h, now, false);
}

void Simulation::drop(uint32_t h, uint64_t now, policy::Admit why) {
  if (why == policy::Admit::kDropClone)
    out_->dropped_clone++;
  else
    out_->dropped_full++;
  logicals_[reqs_[h].logical].drop_why = why == policy::Admit::kDropClone ? 2 : 1;
  server_reply(h, now, true);
}

void Simulation::server_reply(uint32_t h, uint64_t now, bool dropped) {
  Req& r = reqs_[h];
  r.queue_len = outstanding(r.server);
  r.flags = static_cast<uint8_t>(r.flags | wire::kFlagResponse | (dropped ? wire::kFlagDropNotice : 0));
  // Always an event, even with no delay: the switch may release a request to this server, which
  // must not re-enter the server while its caller (on_done) is mid-way.
  ev_.push(now + half_b_, kSwitchReply, h, 0);
}

void Simulation::switch_reply(uint32_t h, uint64_t now) {
  const Req& r = reqs_[h];
  Logical& l = logicals_[r.logical];
  sw::ReplyIn in;
  in.handle = h;
  in.server = static_cast<uint16_t>(r.server);
  in.type = r.type;
  in.flags = r.flags;
  in.group = r.group;
  in.index = r.index;
  in.time_ns = static_cast<uint32_t>(std::min<uint64_t>(l.service_ns, UINT32_MAX));
  in.queue_len = r.queue_len;
  sends_.clear();
  const bool forward = disp_->on_reply(in, now, &sends_);
  const bool notice = (r.flags & wire::kFlagDropNotice) != 0;
  if (forward && !notice) {
    if (!l.answered) {
      l.answered = true;
      if (measuring_) done_in_window_++;
      if (l.measured) record(l, now + half_a_);
    } else {
      out_->duplicates++;
    }
  }
  resolve(h, 0);
  send_all(now);
}

// A copy's journey ended (replied, or dropped: why 1 queue full, 2 clone, 3 switch).
void Simulation::resolve(uint32_t h, uint8_t why) {
  const uint32_t li = reqs_[h].logical;
  free_.push_back(h);
  Logical& l = logicals_[li];
  if (why) l.drop_why = why;
  if (--l.copies > 0) return;
  if (!l.answered) {
    if (l.drop_why == 3)
      out_->dropped_switch++;
    else if (l.drop_why == 0)
      out_->lost++;
  }
  free_logical_.push_back(li);
}

void Simulation::record(const Logical& l, uint64_t at_client) {
  const uint64_t latency = at_client - l.send_ns;
  const uint64_t base = 2 * cfg_.one_way_ns + l.service_ns;  // wire both ways + execution
  const uint64_t wait = latency > base ? latency - base : 0;
  const uint64_t slow = round_nonneg(static_cast<double>(latency) * inv_mean_milli_[l.type]);
  lat_.record(latency);
  wait_.record(wait);
  slow_.record(slow);
  if (wait > 0) waited_++;
  if (per_type_.size() > 1) {  // one type: its figures are the overall ones (finish)
    TypeStats& ts = per_type_[l.type];
    ts.latency.record(latency);
    ts.wait.record(wait);
    ts.slowdown.record(slow);
  }
  if (cfg_.timeline_ns > 0) {
    const size_t b = l.send_ns / cfg_.timeline_ns;
    if (b >= timeline_.size()) timeline_.resize(b + 1, std::vector<std::vector<uint64_t>>(cfg_.types.size()));
    timeline_[b][l.type].push_back(latency);
  }
}

bool Simulation::advance(uint64_t until_ns, const Tick& tick) {
  tick_ = &tick;
  const auto t0 = std::chrono::steady_clock::now();
  Event e;
  while (ev_.pop_until(until_ns, &e)) {
    events_++;
    now_ = e.t;
    switch (e.kind()) {
      case kSource:
        if (e.b == sources_[e.a].gen) on_source(e.a, e.t);
        break;
      case kSwitchReq:
        switch_request(e.a, e.t);
        break;
      case kServerArrival:
        server_arrival(e.a, e.t);
        break;
      case kDone:
        on_done(e.a, e.b, e.t);
        break;
      case kSliceEnd:
        on_slice_end(e.a, e.b, e.t);
        break;
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
      case kSwitchReply:
        switch_reply(e.a, e.t);
        break;
    }
  }
  if (!ev_.empty() && until_ns > now_) now_ = until_ns;
  tick_ = nullptr;
  wall_s_ += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return ev_.empty();
}

void Simulation::finish(SimResult* out) {
  *out = acc_;
  SimResult& o = *out;
  const double wall_s = wall_s_;
  const double window_s = started_ && t1_ > t0_ ? static_cast<double>(t1_ - t0_) * 1e-9 : 0;
  o.events = events_;
  o.sim_time_s = static_cast<double>(now_) * 1e-9;
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
    const bool one = per_type_.size() == 1;
    tr.latency_us = summarize(one ? lat_ : per_type_[t].latency, 1e-3);
    tr.wait_us = summarize(one ? wait_ : per_type_[t].wait, 1e-3);
    tr.slowdown = summarize(one ? slow_ : per_type_[t].slowdown, 1e-3);
    o.per_type.push_back(std::move(tr));
  }
  for (const Server& sv : servers_) {
    o.per_server_completed.push_back(sv.completed);
    add_counters(&o.policy, sv.retired);
    add_counters(&o.policy, sv.policy->counters());
  }
  o.sw = disp_->counters();
  for (size_t b = 0; b < timeline_.size(); b++) {
    TimelinePoint p;
    p.t_ms = static_cast<double>(b * cfg_.timeline_ns) * 1e-6;
    for (std::vector<uint64_t>& v : timeline_[b]) {
      p.count.push_back(v.size());
      if (v.empty()) {
        p.p99_us.push_back(0);
        continue;
      }
      const size_t k = std::min(v.size() - 1, static_cast<size_t>(std::ceil(0.99 * static_cast<double>(v.size()))) - 1);
      std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(k), v.end());
      p.p99_us.push_back(static_cast<double>(v[k]) * 1e-3);
    }
    o.timeline.push_back(std::move(p));
  }
  const Server& s0 = servers_[0];
  if (s0.pc.kind == "darc") {
    const policy::Reservation* rp = s0.policy->reservation();
    const policy::Reservation r = rp ? *rp : policy::Reservation{};
    std::string s;
    if (!rp) s = "profiling";
    for (size_t g = 0; g < r.groups.size(); g++) {
      const policy::GroupReservation& gr = r.groups[g];
      if (!s.empty()) s += "; ";
      s += "{";
      for (size_t i = 0; i < gr.types.size(); i++) {
        if (i) s += ',';
        s += gr.types[i] < cfg_.types.size() ? cfg_.types[gr.types[i]].name : std::to_string(gr.types[i]);
      }
      char buf[96];
      std::snprintf(buf, sizeof buf, "} workers %u-%u%s", gr.first, gr.first + gr.count - 1, gr.spill ? " +spill" : "");
      s += buf;
    }
    o.reservation = s;
  }
}

Session::Session() = default;
Session::~Session() = default;

Status Session::open(const SimConfig& cfg) {
  if (cfg.requests == 0) return Status::Error("BAD_CONFIG", "requests must be at least 1");
  auto sim = std::make_unique<Simulation>(cfg);
  Status st = sim->setup();
  if (!st.ok()) return st;
  impl_ = std::move(sim);
  return Status::Ok();
}

bool Session::advance(uint64_t until_ns, const Tick& tick) { return impl_ ? impl_->advance(until_ns, tick) : true; }
uint64_t Session::now_ns() const { return impl_ ? impl_->now() : 0; }
Status Session::apply(const Update& u) {
  if (!impl_) return Status::Error("BAD_STATE", "the session is not open");
  return impl_->apply(u);
}
const sw::Monitor* Session::monitor() const { return impl_ ? impl_->monitor() : nullptr; }
void Session::finish(SimResult* out) {
  if (impl_)
    impl_->finish(out);
  else
    *out = SimResult{};
}

Status run(const SimConfig& cfg, SimResult* out, const Tick& tick) {
  *out = SimResult{};
  Session s;
  Status st = s.open(cfg);
  if (!st.ok()) return st;
  s.advance(UINT64_MAX, tick);
  s.finish(out);
  if (tick) tick(out->requests);
  return Status::Ok();
}

}  // namespace pallas::sim
