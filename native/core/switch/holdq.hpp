// A bounded FIFO of requests held at the switch (draconis, jbsq): the switch's queue registers.
#pragma once

#include <cstdint>
#include <vector>

#include "dispatcher.hpp"

namespace pallas::sw {

class HoldQueue {
 public:
  explicit HoldQueue(uint32_t capacity) : buf_(capacity ? capacity : 1), cap_(capacity) {}
  bool push(const ReqIn& r) {
    if (size_ == cap_) return false;
    buf_[(head_ + size_) % buf_.size()] = r;
    size_++;
    return true;
  }
  bool empty() const { return size_ == 0; }
  size_t size() const { return size_; }
  // Holds r, or drops it when the queue is full; counts either way.
  Fate hold(const ReqIn& r, DispatchCounters* c) {
    if (!push(r)) {
      c->n_drop_full++;
      return Fate::kDropped;
    }
    c->n_held++;
    return Fate::kHeld;
  }
  ReqIn pop() {
    const ReqIn r = buf_[head_];
    head_ = (head_ + 1) % buf_.size();
    size_--;
    return r;
  }

 private:
  std::vector<ReqIn> buf_;
  uint32_t cap_;
  size_t head_ = 0, size_ = 0;
};

}  // namespace pallas::sw
