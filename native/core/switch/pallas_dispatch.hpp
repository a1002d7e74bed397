// The Pallas switch as a Dispatcher: the pipeline (pipeline.hpp) behind the common interface, so
// the simulator and the software switch drive Pallas and the baselines the same way.
#pragma once

#include "dispatcher.hpp"
#include "pipeline.hpp"

namespace pallas::sw {

class PallasDispatch final : public Dispatcher {
 public:
  PallasDispatch(uint32_t filter_slots, uint64_t seed, bool allow_ablation) : p_(filter_slots, seed, allow_ablation) {}
  const char* name() const override { return "pallas"; }
  Status load(const Tables& t) override { return p_.load(t); }
  const Monitor* monitor() const override { return &p_.monitor(); }
  const Pipeline* pipeline() const override { return &p_; }
  Fate on_request(const ReqIn& r, uint64_t now_ns, std::vector<Send>* out) override {
    const RequestOut o = p_.on_request({r.type, r.flags, r.index, r.group, r.server}, now_ns);
    if (o.dropped) return Fate::kDropped;
    out->push_back({r.handle, o.primary.server, o.primary.group, o.primary.flags, o.primary.index});
    if (o.cloned) out->push_back({r.handle, o.clone.server, o.clone.group, o.clone.flags, o.clone.index});
    return Fate::kSent;
  }
  bool on_reply(const ReplyIn& r, uint64_t now_ns, std::vector<Send>* out) override {
    return p_.on_reply({r.type, r.flags, r.index, r.group, r.server, r.time_ns});
  }
  DispatchCounters counters() const override {
    const SwitchCounters s = p_.counters();
    DispatchCounters c;
    c.n_requests = s.n_requests;
    c.n_bounced = s.n_bounced;
    c.n_cloned = s.n_cloned;
    c.n_clone_suppressed = s.n_clone_suppressed;
    c.n_po2 = s.n_po2;
    c.n_drop_no_server = s.n_drop_no_server;
    c.n_unmapped = s.n_unmapped;
    c.n_replies = s.n_replies;
    c.n_replies_filtered = s.n_replies_filtered;
    c.n_clone_drop_notices = s.n_clone_drop_notices;
    c.n_filter_evicted = s.n_filter_evicted;
    return c;
  }

 private:
  Pipeline p_;
};

}  // namespace pallas::sw
