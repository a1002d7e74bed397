// DpdkTransport: one DPDK ethdev port with one RX and one TX queue, burst I/O over an mbuf pool.
// Parses Ethernet/IPv4/UDP itself, answers ARP for its address (DPDK has no kernel stack behind
// it), and builds headers on TX (IPv4 checksum in software, UDP checksum 0, which IPv4 allows).
// mlx5 in deployment; net_af_xdp, net_af_packet, net_ring and net_null vdevs on test machines.
//
// EAL initialises once per process (dpdk_eal_init); later calls must pass the same arguments.
// Built only with HAVE_DPDK; without it every entry point returns a NO_DPDK status.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "../core/status.hpp"
#include "transport.hpp"

namespace pallas::io {

struct DpdkConfig {
  // A vdev to attach ("net_af_xdp0,iface=veth0", "net_null0") or the name of a device EAL probed
  // from its -a arguments (a PCI address for mlx5).
  std::string device;
  std::string ip;         // our IPv4 address (ARP answers, the source of replies)
  uint16_t udp_port = 0;  // our UDP port: datagrams to other ports are counted as not_ours
  std::string peer_mac;   // destination MAC of datagrams sent to an Endpoint without one
  uint32_t rx_desc = 1024;
  uint32_t tx_desc = 1024;
  uint32_t mbufs = 8191;
};

// Initialises EAL with `args` (argv[0] is added). Idempotent for the same args.
Status dpdk_eal_init(const std::vector<std::string>& args);
bool dpdk_eal_ready();
// Releases EAL at process exit, after every DpdkTransport is gone.
void dpdk_eal_cleanup();
// DPDK's version string ("DPDK 22.11.11"), or "" when built without DPDK.
std::string dpdk_version();

class DpdkTransport final : public Transport {
 public:
  static Status open(const DpdkConfig& cfg, std::unique_ptr<DpdkTransport>* out);
  ~DpdkTransport() override;
  const char* kind() const override { return "dpdk"; }
  uint32_t rx(RxPacket* pkts, uint32_t n) override;
  uint32_t tx(const TxPacket* pkts, uint32_t n) override;
  void wait_rx(uint32_t timeout_us) override;
  void thread_enter() override;
  void thread_exit() override;
  Endpoint local() const override { return local_; }
  // The port's driver name (e.g. "net_af_xdp").
  const std::string& driver() const { return driver_; }

  struct Impl;

 private:
  DpdkTransport();
  std::unique_ptr<Impl> impl_;
  Endpoint local_;
  std::string driver_;
};

}  // namespace pallas::io
