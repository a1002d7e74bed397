// EventHeap: the simulator's pending events, popped in (time, insertion sequence) order, so that
// events at the same ns run in the order they were scheduled (determinism).
//
// Three places hold them, and pop() takes the least of their fronts:
// - a 4-ary min-heap for events in the future (half the depth of a binary one);
// - a FIFO for events scheduled at the current time (the time of the last pop: a reply with no
//   wire delay, a bounce), which arrive in sequence order, so need no sorting;
// - lanes: a lane holds at most one pending event, and arming it again replaces that event (an
//   arrival source's next send: one per source, rescheduled at every send and at phase changes).
// An event is 24 bytes: the sequence number and the kind share one word (sequence above, kind in
// the low byte), which orders as the sequence does because sequence numbers are unique.
#pragma once

#include <cstdint>
#include <vector>

namespace pallas::sim {

struct Event {
  uint64_t t;
  uint64_t seq_kind;  // seq << 8 | kind
  uint32_t a;
  uint32_t b;
  uint8_t kind() const { return static_cast<uint8_t>(seq_kind); }
};

class EventHeap {
 public:
  explicit EventHeap(size_t lanes = 0) : lanes_(lanes), armed_(lanes, 0) {}

  bool empty() const { return n_ == 0 && head_ == tail_ && n_armed_ == 0; }

  // t is never before the last pop's time.
  void push(uint64_t t, uint8_t kind, uint32_t a, uint32_t b) {
    const Event e{t, (seq_++ << 8) | kind, a, b};
    if (t == now_ && popped_) {
      if (tail_ == now_q_.size()) grow(&now_q_);
      now_q_[tail_++] = e;
      return;
    }
    if (n_ == h_.size()) grow(&h_);
    size_t i = n_++;
    while (i > 0) {
      const size_t p = (i - 1) / 4;
      if (!less(e, h_[p])) break;
      h_[i] = h_[p];
      i = p;
    }
    h_[i] = e;
  }
  // Arms `lane` with an event, replacing the one pending there.
  void arm(size_t lane, uint64_t t, uint8_t kind, uint32_t a, uint32_t b) {
    n_armed_ += !armed_[lane];
    armed_[lane] = 1;
    lanes_[lane] = Event{t, (seq_++ << 8) | kind, a, b};
  }
  void disarm(size_t lane) {
    n_armed_ -= armed_[lane];
    armed_[lane] = 0;
  }

  // Pops the least event into `out` if there is one at or before `until`.
  bool pop_until(uint64_t until, Event* out) {
    const Event* f = front();
    if (!f || f->t > until) return false;
    *out = take(f);
    return true;
  }
  Event pop() { return take(front()); }  // not empty
  void set_lanes(size_t lanes) {
    lanes_.assign(lanes, Event{});
    armed_.assign(lanes, 0);
    n_armed_ = 0;
  }

 private:
  Event take(const Event* f) {
    const Event e = *f;
    if (n_ && f == &h_[0]) {
      pop_heap();
    } else if (head_ < tail_ && f == &now_q_[head_]) {
      if (++head_ == tail_) head_ = tail_ = 0;
    } else {
      disarm(static_cast<size_t>(f - lanes_.data()));
    }
    now_ = e.t;
    popped_ = true;
    return e;
  }
  // The least pending event (nullptr: none).
  const Event* front() const {
    const Event* f = n_ ? &h_[0] : nullptr;
    if (head_ < tail_ && (!f || less(now_q_[head_], *f))) f = &now_q_[head_];
    if (n_armed_)
      for (size_t l = 0; l < lanes_.size(); l++)
        if (armed_[l] && (!f || less(lanes_[l], *f))) f = &lanes_[l];
    return f;
  }
  // Out of line and rare, so that push stays small enough to inline.
  [[gnu::noinline]] static void grow(std::vector<Event>* v) { v->resize(2 * v->size() + 64); }
  // Popping walks the hole from the root down to a leaf along the least children, then lets the
  // last event rise from there (Floyd): it is usually among the latest, so it rises little.
  void pop_heap() {
    const size_t n = --n_;
    const Event last = h_[n];
    if (n == 0) return;
    size_t i = 0;
    for (size_t c = 1; c < n; c = 4 * i + 1) {
      size_t m = c;
      const size_t end = c + 4 < n ? c + 4 : n;
      for (size_t k = c + 1; k < end; k++) m = less(h_[k], h_[m]) ? k : m;
      h_[i] = h_[m];
      i = m;
    }
    while (i > 0) {
      const size_t p = (i - 1) / 4;
      if (!less(last, h_[p])) break;
      h_[i] = h_[p];
      i = p;
    }
    h_[i] = last;
  }
  static bool less(const Event& x, const Event& y) { return x.t < y.t || (x.t == y.t && x.seq_kind < y.seq_kind); }

  std::vector<Event> h_;  // the heap is h_[0, n_)
  size_t n_ = 0;
  std::vector<Event> now_q_;  // events at now_, in push order: now_q_[head_, tail_)
  size_t head_ = 0, tail_ = 0;
  std::vector<Event> lanes_;
  std::vector<uint8_t> armed_;
  size_t n_armed_ = 0;
  uint64_t now_ = 0;
  bool popped_ = false;  // before the first pop nothing is "now"
  uint64_t seq_ = 0;
};

}  // namespace pallas::sim
