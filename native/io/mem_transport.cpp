// MemTransport implementation: see mem_transport.hpp.
#include "mem_transport.hpp"

#include <algorithm>
#include <chrono>
#include <cstring>
#include <thread>
#include <vector>

#include "../core/wire/wire_gen.hpp"

namespace pallas::io {

namespace {

struct Slot {
  uint32_t len;
  Endpoint from;
  uint8_t data[wire::kMaxDatagram];
};

// One direction. head is written by the producer only, tail by the consumer only; each side reads
// the other's index with acquire so that slot contents are visible before the index.
struct Ring {
  explicit Ring(uint32_t n) : mask(n - 1), slots(n) {}
  alignas(64) std::atomic<uint32_t> head{0};
  alignas(64) std::atomic<uint32_t> tail{0};
  alignas(64) uint32_t mask;
  std::vector<Slot> slots;
};

uint32_t pow2_at_least(uint32_t n) {
  uint32_t p = 2;
  while (p < n) p <<= 1;
  return p;
}

}  // namespace

struct MemLink {
  explicit MemLink(uint32_t n) : dir{Ring(n), Ring(n)} {}
  Ring dir[2];  // dir[s] carries datagrams sent by side s
};

std::pair<std::unique_ptr<MemTransport>, std::unique_ptr<MemTransport>> MemTransport::pair(uint32_t slots) {
  auto link = std::make_shared<MemLink>(pow2_at_least(std::max<uint32_t>(slots, 2)));
  return {std::unique_ptr<MemTransport>(new MemTransport(link, 0)),
          std::unique_ptr<MemTransport>(new MemTransport(link, 1))};
}

MemTransport::MemTransport(std::shared_ptr<MemLink> link, int side) : link_(std::move(link)), side_(side) {
  // Distinct fake addresses so that replies can be addressed like on a network.
  self_.ip = 0x7f000001u + static_cast<uint32_t>(side);
  self_.port = static_cast<uint16_t>(side + 1);
}

MemTransport::~MemTransport() = default;

uint32_t MemTransport::rx(RxPacket* pkts, uint32_t n) {
  Ring& r = link_->dir[1 - side_];
  uint32_t tail = r.tail.load(std::memory_order_relaxed) + held_;
  r.tail.store(tail, std::memory_order_release);  // release what the previous rx() handed out
  const uint32_t avail = r.head.load(std::memory_order_acquire) - tail;
  const uint32_t k = std::min(avail, n);
  for (uint32_t i = 0; i < k; i++) {
    const Slot& s = r.slots[(tail + i) & r.mask];
    pkts[i] = RxPacket{s.data, s.len, s.from};
  }
  held_ = k;
  counters_.n_rx.fetch_add(k, std::memory_order_relaxed);
  return k;
}

uint32_t MemTransport::tx(const TxPacket* pkts, uint32_t n) {
  Ring& r = link_->dir[side_];
  const uint32_t head = r.head.load(std::memory_order_relaxed);
  const uint32_t space = static_cast<uint32_t>(r.slots.size()) - (head - r.tail.load(std::memory_order_acquire));
  uint32_t sent = 0;
  for (uint32_t i = 0; i < n && sent < space; i++) {
    if (pkts[i].len > wire::kMaxDatagram) continue;  // cannot happen through validated paths
    Slot& s = r.slots[(head + sent) & r.mask];
    s.len = pkts[i].len;
    s.from = self_;
    std::memcpy(s.data, pkts[i].data, pkts[i].len);
    sent++;
  }
  r.head.store(head + sent, std::memory_order_release);
  counters_.n_tx.fetch_add(sent, std::memory_order_relaxed);
  if (sent < n) counters_.n_tx_full.fetch_add(n - sent, std::memory_order_relaxed);
  return sent;
}

void MemTransport::wait_rx(uint32_t timeout_us) {
  const Ring& r = link_->dir[1 - side_];
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::microseconds(timeout_us);
  while (r.head.load(std::memory_order_acquire) == r.tail.load(std::memory_order_relaxed) + held_) {
    if (std::chrono::steady_clock::now() >= deadline) return;
    std::this_thread::sleep_for(std::chrono::microseconds(20));
  }
}

}  // namespace pallas::io
