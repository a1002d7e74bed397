// The Pallas N-API addon: the only code in native/ that sees N-API. It creates, configures, starts
// and stops native objects and exposes their counters as typed-array views; nothing per packet
// crosses into JS. Configs arrive already validated and normalised by lib/ (TypeScript); this file
// keeps cheap guards only. Native failures arrive as Status and leave as JS errors with a `code`.
//
// Lifetime: every native thread is joined, and every transport closed, in the env cleanup hook,
// before DPDK's EAL is released; finalizers of JS wrappers then only free memory.
#include <arpa/inet.h>
#include <napi.h>

#include <cstdio>
#include <cstring>

#include <atomic>
#include <chrono>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "../core/status.hpp"
#include "../core/wire/wire.hpp"
#include "../io/dpdk_transport.hpp"
#include "../io/echo.hpp"
#include "../io/mem_transport.hpp"
#include "../io/pump.hpp"
#include "../io/udp_transport.hpp"
#include "../platform/tsc.hpp"
#include "client_binding.hpp"
#include "common.hpp"
#include "rocksdb_probe.hpp"
#include "runtime_binding.hpp"
#include "sim_binding.hpp"
#include "switch_binding.hpp"

namespace pallas::addon {

namespace {

using io::Transport;

class EchoWrap;

// Per-env state: live objects to shut down in the cleanup hook.
struct AddonData {
  Napi::FunctionReference memlink_ctor;
  std::set<EchoWrap*> echoes;
  std::atomic<int> pumps_running{0};
  std::atomic<int> sims_running{0};
  std::atomic<int> jobs_running{0};  // runtime_binding's async jobs (kv load, kv bench)
  LiveObjects live;                  // runtimes and software switches
  std::atomic<bool> aborting{false};
};

AddonData* data_of(Napi::Env env) { return env.GetInstanceData<AddonData>(); }

}  // namespace

io::Endpoint parse_endpoint(Napi::Env env, const Napi::Object& o) {
  io::Endpoint e;
  const std::string ip = get_string(o, "ip");
  if (!io::parse_ipv4(ip, &e.ip)) throw_bad(env, "endpoint ip '" + ip + "' is not an IPv4 address");
  e.port = htons(static_cast<uint16_t>(get_u32(o, "port", 0)));
  const std::string mac = get_string(o, "mac");
  if (!mac.empty()) {
    unsigned b[6];
    if (sscanf(mac.c_str(), "%x:%x:%x:%x:%x:%x", &b[0], &b[1], &b[2], &b[3], &b[4], &b[5]) != 6)
      throw_bad(env, "endpoint mac '" + mac + "' is not a MAC address");
    for (int i = 0; i < 6; i++) e.mac[i] = static_cast<uint8_t>(b[i]);
  }
  return e;
}

Napi::Object endpoint_to_js(Napi::Env env, const io::Endpoint& e) {
  char ip[INET_ADDRSTRLEN];
  in_addr a{e.ip};
  inet_ntop(AF_INET, &a, ip, sizeof ip);
  char mac[18];
  snprintf(mac, sizeof mac, "%02x:%02x:%02x:%02x:%02x:%02x", e.mac[0], e.mac[1], e.mac[2], e.mac[3], e.mac[4],
           e.mac[5]);
  Napi::Object o = Napi::Object::New(env);
  o.Set("ip", ip);
  o.Set("port", ntohs(e.port));
  o.Set("mac", std::string(mac));
  return o;
}

// ---- MemLink: the two ends of an in-memory link, handed out once each -------------------------
class MemLinkWrap : public Napi::ObjectWrap<MemLinkWrap> {
 public:
  static Napi::Function Init(Napi::Env env) { return DefineClass(env, "MemLink", {}); }
  explicit MemLinkWrap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<MemLinkWrap>(info) {
    const uint32_t slots = info.Length() > 0 && info[0].IsNumber() ? info[0].As<Napi::Number>().Uint32Value() : 1024;
    auto p = io::MemTransport::pair(slots);
    ends_[0] = std::move(p.first);
    ends_[1] = std::move(p.second);
  }
  std::unique_ptr<Transport> take(Napi::Env env, uint32_t side) {
    if (side > 1) throw_bad(env, "mem transport side must be 0 or 1");
    if (!ends_[side]) throw_bad(env, "mem link side " + std::to_string(side) + " is already in use");
    return std::move(ends_[side]);
  }

 private:
  std::unique_ptr<io::MemTransport> ends_[2];
};

std::unique_ptr<Transport> open_transport(Napi::Env env, const Napi::Object& cfg) {
  const std::string kind = get_string(cfg, "kind");
  if (kind == "udp") {
    io::UdpConfig c;
    c.bind_ip = get_string(cfg, "bindIp", c.bind_ip);
    c.port = static_cast<uint16_t>(get_u32(cfg, "port", 0));
    c.socket_buf = get_u32(cfg, "socketBuf", c.socket_buf);
    std::unique_ptr<io::UdpTransport> t;
    if (Status st = io::UdpTransport::open(c, &t); !st.ok()) throw_status(env, st);
    return t;
  }
  if (kind == "dpdk") {
    io::DpdkConfig c;
    c.device = get_string(cfg, "device");
    c.ip = get_string(cfg, "ip");
    c.udp_port = static_cast<uint16_t>(get_u32(cfg, "udpPort", wire::kDefaultUdpPort));
    c.peer_mac = get_string(cfg, "peerMac");
    c.rx_desc = get_u32(cfg, "rxDesc", c.rx_desc);
    c.tx_desc = get_u32(cfg, "txDesc", c.tx_desc);
    c.mbufs = get_u32(cfg, "mbufs", c.mbufs);
    std::unique_ptr<io::DpdkTransport> t;
    if (Status st = io::DpdkTransport::open(c, &t); !st.ok()) throw_status(env, st);
    return t;
  }
  if (kind == "mem") {
    const Napi::Value link = cfg.Get("link");
    if (!link.IsObject() || !link.As<Napi::Object>().InstanceOf(data_of(env)->memlink_ctor.Value()))
      throw_bad(env, "mem transport needs `link`, a MemLink");
    return MemLinkWrap::Unwrap(link.As<Napi::Object>())->take(env, get_u32(cfg, "side", 0));
  }
  throw_bad(env, "unknown transport kind '" + kind + "' (udp, dpdk or mem)");
}

namespace {

// ---- Echo --------------------------------------------------------------------------------------
class EchoWrap : public Napi::ObjectWrap<EchoWrap> {
 public:
  static Napi::Function Init(Napi::Env env) {
    return DefineClass(env, "Echo",
                       {InstanceMethod("start", &EchoWrap::Start), InstanceMethod("stop", &EchoWrap::Stop),
                        InstanceMethod("local", &EchoWrap::Local), InstanceMethod("transportKind", &EchoWrap::Kind),
                        InstanceMethod("echoCounters", &EchoWrap::EchoCounters),
                        InstanceMethod("transportCounters", &EchoWrap::TransportCounters)});
  }
  explicit EchoWrap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<EchoWrap>(info) {
    Napi::Env env = info.Env();
    if (info.Length() < 1 || !info[0].IsObject()) throw_bad(env, "Echo needs a config object");
    const Napi::Object cfg = info[0].As<Napi::Object>();
    if (!cfg.Get("transport").IsObject()) throw_bad(env, "Echo config needs `transport`");
    io::EchoConfig ec;
    ec.server_id = static_cast<uint8_t>(get_u32(cfg, "serverId", 0));
    ec.wait_us = get_u32(cfg, "waitUs", ec.wait_us);
    echo_ = std::make_unique<io::Echo>(open_transport(env, cfg.Get("transport").As<Napi::Object>()), ec);
    data_ = data_of(env);
    data_->echoes.insert(this);
  }
  ~EchoWrap() override { data_->echoes.erase(this); }
  // Env teardown: joins the thread and closes the transport (no JS runs after this).
  void Close() { echo_.reset(); }

 private:
  io::Echo& live(Napi::Env env) {
    if (!echo_) throw_status(env, Status::Error("CLOSED", "this Echo has been shut down"));
    return *echo_;
  }
  Napi::Value Start(const Napi::CallbackInfo& info) {
    live(info.Env()).start();
    return info.Env().Undefined();
  }
  // Joins the I/O thread; the transport stays open (and its counters readable) until the Echo is
  // collected or the env is torn down.
  Napi::Value Stop(const Napi::CallbackInfo& info) {
    if (echo_) echo_->stop();
    return info.Env().Undefined();
  }
  Napi::Value Local(const Napi::CallbackInfo& info) {
    return endpoint_to_js(info.Env(), live(info.Env()).transport().local());
  }
  Napi::Value Kind(const Napi::CallbackInfo& info) {
    return Napi::String::New(info.Env(), live(info.Env()).transport().kind());
  }
  Napi::Value EchoCounters(const Napi::CallbackInfo& info) {
    return counter_view(info.Env(), &live(info.Env()).counters(), io::kEchoCounterCount, Value());
  }
  Napi::Value TransportCounters(const Napi::CallbackInfo& info) {
    return counter_view(info.Env(), &live(info.Env()).transport().counters(),
                        sizeof(io::TransportCounters) / sizeof(uint64_t), Value());
  }
  std::unique_ptr<io::Echo> echo_;
  AddonData* data_;
};

// ---- Pump (async: runs on a libuv worker, never on the JS thread) --------------------------------
class PumpWorker : public Napi::AsyncWorker {
 public:
  PumpWorker(Napi::Env env, std::unique_ptr<Transport> t, io::PumpConfig cfg)
      : Napi::AsyncWorker(env),
        deferred_(Napi::Promise::Deferred::New(env)),
        t_(std::move(t)),
        cfg_(std::move(cfg)),
        data_(data_of(env)) {
    data_->pumps_running++;
  }
  Napi::Promise promise() { return deferred_.Promise(); }
  void Execute() override {
    res_ = io::run_pump(*t_, cfg_, data_->aborting);
    t_.reset();  // close the transport on this thread, before the promise settles
    data_->pumps_running--;
  }
  void OnOK() override {
    Napi::Env env = Env();
    Napi::Object o = Napi::Object::New(env);
    o.Set("sent", Napi::Number::New(env, static_cast<double>(res_.sent)));
    o.Set("received", Napi::Number::New(env, static_cast<double>(res_.received)));
    o.Set("rxDropped", Napi::Number::New(env, static_cast<double>(res_.rx_dropped)));
    o.Set("pinned", Napi::Boolean::New(env, res_.pinned));
    o.Set("elapsedNs", Napi::Number::New(env, static_cast<double>(res_.elapsed_ns)));
    o.Set("rttP50Ns", Napi::Number::New(env, res_.rtt_p50_ns));
    o.Set("rttP99Ns", Napi::Number::New(env, res_.rtt_p99_ns));
    deferred_.Resolve(o);
  }
  void OnError(const Napi::Error& e) override { deferred_.Reject(e.Value()); }

 private:
  Napi::Promise::Deferred deferred_;
  std::unique_ptr<Transport> t_;
  io::PumpConfig cfg_;
  AddonData* data_;
  io::PumpResult res_;
};

Napi::Value RunPump(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsObject()) throw_bad(env, "runPump needs a config object");
  const Napi::Object cfg = info[0].As<Napi::Object>();
  if (!cfg.Get("transport").IsObject() || !cfg.Get("dst").IsObject())
    throw_bad(env, "runPump needs `transport` and `dst`");
  io::PumpConfig pc;
  const std::string mode = get_string(cfg, "mode", "round-trip");
  if (mode == "tx-only")
    pc.mode = io::PumpMode::kTxOnly;
  else if (mode == "rx-only")
    pc.mode = io::PumpMode::kRxOnly;
  else if (mode != "round-trip")
    throw_bad(env, "runPump mode must be round-trip, tx-only or rx-only");
  if (cfg.Get("core").IsNumber()) pc.core = cfg.Get("core").As<Napi::Number>().Int32Value();
  pc.duration_ms = get_u32(cfg, "durationMs", pc.duration_ms);
  pc.burst = get_u32(cfg, "burst", pc.burst);
  pc.window = get_u32(cfg, "window", pc.window);
  pc.type = static_cast<uint8_t>(get_u32(cfg, "type", pc.type));
  pc.accept_requests = get_bool(cfg, "acceptRequests", false);
  if (cfg.Get("payload").IsTypedArray()) {
    auto u8 = cfg.Get("payload").As<Napi::Uint8Array>();
    if (u8.ByteLength() > 64) throw_bad(env, "runPump payload is at most 64 bytes");
    pc.payload.assign(u8.Data(), u8.Data() + u8.ByteLength());
  }
  pc.dst = parse_endpoint(env, cfg.Get("dst").As<Napi::Object>());
  auto* w = new PumpWorker(env, open_transport(env, cfg.Get("transport").As<Napi::Object>()), pc);
  Napi::Promise p = w->promise();
  w->Queue();
  return p;
}

// ---- wire ---------------------------------------------------------------------------------------
Napi::Value WireEncode(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsObject()) throw_bad(env, "wireEncode needs a header object");
  const Napi::Object o = info[0].As<Napi::Object>();
  wire::Header h;
  h.type = static_cast<uint8_t>(get_u32(o, "type", 0));
  h.flags = static_cast<uint8_t>(get_u32(o, "flags", 0));
  h.group = static_cast<uint8_t>(get_u32(o, "group", 0));
  h.server = static_cast<uint8_t>(get_u32(o, "server", 0));
  h.queue_len = static_cast<uint8_t>(get_u32(o, "queueLen", 0));
  h.index = get_u32(o, "index", 0);
  h.time_ns = get_u32(o, "timeNs", 0);
  h.req_id = get_u32(o, "reqId", 0);
  h.send_ts = get_u32(o, "sendTs", 0);
  size_t plen = 0;
  const uint8_t* pdata = nullptr;
  if (info.Length() > 1 && info[1].IsTypedArray()) {
    auto u8 = info[1].As<Napi::Uint8Array>();
    plen = u8.ByteLength();
    pdata = u8.Data();
  }
  Napi::Buffer<uint8_t> out = Napi::Buffer<uint8_t>::New(env, wire::kHeaderSize + plen);
  wire::encode(h, out.Data(), out.Length());
  if (plen) std::memcpy(out.Data() + wire::kHeaderSize, pdata, plen);
  return out;
}

Napi::Value WireDecode(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsTypedArray()) throw_bad(env, "wireDecode needs a Uint8Array");
  auto u8 = info[0].As<Napi::Uint8Array>();
  const bool strict = info.Length() > 1 && info[1].ToBoolean();
  static const wire::TypeTable types = wire::TypeTable::defaults();
  wire::Header h;
  const wire::Reason r = wire::validate(u8.Data(), u8.ByteLength(), strict ? &types : nullptr, &h);
  Napi::Object o = Napi::Object::New(env);
  o.Set("reason", wire::reason_name(r));
  if (r == wire::Reason::kOk) {
    Napi::Object hdr = Napi::Object::New(env);
    hdr.Set("type", h.type);
    hdr.Set("flags", h.flags);
    hdr.Set("group", h.group);
    hdr.Set("server", h.server);
    hdr.Set("queueLen", h.queue_len);
    hdr.Set("index", h.index);
    hdr.Set("timeNs", h.time_ns);
    hdr.Set("reqId", h.req_id);
    hdr.Set("sendTs", h.send_ts);
    o.Set("header", hdr);
  }
  return o;
}

// Validates many datagrams in one crossing: `data` holds them back to back, `lens` their lengths.
Napi::Value WireValidateBatch(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 2 || !info[0].IsTypedArray() || !info[1].IsTypedArray())
    throw_bad(env, "wireValidateBatch needs (Uint8Array data, Uint32Array lens)");
  auto data = info[0].As<Napi::Uint8Array>();
  auto lens = info[1].As<Napi::Uint32Array>();
  const bool strict = info.Length() > 2 && info[2].ToBoolean();
  static const wire::TypeTable types = wire::TypeTable::defaults();
  Napi::Uint8Array out = Napi::Uint8Array::New(env, lens.ElementLength());
  size_t off = 0;
  for (size_t i = 0; i < lens.ElementLength(); i++) {
    if (off + lens[i] > data.ByteLength()) throw_bad(env, "wireValidateBatch: lengths exceed the data");
    out[i] = static_cast<uint8_t>(wire::validate(data.Data() + off, lens[i], strict ? &types : nullptr, nullptr));
    off += lens[i];
  }
  return out;
}

// ---- machine, DPDK, RocksDB ---------------------------------------------------------------------
Napi::Value BuildInfo(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object o = Napi::Object::New(env);
  Napi::Object f = Napi::Object::New(env);
#ifdef HAVE_DPDK
  f.Set("dpdk", true);
#else
  f.Set("dpdk", false);
#endif
  f.Set("rocksdb", rocksdb_available());
  o.Set("features", f);
  o.Set("napiVersion", NAPI_VERSION);
  o.Set("dpdkVersion", io::dpdk_version());
  o.Set("rocksdbVersion", rocksdb_version());
  o.Set("compiler", __VERSION__);
  return o;
}

Napi::Value TscHz(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), platform::measure_tsc_hz()); }

Napi::Value DpdkInit(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsArray()) throw_bad(env, "dpdkInit needs an array of EAL arguments");
  auto arr = info[0].As<Napi::Array>();
  std::vector<std::string> args;
  for (uint32_t i = 0; i < arr.Length(); i++) args.push_back(arr.Get(i).ToString().Utf8Value());
  if (Status st = io::dpdk_eal_init(args); !st.ok()) throw_status(env, st);
  return env.Undefined();
}

Napi::Value DpdkReady(const Napi::CallbackInfo& info) { return Napi::Boolean::New(info.Env(), io::dpdk_eal_ready()); }

Napi::Value RocksdbProbe(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsString()) throw_bad(env, "rocksdbProbe needs a directory path");
  if (Status st = rocksdb_probe(info[0].As<Napi::String>().Utf8Value()); !st.ok()) throw_status(env, st);
  return env.Undefined();
}

Napi::Array names(Napi::Env env, const std::vector<std::string>& v) {
  Napi::Array a = Napi::Array::New(env, v.size());
  for (size_t i = 0; i < v.size(); i++) a.Set(static_cast<uint32_t>(i), v[i]);
  return a;
}

void keep_instance_data(Napi::Env, AddonData*) {}

void Cleanup(AddonData* d) {
  d->aborting = true;
  for (EchoWrap* e : d->echoes) e->Close();
  for (Closable* c : d->live.items) c->Close();
  while (d->pumps_running.load() > 0 || d->sims_running.load() > 0 || d->jobs_running.load() > 0)
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  io::dpdk_eal_cleanup();
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  // AddonData lives as long as the process: wrappers finalized during env teardown still use it.
  auto* d = new AddonData;
  env.SetInstanceData<AddonData, keep_instance_data>(d);
  env.AddCleanupHook([d] { Cleanup(d); });
  Napi::Function memlink = MemLinkWrap::Init(env);
  d->memlink_ctor = Napi::Persistent(memlink);
  d->memlink_ctor.SuppressDestruct();
  exports.Set("MemLink", memlink);
  exports.Set("Echo", EchoWrap::Init(env));
  exports.Set("runPump", Napi::Function::New(env, RunPump));
  exports.Set("wireEncode", Napi::Function::New(env, WireEncode));
  exports.Set("wireDecode", Napi::Function::New(env, WireDecode));
  exports.Set("wireValidateBatch", Napi::Function::New(env, WireValidateBatch));
  exports.Set("buildInfo", Napi::Function::New(env, BuildInfo));
  exports.Set("tscHz", Napi::Function::New(env, TscHz));
  exports.Set("dpdkInit", Napi::Function::New(env, DpdkInit));
  exports.Set("dpdkReady", Napi::Function::New(env, DpdkReady));
  exports.Set("rocksdbProbe", Napi::Function::New(env, RocksdbProbe));
  register_sim(env, exports, {&d->sims_running, &d->aborting});
  register_switch(env, exports, &d->live);
  register_runtime(env, exports, &d->live, {&d->jobs_running, &d->aborting});
  register_client(env, exports, {&d->jobs_running, &d->aborting});
  std::vector<std::string> echo_names{"n_replied", "n_unexpected_reply"};
  for (uint32_t i = 0; i < wire::kReasonCount; i++)
    echo_names.push_back(std::string("n_drop_") + wire::kReasonNames[i]);
  exports.Set("echoCounterNames", names(env, echo_names));
  std::vector<std::string> tr_names{"n_rx", "n_tx", "n_tx_full", "n_arp_replies"};
  for (const char* n : io::kRxDropNames) tr_names.push_back(std::string("n_rx_drop_") + n);
  exports.Set("transportCounterNames", names(env, tr_names));
  return exports;
}

}  // namespace

}  // namespace pallas::addon

static Napi::Object InitPallas(Napi::Env env, Napi::Object exports) { return pallas::addon::Init(env, exports); }
NODE_API_MODULE(pallas, InitPallas)
