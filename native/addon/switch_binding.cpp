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
    return DefineClass(env, "SwitchPipeline",
                       {InstanceMethod("load", &SwitchPipelineWrap::Load), InstanceMethod("request", &SwitchPipelineWrap::Request),
                        InstanceMethod("reply", &SwitchPipelineWrap::Reply), InstanceMethod("monitor", &SwitchPipelineWrap::MonitorM),
                        InstanceMethod("counters", &SwitchPipelineWrap::Counters)});
  }
  explicit SwitchPipelineWrap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<SwitchPipelineWrap>(info) {
    Napi::Env env = info.Env();
    if (info.Length() < 1 || !info[0].IsObject()) throw_bad(env, "SwitchPipeline needs tables");
    const uint32_t slots = info.Length() > 1 && info[1].IsNumber() ? info[1].As<Napi::Number>().Uint32Value() : sw::kFilterSlots;
    if (slots == 0) throw_bad(env, "the reply filter needs at least one slot");
    p_ = std::make_unique<sw::Pipeline>(slots);
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
  Napi::Value Request(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    const Napi::Object r = info[0].As<Napi::Object>();
    const uint64_t now = info.Length() > 1 && info[1].IsNumber() ? static_cast<uint64_t>(info[1].As<Napi::Number>().DoubleValue()) : 0;
    const sw::RequestOut out = p_->on_request(static_cast<uint8_t>(get_u32(r, "type", 0)), static_cast<uint8_t>(get_u32(r, "flags", 0)),
                                              get_u32(r, "index", 0), now);
    Napi::Object o = forward_object(env, out.primary);
    o.Set("dropped", out.dropped);
    if (out.cloned) o.Set("clone", forward_object(env, out.clone));
    return o;
  }
  Napi::Value Reply(const Napi::CallbackInfo& info) {
    const Napi::Object r = info[0].As<Napi::Object>();
    return Napi::Boolean::New(info.Env(), p_->on_reply(static_cast<uint8_t>(get_u32(r, "type", 0)), static_cast<uint8_t>(get_u32(r, "flags", 0)),
                                                       get_u32(r, "index", 0), get_u32(r, "timeNs", 0)));
  }
  Napi::Value MonitorM(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    const bool reset = info.Length() > 0 && info[0].ToBoolean();
    Napi::Array a = Napi::Array::New(env);
    uint32_t n = 0;
    for (uint32_t t = 0; t < 256; t++) {
      const uint8_t ty = static_cast<uint8_t>(t);
      if (!p_->monitor().seen(ty) && p_->monitor().count(ty) == 0) continue;
      Napi::Object o = Napi::Object::New(env);
      o.Set("type", t);
      o.Set("count", p_->monitor().count(ty));
      // null until a reply brings an execution time (a type seen only through drop notices)
      o.Set("ewmaNs", p_->monitor().seen(ty) ? Napi::Value(Napi::Number::New(env, p_->monitor().ewma_ns(ty))) : env.Null());
      a.Set(n++, o);
    }
    if (reset) p_->monitor().reset_counts();
    return a;
  }
  Napi::Value Counters(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    const sw::SwitchCounters c = p_->counters();
    Napi::Object o = Napi::Object::New(env);
    o.Set("n_requests", static_cast<double>(c.n_requests));
    o.Set("n_unmapped", static_cast<double>(c.n_unmapped));
    o.Set("n_bounced", static_cast<double>(c.n_bounced));
    o.Set("n_cloned", static_cast<double>(c.n_cloned));
    o.Set("n_drop_no_server", static_cast<double>(c.n_drop_no_server));
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
    return DefineClass(env, "SoftSwitch",
                       {InstanceMethod("start", &SoftSwitchWrap::Start), InstanceMethod("stop", &SoftSwitchWrap::Stop),
                        InstanceMethod("load", &SoftSwitchWrap::Load), InstanceMethod("setServer", &SoftSwitchWrap::SetServer),
                        InstanceMethod("local", &SoftSwitchWrap::Local), InstanceMethod("policyName", &SoftSwitchWrap::PolicyName),
                        InstanceMethod("views", &SoftSwitchWrap::Views),
                        InstanceMethod("transportCounters", &SoftSwitchWrap::TransportCounters)});
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
    if (Status st = live(env).set_server(info[0].As<Napi::Number>().Uint32Value(), endpoint_or_absent(env, info[1])); !st.ok())
      throw_status(env, st);
    return env.Undefined();
  }
  Napi::Value Local(const Napi::CallbackInfo& info) { return endpoint_to_js(info.Env(), live(info.Env()).transport().local()); }
  Napi::Value PolicyName(const Napi::CallbackInfo& info) { return Napi::String::New(info.Env(), live(info.Env()).policy_name()); }
  Napi::Value Views(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    SoftSwitch& s = live(env);
    Napi::Object o = Napi::Object::New(env);
    const char* names[] = {"switch", "types", "servers", "registers"};
    for (int i = 0; i < 4; i++) o.Set(names[i], counter_view(env, s.area(i), s.area_size(i), Value()));
    return o;
  }
  Napi::Value TransportCounters(const Napi::CallbackInfo& info) {
    return counter_view(info.Env(), &live(info.Env()).transport().counters(), sizeof(io::TransportCounters) / sizeof(uint64_t), Value());
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
  for (uint32_t i = 0; i < wire::kReasonCount; i++) cells.Set(softswitch::kCellsBase + i, std::string("n_invalid_") + wire::kReasonNames[i]);
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

sw::Tables parse_tables(Napi::Env env, const Napi::Object& o) {
  sw::Tables t;
  t.default_group = static_cast<uint8_t>(get_u32(o, "defaultGroup", 0));
  t.tau_ns = get_u64(o, "tauNs", sw::kDefaultTauNs);
  t.clone = get_bool(o, "clone", true);
  if (o.Get("typeToGroup").IsObject()) {
    const Napi::Object m = o.Get("typeToGroup").As<Napi::Object>();
    const Napi::Array keys = m.GetPropertyNames();
    for (uint32_t i = 0; i < keys.Length(); i++) {
      const std::string k = keys.Get(i).ToString().Utf8Value();
      char* end = nullptr;
      const long type = std::strtol(k.c_str(), &end, 10);
      if (k.empty() || *end != '\0' || type < 0 || type > 255) throw_bad(env, "typeToGroup: key '" + k + "' is not a type (0-255)");
      const Napi::Value v = m.Get(k);
      if (!v.IsNumber() || v.As<Napi::Number>().DoubleValue() < 0 || v.As<Napi::Number>().DoubleValue() >= sw::kMaxGroups)
        throw_bad(env, "typeToGroup[" + k + "] must be a group index below " + std::to_string(sw::kMaxGroups));
      t.type_to_group[type] = static_cast<uint8_t>(v.As<Napi::Number>().Uint32Value());
    }
  }
  if (!o.Get("groups").IsArray()) throw_bad(env, "switch tables need `groups`");
  const Napi::Array gs = o.Get("groups").As<Napi::Array>();
  for (uint32_t i = 0; i < gs.Length(); i++) {
    const Napi::Object g = gs.Get(i).As<Napi::Object>();
    sw::GroupTable gt;
    gt.c_thres = get_u32(g, "cThres", 0);
    gt.clone_out = get_bool(g, "cloneOut", true);
    if (g.Get("wrr").IsArray()) {
      const Napi::Array w = g.Get("wrr").As<Napi::Array>();
      for (uint32_t j = 0; j < w.Length(); j++) {
        const Napi::Object e = w.Get(j).As<Napi::Object>();
        gt.wrr.push_back({static_cast<uint16_t>(get_u32(e, "server", 0)), static_cast<uint16_t>(get_u32(e, "weight", 1))});
      }
    }
    t.groups.push_back(std::move(gt));
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
