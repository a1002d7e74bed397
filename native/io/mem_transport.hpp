// MemTransport: two endpoints joined by an in-memory link of two single-producer/single-consumer
// rings, for tests and for benchmarking everything above the transport without a NIC.
// Each endpoint has one I/O thread (the Transport contract); the two may be different threads.
#pragma once

#include <memory>
#include <utility>

#include "transport.hpp"

namespace pallas::io {

struct MemLink;

class MemTransport final : public Transport {
 public:
  // Creates the two ends of a link with `slots` entries per direction (rounded up to a power of 2).
  static std::pair<std::unique_ptr<MemTransport>, std::unique_ptr<MemTransport>> pair(uint32_t slots);
  ~MemTransport() override;
  const char* kind() const override { return "mem"; }
  uint32_t rx(RxPacket* pkts, uint32_t n) override;
  uint32_t tx(const TxPacket* pkts, uint32_t n) override;
  void wait_rx(uint32_t timeout_us) override;
  Endpoint local() const override { return self_; }

 private:
  MemTransport(std::shared_ptr<MemLink> link, int side);
  std::shared_ptr<MemLink> link_;
  int side_;
  uint32_t held_ = 0;  // slots returned by the last rx(), released at the next one
  Endpoint self_;
};

}  // namespace pallas::io
