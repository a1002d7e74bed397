// RackSched's switch: power-of-two choices. Two distinct random servers; the request
// goes to the one with the shorter queue as last reported in a reply from that server, so the
// information is at least one server-to-switch delay old. A server reports its outstanding count
// (queued + running) in every reply; until it has replied once, it counts as empty. Ties go to
// the first of the two draws (itself random).
#pragma once

#include <vector>

#include "../rng.hpp"
#include "dispatcher.hpp"

namespace pallas::sw {

class Po2 final : public Dispatcher {
 public:
  Po2(uint32_t servers, uint64_t seed) : qlen_(servers, 0), rng_(seed, 3) {}
  const char* name() const override { return "po2"; }
  Fate on_request(const ReqIn& r, uint64_t now_ns, std::vector<Send>* out) override {
    c_.n_requests++;
    if (r.flags & wire::kFlagBounced) c_.n_bounced++;
    const uint32_t n = static_cast<uint32_t>(qlen_.size());
    uint32_t a = rng_.below(n);
    if (n > 1) {
      uint32_t b = rng_.below(n - 1);
      if (b >= a) b++;
      if (qlen_[b] < qlen_[a]) a = b;
    }
    out->push_back({r.handle, static_cast<uint16_t>(a), 0, r.flags, r.index});
    return Fate::kSent;
  }
  bool on_reply(const ReplyIn& r, uint64_t now_ns, std::vector<Send>* out) override {
    c_.n_replies++;
    if (r.server < qlen_.size()) qlen_[r.server] = r.queue_len;  // register load[SERVERS]
    return true;
  }

 private:
  std::vector<uint32_t> qlen_;
  Rng rng_;
};

}  // namespace pallas::sw
