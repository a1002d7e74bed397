// Echo: the addon's echo mode. One I/O thread receives Pallas datagrams on a transport, validates
// each one against the type table, and sends every valid request back to its sender as a reply
// (RESPONSE set, server id written, payload echoed). Invalid datagrams are counted per wire
// reason. Used to test transports end to end and to measure them; the server runtime replaces it.
//
// Threads: start() launches the I/O thread; stop() (or the destructor) joins it. Counters are
// relaxed atomics, read from any thread (the addon exposes them to JS as a BigUint64Array).
#pragma once

#include <atomic>
#include <memory>
#include <thread>

#include "../core/wire/wire.hpp"
#include "transport.hpp"

namespace pallas::io {

struct EchoConfig {
  uint8_t server_id = 0;
  uint32_t idle_polls = 64;  // empty polls before the thread waits (hybrid mode)
  uint32_t wait_us = 200;    // how long one wait lasts at most
};

// Counter layout shared with JS (lib/io): keep kEchoCounterNames in the same order.
struct EchoCounters {
  std::atomic<uint64_t> n_replied{0};                     // replies the transport accepted
  std::atomic<uint64_t> n_unexpected_reply{0};            // valid datagrams that were replies, not requests
  std::atomic<uint64_t> n_drop[wire::kReasonCount] = {};  // index = wire::Reason; [0] stays 0
};
inline constexpr uint32_t kEchoCounterCount = 2 + wire::kReasonCount;

class Echo {
 public:
  Echo(std::unique_ptr<Transport> transport, EchoConfig cfg);
  ~Echo();
  void start();
  void stop();
  bool running() const { return thread_.joinable(); }
  const EchoCounters& counters() const { return counters_; }
  const Transport& transport() const { return *transport_; }

 private:
  void loop();
  std::unique_ptr<Transport> transport_;
  EchoConfig cfg_;
  wire::TypeTable types_ = wire::TypeTable::defaults();
  EchoCounters counters_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

}  // namespace pallas::io
