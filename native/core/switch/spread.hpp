// Oblivious spreading: `random` sends each request to a uniformly random server,
// `rr` to the servers in turn. Neither looks at replies.
#pragma once

#include "../rng.hpp"
#include "dispatcher.hpp"

namespace pallas::sw {

class Spread final : public Dispatcher {
 public:
  Spread(uint32_t servers, bool round_robin, uint64_t seed) : n_(servers), rr_(round_robin), rng_(seed, 3) {}
  const char* name() const override { return rr_ ? "rr" : "random"; }
  Fate on_request(const ReqIn& r, uint64_t now_ns, std::vector<Send>* out) override {
    c_.n_requests++;
    if (r.flags & wire::kFlagBounced) c_.n_bounced++;
    uint32_t s;
    if (rr_) {
      s = next_;
      next_ = next_ + 1 == n_ ? 0 : next_ + 1;
    } else {
      s = rng_.below(n_);
    }
    out->push_back({r.handle, static_cast<uint16_t>(s), 0, r.flags, r.index});
    return Fate::kSent;
  }
  bool on_reply(const ReplyIn& r, uint64_t now_ns, std::vector<Send>* out) override {
    c_.n_replies++;
    return true;
  }

 private:
  uint32_t n_;
  bool rr_;
  Rng rng_;
  uint32_t next_ = 0;
};

}  // namespace pallas::sw
