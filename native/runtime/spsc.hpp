// SpscRing: a bounded single-producer/single-consumer ring of trivially copyable values, the link
// between the dispatcher and each worker (one ring per direction per worker). The producer owns
// `head`, the consumer `tail`; each reads the other's index with acquire so that a slot's contents
// are visible before the index that publishes it. Indices sit on their own cache lines so that
// the two threads do not false-share.
#pragma once

#include <atomic>
#include <cstdint>
#include <type_traits>
#include <vector>

namespace pallas::runtime {

template <typename T>
class SpscRing {
  static_assert(std::is_trivially_copyable_v<T>);

 public:
  // Capacity is rounded up to a power of two (at least 2).
  explicit SpscRing(uint32_t capacity) {
    uint32_t c = 2;
    while (c < capacity) c <<= 1;
    slots_.resize(c);
    mask_ = c - 1;
  }
  // Producer only. False when full.
  bool push(const T& v) {
    const uint32_t h = head_.load(std::memory_order_relaxed);
    if (h - tail_cache_ > mask_) {
      tail_cache_ = tail_.load(std::memory_order_acquire);
      if (h - tail_cache_ > mask_) return false;
    }
    slots_[h & mask_] = v;
    head_.store(h + 1, std::memory_order_release);
    return true;
  }
  // Consumer only. False when empty.
  bool pop(T* out) {
    const uint32_t t = tail_.load(std::memory_order_relaxed);
    if (t == head_cache_) {
      head_cache_ = head_.load(std::memory_order_acquire);
      if (t == head_cache_) return false;
    }
    *out = slots_[t & mask_];
    tail_.store(t + 1, std::memory_order_release);
    return true;
  }
  // Either side; a snapshot.
  bool empty() const { return head_.load(std::memory_order_acquire) == tail_.load(std::memory_order_acquire); }
  uint32_t capacity() const { return mask_ + 1; }

 private:
  alignas(64) std::atomic<uint32_t> head_{0};
  uint32_t tail_cache_ = 0;  // producer's last view of tail
  alignas(64) std::atomic<uint32_t> tail_{0};
  uint32_t head_cache_ = 0;  // consumer's last view of head
  alignas(64) uint32_t mask_ = 0;
  std::vector<T> slots_;
};

}  // namespace pallas::runtime
