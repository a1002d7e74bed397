// UdpTransport implementation: see udp_transport.hpp.
#include "udp_transport.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace pallas::io {

bool parse_ipv4(const std::string& s, uint32_t* ip_be) {
  in_addr a{};
  if (inet_pton(AF_INET, s.c_str(), &a) != 1) return false;
  *ip_be = a.s_addr;
  return true;
}

Status UdpTransport::open(const UdpConfig& cfg, std::unique_ptr<UdpTransport>* out) {
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(cfg.port);
  if (!parse_ipv4(cfg.bind_ip, &sa.sin_addr.s_addr))
    return Status::Error("BAD_CONFIG", "udp: bind address '" + cfg.bind_ip + "' is not an IPv4 address");
  const int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return Status::Error("SOCKET", std::string("udp: socket(): ") + strerror(errno));
  const int buf = static_cast<int>(cfg.socket_buf);
  // Best effort: the kernel caps SO_RCVBUF/SO_SNDBUF at net.core.{r,w}mem_max (208 KiB by default,
  // a few hundred small datagrams); with CAP_NET_ADMIN the FORCE variants set the size asked for.
  if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &buf, sizeof buf) != 0)
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &buf, sizeof buf);
  if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &buf, sizeof buf) != 0)
    setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &buf, sizeof buf);
  if (bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0) {
    const int e = errno;
    ::close(fd);
    return Status::Error("SOCKET", "udp: bind " + cfg.bind_ip + ":" + std::to_string(cfg.port) + ": " + strerror(e) +
                                       (e == EADDRINUSE ? " (another process has this port)" : ""));
  }
  socklen_t sl = sizeof sa;
  getsockname(fd, reinterpret_cast<sockaddr*>(&sa), &sl);
  out->reset(new UdpTransport(fd));
  (*out)->local_.ip = sa.sin_addr.s_addr;
  (*out)->local_.port = sa.sin_port;
  return Status::Ok();
}

UdpTransport::~UdpTransport() { close(); }

void UdpTransport::close() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

uint32_t UdpTransport::rx(RxPacket* pkts, uint32_t n) {
  if (fd_ < 0) return 0;  // closed
  if (n > kMaxBurst) n = kMaxBurst;
  mmsghdr msgs[kMaxBurst];
  iovec iov[kMaxBurst];
  sockaddr_in from[kMaxBurst];
  for (uint32_t i = 0; i < n; i++) {
    // One byte more than the largest datagram so that an oversized one shows up as MSG_TRUNC.
    iov[i] = {rx_buf_[i], sizeof rx_buf_[i]};
    msgs[i].msg_hdr = {};
    msgs[i].msg_hdr.msg_iov = &iov[i];
    msgs[i].msg_hdr.msg_iovlen = 1;
    msgs[i].msg_hdr.msg_name = &from[i];
    msgs[i].msg_hdr.msg_namelen = sizeof from[i];
  }
  const int got = recvmmsg(fd_, msgs, n, MSG_DONTWAIT, nullptr);
  if (got <= 0) return 0;
  uint32_t k = 0;
  for (int i = 0; i < got; i++) {
    Endpoint e;
    e.ip = from[i].sin_addr.s_addr;
    e.port = from[i].sin_port;
    // A datagram over the buffer arrives cut (MSG_TRUNC): it goes up with the buffer's length, one
    // byte over the largest datagram, so that the consumer counts it received and too long, the
    // same as a datagram one byte over the limit, instead of the transport hiding it.
    const uint32_t len =
        (msgs[i].msg_hdr.msg_flags & MSG_TRUNC) ? static_cast<uint32_t>(sizeof rx_buf_[i]) : msgs[i].msg_len;
    pkts[k++] = RxPacket{rx_buf_[i], len, e};
  }
  counters_.n_rx.fetch_add(k, std::memory_order_relaxed);
  return k;
}

uint32_t UdpTransport::tx(const TxPacket* pkts, uint32_t n) {
  if (n > kMaxBurst) n = kMaxBurst;
  if (fd_ < 0) {  // closed
    counters_.n_tx_full.fetch_add(n, std::memory_order_relaxed);
    return 0;
  }
  mmsghdr msgs[kMaxBurst];
  iovec iov[kMaxBurst];
  sockaddr_in to[kMaxBurst];
  for (uint32_t i = 0; i < n; i++) {
    iov[i] = {const_cast<uint8_t*>(pkts[i].data), pkts[i].len};
    to[i] = {};
    to[i].sin_family = AF_INET;
    to[i].sin_addr.s_addr = pkts[i].to.ip;
    to[i].sin_port = pkts[i].to.port;
    msgs[i].msg_hdr = {};
    msgs[i].msg_hdr.msg_iov = &iov[i];
    msgs[i].msg_hdr.msg_iovlen = 1;
    msgs[i].msg_hdr.msg_name = &to[i];
    msgs[i].msg_hdr.msg_namelen = sizeof to[i];
  }
  uint32_t sent = 0;
  while (sent < n) {
    const int r = sendmmsg(fd_, msgs + sent, n - sent, MSG_DONTWAIT);
    if (r > 0) {
      sent += static_cast<uint32_t>(r);
      continue;
    }
    // EAGAIN: socket buffer full. Anything else (e.g. ECONNREFUSED from an earlier ICMP error)
    // concerns the first datagram only: skip it so one bad peer cannot stall the batch.
    if (r < 0 && errno != EAGAIN && errno != EWOULDBLOCK) {
      counters_.n_tx_full.fetch_add(1, std::memory_order_relaxed);
      msgs[sent].msg_len = 0;
      n--;
      if (sent < n) std::memmove(&msgs[sent], &msgs[sent + 1], (n - sent) * sizeof(mmsghdr));
      continue;
    }
    break;
  }
  counters_.n_tx.fetch_add(sent, std::memory_order_relaxed);
  const uint32_t requested = n;
  if (sent < requested) counters_.n_tx_full.fetch_add(requested - sent, std::memory_order_relaxed);
  return sent;
}

void UdpTransport::wait_rx(uint32_t timeout_us) {
  pollfd p{fd_, POLLIN, 0};
  const timespec ts{static_cast<time_t>(timeout_us / 1000000), static_cast<long>((timeout_us % 1000000) * 1000)};
  ppoll(&p, 1, &ts, nullptr);
}

}  // namespace pallas::io
