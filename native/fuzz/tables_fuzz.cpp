// libFuzzer target for switch table loads: sw::Tables (type → group map, default group, τ, clone
// switch, ablations, per group the WRR entries, C_thres, clone target and balancing) built from
// the input with every field free (out-of-range values included), then applied through the three
// ways the control plane loads tables:
//   - SoftSwitch::load (the software switch; the addon's SoftSwitch.load), on a switch that is not
//     started, so the load runs on this thread exactly as the switch thread would run it;
//   - make_dispatcher(pallas) (the simulator's and the software switch's construction);
//   - Pipeline::load (the addon's SwitchPipeline), with and without the simulator's ablations.
// Properties: no crash or UB; each refuses exactly the tables a reference check written here
// from docs/switch-contract.md refuses, with a BAD_POLICY Status and a message, and a refused load
// leaves the tables in force unchanged; accepted tables then carry a fuzzed run of requests and
// replies whose every decision names a group of the tables and a server of positive weight in it.

#include <fuzzer/FuzzedDataProvider.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "../core/switch/dispatcher.hpp"
#include "../core/switch/pipeline.hpp"
#include "../io/mem_transport.hpp"
#include "../switch/soft_switch.hpp"
#include "fuzz_check.hpp"

using namespace pallas;
using sw::Tables;

namespace {

// A small valid table: what is in force before a fuzzed load.
Tables base_tables() {
  Tables t;
  sw::GroupTable g;
  g.wrr = {{0, 1}, {1, 2}};
  g.c_thres = 3;
  t.groups.push_back(g);
  g.wrr = {{2, 1}};
  g.clone_target = 0;
  t.groups.push_back(g);
  t.type_to_group[1] = 0;
  t.type_to_group[3] = 1;
  return t;
}

bool same(const Tables& a, const Tables& b) {
  if (a.type_to_group != b.type_to_group || a.default_group != b.default_group || a.tau_shift != b.tau_shift ||
      a.clone != b.clone || a.ablation.exact_tau_ns != b.ablation.exact_tau_ns ||
      a.ablation.argmin_target != b.ablation.argmin_target ||
      a.ablation.shared_clone_counter != b.ablation.shared_clone_counter || a.groups.size() != b.groups.size())
    return false;
  for (size_t g = 0; g < a.groups.size(); g++) {
    const sw::GroupTable &x = a.groups[g], &y = b.groups[g];
    if (x.c_thres != y.c_thres || x.clone_target != y.clone_target || x.balance != y.balance ||
        x.wrr.size() != y.wrr.size())
      return false;
    for (size_t i = 0; i < x.wrr.size(); i++)
      if (x.wrr[i].server != y.wrr[i].server || x.wrr[i].weight != y.wrr[i].weight) return false;
  }
  return true;
}

// The reference: which tables a pipeline takes (docs/switch-contract.md, "Tables").
bool valid(const Tables& t, bool allow_ablation) {
  const size_t n = t.groups.size();
  if (n < 1 || n > sw::kMaxGroups || t.default_group >= n) return false;
  if (t.tau_shift < wire::kSwTauShiftMin || t.tau_shift > wire::kSwTauShiftMax) return false;
  if (t.ablation.any() && !allow_ablation) return false;
  size_t entries = 0;
  for (size_t g = 0; g < n; g++) {
    const sw::GroupTable& gt = t.groups[g];
    uint64_t total = 0;
    for (const sw::WrrEntry& e : gt.wrr) {
      if (e.server >= sw::kMaxServers) return false;
      total += e.weight;
    }
    entries += gt.wrr.size();
    if (total > 0xFFFF) return false;
    if (gt.clone_target != sw::kNoGroup && (gt.clone_target >= n || gt.clone_target == g)) return false;
    if (gt.balance != sw::Balance::kWrr && gt.balance != sw::Balance::kPo2) return false;
  }
  if (entries > sw::kMaxWrrEntries) return false;
  for (uint8_t g : t.type_to_group)
    if (g != sw::kUnmapped && g >= n) return false;
  return true;
}

bool servers_within(const Tables& t, uint32_t servers) {
  for (const sw::GroupTable& g : t.groups)
    for (const sw::WrrEntry& e : g.wrr)
      if (e.server >= servers) return false;
  return true;
}

// Mostly near the valid range, sometimes anything.
template <typename T>
T biased(FuzzedDataProvider& in, T lo, T hi) {
  return in.ConsumeBool() ? in.ConsumeIntegralInRange<T>(lo, hi) : in.ConsumeIntegral<T>();
}

Tables make_tables(FuzzedDataProvider& in) {
  Tables t;
  const uint32_t groups = in.ConsumeIntegralInRange<uint32_t>(0, 34);
  t.default_group = biased<uint8_t>(in, 0, static_cast<uint8_t>(groups));
  t.tau_shift = biased<uint8_t>(in, wire::kSwTauShiftMin - 1, wire::kSwTauShiftMax + 1);
  t.clone = in.ConsumeBool();
  if (in.ConsumeProbability<float>() < 0.25f) {
    t.ablation.exact_tau_ns = in.ConsumeBool() ? 0 : in.ConsumeIntegral<uint64_t>();
    t.ablation.argmin_target = in.ConsumeBool();
    t.ablation.shared_clone_counter = in.ConsumeBool();
  }
  const uint32_t mapped = in.ConsumeIntegralInRange<uint32_t>(0, 12);
  for (uint32_t i = 0; i < mapped; i++) {
    const uint8_t ty = in.ConsumeIntegral<uint8_t>();
    t.type_to_group[ty] = biased<uint8_t>(in, 0, static_cast<uint8_t>(groups));
  }
  for (uint32_t g = 0; g < groups; g++) {
    sw::GroupTable gt;
    const uint32_t entries = in.ConsumeIntegralInRange<uint32_t>(0, 6);
    for (uint32_t e = 0; e < entries; e++) gt.wrr.push_back({biased<uint16_t>(in, 0, 9), biased<uint16_t>(in, 0, 4)});
    // Now and then a long run of one entry: the entry limit and the 16-bit weight sum.
    if (in.ConsumeProbability<float>() < 0.05f) {
      const sw::WrrEntry e{biased<uint16_t>(in, 0, 9), biased<uint16_t>(in, 0, 70)};
      gt.wrr.insert(gt.wrr.end(), in.ConsumeIntegralInRange<size_t>(0, 1100), e);
    }
    gt.c_thres = biased<uint32_t>(in, 0, 5);
    gt.clone_target = in.ConsumeBool() ? sw::kNoGroup : biased<uint8_t>(in, 0, static_cast<uint8_t>(groups));
    gt.balance = static_cast<sw::Balance>(biased<uint8_t>(in, 0, 1));
    t.groups.push_back(std::move(gt));
  }
  return t;
}

// A software switch that is never started: load() then runs on the caller's thread.
softswitch::SoftSwitch* soft_switch(uint32_t servers) {
  softswitch::SwitchConfig cfg;
  cfg.policy.kind = "pallas";
  cfg.policy.servers = servers;
  cfg.policy.filter_slots = 16;
  cfg.policy.tables = base_tables();
  cfg.client_slots = 2;
  cfg.slots = 1;
  for (uint32_t i = 0; i < servers; i++) cfg.servers.push_back(io::Endpoint{0x0a000001u + i, 9011, {}});
  auto link = io::MemTransport::pair(2);
  std::unique_ptr<softswitch::SoftSwitch> s;
  const Status st = softswitch::SoftSwitch::create(std::move(link.first), std::move(cfg), &s);
  CHECK(st.ok());
  return s.release();  // lives for the whole run
}

// Accepted tables carry traffic: every decision within the tables.
void carry(FuzzedDataProvider& in, sw::Pipeline& p, const Tables& t) {
  uint64_t now = in.ConsumeIntegral<uint32_t>();
  const uint32_t n = in.ConsumeIntegralInRange<uint32_t>(0, 48);
  auto check = [&](const sw::Forward& f) {
    CHECK(f.group < t.groups.size());
    CHECK(f.index != 0);
    bool found = false;
    for (const sw::WrrEntry& e : t.groups[f.group].wrr) found |= e.server == f.server && e.weight > 0;
    CHECK(found);
  };
  for (uint32_t i = 0; i < n; i++) {
    sw::PipeRequest r;
    r.type = in.ConsumeIntegral<uint8_t>();
    if (in.ConsumeBool()) {  // bounced by some server, with the group it was sent with
      r.flags = static_cast<uint8_t>(wire::kFlagBounced | in.ConsumeIntegralInRange<uint8_t>(0, 2));
      r.group = in.ConsumeIntegral<uint8_t>();
      r.server = in.ConsumeIntegral<uint16_t>();
      r.index = in.ConsumeIntegral<uint32_t>();
    }
    now += in.ConsumeIntegral<uint16_t>();
    const sw::RequestOut o = p.on_request(r, now);
    if (o.dropped) {
      CHECK(!o.cloned);
      uint8_t g = t.type_to_group[r.type];
      if (g == sw::kUnmapped) g = t.default_group;
      uint32_t total = 0;
      for (const sw::WrrEntry& e : t.groups[g].wrr) total += e.weight;
      CHECK(total == 0);  // dropped only for a group without servers
      continue;
    }
    check(o.primary);
    if (o.cloned) {
      check(o.clone);
      CHECK(o.clone.group != o.primary.group && o.clone.index == o.primary.index);
    }
    // Its reply (or a drop notice), from the server it went to.
    sw::PipeReply rep;
    rep.type = r.type;
    rep.flags = static_cast<uint8_t>((o.primary.flags | wire::kFlagResponse) & ~wire::kFlagBounced);
    if (in.ConsumeBool()) rep.flags |= wire::kFlagDropNotice;
    rep.index = o.primary.index;
    rep.group = o.primary.group;
    rep.server = o.primary.server;
    rep.time_ns = in.ConsumeIntegral<uint32_t>();
    p.on_reply(rep);
  }
  const sw::SwitchCounters c = p.counters();
  CHECK(c.n_replies_filtered + c.n_clone_drop_notices <= c.n_replies);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static softswitch::SoftSwitch* const small = soft_switch(4);
  static softswitch::SoftSwitch* const full = soft_switch(sw::kMaxServers);
  FuzzedDataProvider in(data, size);
  const bool allow_ablation = in.ConsumeBool();
  const uint32_t rack = in.ConsumeIntegralInRange<uint32_t>(1, 300);
  const Tables t = make_tables(in);
  const bool ok = valid(t, allow_ablation);
  auto refused = [](const Status& st) {
    return !st.ok() && std::strcmp(st.code, "BAD_POLICY") == 0 && !st.message.empty();
  };

  // The pipeline (the addon's SwitchPipeline): the tables in force stay when a load is refused.
  sw::Pipeline p(in.ConsumeIntegralInRange<uint32_t>(1, 64), 1, allow_ablation);
  const Tables base = base_tables();
  CHECK(p.load(base).ok());
  const Status st = p.load(t);
  CHECK(st.ok() == ok);
  if (!ok) CHECK(refused(st));
  CHECK(same(p.tables(), ok ? t : base));
  CHECK(p.groups() == p.tables().groups.size());

  // make_dispatcher, as the simulator and the software switch build a Pallas switch.
  sw::DispatcherConfig dc;
  dc.kind = "pallas";
  dc.servers = rack;
  dc.filter_slots = 16;
  dc.tables = t;
  dc.allow_ablation = allow_ablation;
  std::string err;
  const std::unique_ptr<sw::Dispatcher> d = sw::make_dispatcher(dc, &err);
  CHECK((d != nullptr) == (ok && servers_within(t, rack)));
  CHECK((d == nullptr) == !err.empty());

  // The software switch: a realizable pipeline only, servers of its rack only.
  for (softswitch::SoftSwitch* s : {small, full}) {
    const uint64_t before = s->area(0)[softswitch::kTablesLoaded];
    const Status ss = s->load(t);
    const bool want = valid(t, false) && servers_within(t, s->server_count());
    CHECK(ss.ok() == want);
    if (!want) CHECK(refused(ss));
    CHECK(s->area(0)[softswitch::kTablesLoaded] == before + (want ? 1 : 0));
  }

  if (ok) carry(in, p, t);
  return 0;
}
