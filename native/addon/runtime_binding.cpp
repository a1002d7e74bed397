// N-API bindings of the server runtime (native/runtime): the Runtime class, its statistics as
// typed-array views over shared memory, the layout JS needs to read them, and the RocksDB loader
// and direct-call benchmark (both run on libuv workers). Configs arrive normalised by
// lib/runtime (TypeScript); this file maps them onto the C++ structs and keeps cheap guards only.
#include "runtime_binding.hpp"

#include <algorithm>
#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "../runtime/kv.hpp"
#include "../runtime/runtime.hpp"
#include "sim_binding.hpp"

namespace pallas::addon {

namespace {

using runtime::Runtime;
using runtime::Work;

Work work_of(Napi::Env env, const std::string& k) {
  if (k == "zero") return Work::kZero;
  if (k == "spin") return Work::kSpin;
  if (k == "fixed") return Work::kFixed;
  if (k == "get") return Work::kGet;
  if (k == "scan") return Work::kScan;
  throw_bad(env, "unknown handler '" + k + "' (zero, spin, fixed, get, scan)");
}

runtime::PolicyUpdate parse_update(Napi::Env env, const Napi::Object& o) {
  runtime::PolicyUpdate u;
  u.epoch = get_u64(o, "epoch", 0);
  if (!o.Get("policy").IsObject()) throw_bad(env, "a policy update needs `policy`");
  u.policy = parse_policy(env, o.Get("policy").As<Napi::Object>());
  if (o.Get("served").IsArray()) {
    u.has_served = true;
    const Napi::Array a = o.Get("served").As<Napi::Array>();
    for (uint32_t i = 0; i < a.Length(); i++) u.served[a.Get(i).As<Napi::Number>().Uint32Value() & 255] = 1;
  }
  if (o.Get("meanNs").IsArray()) {
    const Napi::Array a = o.Get("meanNs").As<Napi::Array>();
    for (uint32_t i = 0; i < a.Length(); i++) {
      const Napi::Object m = a.Get(i).As<Napi::Object>();
      u.mean_ns[get_u32(m, "type", 0) & 255] = get_num(m, "ns", 0);
    }
  }
  return u;
}

class RuntimeWrap : public Napi::ObjectWrap<RuntimeWrap>, public Closable {
 public:
  static Napi::Function Init(Napi::Env env) {
    return DefineClass(
        env, "Runtime",
        {InstanceMethod("start", &RuntimeWrap::Start), InstanceMethod("stop", &RuntimeWrap::Stop),
         InstanceMethod("apply", &RuntimeWrap::Apply), InstanceMethod("local", &RuntimeWrap::Local),
         InstanceMethod("transportKind", &RuntimeWrap::Kind), InstanceMethod("policyName", &RuntimeWrap::PolicyName),
         InstanceMethod("rowTypes", &RuntimeWrap::RowTypes), InstanceMethod("views", &RuntimeWrap::Views),
         InstanceMethod("transportCounters", &RuntimeWrap::TransportCounters),
         InstanceMethod("threadCpu", &RuntimeWrap::ThreadCpu)});
  }
  static LiveObjects* live_;

  explicit RuntimeWrap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<RuntimeWrap>(info) {
    Napi::Env env = info.Env();
    if (info.Length() < 1 || !info[0].IsObject()) throw_bad(env, "Runtime needs a config object");
    const Napi::Object o = info[0].As<Napi::Object>();
    if (!o.Get("transport").IsObject()) throw_bad(env, "Runtime config needs `transport`");
    if (!o.Get("policy").IsObject()) throw_bad(env, "Runtime config needs `policy`");
    runtime::RuntimeConfig c;
    c.server_id = static_cast<uint8_t>(get_u32(o, "serverId", 0));
    c.workers = get_u32(o, "workers", 1);
    if (o.Get("workerCores").IsArray()) {
      const Napi::Array a = o.Get("workerCores").As<Napi::Array>();
      for (uint32_t i = 0; i < a.Length(); i++) c.worker_cores.push_back(a.Get(i).As<Napi::Number>().Int32Value());
    }
    c.dispatcher_core =
        o.Get("dispatcherCore").IsNumber() ? o.Get("dispatcherCore").As<Napi::Number>().Int32Value() : -1;
    c.busy_poll = get_bool(o, "busyPoll", false);
    c.idle_polls = get_u32(o, "idlePolls", c.idle_polls);
    c.wait_us = get_u32(o, "waitUs", c.wait_us);
    c.slots = get_u32(o, "slots", c.slots);
    c.drop_notices = get_bool(o, "dropNotices", true);
    c.kv_path = get_string(o, "kvPath");
    if (o.Get("handlers").IsArray()) {
      const Napi::Array hs = o.Get("handlers").As<Napi::Array>();
      for (uint32_t i = 0; i < hs.Length(); i++) {
        const Napi::Object h = hs.Get(i).As<Napi::Object>();
        const uint32_t t = get_u32(h, "type", 256);
        if (t > 255) throw_bad(env, "handler type must be 0-255");
        c.work[t].kind = work_of(env, get_string(h, "kind"));
        c.work[t].fixed_ns = get_u64(h, "fixedNs", 0);
      }
    }
    c.policy = parse_policy(env, o.Get("policy").As<Napi::Object>());
    std::unique_ptr<io::Transport> t = open_transport(env, o.Get("transport").As<Napi::Object>());
    if (Status st = Runtime::create(std::move(t), std::move(c), &rt_); !st.ok()) throw_status(env, st);
    live_->items.insert(this);
  }
  ~RuntimeWrap() override { live_->items.erase(this); }
  // Env teardown: joins every thread and closes the transport (no JS runs after this).
  void Close() override { rt_.reset(); }

 private:
  Runtime& live(Napi::Env env) {
    if (!rt_) throw_status(env, Status::Error("CLOSED", "this runtime has been shut down"));
    return *rt_;
  }
  Napi::Value Start(const Napi::CallbackInfo& info) {
    if (Status st = live(info.Env()).start(); !st.ok()) throw_status(info.Env(), st);
    return info.Env().Undefined();
  }
  // Joins every thread; statistics stay readable until the object is collected.
  Napi::Value Stop(const Napi::CallbackInfo& info) {
    if (rt_) rt_->stop();
    return info.Env().Undefined();
  }
  Napi::Value Apply(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (info.Length() < 1 || !info[0].IsObject()) throw_bad(env, "apply needs a policy update object");
    runtime::PolicyUpdate u = parse_update(env, info[0].As<Napi::Object>());
    if (Status st = live(env).apply(std::move(u)); !st.ok()) throw_status(env, st);
    return env.Undefined();
  }
  Napi::Value Local(const Napi::CallbackInfo& info) {
    return endpoint_to_js(info.Env(), live(info.Env()).transport().local());
  }
  Napi::Value Kind(const Napi::CallbackInfo& info) {
    return Napi::String::New(info.Env(), live(info.Env()).transport().kind());
  }
  Napi::Value PolicyName(const Napi::CallbackInfo& info) {
    return Napi::String::New(info.Env(), live(info.Env()).policy_name());
  }
  Napi::Value RowTypes(const Napi::CallbackInfo& info) {
    const auto& rows = live(info.Env()).row_types();
    Napi::Array a = Napi::Array::New(info.Env(), rows.size());
    for (size_t i = 0; i < rows.size(); i++) a.Set(static_cast<uint32_t>(i), rows[i]);
    return a;
  }
  Napi::Value Views(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    runtime::StatsBlock& s = live(env).stats();
    Napi::Object o = Napi::Object::New(env);
    const char* names[] = {"server", "types", "workers", "hist"};
    for (int i = 0; i < 4; i++) o.Set(names[i], counter_view(env, s.area(i), s.area_size(i), Value()));
    return o;
  }
  // { dispatcherNs, workersNs: [...] }: CPU time each thread has used (zeros when not running).
  Napi::Value ThreadCpu(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    std::vector<uint64_t> workers;
    const uint64_t disp = live(env).thread_cpu_ns(&workers);
    Napi::Object o = Napi::Object::New(env);
    o.Set("dispatcherNs", static_cast<double>(disp));
    Napi::Array a = Napi::Array::New(env, workers.size());
    for (size_t w = 0; w < workers.size(); w++) a.Set(static_cast<uint32_t>(w), static_cast<double>(workers[w]));
    o.Set("workersNs", a);
    return o;
  }
  Napi::Value TransportCounters(const Napi::CallbackInfo& info) {
    return counter_view(info.Env(), &live(info.Env()).transport().counters(),
                        sizeof(io::TransportCounters) / sizeof(uint64_t), Value());
  }

  std::unique_ptr<Runtime> rt_;
};

LiveObjects* RuntimeWrap::live_ = nullptr;

Napi::Array names(Napi::Env env, const char* const* v, size_t n) {
  Napi::Array a = Napi::Array::New(env, n);
  for (size_t i = 0; i < n; i++) a.Set(static_cast<uint32_t>(i), v[i]);
  return a;
}

Napi::Value RuntimeLayout(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object o = Napi::Object::New(env);
  std::vector<std::string> server(std::begin(runtime::kServerCellNames), std::end(runtime::kServerCellNames));
  for (uint32_t i = 0; i < wire::kReasonCount; i++) server.push_back(std::string("n_invalid_") + wire::kReasonNames[i]);
  Napi::Array sa = Napi::Array::New(env, server.size());
  for (size_t i = 0; i < server.size(); i++) sa.Set(static_cast<uint32_t>(i), server[i]);
  o.Set("serverCells", sa);
  o.Set("typeCells", names(env, runtime::kTypeCellNames, runtime::kTypeCells));
  o.Set("workerCells", names(env, runtime::kWorkerCellNames, runtime::kWorkerCells));
  o.Set("workerStride", runtime::kWorkerStride);
  static const char* const kinds[] = {"exec_ns", "sojourn_ns"};
  o.Set("histKinds", names(env, kinds, runtime::kHistKinds));
  Napi::Float64Array lower = Napi::Float64Array::New(env, LogBuckets::kCount);
  for (int i = 0; i < LogBuckets::kCount; i++) lower[i] = static_cast<double>(LogBuckets::lower(i));
  o.Set("histLower", lower);
  return o;
}

// ---- RocksDB: loader and direct calls (libuv workers) --------------------------------------------

class KvLoadJob : public StatusJob {
 public:
  KvLoadJob(Napi::Env env, runtime::KvLoadConfig cfg, JobRegistry jobs) : StatusJob(env, jobs), cfg_(std::move(cfg)) {}

 protected:
  Status run() override { return runtime::kv_load(cfg_, &res_); }
  Napi::Value result(Napi::Env env) override {
    Napi::Object o = Napi::Object::New(env);
    o.Set("built", res_.built);
    o.Set("keys", res_.keys);
    o.Set("valueBytes", res_.value_bytes);
    return o;
  }

 private:
  runtime::KvLoadConfig cfg_;
  runtime::KvLoadResult res_;
};

// The same store calls as the GET/SCAN handlers, made directly in a loop: per-call ns.
class KvBenchJob : public StatusJob {
 public:
  KvBenchJob(Napi::Env env, std::string path, bool scan, uint32_t count, uint32_t iterations, int64_t key,
             JobRegistry jobs)
      : StatusJob(env, jobs), path_(std::move(path)), scan_(scan), count_(count), iterations_(iterations), key_(key) {}

 protected:
  Status run() override {
    std::unique_ptr<runtime::KvStore> kv;
    if (Status st = runtime::KvStore::open(path_, &kv); !st.ok()) return st;
    const platform::TscClock clock = platform::TscClock::calibrate();
    uint8_t out[wire::kMaxDatagram];
    ns_.reserve(iterations_);
    for (uint32_t i = 0; i < iterations_ && !jobs().aborting->load(); i++) {
      // A fixed key (as a client repeating one request would send), or keys spread over the space.
      const uint32_t key =
          key_ >= 0 ? static_cast<uint32_t>(key_) : static_cast<uint32_t>((uint64_t{i} * 2654435761u) % kv->keys());
      const uint64_t t0 = platform::rdtsc();
      const uint32_t n = scan_ ? kv->scan(key, count_, out, sizeof out - wire::kHeaderSize)
                               : kv->get(key, count_, out, sizeof out - wire::kHeaderSize);
      const uint64_t t1 = platform::rdtsc();
      if (i == 0) found_ = n >= runtime::kKvReplyFixed ? wire::load_be32(out) : 0;
      ns_.push_back(static_cast<double>(clock.ns(t1 - t0)));
    }
    return Status::Ok();
  }
  Napi::Value result(Napi::Env env) override {
    Napi::Float64Array a = Napi::Float64Array::New(env, ns_.size());
    std::copy(ns_.begin(), ns_.end(), a.Data());
    Napi::Object o = Napi::Object::New(env);
    o.Set("ns", a);
    o.Set("found", found_);
    return o;
  }

 private:
  std::string path_;
  bool scan_;
  uint32_t count_, iterations_;
  int64_t key_;
  std::vector<double> ns_;
  uint32_t found_ = 0;
};

JobRegistry g_jobs{nullptr, nullptr};

Napi::Value KvLoad(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsObject()) throw_bad(env, "kvLoad needs {path, keys, valueBytes}");
  const Napi::Object o = info[0].As<Napi::Object>();
  runtime::KvLoadConfig c;
  c.path = get_string(o, "path");
  if (c.path.empty()) throw_bad(env, "kvLoad needs a path");
  c.keys = get_u32(o, "keys", c.keys);
  c.value_bytes = get_u32(o, "valueBytes", c.value_bytes);
  return (new KvLoadJob(env, c, g_jobs))->start();
}

Napi::Value KvBench(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsObject()) throw_bad(env, "kvBench needs {path, op, count, iterations}");
  const Napi::Object o = info[0].As<Napi::Object>();
  const std::string op = get_string(o, "op", "get");
  if (op != "get" && op != "scan") throw_bad(env, "kvBench op must be get or scan");
  return (new KvBenchJob(env, get_string(o, "path"), op == "scan", get_u32(o, "count", 10),
                         get_u32(o, "iterations", 1000),
                         o.Get("key").IsNumber() ? static_cast<int64_t>(get_u32(o, "key", 0)) : -1, g_jobs))
      ->start();
}

Napi::Value KvValue(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 2 || !info[0].IsNumber() || !info[1].IsNumber())
    throw_bad(env, "kvValue needs (key, valueBytes)");
  const std::string v =
      runtime::kv_value(info[0].As<Napi::Number>().Uint32Value(), info[1].As<Napi::Number>().Uint32Value());
  return Napi::Buffer<char>::Copy(env, v.data(), v.size());
}

}  // namespace

void register_runtime(Napi::Env env, Napi::Object exports, LiveObjects* live, JobRegistry jobs) {
  RuntimeWrap::live_ = live;
  g_jobs = jobs;
  exports.Set("Runtime", RuntimeWrap::Init(env));
  exports.Set("runtimeLayout", Napi::Function::New(env, RuntimeLayout));
  exports.Set("kvLoad", Napi::Function::New(env, KvLoad));
  exports.Set("kvBench", Napi::Function::New(env, KvBench));
  exports.Set("kvValue", Napi::Function::New(env, KvValue));
}

}  // namespace pallas::addon
