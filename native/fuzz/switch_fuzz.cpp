// libFuzzer target for the switch's request and reply path: one switch policy (the Pallas
// pipeline, or a baseline's dispatcher: random, rr, po2, jbsq, draconis, netclone) built from the
// input, then fed a fuzzed sequence of datagrams under a fuzzed clock. Datagrams go through
// wire::validate and are classified exactly as the software switch does (switch/soft_switch.cpp):
// client requests (clone bits stripped, index 0), requests a server bounced, replies and drop
// notices (built from earlier sends, as a server would answer them, or arbitrary), and arbitrary
// bytes. Pallas tables may be reloaded and its seq register written in between.
//
// Properties: no crash or UB; every send names a server of the rack, and for Pallas a group of
// the tables and a server with a non-zero WRR weight in that group, never index 0, with
// consistent clone bits; a held request is released at most once and only if it was held; the
// counters agree with what the target saw; Pallas's outstanding counts and request monitor
// equal a model kept here.

#include <fuzzer/FuzzedDataProvider.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <iterator>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "../core/switch/dispatcher.hpp"
#include "../core/switch/pipeline.hpp"
#include "../core/wire/wire.hpp"
#include "fuzz_check.hpp"

using namespace pallas;
using sw::Tables;

namespace {

const char* const kKinds[] = {"pallas", "random", "rr", "po2", "jbsq", "draconis", "netclone"};

// Mostly valid Pallas tables for a rack of `servers` (tables_fuzz covers the malformed ones).
Tables make_tables(FuzzedDataProvider& in, uint32_t servers) {
  Tables t;
  const uint32_t groups = in.ConsumeIntegralInRange<uint32_t>(1, 6);
  t.tau_shift = in.ConsumeIntegralInRange<uint8_t>(wire::kSwTauShiftMin, wire::kSwTauShiftMax);
  t.clone = in.ConsumeBool();
  t.default_group = in.ConsumeIntegralInRange<uint8_t>(0, static_cast<uint8_t>(groups - 1));
  for (uint32_t g = 0; g < groups; g++) {
    sw::GroupTable gt;
    const uint32_t entries = in.ConsumeIntegralInRange<uint32_t>(0, 4);
    for (uint32_t e = 0; e < entries; e++)
      gt.wrr.push_back({in.ConsumeIntegralInRange<uint16_t>(0, static_cast<uint16_t>(servers - 1)),
                        in.ConsumeIntegralInRange<uint16_t>(0, 5)});
    gt.c_thres = in.ConsumeIntegralInRange<uint32_t>(0, 6);
    if (groups > 1 && in.ConsumeBool()) {
      uint8_t h = in.ConsumeIntegralInRange<uint8_t>(0, static_cast<uint8_t>(groups - 2));
      gt.clone_target = h >= g ? h + 1 : h;
    }
    gt.balance = in.ConsumeBool() ? sw::Balance::kPo2 : sw::Balance::kWrr;
    t.groups.push_back(std::move(gt));
  }
  // The types the datagrams mostly use: 0..7, and 255.
  for (int ty = 0; ty < 8; ty++)
    if (in.ConsumeBool()) t.type_to_group[ty] = in.ConsumeIntegralInRange<uint8_t>(0, static_cast<uint8_t>(groups - 1));
  if (in.ConsumeBool()) t.type_to_group[255] = 0;
  if (in.ConsumeProbability<float>() < 0.2f) {  // the simulator's ablations
    t.ablation.exact_tau_ns = in.ConsumeBool() ? in.ConsumeIntegralInRange<uint64_t>(1, 100000) : 0;
    t.ablation.argmin_target = in.ConsumeBool();
    t.ablation.shared_clone_counter = in.ConsumeBool();
  }
  return t;
}

struct Sent {
  sw::Send s;
  uint8_t type;
};

class Harness {
 public:
  Harness(const sw::DispatcherConfig& cfg, std::unique_ptr<sw::Dispatcher> d)
      : cfg_(cfg), d_(std::move(d)), pallas_(cfg.kind == "pallas"), tables_(cfg.tables) {}

  void datagram(const uint8_t* data, size_t len, uint32_t from_server, uint64_t now) {
    wire::Header h;
    if (wire::validate(data, len, nullptr, &h) != wire::Reason::kOk) return;  // counted by the switch, no further
    if (h.flags & wire::kFlagResponse) {
      if (from_server >= cfg_.servers) return;  // n_reply_not_server
      reply(h, from_server, now);
      return;
    }
    const bool bounced = (h.flags & wire::kFlagBounced) != 0;
    if (bounced && from_server >= cfg_.servers) return;  // n_bad_bounce
    request(h, bounced ? static_cast<int>(from_server) : -1, now);
  }

  bool load(const Tables& t) {
    if (!pallas_) {
      CHECK(!d_->load(t).ok());
      return false;
    }
    const Status st = d_->load(t);
    if (st.ok()) tables_ = t;
    return st.ok();
  }
  void write_seq(uint32_t v) {
    if (!pallas_) return;
    // The pipeline's own register write (the control plane's), through its const view's owner.
    auto* p = const_cast<sw::Pipeline*>(d_->pipeline());
    const uint32_t before = p->seq();
    const Status st = p->write_seq(v);
    CHECK(st.ok() == (v != 0));  // 0 marks "no index": refused, seq unchanged
    CHECK(p->seq() == (v != 0 ? v : before));
  }

  const std::vector<Sent>& sent() const { return sent_; }

  void check_counters() const {
    const sw::DispatchCounters c = d_->counters();
    CHECK(c.n_requests == n_requests_);
    CHECK(c.n_replies == n_replies_);
    CHECK(c.n_bounced == n_bounced_);
    CHECK(d_->held() == held_.size());
    if (cfg_.kind == "jbsq" || cfg_.kind == "draconis") {
      CHECK(c.n_held == n_held_);
      CHECK(c.n_drop_full == n_dropped_);
    }
    if (pallas_ || cfg_.kind == "netclone") {
      CHECK(c.n_cloned == n_cloned_);
      CHECK(c.n_replies_filtered + c.n_clone_drop_notices + n_forwarded_ == n_replies_);
    }
    if (pallas_) {
      CHECK(c.n_drop_no_server == n_dropped_);
      const sw::Pipeline& p = *d_->pipeline();
      for (const auto& [key, v] : outstanding_) CHECK(p.outstanding().value(key.first, key.second) == v);
      for (const auto& [type, n] : mon_requests_) CHECK(p.monitor().requests(type) == n);
    }
  }

 private:
  void request(const wire::Header& h, int server, uint64_t now) {
    const bool bounced = server >= 0;
    const sw::ReqIn in = sw::request_in(h, next_handle_++, bounced, static_cast<uint16_t>(server));
    if (bounced) {
      n_bounced_++;
      if (pallas_) dec(h.group, static_cast<uint32_t>(server));
    } else if (pallas_) {
      mon_requests_[h.type]++;
    }
    const uint32_t seq = pallas_ ? d_->pipeline()->seq() : 0;
    out_.clear();
    const sw::Fate fate = d_->on_request(in, now, &out_);
    n_requests_++;
    switch (fate) {
      case sw::Fate::kDropped:
        CHECK(out_.empty());
        n_dropped_++;
        return;
      case sw::Fate::kHeld:
        CHECK(out_.empty());
        CHECK(cfg_.kind == "jbsq" || cfg_.kind == "draconis");
        CHECK(held_.emplace(in.handle, h.type).second);
        n_held_++;
        return;
      case sw::Fate::kSent:
        break;
    }
    CHECK(out_.size() == 1 || out_.size() == 2);
    for (const sw::Send& s : out_) CHECK(s.handle == in.handle);
    const sw::Send& p = out_[0];
    check_send(p);
    if (out_.size() == 2) {
      CHECK(pallas_ || cfg_.kind == "netclone");
      CHECK(!bounced);
      const sw::Send& c = out_[1];
      check_send(c);
      CHECK((p.flags & wire::kCloneMask) == wire::kCloneOriginal);
      CHECK((c.flags & wire::kCloneMask) == wire::kCloneClone);
      CHECK(c.index == p.index);
      if (pallas_) CHECK(c.group != p.group);
      n_cloned_++;
    } else if (!bounced) {
      // A client's request is fresh: it leaves uncloned, or (Pallas) as an original whose clone
      // was suppressed.
      const uint8_t clone = p.flags & wire::kCloneMask;
      CHECK(clone == wire::kCloneNone || (pallas_ && clone == wire::kCloneOriginal));
    } else {
      CHECK((p.flags & wire::kCloneMask) == (h.flags & wire::kCloneMask));
    }
    if (pallas_) {
      if (!bounced || h.index == 0) {
        CHECK(p.index == seq);  // a fresh index from register seq, which moves on (never to 0)
        CHECK(d_->pipeline()->seq() == (seq == UINT32_MAX ? 1 : seq + 1));
      } else {
        CHECK(p.index == h.index);
      }
    }
    if (cfg_.kind == "netclone") CHECK(p.index != 0);
    for (const sw::Send& s : out_) record(s, h.type);
  }

  void reply(const wire::Header& h, uint32_t server, uint64_t now) {
    if (pallas_) dec(h.group, server);
    out_.clear();
    const bool forward = d_->on_reply(sw::reply_in(h, static_cast<uint16_t>(server)), now, &out_);
    n_replies_++;
    if (forward) n_forwarded_++;
    if (cfg_.kind != "jbsq" && cfg_.kind != "draconis") CHECK(out_.empty());
    for (const sw::Send& s : out_) {
      const auto it = held_.find(s.handle);
      CHECK(it != held_.end());   // released once, and only what was held
      CHECK(s.server == server);  // the reply's server takes the head
      check_send(s);
      record(s, it->second);
      held_.erase(it);
    }
  }

  void check_send(const sw::Send& s) {
    CHECK(s.server < cfg_.servers);
    if (!pallas_) {
      CHECK(s.group == 0);
      return;
    }
    CHECK(s.index != 0);
    CHECK(s.group < tables_.groups.size());
    bool found = false;
    for (const sw::WrrEntry& e : tables_.groups[s.group].wrr) found |= e.server == s.server && e.weight > 0;
    CHECK(found);
    outstanding_[{s.group, s.server}]++;
  }

  void record(const sw::Send& s, uint8_t type) {
    if (sent_.size() < 64) {
      sent_.push_back({s, type});
    } else {
      sent_[ring_++ % 64] = {s, type};
    }
  }

  void dec(uint32_t g, uint32_t s) {
    if (g >= sw::kMaxGroups || s >= sw::kMaxServers) return;
    auto it = outstanding_.find({g, s});
    if (it != outstanding_.end() && it->second > 0) it->second--;
  }

  sw::DispatcherConfig cfg_;
  std::unique_ptr<sw::Dispatcher> d_;
  bool pallas_;
  Tables tables_;
  std::vector<sw::Send> out_;
  std::vector<Sent> sent_;
  size_t ring_ = 0;
  std::map<uint32_t, uint8_t> held_;                               // handle -> type
  std::map<std::pair<uint32_t, uint32_t>, uint32_t> outstanding_;  // model of the pipeline's register
  std::map<uint8_t, uint32_t> mon_requests_;
  uint32_t next_handle_ = 0;
  uint64_t n_requests_ = 0, n_replies_ = 0, n_bounced_ = 0, n_dropped_ = 0, n_held_ = 0, n_cloned_ = 0;
  uint64_t n_forwarded_ = 0;
};

// A datagram of `payload` bytes with header h (what a client or a server would send).
std::vector<uint8_t> encode(const wire::Header& h, size_t payload) {
  std::vector<uint8_t> b(wire::kHeaderSize + payload, 0);
  wire::encode(h, b.data(), b.size());
  return b;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  FuzzedDataProvider in(data, size);
  sw::DispatcherConfig cfg;
  cfg.kind = kKinds[in.ConsumeIntegralInRange<size_t>(0, std::size(kKinds) - 1)];
  cfg.servers = in.ConsumeIntegralInRange<uint32_t>(1, 12);
  cfg.workers = in.ConsumeIntegralInRange<uint32_t>(1, 4);
  cfg.seed = in.ConsumeIntegral<uint8_t>();
  cfg.jbsq_depth = in.ConsumeIntegralInRange<uint32_t>(1, 3);
  cfg.queue_capacity = in.ConsumeIntegralInRange<uint32_t>(1, 8);
  cfg.filter_slots = in.ConsumeIntegralInRange<uint32_t>(1, 64);
  const bool pallas = cfg.kind == std::string("pallas");
  if (pallas) {
    cfg.tables = make_tables(in, cfg.servers);
    cfg.allow_ablation = in.ConsumeBool();
  }
  std::string err;
  std::unique_ptr<sw::Dispatcher> d = sw::make_dispatcher(cfg, &err);
  if (!d) {
    CHECK(!err.empty());
    // Only the tables can be refused here (weights beyond 16 bits cannot be generated).
    CHECK(pallas);
    return 0;
  }
  CHECK(err.empty());
  Harness hs(cfg, std::move(d));
  uint64_t now = in.ConsumeIntegral<uint32_t>();
  uint32_t req_id = 0;
  while (in.remaining_bytes() > 0) {
    const uint32_t from = in.ConsumeIntegralInRange<uint32_t>(0, cfg.servers);  // == servers: not a server
    switch (in.ConsumeIntegralInRange<int>(0, 9)) {
      case 0:
      case 1: {  // a client's request (any flags; the switch validates them)
        wire::Header h;
        h.type = in.ConsumeBool() ? in.ConsumeIntegralInRange<uint8_t>(0, 7) : in.ConsumeIntegral<uint8_t>();
        h.flags = in.ConsumeBool() ? 0 : in.ConsumeIntegral<uint8_t>();
        h.req_id = req_id++;
        const auto b = encode(h, in.ConsumeIntegralInRange<size_t>(0, 8));
        hs.datagram(b.data(), b.size(), cfg.servers, now);
        break;
      }
      case 2:
      case 3: {  // a server answers an earlier send: reply, drop notice, or (rarely) from elsewhere
        if (hs.sent().empty()) break;
        const Sent& s = hs.sent()[in.ConsumeIntegralInRange<size_t>(0, hs.sent().size() - 1)];
        wire::Header h;
        h.type = s.type;
        h.flags = static_cast<uint8_t>((s.s.flags | wire::kFlagResponse) & ~wire::kFlagBounced);
        if (in.ConsumeProbability<float>() < 0.3f) h.flags |= wire::kFlagDropNotice;
        h.group = s.s.group;
        h.server = static_cast<uint8_t>(s.s.server);
        h.queue_len = in.ConsumeIntegral<uint8_t>();
        h.index = s.s.index;
        h.time_ns = in.ConsumeIntegral<uint32_t>();
        const auto b = encode(h, (h.flags & wire::kFlagDropNotice) ? 1 : 0);
        hs.datagram(b.data(), b.size(), in.ConsumeProbability<float>() < 0.9f ? s.s.server : from, now);
        break;
      }
      case 4: {  // a server bounces an earlier send back to the switch
        if (hs.sent().empty()) break;
        const Sent& s = hs.sent()[in.ConsumeIntegralInRange<size_t>(0, hs.sent().size() - 1)];
        wire::Header h;
        h.type = s.type;
        h.flags = static_cast<uint8_t>(s.s.flags | wire::kFlagBounced);
        h.group = in.ConsumeBool() ? s.s.group : in.ConsumeIntegral<uint8_t>();
        h.server = static_cast<uint8_t>(s.s.server);
        h.index = in.ConsumeBool() ? s.s.index : in.ConsumeIntegral<uint32_t>();
        const auto b = encode(h, 4);
        hs.datagram(b.data(), b.size(), in.ConsumeProbability<float>() < 0.9f ? s.s.server : from, now);
        break;
      }
      case 5: {  // arbitrary bytes from anyone (a valid magic most of the time)
        std::vector<uint8_t> b = in.ConsumeBytes<uint8_t>(in.ConsumeIntegralInRange<size_t>(0, 40));
        if (!b.empty() && in.ConsumeBool()) b[0] = wire::kMagicVersion;
        hs.datagram(b.data(), b.size(), from, now);
        break;
      }
      case 6:  // time passes: mostly within a window, sometimes far
        now += in.ConsumeBool() ? in.ConsumeIntegralInRange<uint64_t>(0, 1u << 16) : in.ConsumeIntegral<uint64_t>();
        break;
      case 7:  // a clock that jumps anywhere (a restart, a different time base)
        now = in.ConsumeIntegral<uint64_t>();
        break;
      case 8:  // a control-plane table write
        hs.load(make_tables(in, cfg.servers));
        break;
      case 9:  // a control-plane write of register seq
        hs.write_seq(in.ConsumeBool() ? UINT32_MAX - in.ConsumeIntegralInRange<uint32_t>(0, 2)
                                      : in.ConsumeIntegral<uint32_t>());
        break;
    }
    hs.check_counters();
  }
  return 0;
}
