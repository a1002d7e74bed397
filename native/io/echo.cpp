// Echo implementation: see echo.hpp.
#include "echo.hpp"

#include <cstring>

namespace pallas::io {

Echo::Echo(std::unique_ptr<Transport> transport, EchoConfig cfg) : transport_(std::move(transport)), cfg_(cfg) {}

Echo::~Echo() { stop(); }

void Echo::start() {
  if (thread_.joinable()) return;
  stop_.store(false);
  thread_ = std::thread([this] { loop(); });
}

void Echo::stop() {
  stop_.store(true);
  if (thread_.joinable()) thread_.join();
}

void Echo::loop() {
  Transport& t = *transport_;
  t.thread_enter();
  RxPacket in[kMaxBurst];
  TxPacket out[kMaxBurst];
  // Replies are built in our own buffers: the RX views may point into NIC buffers we must not
  // write to (and the kernel transport reuses its buffers on the next rx()).
  static thread_local uint8_t buf[kMaxBurst][wire::kMaxDatagram];
  uint32_t idle = 0;
  while (!stop_.load(std::memory_order_relaxed)) {
    const uint32_t n = t.rx(in, kMaxBurst);
    if (n == 0) {
      if (++idle >= cfg_.idle_polls) t.wait_rx(cfg_.wait_us);
      continue;
    }
    idle = 0;
    uint32_t k = 0;
    for (uint32_t i = 0; i < n; i++) {
      wire::Header h;
      const wire::Reason r = wire::validate(in[i].data, in[i].len, &types_, &h);
      if (r != wire::Reason::kOk) {
        counters_.n_drop[static_cast<uint32_t>(r)].fetch_add(1, std::memory_order_relaxed);
        continue;
      }
      if (h.flags & wire::kFlagResponse) {
        counters_.n_unexpected_reply.fetch_add(1, std::memory_order_relaxed);
        continue;
      }
      std::memcpy(buf[k], in[i].data, in[i].len);
      wire::make_reply(buf[k], cfg_.server_id, 0, 0);
      out[k] = TxPacket{buf[k], in[i].len, in[i].from};
      k++;
    }
    if (k) counters_.n_replied.fetch_add(t.tx(out, k), std::memory_order_relaxed);
  }
  t.thread_exit();
}

}  // namespace pallas::io
