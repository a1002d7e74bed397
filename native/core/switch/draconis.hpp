// Draconis: one FCFS queue in the switch; servers pull. The switch knows each
// server's free workers (credits: all free at start; one used per request sent; one returned by
// each reply or drop notice, which doubles as the worker's pull). A request goes straight to the
// server with the most free workers, or waits in the switch queue; a returning credit takes the
// head of the queue. Rack-wide cFCFS, paying a server-to-switch round trip per dispatch.
#pragma once

#include <vector>

#include "dispatcher.hpp"
#include "holdq.hpp"

namespace pallas::sw {

class Draconis final : public Dispatcher {
 public:
  Draconis(uint32_t servers, uint32_t workers, uint32_t capacity)
      : free_(servers, workers), workers_(workers), q_(capacity) {}
  const char* name() const override { return "draconis"; }
  size_t held() const override { return q_.size(); }
  Fate on_request(const ReqIn& r, uint64_t now_ns, std::vector<Send>* out) override {
    c_.n_requests++;
    if (r.flags & wire::kFlagBounced) c_.n_bounced++;
    uint32_t best = 0;
    for (uint32_t s = 1; s < free_.size(); s++)
      if (free_[s] > free_[best]) best = s;
    if (free_[best] > 0 && q_.empty()) {
      free_[best]--;
      out->push_back({r.handle, static_cast<uint16_t>(best), 0, r.flags, r.index});
      return Fate::kSent;
    }
    return q_.hold(r, &c_);
  }
  bool on_reply(const ReplyIn& r, uint64_t now_ns, std::vector<Send>* out) override {
    c_.n_replies++;
    if (r.server >= free_.size()) return true;
    if (!q_.empty()) {
      const ReqIn h = q_.pop();
      out->push_back({h.handle, r.server, 0, h.flags, h.index});
    } else if (free_[r.server] < workers_) {
      free_[r.server]++;
    }
    return true;
  }

 private:
  std::vector<uint32_t> free_;  // register credits[SERVERS]
  uint32_t workers_;
  HoldQueue q_;
};

}  // namespace pallas::sw
