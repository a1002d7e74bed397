// UdpTransport: kernel UDP on one socket, batched with recvmmsg/sendmmsg. The embedded default:
// works anywhere, needs no privileges, and is what `pallas up` uses on loopback.
#pragma once

#include <memory>
#include <string>

#include "../core/status.hpp"
#include "../core/wire/wire_gen.hpp"
#include "transport.hpp"

namespace pallas::io {

struct UdpConfig {
  std::string bind_ip = "127.0.0.1";
  uint16_t port = 0;               // 0: an ephemeral port (read it back with local())
  uint32_t socket_buf = 4u << 20;  // SO_RCVBUF / SO_SNDBUF request in bytes
};

class UdpTransport final : public Transport {
 public:
  static Status open(const UdpConfig& cfg, std::unique_ptr<UdpTransport>* out);
  ~UdpTransport() override;
  const char* kind() const override { return "udp"; }
  uint32_t rx(RxPacket* pkts, uint32_t n) override;
  uint32_t tx(const TxPacket* pkts, uint32_t n) override;
  void wait_rx(uint32_t timeout_us) override;
  int rx_fd() const override { return fd_; }
  void close() override;
  Endpoint local() const override { return local_; }

 private:
  explicit UdpTransport(int fd) : fd_(fd) {}
  int fd_;
  Endpoint local_;
  // Receive buffers: one datagram per slot, reused by every rx() (the views' lifetime).
  uint8_t rx_buf_[kMaxBurst][wire::kMaxDatagram + 1];
};

// Parses a dotted IPv4 address into network byte order; false when it is not one.
bool parse_ipv4(const std::string& s, uint32_t* ip_be);

}  // namespace pallas::io
