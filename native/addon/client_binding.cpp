// N-API binding of the load generator (native/client): `clientSchedule` (the schedule a config
// gives, for tests and inspection) and `runClient` (a run on a libuv worker, settling a promise
// with the counts and the per-type latency histograms as bucket lists). Configs arrive normalised
// by lib/client.
#include "client_binding.hpp"

#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "../client/client.hpp"

namespace pallas::addon {

namespace {

client::ScheduleConfig parse_schedule(Napi::Env env, const Napi::Object& o) {
  client::ScheduleConfig c;
  if (!o.Get("types").IsArray() || !o.Get("phases").IsArray())
    throw_bad(env, "a client config needs `types` and `phases`");
  const Napi::Array types = o.Get("types").As<Napi::Array>();
  for (uint32_t i = 0; i < types.Length(); i++) {
    const Napi::Object t = types.Get(i).As<Napi::Object>();
    client::TypeSpec ts;
    ts.wire_type = static_cast<uint8_t>(get_u32(t, "wireType", 1));
    ts.share = get_num(t, "share", 1);
    const std::string d = get_string(t, "dist", "fixed");
    ts.service.dist = d == "exp" ? Dist::kExp : d == "lognormal" ? Dist::kLognormal : Dist::kFixed;
    ts.service.mean_ns = get_num(t, "meanNs", 1000);
    ts.service.sigma = get_num(t, "sigma", 1);
    ts.keys = get_u32(t, "keys", ts.keys);
    ts.count = static_cast<uint16_t>(get_u32(t, "count", ts.count));
    if (t.Get("process").IsString()) {
      ts.own_arrivals = true;
      const std::string tp = get_string(t, "process");
      ts.arrivals.process = tp == "gamma" ? Process::kGamma : tp == "fixed" ? Process::kFixed : Process::kPoisson;
      ts.arrivals.cv = get_num(t, "cv", 1);
    }
    c.types.push_back(ts);
  }
  const Napi::Array phases = o.Get("phases").As<Napi::Array>();
  for (uint32_t i = 0; i < phases.Length(); i++) {
    const Napi::Object p = phases.Get(i).As<Napi::Object>();
    client::PhaseSpec ps;
    ps.duration_ns = get_u64(p, "durationNs", ps.duration_ns);
    ps.rate_rps = get_num(p, "rateRps", ps.rate_rps);
    if (p.Get("shares").IsArray()) {
      const Napi::Array s = p.Get("shares").As<Napi::Array>();
      for (uint32_t j = 0; j < s.Length(); j++) ps.shares.push_back(s.Get(j).As<Napi::Number>().DoubleValue());
    }
    c.phases.push_back(std::move(ps));
  }
  const std::string proc = get_string(o, "process", "poisson");
  c.arrivals.process = proc == "gamma" ? Process::kGamma : proc == "fixed" ? Process::kFixed : Process::kPoisson;
  c.arrivals.cv = get_num(o, "cv", 1);
  c.seed = get_u64(o, "seed", 1);
  c.max_requests = get_u64(o, "maxRequests", c.max_requests);
  return c;
}

Napi::Value ClientSchedule(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsObject()) throw_bad(env, "clientSchedule needs a config object");
  std::vector<client::Entry> sched;
  if (Status st = client::build_schedule(parse_schedule(env, info[0].As<Napi::Object>()), &sched); !st.ok())
    throw_status(env, st);
  Napi::Float64Array t = Napi::Float64Array::New(env, sched.size());
  Napi::Uint8Array type = Napi::Uint8Array::New(env, sched.size());
  Napi::Uint32Array arg = Napi::Uint32Array::New(env, sched.size());
  for (size_t i = 0; i < sched.size(); i++) {
    t[i] = static_cast<double>(sched[i].t_ns);
    type[i] = sched[i].type;
    arg[i] = sched[i].arg;
  }
  Napi::Object o = Napi::Object::New(env);
  o.Set("tNs", t);
  o.Set("type", type);
  o.Set("arg", arg);
  return o;
}

class ClientJob : public StatusJob {
 public:
  ClientJob(Napi::Env env, std::unique_ptr<io::Transport> t, client::ClientConfig cfg, Napi::BigUint64Array control,
            JobRegistry jobs)
      : StatusJob(env, jobs), t_(std::move(t)), cfg_(std::move(cfg)) {
    if (!control.IsEmpty()) {
      control_ref_ = Napi::Persistent(control.As<Napi::Object>());
      control_ = control.Data();
    }
  }

 protected:
  Status run() override {
    std::vector<client::Entry> sched;
    Status st = client::build_schedule(cfg_.schedule, &sched);
    if (st.ok()) {
      const std::atomic<bool>* aborting = jobs().aborting;
      uint64_t* control = control_;
      res_ = client::run_client(*t_, cfg_, sched, [aborting, control](uint64_t sent) {
        if (control) std::atomic_ref<uint64_t>(control[0]).store(sent, std::memory_order_relaxed);
        return aborting->load(std::memory_order_relaxed) ||
               (control && std::atomic_ref<uint64_t>(control[1]).load(std::memory_order_relaxed) != 0);
      });
    }
    t_.reset();  // close the transport on this thread, before the promise settles
    return st;
  }
  Napi::Value result(Napi::Env env) override {
    const client::ClientResult& r = res_;
    Napi::Object o = Napi::Object::New(env);
    auto num = [&](Napi::Object& x, const char* k, double v) { x.Set(k, Napi::Number::New(env, v)); };
    num(o, "scheduled", r.scheduled);
    num(o, "sent", r.sent);
    num(o, "replies", r.replies);
    num(o, "drops", r.drops);
    num(o, "timeouts", r.timeouts);
    num(o, "neverSent", r.never_sent);
    num(o, "late", r.late);
    num(o, "lateMaxNs", r.late_max_ns);
    num(o, "duplicates", r.duplicates);
    num(o, "unexpected", r.unexpected);
    num(o, "invalid", r.invalid);
    num(o, "txRetries", r.tx_retries);
    num(o, "firstSendNs", r.first_send_ns);
    num(o, "lastSendNs", r.last_send_ns);
    num(o, "endNs", r.end_ns);
    num(o, "cpuNs", r.cpu_ns);
    o.Set("realtime", r.realtime);
    o.Set("aborted", r.aborted);
    o.Set("accountingOk", r.accounting_ok());
    Napi::Array causes = Napi::Array::New(env, client::kDropCauses);
    for (uint32_t i = 0; i < client::kDropCauses; i++)
      causes.Set(i, Napi::Number::New(env, static_cast<double>(r.drops_by_cause[i])));
    o.Set("dropsByCause", causes);
    Napi::Array per = Napi::Array::New(env, r.per_type.size());
    for (size_t i = 0; i < r.per_type.size(); i++) {
      const client::TypeOutcome& to = r.per_type[i];
      Napi::Object x = Napi::Object::New(env);
      num(x, "scheduled", to.scheduled);
      num(x, "sent", to.sent);
      num(x, "replies", to.replies);
      num(x, "drops", to.drops);
      num(x, "timeouts", to.timeouts);
      num(x, "neverSent", to.never_sent);
      num(x, "late", to.late);
      // Latency buckets as [lower, width, count] triples (ns), lowest first.
      std::vector<double> b;
      to.latency.for_each([&](uint64_t lo, uint64_t w, uint64_t n) {
        b.push_back(static_cast<double>(lo));
        b.push_back(static_cast<double>(w));
        b.push_back(static_cast<double>(n));
      });
      Napi::Float64Array buckets = Napi::Float64Array::New(env, b.size());
      std::copy(b.begin(), b.end(), buckets.Data());
      x.Set("latencyBuckets", buckets);
      num(x, "latencyMaxNs", static_cast<double>(to.latency.max()));
      num(x, "latencyMeanNs", to.latency.mean());
      num(x, "measured", static_cast<double>(to.measured));
      num(x, "execMeanNs", to.measured ? to.exec_ns_sum / static_cast<double>(to.measured) : 0);
      per.Set(static_cast<uint32_t>(i), x);
    }
    o.Set("perType", per);
    return o;
  }

 private:
  std::unique_ptr<io::Transport> t_;
  client::ClientConfig cfg_;
  client::ClientResult res_;
  Napi::ObjectReference control_ref_;
  uint64_t* control_ = nullptr;
};

JobRegistry g_jobs{nullptr, nullptr};

Napi::Value RunClient(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsObject()) throw_bad(env, "runClient needs a config object");
  const Napi::Object o = info[0].As<Napi::Object>();
  if (!o.Get("transport").IsObject() || !o.Get("dst").IsObject())
    throw_bad(env, "runClient needs `transport` and `dst`");
  client::ClientConfig c;
  c.schedule = parse_schedule(env, o);
  c.dst = parse_endpoint(env, o.Get("dst").As<Napi::Object>());
  c.timeout_ns = get_u64(o, "timeoutNs", c.timeout_ns);
  c.late_ns = get_u64(o, "lateNs", c.late_ns);
  c.spin_max_ns = get_u64(o, "spinMaxNs", c.spin_max_ns);
  c.realtime = get_bool(o, "realtime", false);
  c.lead_ns = get_u64(o, "leadNs", c.lead_ns);
  c.warmup_ns = get_u64(o, "warmupNs", 0);
  Napi::BigUint64Array control;
  if (info.Length() > 1 && info[1].IsTypedArray()) {
    control = info[1].As<Napi::BigUint64Array>();
    if (control.ElementLength() < 2) throw_bad(env, "the client's control array needs 2 elements");
  }
  std::unique_ptr<io::Transport> t = open_transport(env, o.Get("transport").As<Napi::Object>());
  return (new ClientJob(env, std::move(t), std::move(c), control, g_jobs))->start();
}

}  // namespace

void register_client(Napi::Env env, Napi::Object exports, JobRegistry jobs) {
  g_jobs = jobs;
  exports.Set("clientSchedule", Napi::Function::New(env, ClientSchedule));
  exports.Set("runClient", Napi::Function::New(env, RunClient));
}

}  // namespace pallas::addon
