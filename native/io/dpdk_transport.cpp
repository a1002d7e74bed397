// DpdkTransport implementation: see dpdk_transport.hpp.
#include "dpdk_transport.hpp"

#include <chrono>
#include <thread>

#ifdef HAVE_DPDK
#include <rte_arp.h>
#include <rte_dev.h>
#include <rte_eal.h>
#include <rte_ethdev.h>
#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_udp.h>
#include <rte_version.h>

#include <arpa/inet.h>

#include <atomic>
#include <cstring>
#include <mutex>
#endif

#include "../core/wire/wire_gen.hpp"
#include "udp_transport.hpp"

namespace pallas::io {

#ifndef HAVE_DPDK

namespace {
Status no_dpdk() {
  return Status::Error("NO_DPDK",
                       "this build of Pallas has no DPDK support: install it with "
                       "`apt-get install dpdk-dev libdpdk-dev pkg-config` and rebuild (npm run build)");
}
}  // namespace

Status dpdk_eal_init(const std::vector<std::string>&) { return no_dpdk(); }
bool dpdk_eal_ready() { return false; }
void dpdk_eal_cleanup() {}
std::string dpdk_version() { return ""; }
struct DpdkTransport::Impl {};
DpdkTransport::DpdkTransport() = default;
DpdkTransport::~DpdkTransport() = default;
Status DpdkTransport::open(const DpdkConfig&, std::unique_ptr<DpdkTransport>*) { return no_dpdk(); }
uint32_t DpdkTransport::rx(RxPacket*, uint32_t) { return 0; }
uint32_t DpdkTransport::tx(const TxPacket*, uint32_t) { return 0; }
void DpdkTransport::wait_rx(uint32_t) {}
void DpdkTransport::thread_enter() {}
void DpdkTransport::thread_exit() {}

#else

namespace {

std::mutex g_eal_mu;
bool g_eal_ready = false;
std::vector<std::string> g_eal_args;
std::atomic<uint32_t> g_pool_seq{0};

constexpr uint32_t kL2L3L4 = sizeof(rte_ether_hdr) + sizeof(rte_ipv4_hdr) + sizeof(rte_udp_hdr);

void count(TransportCounters& c, RxDrop r) { c.n_rx_drop[static_cast<int>(r)].fetch_add(1, std::memory_order_relaxed); }

}  // namespace

Status dpdk_eal_init(const std::vector<std::string>& args) {
  std::lock_guard<std::mutex> lock(g_eal_mu);
  if (g_eal_ready) {
    if (args == g_eal_args) return Status::Ok();
    return Status::Error("EAL_INIT",
                         "DPDK's EAL is already initialised in this process with other arguments; EAL "
                         "initialises once per process: use one set of EAL arguments (or another process)");
  }
  std::vector<std::string> argv_s{"pallas"};
  argv_s.insert(argv_s.end(), args.begin(), args.end());
  std::vector<char*> argv;
  argv.reserve(argv_s.size() + 1);
  for (auto& s : argv_s) argv.push_back(s.data());
  argv.push_back(nullptr);
  const int r = rte_eal_init(static_cast<int>(argv_s.size()), argv.data());
  if (r < 0) {
    return Status::Error("EAL_INIT", std::string("rte_eal_init failed: ") + rte_strerror(rte_errno) +
                                         " (check the EAL arguments; without hugepages pass --no-huge -m 256)");
  }
  g_eal_ready = true;
  g_eal_args = args;
  return Status::Ok();
}

bool dpdk_eal_ready() {
  std::lock_guard<std::mutex> lock(g_eal_mu);
  return g_eal_ready;
}

void dpdk_eal_cleanup() {
  std::lock_guard<std::mutex> lock(g_eal_mu);
  if (g_eal_ready) rte_eal_cleanup();
  g_eal_ready = false;
}

std::string dpdk_version() { return rte_version(); }

struct DpdkTransport::Impl {
  uint16_t port = 0;
  bool vdev = false;
  std::string dev_name;
  rte_mempool* pool = nullptr;
  rte_ether_addr mac{};
  rte_ether_addr peer_mac{};
  uint32_t ip_be = 0;
  uint16_t port_be = 0;
  uint16_t ip_id = 0;
  bool started = false;
  rte_mbuf* held[kMaxBurst] = {};
  uint32_t n_held = 0;
};

DpdkTransport::DpdkTransport() : impl_(new Impl) {}

DpdkTransport::~DpdkTransport() {
  Impl& m = *impl_;
  if (m.n_held) rte_pktmbuf_free_bulk(m.held, m.n_held);
  if (m.started) rte_eth_dev_stop(m.port);
  if (m.vdev) {
    rte_eal_hotplug_remove("vdev", m.dev_name.c_str());  // closes the port too
  } else if (m.started) {
    rte_eth_dev_close(m.port);
  }
  if (m.pool) rte_mempool_free(m.pool);
}

Status DpdkTransport::open(const DpdkConfig& cfg, std::unique_ptr<DpdkTransport>* out) {
  if (!dpdk_eal_ready())
    return Status::Error("EAL_INIT", "DPDK's EAL is not initialised: call dpdk init with EAL arguments first");
  std::unique_ptr<DpdkTransport> t(new DpdkTransport);
  Impl& m = *t->impl_;
  if (!parse_ipv4(cfg.ip, &m.ip_be))
    return Status::Error("BAD_CONFIG", "dpdk: ip '" + cfg.ip + "' is not an IPv4 address");
  if (!cfg.peer_mac.empty() && rte_ether_unformat_addr(cfg.peer_mac.c_str(), &m.peer_mac) != 0)
    return Status::Error("BAD_CONFIG", "dpdk: peerMac '" + cfg.peer_mac + "' is not a MAC address");
  m.port_be = htons(cfg.udp_port);

  // Attach: a vdev spec "name,args" is hot-plugged; anything else names a device EAL probed.
  const auto comma = cfg.device.find(',');
  m.dev_name = cfg.device.substr(0, comma);
  if (m.dev_name.rfind("net_", 0) == 0) {
    const std::string args = comma == std::string::npos ? "" : cfg.device.substr(comma + 1);
    const int r = rte_eal_hotplug_add("vdev", m.dev_name.c_str(), args.c_str());
    if (r != 0)
      return Status::Error("PORT_START", "dpdk: cannot attach vdev '" + cfg.device + "': " + rte_strerror(-r) +
                                             " (is the interface there, and is the PMD installed?)");
    m.vdev = true;
  }
  if (rte_eth_dev_get_port_by_name(m.dev_name.c_str(), &m.port) != 0)
    return Status::Error("PORT_START", "dpdk: no port named '" + m.dev_name +
                                           "' (for a PCI device pass -a <address> in the EAL arguments)");
  rte_eth_dev_info info{};
  if (rte_eth_dev_info_get(m.port, &info) != 0) return Status::Error("PORT_START", "dpdk: cannot read port info");
  t->driver_ = info.driver_name ? info.driver_name : "";

  const std::string pool_name = "pallas_mp" + std::to_string(g_pool_seq.fetch_add(1));
  m.pool = rte_pktmbuf_pool_create(pool_name.c_str(), cfg.mbufs, 256, 0, RTE_MBUF_DEFAULT_BUF_SIZE,
                                   rte_eth_dev_socket_id(m.port));
  if (m.pool == nullptr)
    return Status::Error("PORT_START", std::string("dpdk: mbuf pool: ") + rte_strerror(rte_errno) +
                                           " (raise EAL memory with -m, or lower mbufs)");
  rte_eth_conf conf{};
  uint16_t nrx = static_cast<uint16_t>(cfg.rx_desc), ntx = static_cast<uint16_t>(cfg.tx_desc);
  int r = rte_eth_dev_configure(m.port, 1, 1, &conf);
  if (r == 0) r = rte_eth_dev_adjust_nb_rx_tx_desc(m.port, &nrx, &ntx);
  if (r == 0) r = rte_eth_rx_queue_setup(m.port, 0, nrx, rte_eth_dev_socket_id(m.port), nullptr, m.pool);
  if (r == 0) r = rte_eth_tx_queue_setup(m.port, 0, ntx, rte_eth_dev_socket_id(m.port), nullptr);
  if (r == 0) r = rte_eth_dev_start(m.port);
  if (r != 0)
    return Status::Error("PORT_START", std::string("dpdk: starting port '") + m.dev_name + "': " + rte_strerror(-r));
  m.started = true;
  rte_eth_macaddr_get(m.port, &m.mac);
  t->local_.ip = m.ip_be;
  t->local_.port = m.port_be;
  std::memcpy(t->local_.mac, m.mac.addr_bytes, 6);
  *out = std::move(t);
  return Status::Ok();
}

void DpdkTransport::thread_enter() { rte_thread_register(); }
void DpdkTransport::thread_exit() { rte_thread_unregister(); }

uint32_t DpdkTransport::rx(RxPacket* pkts, uint32_t n) {
  Impl& m = *impl_;
  if (m.n_held) rte_pktmbuf_free_bulk(m.held, m.n_held);  // the previous views expire now
  m.n_held = 0;
  if (n > kMaxBurst) n = kMaxBurst;
  rte_mbuf* bufs[kMaxBurst];
  const uint16_t got = rte_eth_rx_burst(m.port, 0, bufs, static_cast<uint16_t>(n));
  uint32_t k = 0;
  for (uint16_t i = 0; i < got; i++) {
    rte_mbuf* b = bufs[i];
    const uint32_t len = rte_pktmbuf_data_len(b);
    auto* eth = rte_pktmbuf_mtod(b, rte_ether_hdr*);
    const uint16_t et = len >= sizeof(rte_ether_hdr) ? rte_be_to_cpu_16(eth->ether_type) : 0;
    if (et == RTE_ETHER_TYPE_ARP && len >= sizeof(rte_ether_hdr) + sizeof(rte_arp_hdr)) {
      auto* arp = reinterpret_cast<rte_arp_hdr*>(eth + 1);
      if (arp->arp_opcode == rte_cpu_to_be_16(RTE_ARP_OP_REQUEST) && arp->arp_data.arp_tip == m.ip_be) {
        // Turn the request into the reply in place and send it back.
        arp->arp_opcode = rte_cpu_to_be_16(RTE_ARP_OP_REPLY);
        arp->arp_data.arp_tha = arp->arp_data.arp_sha;
        arp->arp_data.arp_tip = arp->arp_data.arp_sip;
        arp->arp_data.arp_sha = m.mac;
        arp->arp_data.arp_sip = m.ip_be;
        eth->dst_addr = eth->src_addr;
        eth->src_addr = m.mac;
        if (rte_eth_tx_burst(m.port, 0, &b, 1) == 1) {
          counters_.n_arp_replies.fetch_add(1, std::memory_order_relaxed);
          continue;
        }
      }
      rte_pktmbuf_free(b);
      continue;
    }
    if (et != RTE_ETHER_TYPE_IPV4 || len < kL2L3L4 || !rte_pktmbuf_is_contiguous(b)) {
      count(counters_, et == RTE_ETHER_TYPE_IPV4 ? RxDrop::kBadLength : RxDrop::kNotIpv4);
      rte_pktmbuf_free(b);
      continue;
    }
    auto* ip = reinterpret_cast<rte_ipv4_hdr*>(eth + 1);
    const uint32_t ihl = (ip->version_ihl & 0x0f) * 4u;
    const uint32_t ip_len = rte_be_to_cpu_16(ip->total_length);
    RxDrop drop = RxDrop::kCount;
    if ((ip->version_ihl >> 4) != 4 || ihl < sizeof(rte_ipv4_hdr))
      drop = RxDrop::kNotIpv4;
    else if (ip->next_proto_id != IPPROTO_UDP)
      drop = RxDrop::kNotUdp;
    else if (ip->fragment_offset & rte_cpu_to_be_16(RTE_IPV4_HDR_MF_FLAG | RTE_IPV4_HDR_OFFSET_MASK))
      drop = RxDrop::kFragment;
    else if (ip_len < ihl + sizeof(rte_udp_hdr) || sizeof(rte_ether_hdr) + ip_len > len)
      drop = RxDrop::kBadLength;
    if (drop != RxDrop::kCount) {
      count(counters_, drop);
      rte_pktmbuf_free(b);
      continue;
    }
    auto* udp = reinterpret_cast<rte_udp_hdr*>(reinterpret_cast<uint8_t*>(ip) + ihl);
    const uint32_t udp_len = rte_be_to_cpu_16(udp->dgram_len);
    if (ip->dst_addr != m.ip_be || udp->dst_port != m.port_be)
      drop = RxDrop::kNotOurs;
    else if (udp_len < sizeof(rte_udp_hdr) || udp_len > ip_len - ihl)
      drop = RxDrop::kBadLength;
    if (drop != RxDrop::kCount) {
      count(counters_, drop);
      rte_pktmbuf_free(b);
      continue;
    }
    RxPacket& p = pkts[k++];
    p.data = reinterpret_cast<const uint8_t*>(udp + 1);
    p.len = udp_len - static_cast<uint32_t>(sizeof(rte_udp_hdr));
    p.from.ip = ip->src_addr;
    p.from.port = udp->src_port;
    std::memcpy(p.from.mac, eth->src_addr.addr_bytes, 6);
    m.held[m.n_held++] = b;
  }
  counters_.n_rx.fetch_add(k, std::memory_order_relaxed);
  return k;
}

uint32_t DpdkTransport::tx(const TxPacket* pkts, uint32_t n) {
  Impl& m = *impl_;
  if (n > kMaxBurst) n = kMaxBurst;
  rte_mbuf* bufs[kMaxBurst];
  if (n == 0) return 0;
  if (rte_pktmbuf_alloc_bulk(m.pool, bufs, n) != 0) {
    counters_.n_tx_full.fetch_add(n, std::memory_order_relaxed);
    return 0;
  }
  static const uint8_t kZeroMac[6] = {};
  uint32_t j = 0;  // mbufs filled so far; an oversized datagram is refused and its mbuf freed
  for (uint32_t i = 0; i < n; i++) {
    const TxPacket& p = pkts[i];
    const uint32_t len = kL2L3L4 + p.len;
    auto* eth = p.len <= wire::kMaxDatagram
                    ? reinterpret_cast<rte_ether_hdr*>(rte_pktmbuf_append(bufs[j], static_cast<uint16_t>(len)))
                    : nullptr;
    if (eth == nullptr) continue;
    j++;
    if (std::memcmp(p.to.mac, kZeroMac, 6) != 0)
      std::memcpy(eth->dst_addr.addr_bytes, p.to.mac, 6);
    else
      eth->dst_addr = m.peer_mac;
    eth->src_addr = m.mac;
    eth->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4);
    auto* ip = reinterpret_cast<rte_ipv4_hdr*>(eth + 1);
    ip->version_ihl = RTE_IPV4_VHL_DEF;
    ip->type_of_service = 0;
    ip->total_length = rte_cpu_to_be_16(static_cast<uint16_t>(sizeof(rte_ipv4_hdr) + sizeof(rte_udp_hdr) + p.len));
    ip->packet_id = rte_cpu_to_be_16(m.ip_id++);
    ip->fragment_offset = rte_cpu_to_be_16(RTE_IPV4_HDR_DF_FLAG);
    ip->time_to_live = 64;
    ip->next_proto_id = IPPROTO_UDP;
    ip->src_addr = m.ip_be;
    ip->dst_addr = p.to.ip;
    ip->hdr_checksum = 0;
    ip->hdr_checksum = rte_ipv4_cksum(ip);
    auto* udp = reinterpret_cast<rte_udp_hdr*>(ip + 1);
    udp->src_port = m.port_be;
    udp->dst_port = p.to.port;
    udp->dgram_len = rte_cpu_to_be_16(static_cast<uint16_t>(sizeof(rte_udp_hdr) + p.len));
    udp->dgram_cksum = 0;
    std::memcpy(udp + 1, p.data, p.len);
  }
  const uint16_t sent = j ? rte_eth_tx_burst(m.port, 0, bufs, static_cast<uint16_t>(j)) : 0;
  if (sent < n) {
    rte_pktmbuf_free_bulk(bufs + sent, n - sent);  // unsent and unused mbufs alike
    counters_.n_tx_full.fetch_add(n - sent, std::memory_order_relaxed);
  }
  counters_.n_tx.fetch_add(sent, std::memory_order_relaxed);
  return sent;
}

void DpdkTransport::wait_rx(uint32_t timeout_us) {
  // Virtual devices have no RX interrupts: a short sleep is the hybrid wait. A spurious wake-up
  // is allowed by the contract; the caller polls again.
  std::this_thread::sleep_for(std::chrono::microseconds(timeout_us < 50 ? timeout_us : 50));
}

#endif  // HAVE_DPDK

}  // namespace pallas::io
