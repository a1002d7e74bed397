// The Pallas switch pipeline (paper Algorithm 2) as pure logic over tables and
// registers, time passed in. docs/switch-contract.md is its spec, written for what a Tofino 1 can
// run; the software switch and the simulator run this code, and the P4 program implements the same
// stages with the same integer behaviour.
//
// Request: shaper (type → group, unmapped → default group) → index (a fresh request gets `seq`,
// never 0; a bounced one keeps its own, and its bouncer's outstanding count drops by one) →
// balance (WRR counter, or power of two choices over outstanding counts) → burst (fresh requests:
// count in the group's window; above C_thres clone to the group's clone target, where the clone
// takes its server from a counter of its own, unless the target is bursting too).
// Reply: outstanding −1 → drop notices (a dropped clone's is consumed, any other forwarded; an
// uncloned request's counts as demand) → filter (cloned requests: the first reply forwarded, the
// second dropped) → monitor (forwarded replies: count and execution time, cumulative).
#pragma once

#include <cstdint>
#include <vector>

#include "../rng.hpp"
#include "../status.hpp"
#include "burst.hpp"
#include "filter.hpp"
#include "monitor.hpp"
#include "outstanding.hpp"
#include "tables.hpp"
#include "wrr.hpp"

namespace pallas::sw {

inline constexpr uint16_t kNoServer = 0xFFFF;

struct Forward {
  uint8_t group = 0;
  uint16_t server = 0;
  uint8_t flags = 0;
  uint32_t index = 0;
};

// A request as the switch parses it: group and server are the header's fields, which matter only
// for a bounced request (the group it was sent with and the server that bounced it).
struct PipeRequest {
  uint8_t type = 0;
  uint8_t flags = 0;
  uint32_t index = 0;
  uint8_t group = 0;
  uint16_t server = kNoServer;
};

struct RequestOut {
  bool dropped = false;  // the group has no server (counted)
  Forward primary;
  bool cloned = false;
  Forward clone;
};

struct PipeReply {
  uint8_t type = 0;
  uint8_t flags = 0;
  uint32_t index = 0;
  uint8_t group = 0;            // echoed from the request
  uint16_t server = kNoServer;  // the server that answered
  uint32_t time_ns = 0;
};

struct SwitchCounters {
  uint64_t n_requests = 0, n_unmapped = 0, n_bounced = 0, n_cloned = 0, n_clone_suppressed = 0, n_drop_no_server = 0;
  uint64_t n_po2 = 0;  // requests balanced by power of two choices
  uint64_t n_replies = 0, n_replies_filtered = 0, n_filter_evicted = 0, n_clone_drop_notices = 0;
};

class Pipeline {
 public:
  // allow_ablation: accept tables with Tables::ablation set (the simulator only).
  explicit Pipeline(uint32_t filter_slots = kFilterSlots, uint64_t seed = 1, bool allow_ablation = true)
      : filter_(filter_slots), rng_(seed, 5), allow_ablation_(allow_ablation) {}
  // Installs new tables (a control-plane write). The WRR and clone counters restart; the burst
  // windows, outstanding counts, filter and monitor keep their state. Fails (nothing changed) when
  // the tables are malformed.
  Status load(const Tables& t);
  RequestOut on_request(const PipeRequest& r, uint64_t now_ns);
  bool on_reply(const PipeReply& r);
  // Register write of the control plane: seq (1 at start; never 0, which marks "no index").
  Status write_seq(uint32_t v) {
    if (v == 0) return Status::Error("BAD_POLICY", "seq must not be 0: index 0 means none");
    next_index_ = v;
    return Status::Ok();
  }

  // Register reads (docs/switch-contract.md).
  uint32_t seq() const { return next_index_; }
  const WrrCounter& wrr_counter() const { return wrr_counter_; }
  const WrrCounter& clone_counter() const { return clone_counter_; }
  const Burst& burst() const { return burst_; }
  const Outstanding& outstanding() const { return out_; }
  const ReplyFilter& filter() const { return filter_; }
  const Monitor& monitor() const { return monitor_; }
  const Tables& tables() const { return t_; }
  size_t groups() const { return t_.groups.size(); }
  SwitchCounters counters() const {
    SwitchCounters c = c_;
    c.n_filter_evicted = filter_.n_evicted();
    return c;
  }

 private:
  uint16_t balance(uint32_t g);
  uint16_t clone_server(uint32_t h);

  Tables t_;
  std::vector<bool> has_servers_;
  WrrRanges ranges_;
  WrrCounter wrr_counter_, clone_counter_;
  Burst burst_;
  Outstanding out_;
  ReplyFilter filter_;
  Monitor monitor_;
  Rng rng_;  // the P4 program's Random<bit<16>> for the po2 picks
  bool allow_ablation_;
  uint32_t next_index_ = 1;  // register seq
  SwitchCounters c_;
};

}  // namespace pallas::sw
