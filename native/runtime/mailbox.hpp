// Mailbox: a one-value, one-cache-line hand-off between two threads, the link between the
// dispatcher and each worker (one mailbox each way per worker). A worker holds at most one request,
// so a queue would only add a second cache line per hand-off (its index beside its slot): here the
// sequence number and the value share a line, and a hand-off moves that one line between cores.
//
// There is no acknowledgement: the producer may put a value only once the consumer has taken the
// previous one, which the runtime's protocol guarantees (runtime.hpp): the dispatcher hands a
// worker a job only when the policy has it idle, i.e. after taking the completion the worker sent
// after taking its previous job; a worker sends a completion only for the job it took, and gets no
// new job before the dispatcher has taken that completion.
#pragma once

#include <atomic>
#include <cstdint>
#include <type_traits>

namespace pallas::runtime {

template <typename T>
class Mailbox {
  static_assert(std::is_trivially_copyable_v<T>);
  static_assert(sizeof(T) + sizeof(uint32_t) <= 64, "a mailbox holds its value in one cache line");

 public:
  // Producer only. The consumer must have taken the previous value.
  void put(const T& v) {
    value_ = v;
    seq_.store(seq_.load(std::memory_order_relaxed) + 1, std::memory_order_release);
  }
  // Consumer only. False when there is nothing new.
  bool take(T* out) {
    const uint32_t s = seq_.load(std::memory_order_acquire);
    if (s == taken_) return false;
    *out = value_;
    taken_ = s;
    return true;
  }
  // Consumer only: nothing new to take.
  bool empty() const { return seq_.load(std::memory_order_acquire) == taken_; }

 private:
  alignas(64) std::atomic<uint32_t> seq_{0};  // values put (producer)
  T value_{};
  alignas(64) uint32_t taken_ = 0;  // values taken (consumer only)
};

}  // namespace pallas::runtime
