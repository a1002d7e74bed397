// Pump implementation: see pump.hpp.
#include "pump.hpp"

#include <pthread.h>
#include <sched.h>

#include <algorithm>
#include <chrono>
#include <cstring>

#include "../core/hist/histogram.hpp"
#include "../core/wire/wire.hpp"

namespace pallas::io {

namespace {

uint64_t rx_drops(const Transport& t) {
  uint64_t n = 0;
  for (const auto& c : t.counters().n_rx_drop) n += c.load(std::memory_order_relaxed);
  return n;
}

// Pins the calling thread to one CPU for its lifetime and restores the previous mask after (the
// pump runs on a libuv worker that is reused).
class Pin {
 public:
  explicit Pin(int core) {
    if (core < 0 || core >= CPU_SETSIZE) return;
    if (pthread_getaffinity_np(pthread_self(), sizeof old_, &old_) != 0) return;
    cpu_set_t one;
    CPU_ZERO(&one);
    CPU_SET(core, &one);
    pinned_ = pthread_setaffinity_np(pthread_self(), sizeof one, &one) == 0;
  }
  ~Pin() {
    if (pinned_) pthread_setaffinity_np(pthread_self(), sizeof old_, &old_);
  }
  Pin(const Pin&) = delete;
  Pin& operator=(const Pin&) = delete;
  bool pinned() const { return pinned_; }

 private:
  cpu_set_t old_{};
  bool pinned_ = false;
};

}  // namespace

PumpResult run_pump(Transport& t, const PumpConfig& cfg, const std::atomic<bool>& abort) {
  using clock = std::chrono::steady_clock;
  const Pin pin(cfg.core);
  const wire::TypeTable types = wire::TypeTable::defaults();
  const uint32_t zeros = types.known[cfg.type] ? wire::kPayloadSize[static_cast<uint8_t>(types.payload[cfg.type])] : 0;
  const uint32_t payload =
      cfg.payload.empty() ? zeros : std::min<uint32_t>(static_cast<uint32_t>(cfg.payload.size()), 64);
  const uint32_t len = wire::kHeaderSize + payload;
  const uint32_t burst = std::clamp<uint32_t>(cfg.burst, 1, kMaxBurst);
  // The requests, built once: per datagram only req_id and send_ts change.
  alignas(64) uint8_t req[kMaxBurst][wire::kHeaderSize + 64] = {};
  TxPacket out[kMaxBurst];
  for (uint32_t i = 0; i < kMaxBurst; i++) {
    wire::Header h;
    h.type = cfg.type;
    wire::encode(h, req[i], sizeof req[i]);
    if (!cfg.payload.empty()) std::memcpy(req[i] + wire::kHeaderSize, cfg.payload.data(), payload);
    out[i] = TxPacket{req[i], len, cfg.dst};
  }
  Histogram rtt;
  RxPacket in[kMaxBurst];
  PumpResult res;
  res.pinned = pin.pinned();
  uint32_t seq = 0;
  t.thread_enter();
  const uint64_t drops0 = rx_drops(t);
  const auto start = clock::now();
  const auto ns_now = [&] {
    return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(clock::now() - start).count());
  };
  const auto end = start + std::chrono::milliseconds(cfg.duration_ms);
  uint32_t loops = 0;
  if (cfg.mode == PumpMode::kTxOnly) {
    while (!abort.load(std::memory_order_relaxed)) {
      if ((++loops & 63) == 0 && clock::now() >= end) break;
      for (uint32_t i = 0; i < burst; i++) wire::store_be32(req[i] + wire::off::req_id, seq++);
      res.sent += t.tx(out, burst);
    }
  } else if (cfg.mode == PumpMode::kRxOnly) {
    while (!abort.load(std::memory_order_relaxed)) {
      if ((++loops & 63) == 0 && clock::now() >= end) break;
      res.received += t.rx(in, burst);
    }
  } else {
    while (!abort.load(std::memory_order_relaxed)) {
      if ((++loops & 63) == 0 && clock::now() >= end) break;
      const auto n = static_cast<uint32_t>(std::min<uint64_t>(burst, cfg.window - (res.sent - res.received)));
      if (n) {
        const auto ts = static_cast<uint32_t>(ns_now());
        for (uint32_t i = 0; i < n; i++) {
          wire::store_be32(req[i] + wire::off::req_id, seq++);
          wire::store_be32(req[i] + wire::off::send_ts, ts);
        }
        res.sent += t.tx(out, n);
      }
      const uint32_t got = t.rx(in, kMaxBurst);
      const uint32_t now32 = got ? static_cast<uint32_t>(ns_now()) : 0;
      for (uint32_t i = 0; i < got; i++) {
        wire::Header h;
        if (wire::validate(in[i].data, in[i].len, nullptr, &h) != wire::Reason::kOk) continue;
        if (!(h.flags & wire::kFlagResponse) && !cfg.accept_requests) continue;
        if (h.flags & wire::kFlagDropNotice) continue;
        res.received++;
        rtt.record(now32 - h.send_ts);  // mod 2^32: right for round trips under 4 s
      }
    }
  }
  res.elapsed_ns =
      static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(clock::now() - start).count());
  res.rx_dropped = rx_drops(t) - drops0;
  t.thread_exit();
  res.rtt_p50_ns = rtt.quantile(0.5);
  res.rtt_p99_ns = rtt.quantile(0.99);
  return res;
}

}  // namespace pallas::io
