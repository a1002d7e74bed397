// The switch (core/switch): the Pallas pipeline stage by stage (shaper, index, WRR and po2
// balancing, outstanding counts, burst detection and cloning, the reply filter, the monitor), the
// shared P4 vectors of p4/vectors/*.json replayed natively (test/native/switch-vectors.test.ts
// replays them through the addon, p4/ptf on the Tofino model), and the baselines' dispatchers.
#include <doctest/doctest.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/rng.hpp"
#include "core/switch/dispatcher.hpp"
#include "core/switch/filter.hpp"
#include "core/switch/holdq.hpp"
#include "core/switch/pipeline.hpp"
#include "core_testing.hpp"

using namespace pallas::sw;
namespace wire = pallas::wire;
using nlohmann::json;

namespace {

constexpr uint8_t kResp = wire::kFlagResponse;
constexpr uint8_t kNotice = wire::kFlagDropNotice;

GroupTable group(std::vector<WrrEntry> wrr, uint32_t c_thres = 0, uint8_t clone_target = kNoGroup,
                 Balance balance = Balance::kWrr) {
  GroupTable g;
  g.wrr = std::move(wrr);
  g.c_thres = c_thres;
  g.clone_target = clone_target;
  g.balance = balance;
  return g;
}

Tables tables(std::vector<GroupTable> groups) {
  Tables t;
  t.groups = std::move(groups);
  return t;
}

Pipeline loaded(const Tables& t, uint64_t seed = 1, bool allow_ablation = true) {
  Pipeline p(kFilterSlots, seed, allow_ablation);
  const pallas::Status st = p.load(t);
  REQUIRE_MESSAGE(st.ok(), st.message);
  return p;
}

RequestOut req(Pipeline& p, uint8_t type, uint64_t now, uint8_t flags = 0, uint32_t index = 0, uint8_t grp = 0,
               uint16_t server = kNoServer) {
  return p.on_request({type, flags, index, grp, server}, now);
}

bool reply(Pipeline& p, uint8_t type, uint8_t flags, uint32_t index, uint8_t grp, uint16_t server,
           uint32_t time_ns = 0) {
  return p.on_reply({type, static_cast<uint8_t>(flags | kResp), index, grp, server, time_ns});
}

// ---- the shared vectors' JSON ----

Tables tables_from_json(const json& j) {
  Tables t;
  t.default_group = j.value("defaultGroup", 0);
  t.tau_shift = j.value("tauShift", static_cast<int>(kDefaultTauShift));
  t.clone = j.value("clone", true);
  if (j.contains("typeToGroup"))
    for (const auto& [k, v] : j.at("typeToGroup").items()) t.type_to_group.at(std::stoi(k)) = v.get<uint8_t>();
  for (const auto& g : j.at("groups")) {
    GroupTable gt;
    gt.c_thres = g.value("cThres", 0u);
    if (g.contains("cloneTarget") && !g.at("cloneTarget").is_null())
      gt.clone_target = g.at("cloneTarget").get<uint8_t>();
    const std::string bal = g.value("balance", "wrr");
    REQUIRE((bal == "wrr" || bal == "po2"));
    gt.balance = bal == "po2" ? Balance::kPo2 : Balance::kWrr;
    for (const auto& e : g.at("wrr"))
      gt.wrr.push_back({e.at("server").get<uint16_t>(), e.value("weight", uint16_t{1})});
    t.groups.push_back(gt);
  }
  if (j.contains("ablation")) {
    const json& a = j.at("ablation");
    t.ablation.exact_tau_ns = a.value("tauNs", uint64_t{0});
    t.ablation.argmin_target = a.value("argminTarget", false);
    t.ablation.shared_clone_counter = a.value("sharedCloneCounter", false);
  }
  return t;
}

json fwd_json(const Forward& f) {
  return {{"group", f.group}, {"server", f.server}, {"flags", f.flags}, {"index", f.index}};
}

uint64_t counter(const SwitchCounters& c, const std::string& name) {
  const std::map<std::string, uint64_t> m = {{"n_requests", c.n_requests},
                                             {"n_unmapped", c.n_unmapped},
                                             {"n_bounced", c.n_bounced},
                                             {"n_cloned", c.n_cloned},
                                             {"n_clone_suppressed", c.n_clone_suppressed},
                                             {"n_drop_no_server", c.n_drop_no_server},
                                             {"n_po2", c.n_po2},
                                             {"n_replies", c.n_replies},
                                             {"n_replies_filtered", c.n_replies_filtered},
                                             {"n_filter_evicted", c.n_filter_evicted},
                                             {"n_clone_drop_notices", c.n_clone_drop_notices}};
  const auto it = m.find(name);
  REQUIRE_MESSAGE(it != m.end(), "unknown counter " << name);
  return it->second;
}

std::vector<std::filesystem::path> vector_files() {
  std::vector<std::filesystem::path> files;
  for (const auto& e : std::filesystem::directory_iterator(pallas::testing::repo_root() / "p4" / "vectors"))
    if (e.path().extension() == ".json") files.push_back(e.path());
  std::sort(files.begin(), files.end());
  return files;
}

// Replays one vector file; returns the number of steps checked.
size_t replay(const json& v) {
  Pipeline p(kFilterSlots, 1, false);
  const pallas::Status st = p.load(tables_from_json(v.at("tables")));
  REQUIRE_MESSAGE(st.ok(), st.message);
  if (v.contains("seq")) REQUIRE(p.write_seq(v.at("seq").get<uint32_t>()).ok());
  const auto& steps = v.at("steps");
  for (size_t i = 0; i < steps.size(); i++) {
    const json& s = steps[i];
    CAPTURE(i);
    const uint64_t now = s.at("atNs").get<uint64_t>();
    const json& want = s.at("expect");
    if (s.contains("request")) {
      const json& r = s.at("request");
      PipeRequest in;
      in.type = r.at("type").get<uint8_t>();
      in.flags = r.value("flags", uint8_t{0});
      in.index = r.value("index", 0u);
      in.group = r.value("group", uint8_t{0});
      in.server = r.value("server", kNoServer);
      const RequestOut o = p.on_request(in, now);
      if (want.value("dropped", false)) {
        CHECK(o.dropped);
        continue;
      }
      CHECK_FALSE(o.dropped);
      CHECK(fwd_json(o.primary) == want.at("out"));
      CHECK(o.cloned == want.contains("clone"));
      if (o.cloned && want.contains("clone")) CHECK(fwd_json(o.clone) == want.at("clone"));
    } else {
      const json& r = s.at("reply");
      PipeReply in;
      in.type = r.at("type").get<uint8_t>();
      in.flags = r.at("flags").get<uint8_t>();
      in.index = r.at("index").get<uint32_t>();
      in.group = r.value("group", uint8_t{0});
      in.server = r.value("server", kNoServer);
      in.time_ns = r.value("timeNs", 0u);
      CHECK(p.on_reply(in) == want.at("forward").get<bool>());
    }
  }
  // The registers, as the addon's registers() reports them.
  const json& regs = v.at("after").at("registers");
  const size_t g = p.tables().groups.size();
  CHECK(p.seq() == regs.at("seq").get<uint32_t>());
  json wc = json::array(), cc = json::array(), bw = json::array(), bc = json::array();
  for (uint32_t i = 0; i < g; i++) {
    wc.push_back(p.wrr_counter().value(i));
    cc.push_back(p.clone_counter().value(i));
    bw.push_back(p.burst().window_of(i));
    bc.push_back(p.burst().count_of(i));
  }
  CHECK(wc == regs.at("wrrCounter"));
  CHECK(cc == regs.at("cloneCounter"));
  CHECK(bw == regs.at("burstWindow"));
  CHECK(bc == regs.at("burstCount"));
  json out = json::array();
  for (uint32_t i = 0; i < g; i++)
    for (const WrrEntry& e : p.tables().groups[i].wrr)
      out.push_back({{"group", i}, {"server", e.server}, {"value", p.outstanding().value(i, e.server)}});
  CHECK(out == regs.at("outstanding"));
  if (v.contains("filterSlots")) {
    json f = json::array();
    for (const auto& s : v.at("filterSlots")) {
      const uint32_t slot = s.get<uint32_t>() % p.filter().slots();
      f.push_back({{"slot", slot}, {"lo", p.filter().lo(slot)}, {"hi", p.filter().hi(slot)}});
    }
    CHECK(f == regs.at("filter"));
  }
  json mon = json::array();
  const Monitor& m = p.monitor();
  for (uint32_t t = 0; t < 256; t++) {
    const uint8_t ty = static_cast<uint8_t>(t);
    if (!m.requests(ty) && !m.replies(ty) && !m.time_units(ty) && !m.notices(ty)) continue;
    mon.push_back({{"type", t},
                   {"requests", m.requests(ty)},
                   {"replies", m.replies(ty)},
                   {"timeUnits", m.time_units(ty)},
                   {"notices", m.notices(ty)}});
  }
  CHECK(mon == v.at("after").at("monitor"));
  for (const auto& c : v.at("after").at("counters").items()) {
    const std::string& name = c.key();
    CAPTURE(name);
    CHECK(counter(p.counters(), name) == c.value().get<uint64_t>());
  }
  return steps.size();
}

}  // namespace

// ---- the shared vectors ----

TEST_CASE("switch vectors: every packet, then the registers and counters, as each file says") {
  const auto files = vector_files();
  REQUIRE(files.size() >= 9);
  size_t steps = 0;
  for (const auto& f : files) {
    CAPTURE(f.filename().string());
    steps += replay(pallas::testing::load_json(f));
  }
  CHECK(steps >= 60);
}

TEST_CASE("switch vectors: cover every stage of the contract") {
  std::string covers;
  size_t one_window = 0, n = 0;
  for (const auto& f : vector_files()) {
    const json v = pallas::testing::load_json(f);
    for (const auto& c : v.at("covers")) covers += c.get<std::string>() + "\n";
    one_window += v.at("timing") == "one-window";
    n++;
  }
  for (const char* stage :
       {"type_to_group", "seq", "wrr_counter wrap", "burst count", "clone_counter", "suppression", "window", "2^40",
        "po2", "outstanding", "second dropped", "evicted", "notice", "bounced", "rounded", "wrapping"}) {
    CAPTURE(stage);
    CHECK(covers.find(stage) != std::string::npos);
  }
  CHECK(one_window + 1 >= n);
}

// ---- table writes ----

TEST_CASE("pipeline: a table write is validated before anything changes") {
  const auto refused = [](const Tables& t, const char* what, bool allow_ablation = true) {
    Pipeline p(kFilterSlots, 1, allow_ablation);
    const pallas::Status st = p.load(t);
    CAPTURE(what);
    CHECK_FALSE(st.ok());
    if (!st.ok()) {
      CHECK(std::string(st.code) == "BAD_POLICY");
      CHECK_MESSAGE(st.message.find(what) != std::string::npos, st.message);
    }
  };
  const auto accepted = [](const Tables& t) {
    Pipeline p;
    const pallas::Status st = p.load(t);
    CHECK_MESSAGE(st.ok(), st.message);
  };
  refused(tables({}), "1 to 32 groups");
  accepted(tables(std::vector<GroupTable>(32, group({{0, 1}}))));
  refused(tables(std::vector<GroupTable>(33, group({{0, 1}}))), "1 to 32 groups");
  Tables t = tables({group({{0, 1}}), group({{1, 1}})});
  t.default_group = 2;
  refused(t, "default group");
  t.default_group = 1;
  accepted(t);
  for (const uint8_t k : {7, 25}) {
    Tables s = tables({group({{0, 1}})});
    s.tau_shift = k;
    refused(s, "tau_shift must be 8 to 24");
  }
  for (const uint8_t k : {8, 24}) {
    Tables s = tables({group({{0, 1}})});
    s.tau_shift = k;
    accepted(s);
  }
  Tables ab = tables({group({{0, 1}})});
  ab.ablation.argmin_target = true;
  refused(ab, "simulator-only", false);
  accepted(ab);
  refused(tables({group({{256, 1}})}), "names server 256");
  accepted(tables({group({{255, 1}})}));
  refused(tables({group({{0, 65535}, {1, 1}})}), "weights sum to 65536");
  accepted(tables({group({{0, 65534}, {1, 1}})}));
  refused(tables({group({{0, 1}}, 4, 0)}), "clone target 0 is not another group");
  refused(tables({group({{0, 1}}, 4, 1)}), "clone target 1 is not another group");
  accepted(tables({group({{0, 1}}, 4, 1), group({{1, 1}})}));
  refused(tables({group({{0, 1}}, 0, kNoGroup, static_cast<Balance>(2))}), "unknown balancing");
  std::vector<WrrEntry> many(513, WrrEntry{3, 1});
  refused(tables({group(many), group(many)}), "more WRR entries");
  accepted(
      tables({group(std::vector<WrrEntry>(512, WrrEntry{3, 1})), group(std::vector<WrrEntry>(512, WrrEntry{4, 1}))}));
  Tables map = tables({group({{0, 1}})});
  map.type_to_group[5] = 1;
  refused(map, "type 5 maps to a group that does not exist");
}

TEST_CASE("pipeline: a refused write keeps the old tables, a good one restarts the WRR and clone counters only") {
  Tables t = tables({group({{0, 1}, {1, 1}, {2, 1}}, 1, 1), group({{5, 1}, {6, 1}})});
  t.type_to_group[1] = 0;
  Pipeline p = loaded(t);
  for (int i = 0; i < 4; i++) req(p, 1, 100);  // counts 1..4: three clones
  reply(p, 1, 0, 99, 0, 0, 160);
  CHECK(p.wrr_counter().value(0) == 1);
  CHECK(p.clone_counter().value(1) == 1);
  const uint32_t burst = p.burst().count_of(0), out0 = p.outstanding().value(0, 0);
  CHECK(burst == 4);
  Tables bad = t;
  bad.default_group = 9;
  CHECK_FALSE(p.load(bad).ok());
  CHECK(p.groups() == 2);
  CHECK(p.tables().groups[0].wrr.size() == 3);
  CHECK(p.wrr_counter().value(0) == 1);  // nothing changed
  REQUIRE(p.load(t).ok());
  CHECK(p.wrr_counter().value(0) == 0);
  CHECK(p.clone_counter().value(1) == 0);
  CHECK(p.burst().count_of(0) == burst);
  CHECK(p.outstanding().value(0, 0) == out0);
  CHECK(p.monitor().requests(1) == 4);
  CHECK(p.monitor().time_units(1) == 10);
  CHECK(p.seq() == 5);
  CHECK(req(p, 1, 100).primary.server == 0);  // the counter restarted at the first server
}

// ---- request path ----

TEST_CASE("pipeline: the shaper maps types to groups, unmapped to the default group, seq indexes fresh requests") {
  Tables t = tables({group({{0, 1}}), group({{1, 1}})});
  t.type_to_group[1] = 0;
  t.type_to_group[2] = 1;
  t.default_group = 1;
  Pipeline p = loaded(t);
  CHECK(p.seq() == 1);
  RequestOut o = req(p, 1, 0);
  CHECK(o.primary.group == 0);
  CHECK(o.primary.server == 0);
  CHECK(o.primary.index == 1);
  CHECK(o.primary.flags == 0);
  CHECK_FALSE(o.cloned);
  CHECK_FALSE(o.dropped);
  o = req(p, 2, 0);
  CHECK(o.primary.group == 1);
  CHECK(o.primary.index == 2);
  o = req(p, 200, 0);
  CHECK(o.primary.group == 1);
  CHECK(o.primary.server == 1);
  CHECK(p.counters().n_unmapped == 1);
  // A request carrying an index keeps it, and takes no seq.
  o = req(p, 1, 0, 0, 777);
  CHECK(o.primary.index == 777);
  CHECK(p.seq() == 4);
  CHECK(p.counters().n_requests == 4);
  CHECK(p.monitor().requests(200) == 1);
  // seq: never 0; wraps from 2^32 − 1 to 1.
  const pallas::Status st = p.write_seq(0);
  CHECK_FALSE(st.ok());
  CHECK(std::string(st.code) == "BAD_POLICY");
  CHECK(p.seq() == 4);
  REQUIRE(p.write_seq(UINT32_MAX).ok());
  CHECK(req(p, 1, 0).primary.index == UINT32_MAX);
  CHECK(req(p, 1, 0).primary.index == 1);
  CHECK(p.seq() == 2);
}

TEST_CASE("pipeline: WRR gives each server exactly its weight over any Σw consecutive requests") {
  Tables t = tables({group({{0, 3}, {7, 0}, {1, 1}, {2, 2}})});
  Pipeline p = loaded(t);
  std::vector<uint16_t> got;
  got.reserve(60);
  for (int i = 0; i < 60; i++) got.push_back(req(p, 1, 0).primary.server);
  const std::vector<uint16_t> cycle = {0, 0, 0, 1, 2, 2};
  for (size_t i = 0; i < got.size(); i++) REQUIRE(got[i] == cycle[i % 6]);
  for (size_t start = 0; start + 6 <= got.size(); start++) {
    std::map<uint16_t, int> n;
    for (size_t i = start; i < start + 6; i++) n[got[i]]++;
    REQUIRE(n == std::map<uint16_t, int>{{0, 3}, {1, 1}, {2, 2}});
  }
  CHECK(p.outstanding().value(0, 7) == 0);  // weight 0: never chosen
  CHECK(p.outstanding().value(0, 0) == 30);
  CHECK(p.wrr_counter().value(0) == 0);  // 60 = 10 · 6
}

TEST_CASE("wrr: the counter wraps at the total, and a value left beyond a shrunk total restarts at 0") {
  WrrCounter c;
  CHECK(c.next(3, 5) == 0);
  CHECK(c.next(3, 5) == 1);
  CHECK(c.next(3, 5) == 2);
  CHECK(c.value(3) == 3);
  CHECK(c.value(0) == 0);
  CHECK(c.value(kMaxGroups) == 0);  // out of range reads 0
  CHECK(c.next(3, 2) == 0);         // 3 ≥ 2: wraps to 0
  CHECK(c.next(3, 2) == 1);
  CHECK(c.next(3, 2) == 0);
  CHECK(c.next(4, 1) == 0);
  CHECK(c.next(4, 1) == 0);
  c.reset(3);
  CHECK(c.value(3) == 0);
}

TEST_CASE("wrr: po2 pick rows split the 16-bit random numbers in proportion to the weights") {
  WrrRanges r;
  r.load(0, {{4, 1}, {9, 0}, {5, 2}});
  CHECK(r.total(0) == 3);
  CHECK(r.total(1) == 0);
  uint16_t s = 0, w = 0;
  r.pick(0, 0, &s, &w);
  CHECK(s == 4);
  CHECK(w == 1);
  r.pick(0, 21844, &s, &w);  // ⌊65536 · 1 / 3⌋ = 21845: the first row ends just before
  CHECK(s == 4);
  r.pick(0, 21845, &s, &w);
  CHECK(s == 5);
  CHECK(w == 2);
  r.pick(0, 65535, &s, &w);
  CHECK(s == 5);
  CHECK(r.server_at(0, 0) == 4);
  CHECK(r.server_at(0, 1) == 5);
  CHECK(r.server_at(0, 2) == 5);
  int n4 = 0;
  for (uint32_t x = 0; x < 65536; x++) {
    r.pick(0, x, &s, &w);
    n4 += s == 4;
  }
  CHECK(n4 == 21845);
}

TEST_CASE("pipeline: po2 picks the lower outstanding − weight of two weighted draws, a tie to the first") {
  // A reference model written from docs/switch-contract.md, fed the same random numbers (the
  // pipeline draws them from Rng(seed, 5), one 64-bit number per po2 request).
  const std::vector<WrrEntry> servers = {{0, 1}, {1, 2}, {2, 1}, {3, 4}};
  Tables t = tables({group(servers, 0, kNoGroup, Balance::kPo2)});
  Pipeline p = loaded(t, 7);
  pallas::Rng draws(7, 5), traffic(99);
  uint32_t total = 0;
  for (const WrrEntry& e : servers) total += e.weight;
  const auto pick = [&](uint32_t r16) {
    uint32_t hi = 0;
    for (size_t i = 0; i < servers.size(); i++) {
      hi += servers[i].weight;
      if (i + 1 == servers.size() || r16 < (uint64_t{hi} << 16) / total) return servers[i];
    }
    return servers.back();
  };
  std::map<uint16_t, uint32_t> out;
  uint32_t requests = 0;
  std::map<uint16_t, int> chosen;
  for (int step = 0; step < 4000; step++) {
    uint16_t busy[4];
    int nb = 0;
    for (const auto& [s, n] : out)
      if (n > 0) busy[nb++] = s;
    if (nb > 0 && traffic.uniform() < 0.45) {
      const uint16_t s = busy[traffic.below(nb)];
      CHECK(reply(p, 1, 0, 0, 0, s, 100));
      out[s]--;
      continue;
    }
    const uint64_t r = draws.next();
    const WrrEntry a = pick(r & 0xFFFF), b = pick((r >> 16) & 0xFFFF);
    const uint32_t sa = out[a.server] + 65536 - a.weight, sb = out[b.server] + 65536 - b.weight;
    const uint16_t want = sb < sa ? b.server : a.server;
    const RequestOut o = req(p, 1, static_cast<uint64_t>(step));
    REQUIRE(o.primary.server == want);
    out[want]++;
    chosen[want]++;
    requests++;
  }
  CHECK(p.counters().n_po2 == requests);
  for (const WrrEntry& e : servers) CHECK(p.outstanding().value(0, e.server) == out[e.server]);
  CHECK(chosen.size() == 4);
  CHECK(p.wrr_counter().value(0) == 0);  // po2 never touches the WRR counter
}

TEST_CASE("pipeline: po2 avoids a loaded server: with one server far behind, the other takes every request") {
  Tables t = tables({group({{0, 1}, {1, 1}}, 0, kNoGroup, Balance::kPo2)});
  Pipeline p = loaded(t);
  // Load server 1 with 50 outstanding through bounced requests (a bounce is balanced by WRR,
  // alternating 0, 1), then let server 0 answer all of its own.
  for (int i = 0; i < 100; i++) req(p, 1, 0, wire::kFlagBounced, 1000 + i);
  for (int i = 0; i < 50; i++) reply(p, 1, 0, 1000 + 2 * i, 0, 0);
  REQUIRE(p.outstanding().value(0, 1) == 50);
  REQUIRE(p.outstanding().value(0, 0) == 0);
  const uint32_t o0 = 0;
  // Server 0 is chosen unless both draws name server 1 (a quarter of the time), as long as its
  // count stays below server 1's.
  int n0 = 0;
  for (int i = 0; i < 40; i++) n0 += req(p, 1, 0).primary.server == 0;
  CHECK(p.outstanding().value(0, 0) == o0 + n0);
  CHECK(n0 >= 20);
  CHECK(n0 <= 40);
  CHECK(p.counters().n_po2 == 40);
}

TEST_CASE("pipeline: a bounced request keeps its index and flags, releases its bouncer, and is balanced by WRR") {
  Tables t = tables({group({{0, 1}, {1, 1}}, 1, 1, Balance::kPo2), group({{2, 1}})});
  t.type_to_group[1] = 0;
  Pipeline p = loaded(t);
  const RequestOut first = req(p, 1, 0);  // fresh: po2, index 1
  const uint16_t s = first.primary.server;
  CHECK(p.outstanding().value(0, s) == 1);
  CHECK(p.monitor().requests(1) == 1);
  const uint32_t burst = p.burst().count_of(0);
  // The server bounces it back: group 0, server s.
  const RequestOut b = req(p, 1, 1, wire::kFlagBounced, 1, 0, s);
  CHECK(b.primary.index == 1);
  CHECK(b.primary.flags == wire::kFlagBounced);
  CHECK(b.primary.group == 0);
  CHECK(b.primary.server == 0);  // WRR position 0, whatever po2 would say
  CHECK_FALSE(b.cloned);
  CHECK(p.wrr_counter().value(0) == 1);
  CHECK(p.counters().n_po2 == 1);
  CHECK(p.counters().n_bounced == 1);
  CHECK(p.outstanding().value(0, 0) + p.outstanding().value(0, 1) == 1);  // −1 at s, +1 at 0
  CHECK(p.monitor().requests(1) == 1);                                    // not counted as demand twice
  CHECK(p.burst().count_of(0) == burst);                                  // nor in the burst window
  CHECK(p.seq() == 2);
  // Above the group's threshold, a bounced request is still never cloned.
  for (int i = 0; i < 5; i++) CHECK_FALSE(req(p, 1, 1, wire::kFlagBounced | wire::kCloneOriginal, 50 + i).cloned);
  // The bouncer's count saturates at 0; an out-of-range server is ignored.
  req(p, 1, 2, wire::kFlagBounced, 60, 1, 2);
  req(p, 1, 2, wire::kFlagBounced, 61, 1, 2);
  CHECK(p.outstanding().value(1, 2) == 0);
  req(p, 1, 2, wire::kFlagBounced, 62, 40, 999);
  // A bounced request with index 0 (no server sends one) gets a fresh index here.
  CHECK(req(p, 1, 2, wire::kFlagBounced, 0, 0, 0).primary.index == 2);
}

TEST_CASE("pipeline: a group without servers drops (counted), after the index and the demand") {
  Tables t = tables({group({{0, 1}}), group({}), group({{3, 0}})});
  t.type_to_group[2] = 1;
  t.type_to_group[3] = 2;
  Pipeline p = loaded(t);
  RequestOut o = req(p, 2, 0);
  CHECK(o.dropped);
  CHECK(o.primary.index == 1);
  CHECK(req(p, 3, 0).dropped);  // only weight-0 entries
  CHECK(p.counters().n_drop_no_server == 2);
  CHECK(p.monitor().requests(2) == 1);
  CHECK(p.seq() == 3);
  CHECK_FALSE(req(p, 1, 0).dropped);
}

TEST_CASE("burst: windows are 2^k ns from the timestamp's bits 39:8, repeating every 2^40 ns") {
  Tables t;
  t.tau_shift = 14;
  CHECK(Burst::window(t, 0) == 0);
  CHECK(Burst::window(t, 16383) == 0);
  CHECK(Burst::window(t, 16384) == 1);
  CHECK(Burst::window(t, 81920) == 5);
  CHECK(Burst::window(t, 98303) == 5);
  CHECK(Burst::window(t, 98304) == 6);
  CHECK(Burst::window(t, (1ull << 40) + 81920) == 5);
  CHECK(Burst::window(t, (1ull << 40) - 1) == (1u << 26) - 1);
  t.tau_shift = 8;
  CHECK(Burst::window(t, 255) == 0);
  CHECK(Burst::window(t, 256) == 1);
  CHECK(Burst::window(t, (1ull << 40) - 1) == UINT32_MAX);
  t.tau_shift = 24;
  CHECK(Burst::window(t, (1ull << 24) - 1) == 0);
  CHECK(Burst::window(t, 1ull << 24) == 1);
  // Ablation: an exact window of any length.
  t.ablation.exact_tau_ns = 20000;
  CHECK(Burst::window(t, 19999) == 0);
  CHECK(Burst::window(t, 20000) == 1);
  CHECK(Burst::window(t, 1ull << 41) == (1ull << 41) / 20000);
  // The register: {0, 0} at start counts 1 in any window; a new window restarts at 1.
  Tables d;
  Burst b;
  CHECK(b.count(d, 3, 0) == 1);
  CHECK(b.count(d, 3, 100) == 2);
  CHECK(b.count(d, 4, 100) == 1);
  CHECK(b.count(d, 3, 16384) == 1);
  CHECK(b.window_of(3) == 1);
  CHECK(b.count_of(3) == 1);
  CHECK(b.count_of(4) == 1);
  CHECK(b.window_of(kMaxGroups) == 0);
}

TEST_CASE("pipeline: above C_thres in its window a fresh request is cloned to the clone target") {
  Tables t = tables({group({{0, 1}}, 2, 1), group({{5, 1}, {6, 1}})});
  t.type_to_group[1] = 0;
  t.type_to_group[3] = 1;
  Pipeline p = loaded(t);
  CHECK_FALSE(req(p, 1, 0).cloned);
  CHECK_FALSE(req(p, 1, 1).cloned);  // n = 2 = C_thres: not above
  RequestOut o = req(p, 1, 2);
  REQUIRE(o.cloned);
  CHECK(o.primary.flags == wire::kCloneOriginal);
  CHECK(o.primary.server == 0);
  CHECK(o.clone.group == 1);
  CHECK(o.clone.server == 5);
  CHECK(o.clone.flags == wire::kCloneClone);
  CHECK(o.clone.index == o.primary.index);
  CHECK(o.clone.index == 3);
  // Clones take their server from the target's clone counter, never from its own WRR turns.
  o = req(p, 1, 3);
  CHECK(o.clone.server == 6);
  CHECK(req(p, 3, 4).primary.server == 5);  // group 1's own first request
  o = req(p, 1, 5);
  CHECK(o.clone.server == 5);
  CHECK(req(p, 3, 6).primary.server == 6);
  CHECK(p.clone_counter().value(1) == 1);
  CHECK(p.wrr_counter().value(1) == 0);
  CHECK(p.counters().n_cloned == 3);
  CHECK(p.outstanding().value(1, 5) == 3);
  CHECK(p.outstanding().value(1, 6) == 2);
  CHECK(p.burst().count_of(1) == 5);    // three clones and two of its own requests
  CHECK(p.monitor().requests(1) == 5);  // demand counts the originals once
  // A new window: the count restarts, no clone.
  CHECK_FALSE(req(p, 1, 16384).cloned);
  CHECK(req(p, 1, 16384).primary.flags == 0);
}

TEST_CASE("pipeline: a clone is suppressed when its target bursts too or has no server, the original stays marked") {
  Tables t = tables({group({{0, 1}}, 1, 1), group({{5, 1}}, 1), group({{0, 1}}, 1, 3), group({})});
  t.type_to_group[1] = 0;
  t.type_to_group[2] = 2;
  Pipeline p = loaded(t);
  req(p, 1, 0);
  RequestOut o = req(p, 1, 0);  // n = 2 > 1: cloned; target count 1 ≤ 1
  CHECK(o.cloned);
  o = req(p, 1, 0);  // target count 2 > 1: suppressed
  CHECK_FALSE(o.cloned);
  CHECK(o.primary.flags == wire::kCloneOriginal);
  CHECK(p.counters().n_clone_suppressed == 1);
  CHECK(p.burst().count_of(1) == 2);  // the suppressed copy was counted in the target's window
  req(p, 2, 0);
  o = req(p, 2, 0);  // target 3 has no server
  CHECK_FALSE(o.cloned);
  CHECK(o.primary.flags == wire::kCloneOriginal);
  CHECK(p.counters().n_clone_suppressed == 2);
  CHECK(p.counters().n_cloned == 1);
}

TEST_CASE("pipeline: no clone without a target, a threshold, cloning on, or a fresh request") {
  const auto clones = [](Tables t, uint8_t flags = 0) {
    t.type_to_group[1] = 0;
    Pipeline p = loaded(t);
    int n = 0;
    for (int i = 0; i < 10; i++) {
      const RequestOut o = req(p, 1, 0, flags);
      n += o.cloned;
      CHECK(o.primary.flags == (o.cloned ? wire::kCloneOriginal : flags));
    }
    return n;
  };
  CHECK(clones(tables({group({{0, 1}}, 2, kNoGroup), group({{1, 1}})})) == 0);
  CHECK(clones(tables({group({{0, 1}}, 0, 1), group({{1, 1}})})) == 0);
  Tables off = tables({group({{0, 1}}, 2, 1), group({{1, 1}})});
  off.clone = false;
  CHECK(clones(off) == 0);
  // A request that arrives with clone bits set is not fresh: not counted, not cloned.
  CHECK(clones(tables({group({{0, 1}}, 2, 1), group({{1, 1}})}), wire::kCloneOriginal) == 0);
  Tables on = tables({group({{0, 1}}, 2, 1), group({{1, 1}})});
  CHECK(clones(on) == 8);
}

TEST_CASE("pipeline ablations: argmin target, shared clone counter") {
  // argmin: the clone goes to the least-burst group (count / C_thres), never suppressed.
  Tables t = tables({group({{0, 1}}, 1, 1), group({{1, 1}}, 10), group({{2, 1}}, 10), group({{3, 1}})});
  t.type_to_group[1] = 0;
  t.type_to_group[2] = 1;
  t.ablation.argmin_target = true;
  Pipeline p = loaded(t);
  for (int i = 0; i < 5; i++) req(p, 2, 0);  // group 1: 5 / 10
  req(p, 1, 0);
  RequestOut o = req(p, 1, 0);
  REQUIRE(o.cloned);
  CHECK(o.clone.group == 2);                                // 0 / 10 < 5 / 10; group 3 has no threshold
  for (int i = 0; i < 30; i++) CHECK(req(p, 1, 0).cloned);  // targets far above their thresholds: still cloned
  CHECK(p.counters().n_clone_suppressed == 0);
  // Shared counter: the clone takes a turn of the target's own WRR.
  Tables s = tables({group({{0, 1}}, 1, 1), group({{5, 1}, {6, 1}})});
  s.type_to_group[1] = 0;
  s.type_to_group[3] = 1;
  s.ablation.shared_clone_counter = true;
  Pipeline q = loaded(s);
  req(q, 1, 0);
  o = req(q, 1, 0);
  REQUIRE(o.cloned);
  CHECK(o.clone.server == 5);
  CHECK(req(q, 3, 0).primary.server == 6);  // the clone took server 5's turn
  CHECK(q.clone_counter().value(1) == 0);
  CHECK(q.wrr_counter().value(1) == 0);
}

// ---- reply path ----

TEST_CASE("pipeline: replies release outstanding counts, saturating at 0, the monitor rounds time to 16 ns") {
  Tables t = tables({group({{0, 1}})});
  Pipeline p = loaded(t);
  req(p, 4, 0);
  CHECK(p.outstanding().value(0, 0) == 1);
  CHECK(reply(p, 4, 0, 1, 0, 0, 7));
  CHECK(p.outstanding().value(0, 0) == 0);
  CHECK(reply(p, 4, 0, 2, 0, 0, 8));
  CHECK(p.outstanding().value(0, 0) == 0);  // saturates
  CHECK(reply(p, 4, 0, 3, 0, 0, 23));
  CHECK(reply(p, 4, 0, 4, 0, 0, 24));
  CHECK(reply(p, 4, 0, 5, 0, 0, UINT32_MAX));  // no overflow of time_ns + 8
  CHECK(p.monitor().replies(4) == 5);
  CHECK(p.monitor().time_units(4) == 0 + 1 + 1 + 2 + (1u << 28));
  CHECK(p.monitor().requests(4) == 1);
  CHECK(p.counters().n_replies == 5);
  // Cumulative, modulo 2^32.
  Monitor m;
  for (int i = 0; i < 17; i++) m.record(9, UINT32_MAX);
  CHECK(m.time_units(9) == (1u << 28));  // 17 · 2^28 mod 2^32
  CHECK(m.replies(9) == 17);
  m.count_notice(9);
  m.count_request(9);
  CHECK(m.notices(9) == 1);
  CHECK(m.requests(9) == 1);
  CHECK(m.replies(8) == 0);
}

TEST_CASE("pipeline: of a cloned request the first reply is forwarded and counted, the second dropped") {
  Tables t = tables({group({{0, 1}}, 1, 1), group({{5, 1}})});
  t.type_to_group[1] = 0;
  Pipeline p = loaded(t);
  req(p, 1, 0);
  const RequestOut o = req(p, 1, 0);
  REQUIRE(o.cloned);
  const uint32_t idx = o.primary.index;
  CHECK(reply(p, 1, wire::kCloneClone, idx, 1, 5, 100));  // the clone answers first
  CHECK_FALSE(reply(p, 1, wire::kCloneOriginal, idx, 0, 0, 300));
  CHECK(p.counters().n_replies_filtered == 1);
  CHECK(p.monitor().replies(1) == 1);
  CHECK(p.monitor().time_units(1) == 6);
  CHECK(p.outstanding().value(0, 0) == 1);  // the uncloned first request is still out
  CHECK(p.outstanding().value(1, 5) == 0);
  CHECK(p.filter().lo(idx) == 0);  // the entry is cleared
  // An uncloned reply never touches the filter, even with the same index twice.
  CHECK(reply(p, 1, 0, 1, 0, 0, 0));
  CHECK(reply(p, 1, 0, 1, 0, 0, 0));
  CHECK(p.filter().lo(1) == 0);
}

TEST_CASE("pipeline: drop notices: a clone's is consumed, any other forwarded, an uncloned one counts as a notice") {
  Tables t = tables({group({{0, 1}})});
  Pipeline p = loaded(t);
  // The original answered first, then its clone was dropped: the notice clears the entry.
  CHECK(reply(p, 2, wire::kCloneOriginal, 11, 0, 0, 50));
  CHECK(p.filter().lo(11) == 11);
  CHECK_FALSE(reply(p, 2, kNotice | wire::kCloneClone, 11, 0, 0));
  CHECK(p.filter().lo(11) == 0);
  CHECK(p.counters().n_clone_drop_notices == 1);
  // The clone was dropped first: the original's reply is then forwarded.
  CHECK_FALSE(reply(p, 2, kNotice | wire::kCloneClone, 12, 0, 0));
  CHECK(reply(p, 2, wire::kCloneOriginal, 12, 0, 0, 50));
  // An original's notice goes to the client but is not counted (its clone may still answer).
  CHECK(reply(p, 2, kNotice | wire::kCloneOriginal, 13, 0, 0));
  CHECK(reply(p, 2, wire::kCloneClone, 13, 0, 0, 50));
  // An uncloned request's notice: forwarded and counted as a notice, not as a reply.
  CHECK(reply(p, 2, kNotice, 14, 0, 0));
  const Monitor& m = p.monitor();
  CHECK(m.notices(2) == 1);
  CHECK(m.replies(2) == 3);
  CHECK(p.counters().n_clone_drop_notices == 2);
  CHECK(p.counters().n_replies == 7);
}

TEST_CASE("reply filter: an LRU of two indices per slot, a third evicts (counted), never a wrong drop") {
  ReplyFilter f(4);
  CHECK(f.slots() == 4);
  CHECK(f.pass(1));
  CHECK(f.pass(5));  // same slot: lo 5, hi 1
  CHECK(f.lo(1) == 5);
  CHECK(f.hi(1) == 1);
  CHECK(f.n_evicted() == 0);
  CHECK(f.pass(9));  // evicts 1
  CHECK(f.n_evicted() == 1);
  CHECK(f.lo(1) == 9);
  CHECK(f.hi(1) == 5);
  CHECK_FALSE(f.pass(5));  // hi == 5: the second reply
  CHECK(f.hi(1) == 0);
  CHECK_FALSE(f.pass(9));  // lo == 9
  CHECK(f.lo(1) == 0);
  CHECK(f.pass(1));  // the evicted request's late second reply: forwarded (a duplicate), never dropped
  // forget: clears either half, stores nothing.
  f.forget(1);
  CHECK(f.lo(1) == 0);
  CHECK(f.pass(2));
  CHECK(f.pass(6));
  f.forget(2);  // hi
  CHECK(f.hi(2) == 0);
  CHECK(f.lo(2) == 6);
  f.forget(10);  // absent: nothing
  CHECK(f.lo(2) == 6);
  f.forget(6);
  CHECK(f.lo(2) == 0);
  // A stream of requests answered once each (second replies lost) never loses a first reply.
  ReplyFilter g(8);
  for (uint32_t i = 1; i <= 10000; i++) REQUIRE(g.pass(i));
  CHECK(g.n_evicted() == 10000 - 16);
}

TEST_CASE("reply filter: classify_reply's table") {
  ReplyFilter f(16);
  CHECK(classify_reply(f, kResp, 1) == ReplyVerdict::kForward);
  CHECK(classify_reply(f, kResp, 1) == ReplyVerdict::kForward);
  CHECK(classify_reply(f, kResp | wire::kCloneOriginal, 2) == ReplyVerdict::kForward);
  CHECK(classify_reply(f, kResp | wire::kCloneClone, 2) == ReplyVerdict::kFiltered);
  CHECK(classify_reply(f, kResp | kNotice, 3) == ReplyVerdict::kForwardNotice);
  CHECK(classify_reply(f, kResp | kNotice | wire::kCloneOriginal, 3) == ReplyVerdict::kForwardNotice);
  CHECK(classify_reply(f, kResp | kNotice | wire::kCloneClone, 3) == ReplyVerdict::kCloneNotice);
  CHECK(f.lo(3) == 0);  // notices never store
}

TEST_CASE("outstanding: per (group, server), saturating, bounds-checked reads and decrements, po2 score") {
  Outstanding o;
  o.inc(31, 255);
  o.inc(31, 255);
  CHECK(o.value(31, 255) == 2);
  CHECK(o.value(30, 255) == 0);
  CHECK(o.value(32, 0) == 0);
  CHECK(o.value(0, 256) == 0);
  o.dec(32, 0);
  o.dec(0, 300);
  o.dec(31, 255);
  o.dec(31, 255);
  o.dec(31, 255);
  CHECK(o.value(31, 255) == 0);
  o.inc(1, 2);
  CHECK(o.score(1, 2, 4) == 1 + 65536 - 4);
  CHECK(o.score(1, 3, 1) == 65535);
  CHECK(Outstanding::slot(1, 2) == 258);
}

// ---- the dispatchers ----

TEST_CASE("dispatcher factory: kinds, and the configs it refuses") {
  std::string err;
  DispatcherConfig c;
  for (const char* kind : {"random", "rr", "po2", "jbsq", "draconis", "netclone"}) {
    c.kind = kind;
    c.servers = 3;
    auto d = make_dispatcher(c, &err);
    REQUIRE(d);
    CHECK(std::string(d->name()) == kind);
    CHECK(d->monitor() == nullptr);
    CHECK(d->pipeline() == nullptr);
    const pallas::Status st = d->load(Tables());
    CHECK_FALSE(st.ok());
    CHECK(st.message == std::string(kind) + " has no Pallas tables");
  }
  c.kind = "rr";
  c.servers = 0;
  CHECK(make_dispatcher(c, &err) == nullptr);
  CHECK(err == "a rack needs 1 to 65535 servers with at least one worker");
  c.servers = 65536;
  CHECK(make_dispatcher(c, &err) == nullptr);
  c.servers = 65535;
  CHECK(make_dispatcher(c, &err) != nullptr);
  c.servers = 2;
  c.workers = 0;
  CHECK(make_dispatcher(c, &err) == nullptr);
  c.workers = 1;
  c.kind = "jbsq";
  c.jbsq_depth = 0;
  err.clear();
  CHECK(make_dispatcher(c, &err) == nullptr);
  CHECK(err == "jbsq needs a depth of at least 1");
  c.kind = "ecmp";
  CHECK(make_dispatcher(c, &err) == nullptr);
  CHECK(err.find("unknown switch 'ecmp'") != std::string::npos);
  c.kind = "pallas";
  c.tables = Tables();
  CHECK(make_dispatcher(c, &err) == nullptr);
  CHECK(err.find("1 to 32 groups") != std::string::npos);
  c.tables = tables({group({{0, 1}, {2, 1}})});
  CHECK(make_dispatcher(c, &err) == nullptr);
  CHECK(err == "a WRR entry names server 2 but the rack has 2");
  c.servers = 3;
  auto d = make_dispatcher(c, &err);
  REQUIRE(d);
  CHECK(std::string(d->name()) == "pallas");
  CHECK(d->monitor() != nullptr);
  CHECK(d->pipeline() != nullptr);
  c.tables.ablation.exact_tau_ns = 20000;
  CHECK(make_dispatcher(c, &err) == nullptr);  // the software switch refuses ablations
  c.allow_ablation = true;
  CHECK(make_dispatcher(c, &err) != nullptr);
}

TEST_CASE("dispatcher rr and random: oblivious spreading") {
  DispatcherConfig c;
  c.kind = "rr";
  c.servers = 3;
  std::string err;
  auto rr = make_dispatcher(c, &err);
  std::vector<Send> out;
  for (uint32_t h = 0; h < 7; h++) CHECK(rr->on_request({h, 1, 0, 0, 0, 0xFFFF}, 0, &out) == Fate::kSent);
  std::vector<uint16_t> servers;
  servers.reserve(out.size());
  for (const Send& s : out) servers.push_back(s.server);
  CHECK(servers == std::vector<uint16_t>{0, 1, 2, 0, 1, 2, 0});
  CHECK(out[3].handle == 3);
  out.clear();
  rr->on_request({9, 1, wire::kFlagBounced, 44, 0, 1}, 0, &out);
  CHECK(out[0].flags == wire::kFlagBounced);
  CHECK(out[0].index == 44);
  CHECK(rr->on_reply({9, 1, 1, kResp, 0, 44, 0, 0}, 0, &out));
  CHECK(rr->counters().n_requests == 8);
  CHECK(rr->counters().n_bounced == 1);
  CHECK(rr->counters().n_replies == 1);
  CHECK(rr->held() == 0);

  c.kind = "random";
  c.servers = 5;
  c.seed = 3;
  auto a = make_dispatcher(c, &err), b = make_dispatcher(c, &err);
  std::vector<Send> oa, ob;
  int n[5] = {};
  for (uint32_t h = 0; h < 10000; h++) {
    a->on_request({h, 1}, 0, &oa);
    b->on_request({h, 1}, 0, &ob);
    REQUIRE(oa.back().server < 5);
    REQUIRE(oa.back().server == ob.back().server);  // seeded
    n[oa.back().server]++;
  }
  for (int x : n) CHECK(std::abs(x - 2000) < 5 * 40);  // binomial sd sqrt(10000·.2·.8) = 40
}

TEST_CASE("dispatcher po2: two distinct servers, the shorter reported queue wins") {
  DispatcherConfig c;
  c.kind = "po2";
  c.servers = 3;
  std::string err;
  auto d = make_dispatcher(c, &err);
  std::vector<Send> out;
  // Until a server replies it counts as empty: every server gets requests.
  std::map<uint16_t, int> n;
  for (uint32_t h = 0; h < 300; h++) {
    d->on_request({h, 1}, 0, &out);
    n[out.back().server]++;
  }
  CHECK(n.size() == 3);
  // Reported queues 5, 5, 9: server 2 is never the shorter of two distinct draws.
  CHECK(d->on_reply({0, 0, 1, kResp, 0, 1, 0, 5}, 0, &out));
  d->on_reply({0, 1, 1, kResp, 0, 1, 0, 5}, 0, &out);
  d->on_reply({0, 2, 1, kResp, 0, 1, 0, 9}, 0, &out);
  d->on_reply({0, 7, 1, kResp, 0, 1, 0, 0}, 0, &out);  // an unknown server: ignored
  n.clear();
  for (uint32_t h = 0; h < 600; h++) {
    d->on_request({h, 1}, 0, &out);
    n[out.back().server]++;
  }
  CHECK(n.count(2) == 0);
  CHECK(n[0] > 100);
  CHECK(n[1] > 100);
  // Reported 0, 9, 9: server 0 wins whenever it is drawn (two thirds of the pairs).
  d->on_reply({0, 0, 1, kResp, 0, 1, 0, 0}, 0, &out);
  d->on_reply({0, 1, 1, kResp, 0, 1, 0, 9}, 0, &out);
  n.clear();
  for (uint32_t h = 0; h < 3000; h++) {
    d->on_request({h, 1, wire::kFlagBounced, 5}, 0, &out);
    n[out.back().server]++;
  }
  CHECK(n[0] == doctest::Approx(2000).epsilon(0.1));
  CHECK(d->counters().n_bounced == 3000);
  // One server: always 0.
  c.servers = 1;
  auto one = make_dispatcher(c, &err);
  for (uint32_t h = 0; h < 10; h++) {
    one->on_request({h, 1}, 0, &out);
    CHECK(out.back().server == 0);
  }
}

TEST_CASE("dispatcher po2: two distinct draws, the first unless the second reported a shorter queue") {
  // A reference model fed the same random numbers (po2.hpp draws from Rng(seed, 3): a in [0, n),
  // then b in [0, n - 1) skipping a). Queues 2, 2, 2, 7: most pairs tie, and a tie goes to a.
  DispatcherConfig c;
  c.kind = "po2";
  c.servers = 4;
  c.seed = 5;
  std::string err;
  auto d = make_dispatcher(c, &err);
  std::vector<Send> out;
  const uint32_t qlen[4] = {2, 2, 2, 7};
  for (uint16_t s = 0; s < 4; s++) d->on_reply({0, s, 1, kResp, 0, 1, 0, qlen[s]}, 0, &out);
  pallas::Rng model(5, 3);
  std::map<uint16_t, int> n;
  for (uint32_t h = 0; h < 1000; h++) {
    uint32_t a = model.below(4), b = model.below(3);
    if (b >= a) b++;
    if (qlen[b] < qlen[a]) a = b;
    d->on_request({h, 1}, 0, &out);
    REQUIRE(out.back().server == a);
    n[out.back().server]++;
  }
  CHECK(n.count(3) == 0);
  CHECK(n.size() == 3);
}

TEST_CASE("dispatcher jbsq: least outstanding below n per worker, else a FIFO at the switch") {
  DispatcherConfig c;
  c.kind = "jbsq";
  c.servers = 2;
  c.workers = 2;
  c.jbsq_depth = 1;  // bound 2 per server
  c.queue_capacity = 2;
  std::string err;
  auto d = make_dispatcher(c, &err);
  std::vector<Send> out;
  std::vector<uint16_t> sent;
  for (uint32_t h = 1; h <= 4; h++) {
    CHECK(d->on_request({h, 1}, 0, &out) == Fate::kSent);
    sent.push_back(out.back().server);
  }
  CHECK(sent == std::vector<uint16_t>{0, 1, 0, 1});  // least loaded, ties to the lowest
  CHECK(d->on_request({5, 1}, 0, &out) == Fate::kHeld);
  CHECK(d->on_request({6, 1}, 0, &out) == Fate::kHeld);
  CHECK(d->on_request({7, 1}, 0, &out) == Fate::kDropped);
  CHECK(d->held() == 2);
  CHECK(d->counters().n_held == 2);
  CHECK(d->counters().n_drop_full == 1);
  out.clear();
  CHECK(d->on_reply({1, 1, 1, kResp, 0, 0, 0, 0}, 0, &out));  // server 1 frees one: takes the head
  REQUIRE(out.size() == 1);
  CHECK(out[0].handle == 5);
  CHECK(out[0].server == 1);
  // The next reply releases the next head, to its own server.
  out.clear();
  d->on_reply({2, 0, 1, kResp, 0, 0, 0, 0}, 0, &out);
  REQUIRE(out.size() == 1);
  CHECK(out[0].handle == 6);
  CHECK(d->held() == 0);
  d->on_reply({3, 0, 1, kResp, 0, 0, 0, 0}, 0, &out);  // server 0 now has 1 out
  out.clear();
  CHECK(d->on_request({8, 1}, 0, &out) == Fate::kSent);
  CHECK(out[0].server == 0);
  // A reply from an unknown server changes nothing.
  CHECK(d->on_reply({0, 9, 1, kResp, 0, 0, 0, 0}, 0, &out));
}

TEST_CASE("dispatcher draconis: credits per server, the most free first, a switch queue pulled by replies") {
  DispatcherConfig c;
  c.kind = "draconis";
  c.servers = 2;
  c.workers = 2;
  c.queue_capacity = 1;
  std::string err;
  auto d = make_dispatcher(c, &err);
  std::vector<Send> out;
  std::vector<uint16_t> sent;
  for (uint32_t h = 1; h <= 4; h++) {
    CHECK(d->on_request({h, 1}, 0, &out) == Fate::kSent);
    sent.push_back(out.back().server);
  }
  CHECK(sent == std::vector<uint16_t>{0, 1, 0, 1});
  CHECK(d->on_request({5, 1}, 0, &out) == Fate::kHeld);
  CHECK(d->on_request({6, 1}, 0, &out) == Fate::kDropped);
  out.clear();
  d->on_reply({2, 1, 1, kResp, 0, 0, 0, 0}, 0, &out);  // server 1's credit pulls the head
  REQUIRE(out.size() == 1);
  CHECK(out[0].handle == 5);
  CHECK(out[0].server == 1);
  out.clear();
  d->on_reply({1, 0, 1, kResp, 0, 0, 0, 0}, 0, &out);  // nothing held: server 0 gets its credit back
  CHECK(out.empty());
  CHECK(d->on_request({7, 1}, 0, &out) == Fate::kSent);
  CHECK(out[0].server == 0);
  // Credits never exceed the worker count.
  auto e = make_dispatcher(c, &err);
  for (int i = 0; i < 5; i++) e->on_reply({0, 0, 1, kResp, 0, 0, 0, 0}, 0, &out);
  out.clear();
  e->on_request({1, 1}, 0, &out);
  e->on_request({2, 1}, 0, &out);
  e->on_request({3, 1}, 0, &out);
  e->on_request({4, 1}, 0, &out);
  CHECK(out.size() == 4);
  CHECK(e->on_request({5, 1}, 0, &out) == Fate::kHeld);
}

TEST_CASE("dispatcher netclone: clones to two idle servers, the filter forwards the first reply") {
  DispatcherConfig c;
  c.kind = "netclone";
  c.servers = 2;
  c.workers = 1;
  std::string err;
  auto d = make_dispatcher(c, &err);
  std::vector<Send> out;
  CHECK(d->on_request({1, 1}, 0, &out) == Fate::kSent);
  REQUIRE(out.size() == 2);
  CHECK(out[0].flags == wire::kCloneOriginal);
  CHECK(out[1].flags == wire::kCloneClone);
  CHECK(out[0].server != out[1].server);
  CHECK(out[0].index == 1);
  CHECK(out[1].index == 1);
  CHECK(out[0].handle == out[1].handle);
  CHECK(d->counters().n_cloned == 1);
  CHECK(d->on_reply({1, out[1].server, 1, kResp | wire::kCloneClone, 0, 1, 10, 0}, 0, &out));
  CHECK_FALSE(d->on_reply({1, out[0].server, 1, kResp | wire::kCloneOriginal, 0, 1, 10, 0}, 0, &out));
  CHECK(d->counters().n_replies_filtered == 1);
  // A bounced request is never cloned, and keeps its index.
  out.clear();
  d->on_request({2, 1, wire::kFlagBounced, 77}, 0, &out);
  REQUIRE(out.size() == 1);
  CHECK(out[0].index == 77);
  CHECK(out[0].flags == wire::kFlagBounced);
  // Servers reported busy (queue ≥ workers): one copy, to the less loaded.
  d->on_reply({0, 0, 1, kResp, 0, 50, 0, 3}, 0, &out);
  d->on_reply({0, 1, 1, kResp, 0, 51, 0, 1}, 0, &out);
  out.clear();
  for (uint32_t h = 10; h < 20; h++) d->on_request({h, 1}, 0, &out);
  CHECK(out.size() == 10);
  for (const Send& s : out) {
    CHECK(s.server == 1);
    CHECK(s.flags == 0);
  }
  CHECK(out.front().index == 2);  // fresh requests take seq (1 went to the first; 77 was the bounce's own)
  CHECK(out.back().index == 11);
  // A dropped clone's notice is consumed.
  CHECK_FALSE(d->on_reply({0, 0, 1, kResp | kNotice | wire::kCloneClone, 0, 99, 0, 0}, 0, &out));
  CHECK(d->counters().n_clone_drop_notices == 1);
  // One server: never cloned.
  c.servers = 1;
  auto one = make_dispatcher(c, &err);
  out.clear();
  one->on_request({1, 1}, 0, &out);
  CHECK(out.size() == 1);
  CHECK(out[0].flags == 0);
  CHECK(out[0].index == 1);
}

TEST_CASE("dispatcher pallas: the pipeline behind the common interface") {
  DispatcherConfig c;
  c.kind = "pallas";
  c.servers = 4;
  c.tables = tables({group({{0, 1}, {1, 1}}, 1, 1), group({{3, 1}}), group({})});
  c.tables.type_to_group[1] = 0;
  c.tables.type_to_group[9] = 2;
  std::string err;
  auto d = make_dispatcher(c, &err);
  REQUIRE(d);
  std::vector<Send> out;
  CHECK(d->on_request({10, 1}, 0, &out) == Fate::kSent);
  REQUIRE(out.size() == 1);
  CHECK(out[0].handle == 10);
  CHECK(out[0].server == 0);
  CHECK(out[0].group == 0);
  CHECK(out[0].index == 1);
  out.clear();
  CHECK(d->on_request({11, 1}, 0, &out) == Fate::kSent);
  REQUIRE(out.size() == 2);
  CHECK(out[0].flags == wire::kCloneOriginal);
  CHECK(out[1].handle == 11);
  CHECK(out[1].server == 3);
  CHECK(out[1].group == 1);
  CHECK(out[1].flags == wire::kCloneClone);
  out.clear();
  CHECK(d->on_request({12, 9}, 0, &out) == Fate::kDropped);
  CHECK(out.empty());
  CHECK(d->on_reply({11, 3, 1, kResp | wire::kCloneClone, 1, 2, 32, 0}, 0, &out));
  CHECK_FALSE(d->on_reply({11, 1, 1, kResp | wire::kCloneOriginal, 0, 2, 32, 0}, 0, &out));
  const DispatchCounters k = d->counters();
  CHECK(k.n_requests == 3);
  CHECK(k.n_cloned == 1);
  CHECK(k.n_drop_no_server == 1);
  CHECK(k.n_replies == 2);
  CHECK(k.n_replies_filtered == 1);
  CHECK(d->monitor()->replies(1) == 1);
  CHECK(d->monitor()->time_units(1) == 2);
  CHECK(d->pipeline()->outstanding().value(0, 1) == 0);
  // A table write through the interface.
  CHECK(d->load(tables({group({{2, 1}})})).ok());
  out.clear();
  d->on_request({13, 1}, 0, &out);
  CHECK(out[0].server == 2);
}

TEST_CASE("hold queue: a bounded FIFO ring") {
  HoldQueue q(2);
  DispatchCounters c;
  CHECK(q.empty());
  CHECK(q.hold({1, 1}, &c) == Fate::kHeld);
  CHECK(q.hold({2, 1}, &c) == Fate::kHeld);
  CHECK(q.hold({3, 1}, &c) == Fate::kDropped);
  CHECK(c.n_held == 2);
  CHECK(c.n_drop_full == 1);
  for (uint32_t h = 3; h < 50; h++) {
    REQUIRE(q.pop().handle == h - 2);
    REQUIRE(q.push({h, 1}));
  }
  CHECK(q.size() == 2);
  HoldQueue none(0);
  CHECK_FALSE(none.push({1, 1}));
}
