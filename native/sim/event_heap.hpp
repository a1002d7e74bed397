// EventHeap: the simulator's pending events, a binary min-heap on (time, insertion sequence), so
// that events at the same ns run in the order they were scheduled (determinism).
#pragma once

#include <cstdint>
#include <vector>

namespace pallas::sim {

struct Event {
  uint64_t t;
  uint64_t seq;
  uint32_t a;
  uint32_t b;
  uint8_t kind;
};

class EventHeap {
 public:
  bool empty() const { return h_.empty(); }
  size_t size() const { return h_.size(); }
  uint64_t top_time() const { return h_[0].t; }  // not empty
  void push(uint64_t t, uint8_t kind, uint32_t a, uint32_t b) {
    h_.push_back({t, seq_++, a, b, kind});
    size_t i = h_.size() - 1;
    const Event e = h_[i];
    while (i > 0) {
      const size_t p = (i - 1) / 2;
      if (!less(e, h_[p])) break;
      h_[i] = h_[p];
      i = p;
    }
    h_[i] = e;
  }
  Event pop() {
    const Event top = h_[0];
    const Event last = h_.back();
    h_.pop_back();
    const size_t n = h_.size();
    if (n) {
      size_t i = 0;
      for (;;) {
        size_t c = 2 * i + 1;
        if (c >= n) break;
        if (c + 1 < n && less(h_[c + 1], h_[c])) c++;
        if (!less(h_[c], last)) break;
        h_[i] = h_[c];
        i = c;
      }
      h_[i] = last;
    }
    return top;
  }

 private:
  static bool less(const Event& x, const Event& y) { return x.t < y.t || (x.t == y.t && x.seq < y.seq); }
  std::vector<Event> h_;
  uint64_t seq_ = 0;
};

}  // namespace pallas::sim
