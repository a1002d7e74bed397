// N-API bindings of the switch: SwitchPipeline, one Pipeline (native/core/switch) driven request by
// request under a clock the caller passes in (tests and tools); and SoftSwitch (native/switch),
// the software ToR switch, which runs a switch policy on its own thread over a transport without
// any call per packet, its statistics and monitor registers read as typed-array views.
#include "switch_binding.hpp"

#include <cstdlib>
#include <memory>
#include <string>

#include "../core/switch/pipeline.hpp"
#include "../switch/soft_switch.hpp"

namespace pallas::addon {

namespace {

Napi::Object forward_object(Napi::Env env, const sw::Forward& f) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("group", f.group);
  o.Set("server", f.server);
  o.Set("flags", f.flags);
  o.Set("index", f.index);
  return o;
}

class SwitchPipelineWrap : public Napi::ObjectWrap<SwitchPipelineWrap> {
 public:
  static Napi::Function Init(Napi::Env env) {
    return DefineClass(
        env, "SwitchPipeline",
        {InstanceMethod("load", &SwitchPipelineWrap::Load), InstanceMethod("request", &SwitchPipelineWrap::Request),
         InstanceMethod("reply", &SwitchPipelineWrap::Reply), InstanceMethod("monitor", &SwitchPipelineWrap::MonitorM),
         InstanceMethod("registers", &SwitchPipelineWrap::Registers),
         InstanceMethod("writeSeq", &SwitchPipelineWrap::WriteSeq),
         InstanceMethod("counters", &SwitchPipelineWrap::Counters)});
  }
  // new SwitchPipeline(tables, filterSlots?, {seed?, allowAblation?})
  explicit SwitchPipelineWrap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<SwitchPipelineWrap>(info) {
    Napi::Env env = info.Env();
    if (info.Length() < 1 || !info[0].IsObject()) throw_bad(env, "SwitchPipeline needs tables");
    const uint32_t slots =
        info.Length() > 1 && info[1].IsNumber() ? info[1].As<Napi::Number>().Uint32Value() : sw::kFilterSlots;
    if (slots == 0) throw_bad(env, "the reply filter needs at least one slot");
    uint64_t seed = 1;
    bool ablation = false;
    if (info.Length() > 2 && info[2].IsObject()) {
      const Napi::Object o = info[2].As<Napi::Object>();
      seed = get_u64(o, "seed", 1);
      ablation = get_bool(o, "allowAblation", false);
    }
    p_ = std::make_unique<sw::Pipeline>(slots, seed, ablation);
    Load(info);
  }

 private:
  Napi::Value Load(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (info.Length() < 1 || !info[0].IsObject()) throw_bad(env, "load needs tables");
    const Status st = p_->load(parse_tables(env, info[0].As<Napi::Object>()));
    if (!st.ok()) throw_status(env, st);
    return env.Undefined();
  }
  // writeSeq(v): the control plane's write of register seq (BAD_POLICY for 0).
  Napi::Value WriteSeq(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (info.Length() < 1 || !info[0].IsNumber()) throw_bad(env, "writeSeq needs a number");
    const double v = info[0].As<Napi::Number>().DoubleValue();
    if (!(v >= 0 && v <= 4294967295.0) || v != static_cast<double>(static_cast<uint32_t>(v)))
      throw_bad(env, "seq must be a 32-bit unsigned integer");
    const Status st = p_->write_seq(static_cast<uint32_t>(v));
    if (!st.ok()) throw_status(env, st);
    return env.Undefined();
  }
  // request({type, flags?, index?, group?, server?}, nowNs): group and server matter for a bounced request.
  Napi::Value Request(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (info.Length() < 1 || !info[0].IsObject()) throw_bad(env, "request needs {type, flags?, index?}");
    const Napi::Object r = info[0].As<Napi::Object>();
    const uint64_t now =
        info.Length() > 1 && info[1].IsNumber() ? static_cast<uint64_t>(info[1].As<Napi::Number>().DoubleValue()) : 0;
    sw::PipeRequest in;
    in.type = static_cast<uint8_t>(get_u32(r, "type", 0));
    in.flags = static_cast<uint8_t>(get_u32(r, "flags", 0));
    in.index = get_u32(r, "index", 0);
    in.group = static_cast<uint8_t>(get_u32(r, "group", 0));
    in.server = static_cast<uint16_t>(get_u32(r, "server", sw::kNoServer));
    const sw::RequestOut out = p_->on_request(in, now);
    Napi::Object o = forward_object(env, out.primary);
    o.Set("dropped", out.dropped);
    if (out.cloned) o.Set("clone", forward_object(env, out.clone));
    return o;
  }
  // reply({type, flags, index, group?, server?, timeNs}) → forward?
  Napi::Value Reply(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (info.Length() < 1 || !info[0].IsObject()) throw_bad(env, "reply needs {type, flags, index, timeNs}");
    const Napi::Object r = info[0].As<Napi::Object>();
    sw::PipeReply in;
    in.type = static_cast<uint8_t>(get_u32(r, "type", 0));
    in.flags = static_cast<uint8_t>(get_u32(r, "flags", 0));
    in.index = get_u32(r, "index", 0);
    in.group = static_cast<uint8_t>(get_u32(r, "group", 0));
    in.server = static_cast<uint16_t>(get_u32(r, "server", sw::kNoServer));
    in.time_ns = get_u32(r, "timeNs", 0);
    return Napi::Boolean::New(env, p_->on_reply(in));
  }
  // The monitor registers of every type with a non-zero cell: [{type, requests, replies, timeUnits, notices}].
  Napi::Value MonitorM(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    const sw::Monitor& m = p_->monitor();
    Napi::Array a = Napi::Array::New(env);
    uint32_t n = 0;
    for (uint32_t t = 0; t < 256; t++) {
      const uint8_t ty = static_cast<uint8_t>(t);
      if (m.requests(ty) == 0 && m.replies(ty) == 0 && m.time_units(ty) == 0 && m.notices(ty) == 0) continue;
      Napi::Object o = Napi::Object::New(env);
      o.Set("type", t);
      o.Set("requests", m.requests(ty));
      o.Set("replies", m.replies(ty));
      o.Set("timeUnits", m.time_units(ty));
      o.Set("notices", m.notices(ty));
      a.Set(n++, o);
    }
    return a;
  }
  // The other registers: seq; per group wrrCounter, cloneCounter, burstWindow, burstCount; the
  // outstanding counts of the servers named in the tables ([{group, server, value}]); and, with
  // a list of slots, those filter slots ({slot, lo, hi}).
  Napi::Value Registers(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    Napi::Object o = Napi::Object::New(env);
    o.Set("seq", p_->seq());
    Napi::Array wc = Napi::Array::New(env, sw::kMaxGroups), cc = Napi::Array::New(env, sw::kMaxGroups);
    Napi::Array bw = Napi::Array::New(env, sw::kMaxGroups), bc = Napi::Array::New(env, sw::kMaxGroups);
    for (uint32_t g = 0; g < sw::kMaxGroups; g++) {
      wc.Set(g, p_->wrr_counter().value(g));
      cc.Set(g, p_->clone_counter().value(g));
      bw.Set(g, p_->burst().window_of(g));
      bc.Set(g, p_->burst().count_of(g));
    }
    o.Set("wrrCounter", wc);
    o.Set("cloneCounter", cc);
    o.Set("burstWindow", bw);
    o.Set("burstCount", bc);
    Napi::Array out = Napi::Array::New(env);
    uint32_t n = 0;
    const sw::Tables& t = p_->tables();
    for (uint32_t g = 0; g < t.groups.size(); g++)
      for (const sw::WrrEntry& e : t.groups[g].wrr) {
        Napi::Object x = Napi::Object::New(env);
        x.Set("group", g);
        x.Set("server", e.server);
        x.Set("value", p_->outstanding().value(g, e.server));
        out.Set(n++, x);
      }
    o.Set("outstanding", out);
    if (info.Length() > 0 && info[0].IsArray()) {
      const Napi::Array slots = info[0].As<Napi::Array>();
      Napi::Array f = Napi::Array::New(env, slots.Length());
      for (uint32_t i = 0; i < slots.Length(); i++) {
        const uint32_t s = slots.Get(i).As<Napi::Number>().Uint32Value() % p_->filter().slots();
        Napi::Object x = Napi::Object::New(env);
        x.Set("slot", s);
        x.Set("lo", p_->filter().lo(s));
        x.Set("hi", p_->filter().hi(s));
        f.Set(i, x);
      }
      o.Set("filter", f);
    }
    return o;
  }
  Napi::Value Counters(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    const sw::SwitchCounters c = p_->counters();
    Napi::Object o = Napi::Object::New(env);
    o.Set("n_requests", static_cast<double>(c.n_requests));
    o.Set("n_unmapped", static_cast<double>(c.n_unmapped));
    o.Set("n_bounced", static_cast<double>(c.n_bounced));
    o.Set("n_cloned", static_cast<double>(c.n_cloned));
    o.Set("n_clone_suppressed", static_cast<double>(c.n_clone_suppressed));
    o.Set("n_drop_no_server", static_cast<double>(c.n_drop_no_server));
    o.Set("n_po2", static_cast<double>(c.n_po2));
    o.Set("n_replies", static_cast<double>(c.n_replies));
    o.Set("n_replies_filtered", static_cast<double>(c.n_replies_filtered));
    o.Set("n_filter_evicted", static_cast<double>(c.n_filter_evicted));
    o.Set("n_clone_drop_notices", static_cast<double>(c.n_clone_drop_notices));
    return o;
  }

  std::unique_ptr<sw::Pipeline> p_;
};

using softswitch::SoftSwitch;

io::Endpoint endpoint_or_absent(Napi::Env env, const Napi::Value& v) {
  if (v.IsNull() || v.IsUndefined()) return io::Endpoint{};
  if (!v.IsObject()) throw_bad(env, "a server address must be {ip, port} or null");
  return parse_endpoint(env, v.As<Napi::Object>());
}

class SoftSwitchWrap : public Napi::ObjectWrap<SoftSwitchWrap>, public Closable {
 public:
  static Napi::Function Init(Napi::Env env) {
    return DefineClass(
        env, "SoftSwitch",
        {InstanceMethod("start", &SoftSwitchWrap::Start), InstanceMethod("stop", &SoftSwitchWrap::Stop),
         InstanceMethod("load", &SoftSwitchWrap::Load), InstanceMethod("setServer", &SoftSwitchWrap::SetServer),
         InstanceMethod("local", &SoftSwitchWrap::Local), InstanceMethod("policyName", &SoftSwitchWrap::PolicyName),
         InstanceMethod("views", &SoftSwitchWrap::Views),
         InstanceMethod("transportCounters", &SoftSwitchWrap::TransportCounters),
         InstanceMethod("threadCpuNs", &SoftSwitchWrap::ThreadCpuNs)});
  }
  static LiveObjects* live_;

  explicit SoftSwitchWrap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<SoftSwitchWrap>(info) {
    Napi::Env env = info.Env();
    if (info.Length() < 1 || !info[0].IsObject()) throw_bad(env, "SoftSwitch needs a config object");
    const Napi::Object o = info[0].As<Napi::Object>();
    if (!o.Get("transport").IsObject()) throw_bad(env, "SoftSwitch config needs `transport`");
    if (!o.Get("policy").IsObject()) throw_bad(env, "SoftSwitch config needs `policy`");
    if (!o.Get("servers").IsArray()) throw_bad(env, "SoftSwitch config needs `servers`");
    softswitch::SwitchConfig c;
    const Napi::Object p = o.Get("policy").As<Napi::Object>();
    c.policy.kind = get_string(p, "kind", "pallas");
    c.policy.workers = get_u32(p, "workers", 1);
    c.policy.seed = get_u64(p, "seed", 1);
    parse_switch_options(env, p, &c.policy);
    const Napi::Array servers = o.Get("servers").As<Napi::Array>();
    for (uint32_t i = 0; i < servers.Length(); i++) c.servers.push_back(endpoint_or_absent(env, servers.Get(i)));
    c.policy.servers = static_cast<uint32_t>(c.servers.size());
    c.client_slots = get_u32(o, "clientSlots", c.client_slots);
    c.slots = get_u32(o, "slots", c.slots);
    c.busy_poll = get_bool(o, "busyPoll", false);
    c.idle_polls = get_u32(o, "idlePolls", c.idle_polls);
    c.wait_us = get_u32(o, "waitUs", c.wait_us);
    c.core = o.Get("core").IsNumber() ? o.Get("core").As<Napi::Number>().Int32Value() : -1;
    std::unique_ptr<io::Transport> t = open_transport(env, o.Get("transport").As<Napi::Object>());
    if (Status st = SoftSwitch::create(std::move(t), std::move(c), &sw_); !st.ok()) throw_status(env, st);
    live_->items.insert(this);
  }
  ~SoftSwitchWrap() override { live_->items.erase(this); }
  void Close() override { sw_.reset(); }

 private:
  SoftSwitch& live(Napi::Env env) {
    if (!sw_) throw_status(env, Status::Error("CLOSED", "this switch has been shut down"));
    return *sw_;
  }
  Napi::Value Start(const Napi::CallbackInfo& info) {
    if (Status st = live(info.Env()).start(); !st.ok()) throw_status(info.Env(), st);
    return info.Env().Undefined();
  }
  Napi::Value Stop(const Napi::CallbackInfo& info) {
    if (sw_) sw_->stop();
    return info.Env().Undefined();
  }
  Napi::Value Load(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (info.Length() < 1 || !info[0].IsObject()) throw_bad(env, "load needs tables");
    const sw::Tables t = parse_tables(env, info[0].As<Napi::Object>());
    if (Status st = live(env).load(t); !st.ok()) throw_status(env, st);
    return env.Undefined();
  }
  Napi::Value SetServer(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (info.Length() < 2 || !info[0].IsNumber()) throw_bad(env, "setServer needs (index, {ip, port} | null)");
    if (Status st = live(env).set_server(info[0].As<Napi::Number>().Uint32Value(), endpoint_or_absent(env, info[1]));
        !st.ok())
      throw_status(env, st);
    return env.Undefined();
  }
  Napi::Value Local(const Napi::CallbackInfo& info) {
    return endpoint_to_js(info.Env(), live(info.Env()).transport().local());
  }
  Napi::Value PolicyName(const Napi::CallbackInfo& info) {
    return Napi::String::New(info.Env(), live(info.Env()).policy_name());
  }
  Napi::Value Views(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    SoftSwitch& s = live(env);
    Napi::Object o = Napi::Object::New(env);
    const char* names[] = {"switch", "types", "servers", "registers"};
    for (int i = 0; i < 4; i++) o.Set(names[i], counter_view(env, s.area(i), s.area_size(i), Value()));
    return o;
  }
  Napi::Value ThreadCpuNs(const Napi::CallbackInfo& info) {
    return Napi::Number::New(info.Env(), static_cast<double>(live(info.Env()).thread_cpu_ns()));
  }
  Napi::Value TransportCounters(const Napi::CallbackInfo& info) {
    return counter_view(info.Env(), &live(info.Env()).transport().counters(),
                        sizeof(io::TransportCounters) / sizeof(uint64_t), Value());
  }

  std::unique_ptr<SoftSwitch> sw_;
};

LiveObjects* SoftSwitchWrap::live_ = nullptr;

Napi::Array name_list(Napi::Env env, const char* const* v, size_t n) {
  Napi::Array a = Napi::Array::New(env, n);
  for (size_t i = 0; i < n; i++) a.Set(static_cast<uint32_t>(i), v[i]);
  return a;
}

Napi::Value SwitchLayout(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object o = Napi::Object::New(env);
  Napi::Array cells = name_list(env, softswitch::kCellNames, softswitch::kCellsBase);
  for (uint32_t i = 0; i < wire::kReasonCount; i++)
    cells.Set(softswitch::kCellsBase + i, std::string("n_invalid_") + wire::kReasonNames[i]);
  o.Set("switchCells", cells);
  o.Set("typeCells", name_list(env, softswitch::kTypeCellNames, softswitch::kTypeCells));
  o.Set("serverCells", name_list(env, softswitch::kServerCellNames, softswitch::kServerCells));
  return o;
}

}  // namespace

void parse_switch_options(Napi::Env env, const Napi::Object& o, sw::DispatcherConfig* c) {
  c->jbsq_depth = get_u32(o, "jbsqDepth", c->jbsq_depth);
  c->queue_capacity = get_u32(o, "queueCapacity", c->queue_capacity);
  c->filter_slots = get_u32(o, "filterSlots", c->filter_slots);
  if (c->filter_slots == 0) throw_bad(env, "filterSlots must be at least 1");
  if (o.Get("tables").IsObject()) c->tables = parse_tables(env, o.Get("tables").As<Napi::Object>());
}

// Tables as the control plane writes them (lib/control/policy.ts SwitchTables): typeToGroup,
// defaultGroup, tauShift, clone, groups [{wrr [{server, weight}], cThres, cloneTarget (null: none),
// balance 'wrr'|'po2'}], and the simulator-only `ablation` {tauNs, argminTarget, sharedCloneCounter}.
// Shapes are checked here; values (ranges, references between groups) by Pipeline::load.
sw::Tables parse_tables(Napi::Env env, const Napi::Object& o) {
  sw::Tables t;
  t.default_group = static_cast<uint8_t>(get_u32(o, "defaultGroup", 0));
  const uint32_t shift = get_u32(o, "tauShift", sw::kDefaultTauShift);
  if (shift > 255) throw_bad(env, "tauShift must be a small integer");
  t.tau_shift = static_cast<uint8_t>(shift);
  t.clone = get_bool(o, "clone", true);
  if (o.Get("typeToGroup").IsObject()) {
    const Napi::Object m = o.Get("typeToGroup").As<Napi::Object>();
    const Napi::Array keys = m.GetPropertyNames();
    for (uint32_t i = 0; i < keys.Length(); i++) {
      const std::string k = keys.Get(i).ToString().Utf8Value();
      char* end = nullptr;
      const long type = std::strtol(k.c_str(), &end, 10);
      if (k.empty() || *end != '\0' || type < 0 || type > 255)
        throw_bad(env, "typeToGroup: key '" + k + "' is not a type (0-255)");
      const Napi::Value v = m.Get(k);
      if (!v.IsNumber() || v.As<Napi::Number>().DoubleValue() < 0 ||
          v.As<Napi::Number>().DoubleValue() >= sw::kMaxGroups)
        throw_bad(env, "typeToGroup[" + k + "] must be a group index below " + std::to_string(sw::kMaxGroups));
      t.type_to_group[type] = static_cast<uint8_t>(v.As<Napi::Number>().Uint32Value());
    }
  }
  if (!o.Get("groups").IsArray()) throw_bad(env, "switch tables need `groups`");
  const Napi::Array gs = o.Get("groups").As<Napi::Array>();
  for (uint32_t i = 0; i < gs.Length(); i++) {
    if (!gs.Get(i).IsObject()) throw_bad(env, "groups[" + std::to_string(i) + "] must be an object");
    const Napi::Object g = gs.Get(i).As<Napi::Object>();
    sw::GroupTable gt;
    gt.c_thres = get_u32(g, "cThres", 0);
    const Napi::Value target = g.Get("cloneTarget");
    if (target.IsNumber()) {
      const double v = target.As<Napi::Number>().DoubleValue();
      if (v < 0 || v >= sw::kMaxGroups)
        throw_bad(env, "groups[" + std::to_string(i) + "].cloneTarget must be a group index or null");
      gt.clone_target = static_cast<uint8_t>(v);
    } else if (!target.IsNull() && !target.IsUndefined()) {
      throw_bad(env, "groups[" + std::to_string(i) + "].cloneTarget must be a group index or null");
    }
    const std::string bal = get_string(g, "balance", "wrr");
    if (bal == "po2")
      gt.balance = sw::Balance::kPo2;
    else if (bal != "wrr")
      throw_bad(env, "groups[" + std::to_string(i) + "].balance must be 'wrr' or 'po2'");
    if (g.Get("wrr").IsArray()) {
      const Napi::Array w = g.Get("wrr").As<Napi::Array>();
      for (uint32_t j = 0; j < w.Length(); j++) {
        const Napi::Object e = w.Get(j).As<Napi::Object>();
        const uint32_t server = get_u32(e, "server", 0), weight = get_u32(e, "weight", 1);
        if (server > 0xFFFF || weight > 0xFFFF)
          throw_bad(env, "groups[" + std::to_string(i) + "].wrr: server and weight must fit 16 bits");
        gt.wrr.push_back({static_cast<uint16_t>(server), static_cast<uint16_t>(weight)});
      }
    }
    t.groups.push_back(std::move(gt));
  }
  if (o.Get("ablation").IsObject()) {
    const Napi::Object a = o.Get("ablation").As<Napi::Object>();
    t.ablation.exact_tau_ns = get_u64(a, "tauNs", 0);
    t.ablation.argmin_target = get_bool(a, "argminTarget", false);
    t.ablation.shared_clone_counter = get_bool(a, "sharedCloneCounter", false);
  }
  return t;
}

void register_switch(Napi::Env env, Napi::Object exports, LiveObjects* live) {
  SoftSwitchWrap::live_ = live;
  exports.Set("SwitchPipeline", SwitchPipelineWrap::Init(env));
  exports.Set("SoftSwitch", SoftSwitchWrap::Init(env));
  exports.Set("switchLayout", Napi::Function::New(env, SwitchLayout));
}

}  // namespace pallas::addon
