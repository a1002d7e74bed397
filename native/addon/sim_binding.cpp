// N-API bindings of the simulator and the policies. Configs arrive normalised by lib/sim
// (scenario.ts); this file maps them onto the C++ structs and the results back onto plain
// objects. runSim runs on a libuv worker; its progress and an abort request travel through a
// 2-element BigUint64Array the caller owns ([0] requests generated, written here; [1] non-zero
// to abort, written by JS): one view, no callback per step.
#include "sim_binding.hpp"

#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "../core/policy/darc.hpp"
#include "../core/policy/factory.hpp"
#include "../sim/sim.hpp"
#include "switch_binding.hpp"

namespace pallas::addon {

policy::PolicyConfig parse_policy(Napi::Env env, const Napi::Object& o) {
  policy::PolicyConfig pc;
  pc.kind = get_string(o, "kind", "cfcfs");
  pc.workers = get_u32(o, "workers", 1);
  pc.queue_capacity = get_u32(o, "queueCapacity", pc.queue_capacity);
  pc.push_round_robin = get_string(o, "push", "random") == "rr";
  pc.seed = get_u64(o, "seed", 1);
  pc.slice_ns = get_u64(o, "sliceNs", pc.slice_ns);
  pc.switch_cost_ns = get_u64(o, "switchCostNs", pc.switch_cost_ns);
  if (o.Get("darc").IsObject()) {
    const Napi::Object d = o.Get("darc").As<Napi::Object>();
    pc.darc.profile_samples = get_u64(d, "profileSamples", pc.darc.profile_samples);
    pc.darc.recheck_samples = get_u64(d, "recheckSamples", pc.darc.recheck_samples);
    pc.darc.group_ratio = get_num(d, "groupRatio", pc.darc.group_ratio);
    pc.darc.rereserve_threshold = get_num(d, "rereserveThreshold", pc.darc.rereserve_threshold);
    pc.darc.owner_first = get_bool(d, "ownerFirst", false);
    if (d.Get("warm").IsArray()) {
      const Napi::Array ws = d.Get("warm").As<Napi::Array>();
      for (uint32_t i = 0; i < ws.Length(); i++) {
        const Napi::Object w = ws.Get(i).As<Napi::Object>();
        const uint32_t t = get_u32(w, "type", 0);
        if (t > 255) throw_bad(env, "darc.warm: type must be 0-255");
        pc.darc.warm.push_back({static_cast<uint8_t>(t), get_num(w, "meanNs", 0), get_num(w, "share", 0)});
      }
    }
    if (d.Get("groups").IsArray()) {
      const Napi::Array gs = d.Get("groups").As<Napi::Array>();
      pc.darc.given = true;
      for (uint32_t i = 0; i < gs.Length(); i++) {
        const Napi::Object g = gs.Get(i).As<Napi::Object>();
        policy::GivenGroup gg;
        gg.workers = get_u32(g, "workers", 1);
        const Napi::Array ts = g.Get("types").As<Napi::Array>();
        for (uint32_t j = 0; j < ts.Length(); j++)
          gg.types.push_back(static_cast<uint8_t>(ts.Get(j).As<Napi::Number>().Uint32Value()));
        pc.darc.groups.push_back(std::move(gg));
      }
    }
  }
  std::string err;
  if (!policy::make_policy(pc, &err)) throw_bad(env, err);  // cheap: validates kind and workers
  return pc;
}

namespace {

using policy::Item;

void check_groups(Napi::Env env, const policy::PolicyConfig& pc, size_t types) {
  for (const policy::GivenGroup& g : pc.darc.groups)
    for (uint8_t t : g.types)
      if (t >= types) throw_bad(env, "a darc group names a type index beyond the workload's types");
}

// `switch`: a kind ("random", "rr", "central", "po2", ...) or {kind, jbsqDepth, queueCapacity,
// filterSlots, tables}.
void parse_switch(Napi::Env env, const Napi::Value& v, sim::SimConfig* c) {
  std::string kind = "random";
  if (v.IsString()) {
    kind = v.As<Napi::String>().Utf8Value();
  } else if (v.IsObject()) {
    const Napi::Object o = v.As<Napi::Object>();
    kind = get_string(o, "kind", "random");
    parse_switch_options(env, o, &c->sw);
  }
  c->central = kind == "central";
  c->sw.kind = c->central ? "random" : kind;
}

sim::ServerSpec parse_server_spec(Napi::Env env, const Napi::Value& v) {
  if (!v.IsObject()) throw_bad(env, "a server spec must be {policy, types}");
  const Napi::Object o = v.As<Napi::Object>();
  sim::ServerSpec s;
  if (!o.Get("policy").IsObject()) throw_bad(env, "a server spec needs `policy`");
  s.policy = parse_policy(env, o.Get("policy").As<Napi::Object>());
  if (o.Get("types").IsArray()) {
    const Napi::Array ts = o.Get("types").As<Napi::Array>();
    for (uint32_t j = 0; j < ts.Length(); j++)
      s.types.push_back(static_cast<uint8_t>(ts.Get(j).As<Napi::Number>().Uint32Value()));
  }
  return s;
}

void parse_means(const Napi::Value& v, std::array<double, 256>* out) {
  if (!v.IsArray()) return;
  const Napi::Array a = v.As<Napi::Array>();
  for (uint32_t i = 0; i < a.Length() && i < 256; i++)
    if (a.Get(i).IsNumber()) (*out)[i] = a.Get(i).As<Napi::Number>().DoubleValue();
}

sim::ArrivalSpec parse_arrivals(const Napi::Object& o) {
  sim::ArrivalSpec a;
  const std::string p = get_string(o, "process", "poisson");
  a.process = p == "gamma" ? sim::Process::kGamma : p == "fixed" ? sim::Process::kFixed : sim::Process::kPoisson;
  a.cv = get_num(o, "cv", 1);
  return a;
}

sim::SimConfig parse_sim(Napi::Env env, const Napi::Object& o) {
  sim::SimConfig c;
  c.servers = get_u32(o, "servers", 1);
  c.workers = get_u32(o, "workers", 1);
  c.one_way_ns = get_u64(o, "oneWayNs", 0);
  c.load = get_num(o, "load", c.load);
  c.requests = get_u64(o, "requests", c.requests);
  c.seed = get_u64(o, "seed", 1);
  c.warmup_fraction = get_num(o, "warmup", c.warmup_fraction);
  parse_switch(env, o.Get("switch"), &c);
  if (o.Get("arrivals").IsObject()) c.arrivals = parse_arrivals(o.Get("arrivals").As<Napi::Object>());
  if (!o.Get("types").IsArray()) throw_bad(env, "sim config needs `types`");
  const Napi::Array types = o.Get("types").As<Napi::Array>();
  if (types.Length() == 0 || types.Length() > 255) throw_bad(env, "sim config needs 1 to 255 types");
  for (uint32_t i = 0; i < types.Length(); i++) {
    const Napi::Object t = types.Get(i).As<Napi::Object>();
    sim::TypeSpec ts;
    ts.name = get_string(t, "name", "type" + std::to_string(i));
    const std::string d = get_string(t, "dist", "exp");
    ts.service.dist = d == "fixed" ? sim::Dist::kFixed : d == "lognormal" ? sim::Dist::kLognormal : sim::Dist::kExp;
    ts.service.mean_ns = get_num(t, "meanNs", 1000);
    ts.service.sigma = get_num(t, "sigma", 1);
    ts.share = get_num(t, "share", 1);
    if (ts.service.mean_ns <= 0) throw_bad(env, "type " + ts.name + ": meanNs must be > 0");
    if (t.Get("arrivals").IsObject()) {
      ts.own_arrivals = true;
      ts.arrivals = parse_arrivals(t.Get("arrivals").As<Napi::Object>());
    }
    c.types.push_back(std::move(ts));
  }
  if (o.Get("phases").IsArray()) {
    const Napi::Array ps = o.Get("phases").As<Napi::Array>();
    for (uint32_t i = 0; i < ps.Length(); i++) {
      const Napi::Object p = ps.Get(i).As<Napi::Object>();
      sim::PhaseSpec ph;
      ph.duration_ns = get_u64(p, "durationNs", 0);
      ph.load_scale = get_num(p, "loadScale", 1);
      if (p.Get("shares").IsArray()) {
        const Napi::Array sh = p.Get("shares").As<Napi::Array>();
        if (sh.Length() != c.types.size()) throw_bad(env, "phase shares must list every type");
        for (uint32_t j = 0; j < sh.Length(); j++) ph.shares.push_back(sh.Get(j).As<Napi::Number>().DoubleValue());
      }
      c.phases.push_back(std::move(ph));
    }
  }
  if (!o.Get("server").IsObject()) throw_bad(env, "sim config needs `server`");
  c.server = parse_policy(env, o.Get("server").As<Napi::Object>());
  check_groups(env, c.server, c.types.size());
  if (o.Get("perServer").IsArray()) {
    const Napi::Array a = o.Get("perServer").As<Napi::Array>();
    for (uint32_t i = 0; i < a.Length(); i++) {
      c.per_server.push_back(parse_server_spec(env, a.Get(i)));
      check_groups(env, c.per_server.back().policy, c.types.size());
    }
  }
  parse_means(o.Get("meanNs"), &c.mean_ns);
  c.bounce = get_bool(o, "bounce", true);
  c.timeline_ns = get_u64(o, "timelineNs", 0);
  return c;
}

Napi::Object summary(Napi::Env env, const sim::Summary& s) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("mean", s.mean);
  o.Set("p50", s.p50);
  o.Set("p99", s.p99);
  o.Set("p999", s.p999);
  o.Set("count", static_cast<double>(s.count));
  o.Set("p99Lo", s.p99_lo);
  if (s.p99_hi >= 0)
    o.Set("p99Hi", s.p99_hi);
  else
    o.Set("p99Hi", env.Null());
  return o;
}

Napi::Object counters(Napi::Env env, const policy::PolicyCounters& c) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("n_arrivals", static_cast<double>(c.n_arrivals));
  o.Set("n_dispatched", static_cast<double>(c.n_dispatched));
  o.Set("n_completed", static_cast<double>(c.n_completed));
  o.Set("n_drop_full", static_cast<double>(c.n_drop_full));
  o.Set("n_drop_clone", static_cast<double>(c.n_drop_clone));
  o.Set("n_bounced", static_cast<double>(c.n_bounced));
  o.Set("n_preempted", static_cast<double>(c.n_preempted));
  o.Set("n_reserved", static_cast<double>(c.n_reserved));
  return o;
}

Napi::Object result_object(Napi::Env env, const sim::SimResult& r) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("offeredRps", r.offered_rps);
  o.Set("achievedRps", r.achieved_rps);
  o.Set("arrivalRps", r.arrival_rps);
  o.Set("requests", static_cast<double>(r.requests));
  o.Set("measured", static_cast<double>(r.measured));
  o.Set("completed", static_cast<double>(r.completed));
  Napi::Object dropped = Napi::Object::New(env);
  dropped.Set("queueFull", static_cast<double>(r.dropped_full));
  dropped.Set("clone", static_cast<double>(r.dropped_clone));
  o.Set("dropped", dropped);
  o.Set("events", static_cast<double>(r.events));
  o.Set("eventsPerSec", r.events_per_sec);
  o.Set("wallS", r.wall_s);
  o.Set("simTimeS", r.sim_time_s);
  o.Set("latencyUs", summary(env, r.latency_us));
  o.Set("waitUs", summary(env, r.wait_us));
  o.Set("slowdown", summary(env, r.slowdown));
  o.Set("waitedFraction", r.waited_fraction);
  o.Set("inSystemMean", r.in_system_mean);
  Napi::Object pt = Napi::Object::New(env);
  for (const sim::TypeResult& t : r.per_type) {
    Napi::Object x = Napi::Object::New(env);
    x.Set("generated", static_cast<double>(t.generated));
    x.Set("measured", static_cast<double>(t.latency_us.count));
    x.Set("latencyUs", summary(env, t.latency_us));
    x.Set("waitUs", summary(env, t.wait_us));
    x.Set("slowdown", summary(env, t.slowdown));
    pt.Set(t.name, x);
  }
  o.Set("perType", pt);
  Napi::Array ps = Napi::Array::New(env, r.per_server_completed.size());
  for (size_t i = 0; i < r.per_server_completed.size(); i++)
    ps.Set(static_cast<uint32_t>(i), static_cast<double>(r.per_server_completed[i]));
  o.Set("perServerCompleted", ps);
  o.Set("policy", counters(env, r.policy));
  if (!r.reservation.empty()) o.Set("reservation", r.reservation);
  dropped.Set("switch", static_cast<double>(r.dropped_switch));
  o.Set("lost", static_cast<double>(r.lost));
  o.Set("duplicates", static_cast<double>(r.duplicates));
  o.Set("cloneCopies", static_cast<double>(r.clone_copies));
  o.Set("bouncedReroutes", static_cast<double>(r.bounced_reroutes));
  o.Set("updates", static_cast<double>(r.updates));
  o.Set("serverMoves", static_cast<double>(r.server_moves));
  Napi::Object sw = Napi::Object::New(env);
  sw.Set("n_requests", static_cast<double>(r.sw.n_requests));
  sw.Set("n_bounced", static_cast<double>(r.sw.n_bounced));
  sw.Set("n_cloned", static_cast<double>(r.sw.n_cloned));
  sw.Set("n_held", static_cast<double>(r.sw.n_held));
  sw.Set("n_drop_no_server", static_cast<double>(r.sw.n_drop_no_server));
  sw.Set("n_drop_full", static_cast<double>(r.sw.n_drop_full));
  sw.Set("n_replies", static_cast<double>(r.sw.n_replies));
  sw.Set("n_replies_filtered", static_cast<double>(r.sw.n_replies_filtered));
  sw.Set("n_clone_drop_notices", static_cast<double>(r.sw.n_clone_drop_notices));
  sw.Set("n_unmapped", static_cast<double>(r.sw.n_unmapped));
  sw.Set("n_filter_evicted", static_cast<double>(r.sw.n_filter_evicted));
  sw.Set("n_clone_suppressed", static_cast<double>(r.sw.n_clone_suppressed));
  sw.Set("n_po2", static_cast<double>(r.sw.n_po2));
  o.Set("switch", sw);
  if (!r.timeline.empty()) {
    Napi::Array tl = Napi::Array::New(env, r.timeline.size());
    for (size_t i = 0; i < r.timeline.size(); i++) {
      const sim::TimelinePoint& p = r.timeline[i];
      Napi::Object x = Napi::Object::New(env);
      x.Set("tMs", p.t_ms);
      Napi::Array c = Napi::Array::New(env, p.count.size()), q = Napi::Array::New(env, p.p99_us.size());
      for (size_t t = 0; t < p.count.size(); t++) {
        c.Set(static_cast<uint32_t>(t), static_cast<double>(p.count[t]));
        q.Set(static_cast<uint32_t>(t), p.p99_us[t]);
      }
      x.Set("count", c);
      x.Set("p99Us", q);
      tl.Set(static_cast<uint32_t>(i), x);
    }
    o.Set("timeline", tl);
  }
  o.Set("aborted", r.aborted);
  return o;
}

// The simulator's tick: publishes the requests generated so far in control[0] and stops the run
// when JS set control[1] or the addon is being torn down.
sim::Tick progress_tick(uint64_t* control, JobRegistry jobs) {
  return [control, jobs](uint64_t done) {
    if (!control) return jobs.aborting->load(std::memory_order_relaxed);
    std::atomic_ref<uint64_t>(control[0]).store(done, std::memory_order_relaxed);
    return jobs.aborting->load(std::memory_order_relaxed) ||
           std::atomic_ref<uint64_t>(control[1]).load(std::memory_order_relaxed) != 0;
  };
}

// ---- runSim --------------------------------------------------------------------------------------
class SimWorker : public StatusJob {
 public:
  SimWorker(Napi::Env env, sim::SimConfig cfg, Napi::BigUint64Array control, JobRegistry jobs)
      : StatusJob(env, jobs), cfg_(std::move(cfg)) {
    if (!control.IsEmpty()) {
      control_ref_ = Napi::Persistent(control.As<Napi::Object>());
      control_ = control.Data();
    }
  }

 protected:
  Status run() override { return sim::run(cfg_, &res_, progress_tick(control_, jobs())); }
  Napi::Value result(Napi::Env env) override { return result_object(env, res_); }

 private:
  sim::SimConfig cfg_;
  Napi::ObjectReference control_ref_;
  uint64_t* control_ = nullptr;
  sim::SimResult res_;
};

// ---- PolicyHarness: one policy under a clock the caller passes in --------------------------------
Item parse_item(const Napi::Value& v) {
  Item it;
  if (!v.IsObject()) return it;
  const Napi::Object o = v.As<Napi::Object>();
  it.handle = get_u32(o, "handle", 0);
  it.type = static_cast<uint8_t>(get_u32(o, "type", 0));
  it.flags = static_cast<uint8_t>(get_u32(o, "flags", 0));
  it.group = static_cast<uint8_t>(get_u32(o, "group", 0));
  it.enq_ns = get_u64(o, "enqNs", 0);
  it.work_ns = get_u64(o, "workNs", 0);
  return it;
}

Napi::Object item_object(Napi::Env env, const Item& it) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("handle", it.handle);
  o.Set("type", it.type);
  o.Set("flags", it.flags);
  o.Set("group", it.group);
  o.Set("enqNs", static_cast<double>(it.enq_ns));
  o.Set("workNs", static_cast<double>(it.work_ns));
  return o;
}

Napi::Object reservation_object(Napi::Env env, const policy::Reservation& r) {
  Napi::Object o = Napi::Object::New(env);
  Napi::Array groups = Napi::Array::New(env, r.groups.size());
  for (size_t g = 0; g < r.groups.size(); g++) {
    const policy::GroupReservation& gr = r.groups[g];
    Napi::Object x = Napi::Object::New(env);
    Napi::Array ts = Napi::Array::New(env, gr.types.size());
    for (size_t i = 0; i < gr.types.size(); i++) ts.Set(static_cast<uint32_t>(i), gr.types[i]);
    x.Set("types", ts);
    x.Set("meanNs", gr.mean_ns);
    x.Set("demand", gr.demand);
    x.Set("first", gr.first);
    x.Set("count", gr.count);
    x.Set("spill", gr.spill);
    groups.Set(static_cast<uint32_t>(g), x);
  }
  o.Set("groups", groups);
  o.Set("spillway", r.spillway);
  Napi::Array upto = Napi::Array::New(env, r.serve_upto.size());
  for (size_t w = 0; w < r.serve_upto.size(); w++) upto.Set(static_cast<uint32_t>(w), r.serve_upto[w]);
  o.Set("serveUpto", upto);
  return o;
}

class PolicyHarness : public Napi::ObjectWrap<PolicyHarness> {
 public:
  static Napi::Function Init(Napi::Env env) {
    return DefineClass(
        env, "PolicyHarness",
        {InstanceMethod("arrive", &PolicyHarness::Arrive), InstanceMethod("next", &PolicyHarness::Next),
         InstanceMethod("complete", &PolicyHarness::Complete), InstanceMethod("sliceEnd", &PolicyHarness::SliceEndM),
         InstanceMethod("bounce", &PolicyHarness::Bounce), InstanceMethod("takeKick", &PolicyHarness::TakeKick),
         InstanceMethod("idle", &PolicyHarness::Idle), InstanceMethod("queued", &PolicyHarness::Queued),
         InstanceMethod("counters", &PolicyHarness::Counters),
         InstanceMethod("reservation", &PolicyHarness::ReservationM),
         InstanceMethod("nextDeparture", &PolicyHarness::NextDeparture),
         InstanceMethod("popDeparture", &PolicyHarness::PopDeparture)});
  }
  explicit PolicyHarness(const Napi::CallbackInfo& info) : Napi::ObjectWrap<PolicyHarness>(info) {
    Napi::Env env = info.Env();
    if (info.Length() < 1 || !info[0].IsObject()) throw_bad(env, "PolicyHarness needs a policy config");
    std::string err;
    p_ = policy::make_policy(parse_policy(env, info[0].As<Napi::Object>()), &err);
  }

 private:
  static uint64_t now_of(const Napi::CallbackInfo& info, size_t i) {
    return info.Length() > i && info[i].IsNumber() ? static_cast<uint64_t>(info[i].As<Napi::Number>().DoubleValue())
                                                   : 0;
  }
  uint32_t worker_of(const Napi::CallbackInfo& info) {
    const uint32_t w = info.Length() > 0 && info[0].IsNumber() ? info[0].As<Napi::Number>().Uint32Value() : UINT32_MAX;
    if (w >= p_->workers()) throw_bad(info.Env(), "worker index out of range");
    return w;
  }
  Napi::Value Arrive(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    const policy::Verdict v = p_->on_arrival(parse_item(info[0]), now_of(info, 1));
    Napi::Object o = Napi::Object::New(env);
    o.Set("admit", v.admit == policy::Admit::kQueued     ? "queued"
                   : v.admit == policy::Admit::kDropFull ? "drop_full"
                                                         : "drop_clone");
    o.Set("wake", v.wake == policy::kNoWorker ? Napi::Value(env.Null()) : Napi::Number::New(env, v.wake));
    return o;
  }
  Napi::Value Next(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    policy::Dispatch d;
    if (!p_->next_for_worker(worker_of(info), now_of(info, 1), &d)) return env.Null();
    Napi::Object o = item_object(env, d.item);
    o.Set("budgetNs", d.budget_ns == policy::kRunToCompletion
                          ? Napi::Value(env.Null())
                          : Napi::Number::New(env, static_cast<double>(d.budget_ns)));
    return o;
  }
  Napi::Value Complete(const Napi::CallbackInfo& info) {
    p_->on_completion(worker_of(info), parse_item(info[1]), now_of(info, 2), now_of(info, 3));
    return info.Env().Undefined();
  }
  Napi::Value SliceEndM(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    uint64_t budget = 0, cost = 0;
    const policy::SliceEnd v = p_->on_slice_end(worker_of(info), parse_item(info[1]), now_of(info, 2), &budget, &cost);
    Napi::Object o = Napi::Object::New(env);
    o.Set("verdict", v == policy::SliceEnd::kContinue ? "continue" : "requeued");
    o.Set("budgetNs", budget == policy::kRunToCompletion ? Napi::Value(env.Null())
                                                         : Napi::Number::New(env, static_cast<double>(budget)));
    o.Set("switchCostNs", static_cast<double>(cost));
    return o;
  }
  Napi::Value Bounce(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (info.Length() < 1 || !info[0].IsObject()) throw_bad(env, "bounce needs {by, values}");
    const Napi::Object f = info[0].As<Napi::Object>();
    policy::BounceFilter bf;
    bf.by_type = get_string(f, "by", "group") == "type";
    const Napi::Array vals = f.Get("values").As<Napi::Array>();
    for (uint32_t i = 0; i < vals.Length(); i++)
      bf.add(static_cast<uint8_t>(vals.Get(i).As<Napi::Number>().Uint32Value()));
    std::vector<Item> out;
    p_->bounce(bf, &out);
    Napi::Array a = Napi::Array::New(env, out.size());
    for (size_t i = 0; i < out.size(); i++) a.Set(static_cast<uint32_t>(i), item_object(env, out[i]));
    return a;
  }
  Napi::Value TakeKick(const Napi::CallbackInfo& info) { return Napi::Boolean::New(info.Env(), p_->take_kick()); }
  Napi::Value Idle(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    Napi::Array a = Napi::Array::New(env);
    uint32_t n = 0;
    for (uint32_t w = p_->idle().next(0); w != policy::kNoWorker; w = p_->idle().next(w + 1)) a.Set(n++, w);
    return a;
  }
  Napi::Value Queued(const Napi::CallbackInfo& info) {
    return Napi::Number::New(info.Env(), static_cast<double>(p_->queued()));
  }
  Napi::Value Counters(const Napi::CallbackInfo& info) { return counters(info.Env(), p_->counters()); }
  Napi::Value ReservationM(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    const policy::Reservation* r = p_->reservation();
    return r ? Napi::Value(reservation_object(env, *r)) : Napi::Value(env.Null());
  }
  Napi::Value NextDeparture(const Napi::CallbackInfo& info) {
    const uint64_t t = p_->next_departure_ns();
    return t == policy::kNever ? info.Env().Null() : Napi::Number::New(info.Env(), static_cast<double>(t));
  }
  Napi::Value PopDeparture(const Napi::CallbackInfo& info) {
    Item it;
    if (!p_->pop_departure(now_of(info, 0), &it)) return info.Env().Null();
    return item_object(info.Env(), it);
  }

  std::unique_ptr<policy::Policy> p_;
};

// ---- SimSession: a simulation in steps, for a control plane in JS (lib/control) ------------------
// advance() runs on a libuv worker; the other methods run on the JS thread and are refused while
// an advance is in flight, so the Session is only ever used by one thread at a time.
class SimSession : public Napi::ObjectWrap<SimSession> {
 public:
  static Napi::Function Init(Napi::Env env, JobRegistry jobs) {
    Napi::Function f =
        DefineClass(env, "SimSession",
                    {InstanceMethod("advance", &SimSession::Advance), InstanceMethod("nowNs", &SimSession::NowNs),
                     InstanceMethod("monitor", &SimSession::Monitor), InstanceMethod("apply", &SimSession::Apply),
                     InstanceMethod("finish", &SimSession::Finish)});
    jobs_of_ = jobs;
    return f;
  }
  explicit SimSession(const Napi::CallbackInfo& info) : Napi::ObjectWrap<SimSession>(info) {
    Napi::Env env = info.Env();
    if (info.Length() < 1 || !info[0].IsObject()) throw_bad(env, "SimSession needs a config object");
    cfg_ = parse_sim(env, info[0].As<Napi::Object>());
    types_ = cfg_.types.size();
    const Status st = s_.open(cfg_);
    if (!st.ok()) throw_status(env, st);
  }

  class Step : public Napi::AsyncWorker {
   public:
    Step(Napi::Env env, SimSession* s, uint64_t until, Napi::BigUint64Array control)
        : Napi::AsyncWorker(env), deferred_(Napi::Promise::Deferred::New(env)), s_(s), until_(until) {
      self_ = Napi::Persistent(s->Value());
      if (!control.IsEmpty()) {
        control_ref_ = Napi::Persistent(control.As<Napi::Object>());
        control_ = control.Data();
      }
      jobs_of_.running->fetch_add(1);
    }
    Napi::Promise promise() { return deferred_.Promise(); }
    void Execute() override {
      done_ = s_->s_.advance(until_, progress_tick(control_, jobs_of_));
      jobs_of_.running->fetch_sub(1);
    }
    void OnOK() override {
      s_->busy_ = false;
      deferred_.Resolve(Napi::Boolean::New(Env(), done_));
    }
    void OnError(const Napi::Error& e) override {
      s_->busy_ = false;
      deferred_.Reject(e.Value());
    }

   private:
    Napi::Promise::Deferred deferred_;
    SimSession* s_;
    uint64_t until_;
    bool done_ = false;
    Napi::ObjectReference self_, control_ref_;
    uint64_t* control_ = nullptr;
  };

 private:
  void idle_or_throw(Napi::Env env) {
    if (busy_)
      throw_status(env, Status::Error("BAD_STATE", "the simulation is advancing; wait for advance() to settle"));
    if (finished_) throw_status(env, Status::Error("BAD_STATE", "the simulation is finished"));
  }
  Napi::Value Advance(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    idle_or_throw(env);
    if (info.Length() < 1 || !info[0].IsNumber()) throw_bad(env, "advance(untilNs[, control])");
    const double until = info[0].As<Napi::Number>().DoubleValue();
    Napi::BigUint64Array control;
    if (info.Length() > 1 && info[1].IsTypedArray()) {
      if (info[1].As<Napi::TypedArray>().TypedArrayType() != napi_biguint64_array ||
          info[1].As<Napi::TypedArray>().ElementLength() < 2)
        throw_bad(env, "advance's control must be a BigUint64Array of 2");
      control = info[1].As<Napi::BigUint64Array>();
    }
    busy_ = true;
    auto* w = new Step(env, this, until >= 1.8e19 ? UINT64_MAX : static_cast<uint64_t>(until < 0 ? 0 : until), control);
    Napi::Promise p = w->promise();
    w->Queue();
    return p;
  }
  Napi::Value NowNs(const Napi::CallbackInfo& info) {
    return Napi::Number::New(info.Env(), static_cast<double>(s_.now_ns()));
  }
  // The monitor registers (docs/switch-contract.md): cumulative u32 per simulated type; the control
  // plane takes differences between reads, as it does with a live switch.
  Napi::Value Monitor(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    idle_or_throw(env);
    const sw::Monitor* m = s_.monitor();
    if (!m) return env.Null();
    Napi::Array replies = Napi::Array::New(env, types_), units = Napi::Array::New(env, types_),
                notices = Napi::Array::New(env, types_);
    Napi::Array requests = Napi::Array::New(env, types_);
    for (uint32_t t = 0; t < types_; t++) {
      const uint8_t ty = static_cast<uint8_t>(t);
      requests.Set(t, m->requests(ty));
      replies.Set(t, m->replies(ty));
      units.Set(t, m->time_units(ty));
      notices.Set(t, m->notices(ty));
    }
    Napi::Object o = Napi::Object::New(env);
    o.Set("requests", requests);
    o.Set("replies", replies);
    o.Set("timeUnits", units);
    o.Set("notices", notices);
    o.Set("nowNs", static_cast<double>(s_.now_ns()));
    return o;
  }
  Napi::Value Apply(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    idle_or_throw(env);
    if (info.Length() < 1 || !info[0].IsObject()) throw_bad(env, "apply({tables?, servers?, meanNs?})");
    const Napi::Object o = info[0].As<Napi::Object>();
    sim::Update u;
    if (o.Get("tables").IsObject()) {
      u.has_tables = true;
      u.tables = parse_tables(env, o.Get("tables").As<Napi::Object>());
    }
    if (o.Get("servers").IsArray()) {
      const Napi::Array a = o.Get("servers").As<Napi::Array>();
      for (uint32_t i = 0; i < a.Length(); i++) {
        const Napi::Object x = a.Get(i).As<Napi::Object>();
        sim::ServerSpec spec = parse_server_spec(env, x);
        check_groups(env, spec.policy, types_);
        u.servers.emplace_back(get_u32(x, "server", UINT32_MAX), std::move(spec));
      }
    }
    u.mean_ns = cfg_.mean_ns;
    parse_means(o.Get("meanNs"), &u.mean_ns);
    const Status st = s_.apply(u);
    if (!st.ok()) throw_status(env, st);
    cfg_.mean_ns = u.mean_ns;
    return env.Undefined();
  }
  Napi::Value Finish(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    idle_or_throw(env);
    finished_ = true;
    sim::SimResult r;
    s_.finish(&r);
    return result_object(env, r);
  }

  static JobRegistry jobs_of_;
  sim::SimConfig cfg_;
  sim::Session s_;
  uint32_t types_ = 0;
  bool busy_ = false, finished_ = false;
};

JobRegistry SimSession::jobs_of_{nullptr, nullptr};

Napi::Value RunSim(const Napi::CallbackInfo& info, JobRegistry jobs) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsObject()) throw_bad(env, "runSim needs a config object");
  Napi::BigUint64Array control;
  if (info.Length() > 1 && info[1].IsTypedArray()) {
    if (info[1].As<Napi::TypedArray>().TypedArrayType() != napi_biguint64_array ||
        info[1].As<Napi::TypedArray>().ElementLength() < 2)
      throw_bad(env, "runSim's control must be a BigUint64Array of 2");
    control = info[1].As<Napi::BigUint64Array>();
  }
  return (new SimWorker(env, parse_sim(env, info[0].As<Napi::Object>()), control, jobs))->start();
}

Napi::Value DarcReserve(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 2 || !info[0].IsArray() || !info[1].IsNumber())
    throw_bad(env, "darcReserve(profiles, workers[, groupRatio])");
  const Napi::Array a = info[0].As<Napi::Array>();
  std::vector<policy::TypeProfile> ps;
  for (uint32_t i = 0; i < a.Length(); i++) {
    const Napi::Object o = a.Get(i).As<Napi::Object>();
    ps.push_back({static_cast<uint8_t>(get_u32(o, "type", 0)), get_num(o, "meanNs", 0), get_num(o, "share", 0)});
  }
  const uint32_t workers = info[1].As<Napi::Number>().Uint32Value();
  if (workers == 0) throw_bad(env, "darcReserve needs at least one worker");
  const double ratio = info.Length() > 2 && info[2].IsNumber() ? info[2].As<Napi::Number>().DoubleValue() : 1.2;
  const policy::Reservation r = policy::darc_reserve(ps, workers, ratio);
  if (!r.valid()) return env.Null();
  Napi::Object o = reservation_object(env, r);
  Napi::Object dem = Napi::Object::New(env);
  for (const policy::TypeProfile& p : ps) dem.Set(std::to_string(p.type), r.demand_of[p.type]);
  o.Set("demandOf", dem);
  return o;
}

}  // namespace

void register_sim(Napi::Env env, Napi::Object exports, JobRegistry jobs) {
  exports.Set("runSim",
              Napi::Function::New(env, [jobs](const Napi::CallbackInfo& info) { return RunSim(info, jobs); }));
  exports.Set("darcReserve", Napi::Function::New(env, DarcReserve));
  exports.Set("PolicyHarness", PolicyHarness::Init(env));
  exports.Set("SimSession", SimSession::Init(env, jobs));
}

}  // namespace pallas::addon
