// The Pallas switch pipeline (paper Algorithm 2; DESIGN §4) as pure logic over tables and
// registers, time passed in: the software switch, the simulator and the tests run this, and the
// P4 program implements the same stages (docs/switch-contract.md).
//
// Request: shaper (type → group, unmapped → default group) → burst (count in the τ window; above
// C_thres clone to the least-burst group: original flag 1, copy flag 2) → index (a fresh request
// gets the next index, never 0; a bounced one keeps its own) → WRR (server of the group).
// Bounced requests are re-scheduled with the current tables and are not counted or cloned again.
// Reply: filter (cloned requests: first reply forwarded, second dropped) → monitor (forwarded
// replies only, so a cloned request counts once). Drop notices skip both: a dropped clone's notice
// is consumed here, any other is forwarded to the client (and, for an uncloned request, counted
// by the monitor as demand, without a time).
#pragma once

#include <cstdint>
#include <vector>

#include "../status.hpp"
#include "burst.hpp"
#include "filter.hpp"
#include "monitor.hpp"
#include "tables.hpp"
#include "wrr.hpp"

namespace pallas::sw {

struct Forward {
  uint8_t group = 0;
  uint16_t server = 0;
  uint8_t flags = 0;
  uint32_t index = 0;
};

struct RequestOut {
  bool dropped = false;  // the group has no server (counted)
  Forward primary;
  bool cloned = false;
  Forward clone;
};

struct SwitchCounters {
  uint64_t n_requests = 0, n_unmapped = 0, n_bounced = 0, n_cloned = 0, n_drop_no_server = 0;
  uint64_t n_replies = 0, n_replies_filtered = 0, n_filter_evicted = 0, n_clone_drop_notices = 0;
};

class Pipeline {
 public:
  explicit Pipeline(uint32_t filter_slots = kFilterSlots) : filter_(filter_slots) {}
  // Installs new tables (a control-plane write). Registers keep their state, except the WRR
  // counters of the groups, which restart. Fails (nothing changed) when the tables are malformed.
  Status load(const Tables& t);
  RequestOut on_request(uint8_t type, uint8_t flags, uint32_t index, uint64_t now_ns);
  bool on_reply(uint8_t type, uint8_t flags, uint32_t index, uint32_t time_ns);

  // Register reads (docs/switch-contract.md): seq, and per group wrr_counter, burst_window and
  // burst_count.
  uint32_t seq() const { return next_index_; }
  const Wrr& wrr() const { return wrr_; }
  const Burst& burst() const { return burst_; }
  size_t groups() const { return t_.groups.size(); }
  const Monitor& monitor() const { return monitor_; }
  Monitor& monitor() { return monitor_; }
  SwitchCounters counters() const {
    SwitchCounters c = c_;
    c.n_filter_evicted = filter_.n_evicted();
    return c;
  }

 private:
  Tables t_;
  std::vector<bool> has_servers_;
  Wrr wrr_;
  Burst burst_;
  ReplyFilter filter_;
  Monitor monitor_;
  uint32_t next_index_ = 1;  // register seq
  SwitchCounters c_;
};

}  // namespace pallas::sw
