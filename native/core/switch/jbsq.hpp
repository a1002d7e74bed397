// R2P2's JBSQ(n) at rack scale: the switch counts each server's outstanding requests
// exactly (up on send, down when the server's reply or drop notice passes the switch) and sends a
// request to the least-loaded server whose count is below n per worker; when every server is at
// its bound the request waits in the switch's FIFO and the next reply from a server releases the
// head to that server. Bounds keep server queues short, so a long request delays few others.
#pragma once

#include <vector>

#include "dispatcher.hpp"
#include "holdq.hpp"

namespace pallas::sw {

class Jbsq final : public Dispatcher {
 public:
  Jbsq(uint32_t servers, uint32_t workers, uint32_t depth, uint32_t capacity)
      : out_(servers, 0), bound_(depth * workers), q_(capacity) {}
  const char* name() const override { return "jbsq"; }
  size_t held() const override { return q_.size(); }
  Fate on_request(const ReqIn& r, uint64_t now_ns, std::vector<Send>* out) override {
    c_.n_requests++;
    if (r.flags & wire::kFlagBounced) c_.n_bounced++;
    uint32_t best = 0;
    for (uint32_t s = 1; s < out_.size(); s++)
      if (out_[s] < out_[best]) best = s;
    if (out_[best] < bound_ && q_.empty()) {
      send(r, best, out);
      return Fate::kSent;
    }
    return q_.hold(r, &c_);
  }
  bool on_reply(const ReplyIn& r, uint64_t now_ns, std::vector<Send>* out) override {
    c_.n_replies++;
    if (r.server >= out_.size()) return true;
    if (out_[r.server] > 0) out_[r.server]--;
    while (!q_.empty() && out_[r.server] < bound_) send(q_.pop(), r.server, out);
    return true;
  }

 private:
  void send(const ReqIn& r, uint32_t s, std::vector<Send>* out) {
    out_[s]++;
    out->push_back({r.handle, static_cast<uint16_t>(s), 0, r.flags, r.index});
  }
  std::vector<uint32_t> out_;  // register outstanding[SERVERS]
  uint32_t bound_;
  HoldQueue q_;
};

}  // namespace pallas::sw
