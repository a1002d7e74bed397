// NetClone: two distinct random servers; when both were idle at their last reply
// (outstanding below their worker count), the request goes to both — original (flag 1) to the
// first, clone (flag 2) to the second, which drops it if it has no idle worker — and the reply
// filter forwards the first reply only. Otherwise one copy goes to the idle one, or to the less
// loaded of the two when neither is idle. Every request gets an index (a register, never 0).
#pragma once

#include <vector>

#include "../rng.hpp"
#include "dispatcher.hpp"
#include "filter.hpp"

namespace pallas::sw {

class NetClone final : public Dispatcher {
 public:
  NetClone(uint32_t servers, uint32_t workers, uint32_t filter_slots, uint64_t seed)
      : qlen_(servers, 0), workers_(workers), filter_(filter_slots), rng_(seed, 3) {}
  const char* name() const override { return "netclone"; }
  Fate on_request(const ReqIn& r, uint64_t now_ns, std::vector<Send>* out) override {
    c_.n_requests++;
    uint32_t index = r.index;
    if (index == 0) {
      index = next_index_;
      next_index_ = next_index_ == UINT32_MAX ? 1 : next_index_ + 1;
    }
    const bool bounced = (r.flags & wire::kFlagBounced) != 0;
    if (bounced) c_.n_bounced++;
    const uint32_t n = static_cast<uint32_t>(qlen_.size());
    uint32_t a = rng_.below(n);
    if (n == 1) {
      out->push_back({r.handle, static_cast<uint16_t>(a), 0, r.flags, index});
      return Fate::kSent;
    }
    uint32_t b = rng_.below(n - 1);
    if (b >= a) b++;
    const bool idle_a = qlen_[a] < workers_, idle_b = qlen_[b] < workers_;
    const bool fresh = !bounced && (r.flags & wire::kCloneMask) == wire::kCloneNone;
    if (idle_a && idle_b && fresh) {
      const uint8_t f = r.flags & ~wire::kCloneMask;
      out->push_back({r.handle, static_cast<uint16_t>(a), 0, static_cast<uint8_t>(f | wire::kCloneOriginal), index});
      out->push_back({r.handle, static_cast<uint16_t>(b), 0, static_cast<uint8_t>(f | wire::kCloneClone), index});
      c_.n_cloned++;
      return Fate::kSent;
    }
    if (!idle_a && (idle_b || qlen_[b] < qlen_[a])) a = b;
    out->push_back({r.handle, static_cast<uint16_t>(a), 0, r.flags, index});
    return Fate::kSent;
  }
  bool on_reply(const ReplyIn& r, uint64_t now_ns, std::vector<Send>* out) override {
    c_.n_replies++;
    if (r.server < qlen_.size()) qlen_[r.server] = r.queue_len;
    switch (classify_reply(filter_, r.flags, r.index)) {
      case ReplyVerdict::kCloneNotice:
        c_.n_clone_drop_notices++;
        return false;
      case ReplyVerdict::kFiltered:
        c_.n_replies_filtered++;
        return false;
      default:
        return true;
    }
  }
  DispatchCounters counters() const override {
    DispatchCounters c = c_;
    c.n_filter_evicted = filter_.n_evicted();
    return c;
  }

 private:
  std::vector<uint32_t> qlen_;  // register load[SERVERS]
  uint32_t workers_;
  ReplyFilter filter_;
  Rng rng_;
  uint32_t next_index_ = 1;
};

}  // namespace pallas::sw
