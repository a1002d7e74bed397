// Transport: how a Pallas component moves datagrams. One interface, three implementations:
// MemTransport (in-memory link, tests and benchmarks), UdpTransport (kernel UDP, batched
// recvmmsg/sendmmsg; the embedded default) and DpdkTransport (one DPDK port, burst RX/TX).
//
// Threading contract: rx() and tx() are called from one I/O thread (the thread that owns the
// transport's hot loop); stats() may be read from any thread (relaxed atomics). A transport is
// created and destroyed on the JS main thread while no I/O thread runs.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>

namespace pallas::io {

// A peer address. ip and port are in network byte order; mac is used by DPDK only (kernel
// transports resolve it themselves).
struct Endpoint {
  uint32_t ip = 0;
  uint16_t port = 0;
  uint8_t mac[6] = {};
};

// A received datagram: a view that stays valid until the next rx() call on the same transport.
struct RxPacket {
  const uint8_t* data;
  uint32_t len;
  Endpoint from;
};

// A datagram to send: the transport copies it before tx() returns.
struct TxPacket {
  const uint8_t* data;
  uint32_t len;
  Endpoint to;
};

// Why a frame that reached the transport did not become an RxPacket (DPDK parses L2-L4 itself;
// the kernel does that for the UDP transport).
enum class RxDrop : uint8_t { kNotIpv4, kNotUdp, kNotOurs, kBadLength, kFragment, kCount };
inline constexpr const char* kRxDropNames[] = {"not_ipv4", "not_udp", "not_ours", "bad_length", "fragment"};

struct TransportCounters {
  std::atomic<uint64_t> n_rx{0};           // datagrams handed to the caller
  std::atomic<uint64_t> n_tx{0};           // datagrams accepted by the NIC/kernel/link
  std::atomic<uint64_t> n_tx_full{0};      // datagrams refused because the link or NIC queue was full
  std::atomic<uint64_t> n_arp_replies{0};  // ARP requests for our address answered (DPDK)
  std::atomic<uint64_t> n_rx_drop[static_cast<int>(RxDrop::kCount)] = {};
};

inline constexpr uint32_t kMaxBurst = 64;

class Transport {
 public:
  virtual ~Transport() = default;
  virtual const char* kind() const = 0;
  // Receives up to n (<= kMaxBurst) datagrams without blocking; views valid until the next rx().
  virtual uint32_t rx(RxPacket* pkts, uint32_t n) = 0;
  // Sends up to n (<= kMaxBurst) datagrams; returns how many were accepted (the rest counted in
  // n_tx_full). Never blocks.
  virtual uint32_t tx(const TxPacket* pkts, uint32_t n) = 0;
  // Waits until rx() may return data or timeout_us passes: the hybrid wait of shared machines.
  virtual void wait_rx(uint32_t timeout_us) = 0;
  // A descriptor that polls readable when rx() may return data (kernel transports), or -1. The
  // runtime's dispatcher polls it together with its own wake-up descriptor.
  virtual int rx_fd() const { return -1; }
  // Called by the I/O thread before its first and after its last rx()/tx() (DPDK registers the
  // thread with EAL so that it gets a mempool cache).
  virtual void thread_enter() {}
  virtual void thread_exit() {}
  // Releases what other processes could want (the kernel socket and its port) once no I/O thread
  // runs; rx() then returns nothing and tx() refuses everything. Counters and local() stay
  // readable. The object itself lives on until its owner goes (JS views point at its counters).
  virtual void close() {}
  // Our own address as peers see it.
  virtual Endpoint local() const = 0;
  const TransportCounters& counters() const { return counters_; }

 protected:
  TransportCounters counters_;
};

}  // namespace pallas::io
