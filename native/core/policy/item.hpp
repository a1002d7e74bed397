// Item: what an intra-server policy knows of one request, and the two containers every policy
// builds on (a bounded FIFO of items, a set of workers).
#pragma once

#include <cstdint>
#include <vector>

#include "../wire/wire_gen.hpp"

namespace pallas::policy {

struct Item {
  uint32_t handle = 0;  // the owner's id for the request (simulator: request slot; runtime: buffer slot)
  uint8_t type = 0;     // wire type (in the simulator: the scenario's type index)
  uint8_t flags = 0;    // wire flags: clone bits, BOUNCED
  uint8_t group = 0;    // serving group written by the switch
  uint8_t pad = 0;
  uint64_t enq_ns = 0;   // when the request reached this server's policy (set by Policy::on_arrival)
  uint64_t work_ns = 0;  // remaining execution time: known only to the simulator, read only by the
                         // simulator-only policies (ps); 0 in the runtime
};

inline uint8_t clone_kind(uint8_t flags) { return flags & wire::kCloneMask; }
inline bool is_bounced(uint8_t flags) { return (flags & wire::kFlagBounced) != 0; }

// A bounded FIFO ring of items (capacity rounded up to a power of two). push() fails when full.
class ItemQueue {
 public:
  explicit ItemQueue(uint32_t capacity = 4096) {
    uint32_t c = 1;
    while (c < capacity) c <<= 1;
    buf_.resize(c);
    mask_ = c - 1;
    limit_ = capacity;
  }
  bool push(const Item& it) {
    if (size() >= limit_) return false;
    buf_[tail_++ & mask_] = it;
    return true;
  }
  bool empty() const { return head_ == tail_; }
  uint32_t size() const { return static_cast<uint32_t>(tail_ - head_); }
  uint32_t capacity() const { return limit_; }
  const Item& front() const { return buf_[head_ & mask_]; }
  const Item& at(uint32_t i) const { return buf_[(head_ + i) & mask_]; }  // 0 = oldest
  Item pop() { return buf_[head_++ & mask_]; }

  // Removes every item for which take(item) is true, appending it to *out in queue order; the
  // others keep their order. Returns how many were removed.
  template <typename Pred>
  uint32_t remove_if(Pred take, std::vector<Item>* out) {
    uint64_t w = head_;
    uint32_t n = 0;
    for (uint64_t r = head_; r != tail_; r++) {
      const Item it = buf_[r & mask_];
      if (take(it)) {
        out->push_back(it);
        n++;
      } else {
        buf_[w++ & mask_] = it;
      }
    }
    tail_ = w;
    return n;
  }

 private:
  std::vector<Item> buf_;
  uint64_t head_ = 0, tail_ = 0;
  uint32_t mask_ = 0, limit_ = 0;
};

// A set of worker indices (any count), with find-next over 64-bit words.
class WorkerSet {
 public:
  static constexpr uint32_t kNone = UINT32_MAX;
  explicit WorkerSet(uint32_t n = 0) : n_(n), words_((n + 63) / 64, 0) {}
  uint32_t size() const { return n_; }
  void set(uint32_t w) { words_[w >> 6] |= 1ull << (w & 63); }
  void clear(uint32_t w) { words_[w >> 6] &= ~(1ull << (w & 63)); }
  bool has(uint32_t w) const { return (words_[w >> 6] >> (w & 63)) & 1; }
  void fill() {
    for (uint32_t w = 0; w < n_; w++) set(w);
  }
  bool any() const {
    for (uint64_t x : words_)
      if (x) return true;
    return false;
  }
  // The lowest member >= from, or kNone.
  uint32_t next(uint32_t from = 0) const {
    if (from >= n_) return kNone;
    size_t i = from >> 6;
    uint64_t x = words_[i] & (~0ull << (from & 63));
    for (;;) {
      if (x) return static_cast<uint32_t>(i * 64 + __builtin_ctzll(x));
      if (++i == words_.size()) return kNone;
      x = words_[i];
    }
  }
  uint32_t count() const {
    uint32_t c = 0;
    for (uint64_t x : words_) c += static_cast<uint32_t>(__builtin_popcountll(x));
    return c;
  }

 private:
  uint32_t n_;
  std::vector<uint64_t> words_;
};

}  // namespace pallas::policy
