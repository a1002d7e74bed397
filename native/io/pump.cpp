// Pump implementation: see pump.hpp.
#include "pump.hpp"

#include <algorithm>
#include <chrono>
#include <cstring>

#include "../core/hist/histogram.hpp"
#include "../core/wire/wire.hpp"

namespace pallas::io {

PumpResult run_pump(Transport& t, const PumpConfig& cfg, const std::atomic<bool>& abort) {
  using clock = std::chrono::steady_clock;
  const wire::TypeTable types = wire::TypeTable::defaults();
  const uint32_t zeros = types.known[cfg.type] ? wire::kPayloadSize[static_cast<uint8_t>(types.payload[cfg.type])] : 0;
  const uint32_t payload =
      cfg.payload.empty() ? zeros : std::min<uint32_t>(static_cast<uint32_t>(cfg.payload.size()), 64);
  const uint32_t len = wire::kHeaderSize + payload;
  const uint32_t burst = std::clamp<uint32_t>(cfg.burst, 1, kMaxBurst);
  uint8_t req[kMaxBurst][wire::kHeaderSize + 64] = {};
  for (uint32_t i = 0; i < kMaxBurst && !cfg.payload.empty(); i++)
    std::memcpy(req[i] + wire::kHeaderSize, cfg.payload.data(), payload);
  Histogram rtt;
  TxPacket out[kMaxBurst];
  RxPacket in[kMaxBurst];
  PumpResult res;
  uint32_t seq = 0;
  t.thread_enter();
  const auto start = clock::now();
  const auto ns_now = [&] {
    return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(clock::now() - start).count());
  };
  const auto end = start + std::chrono::milliseconds(cfg.duration_ms);
  uint32_t loops = 0;
  while (!abort.load(std::memory_order_relaxed)) {
    if ((++loops & 63) == 0 && clock::now() >= end) break;
    uint32_t n = burst;
    if (cfg.round_trip) n = static_cast<uint32_t>(std::min<uint64_t>(burst, cfg.window - (res.sent - res.received)));
    const uint32_t ts = n && cfg.round_trip ? static_cast<uint32_t>(ns_now()) : 0;
    for (uint32_t i = 0; i < n; i++) {
      wire::Header h;
      h.type = cfg.type;
      h.req_id = seq++;
      h.send_ts = ts;
      wire::encode(h, req[i], sizeof req[i]);
      out[i] = TxPacket{req[i], len, cfg.dst};
    }
    if (n) res.sent += t.tx(out, n);
    if (!cfg.round_trip) continue;
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
  res.elapsed_ns =
      static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(clock::now() - start).count());
  t.thread_exit();
  res.rtt_p50_ns = rtt.quantile(0.5);
  res.rtt_p99_ns = rtt.quantile(0.99);
  return res;
}

}  // namespace pallas::io
