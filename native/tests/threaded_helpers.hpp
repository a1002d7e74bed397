// Helpers the threaded tests share (runtime, soft switch, client): a watchdog that turns a hang into
// a failure, request builders, a test peer that sends and collects answers on one transport end,
// an in-memory network of several nodes built from MemTransport links, the runtime's accounting
// checks, and a rack (a software switch and server runtimes on that network).
//
// Every helper waits in bounded steps (20 µs transport waits, 1 ms sleeps) and gives up at a
// deadline: nothing here spins a core, and nothing waits forever.
#pragma once

#include <doctest/doctest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "core/switch/tables.hpp"
#include "core/wire/wire.hpp"
#include "io/mem_transport.hpp"
#include "io/transport.hpp"
#include "runtime/runtime.hpp"
#include "runtime/stats.hpp"
#include "switch/soft_switch.hpp"

namespace pallas::testing {

inline constexpr uint8_t kShort = static_cast<uint8_t>(wire::Type::kShort);
inline constexpr uint8_t kMedium = static_cast<uint8_t>(wire::Type::kMedium);
inline constexpr uint8_t kLong = static_cast<uint8_t>(wire::Type::kLong);
inline constexpr uint8_t kExp = static_cast<uint8_t>(wire::Type::kExp);
inline constexpr uint8_t kGet = static_cast<uint8_t>(wire::Type::kGet);

// A spin longer than any test: such a request runs until stop() cuts it short.
inline constexpr uint32_t kForeverNs = 4000000000u;

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

// Aborts the process, naming the test, when it is still running after `limit`: a lost wake-up or a
// join that never returns fails in seconds with a message instead of at ctest's timeout.
class Watchdog {
 public:
  explicit Watchdog(const char* what, milliseconds limit = milliseconds(30000)) : what_(what) {
    thread_ = std::thread([this, limit] {
      std::unique_lock<std::mutex> g(mu_);
      if (!cv_.wait_for(g, limit, [this] { return done_; })) {
        std::fprintf(stderr, "watchdog: '%s' still running after %lld ms: aborting\n", what_,
                     static_cast<long long>(limit.count()));
        std::abort();
      }
    });
  }
  ~Watchdog() {
    {
      std::lock_guard<std::mutex> g(mu_);
      done_ = true;
    }
    cv_.notify_all();
    thread_.join();
  }
  Watchdog(const Watchdog&) = delete;
  Watchdog& operator=(const Watchdog&) = delete;

 private:
  const char* what_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool done_ = false;
  std::thread thread_;
};

// Polls `pred` every millisecond until it holds or `ms` pass.
template <typename Pred>
bool eventually(Pred pred, int ms = 10000) {
  const auto deadline = Clock::now() + milliseconds(ms);
  while (!pred()) {
    if (Clock::now() >= deadline) return false;
    std::this_thread::sleep_for(milliseconds(1));
  }
  return true;
}

// A request of a spin type (4-byte spin_ns payload).
inline std::vector<uint8_t> request(uint8_t type, uint32_t req_id, uint32_t spin_ns, uint8_t flags = 0,
                                    uint32_t index = 0) {
  std::vector<uint8_t> b(wire::kHeaderSize + 4, 0);
  wire::Header h;
  h.type = type;
  h.flags = flags;
  h.index = index;
  h.req_id = req_id;
  h.send_ts = req_id * 7 + 1;
  REQUIRE(wire::encode(h, b.data(), b.size()) == wire::kHeaderSize);
  wire::store_be32(b.data() + wire::kHeaderSize, spin_ns);
  return b;
}

// What came back for a request: a reply, a drop notice (with its cause) or a bounced request.
struct Answer {
  wire::Header h;
  uint8_t cause = 0;
  uint32_t len = 0;
  uint32_t payload0 = 0;  // the first 4 payload bytes (big-endian), when there are 4
  io::Endpoint from;
  bool reply() const { return (h.flags & wire::kFlagResponse) && !(h.flags & wire::kFlagDropNotice); }
  bool notice() const { return (h.flags & wire::kFlagResponse) && (h.flags & wire::kFlagDropNotice); }
  bool bounced() const { return !(h.flags & wire::kFlagResponse) && (h.flags & wire::kFlagBounced); }
};

// One test thread's end of a link: sends datagrams and collects every valid one that comes back.
// Like any transport user, one thread at a time (the thread that runs the test's I/O).
class Peer {
 public:
  explicit Peer(io::Transport& t, io::Endpoint to = {}) : t_(t), to_(to) {}

  // Sends one datagram to `to` (the peer's default destination when not given), waiting while the
  // link is full (taking answers meanwhile) for at most `ms`. False when it stayed full.
  bool send(const std::vector<uint8_t>& d, int ms = 5000) { return send_to(d, to_, ms); }
  bool send_to(const std::vector<uint8_t>& d, const io::Endpoint& to, int ms = 5000) {
    static const uint8_t kNothing = 0;  // an empty datagram still points somewhere (memcpy's nonnull)
    const io::TxPacket p{d.empty() ? &kNothing : d.data(), static_cast<uint32_t>(d.size()), to};
    const auto deadline = Clock::now() + milliseconds(ms);
    while (t_.tx(&p, 1) != 1) {
      if (Clock::now() >= deadline) return false;
      if (poll() == 0) t_.wait_rx(20);
    }
    return true;
  }

  // Takes whatever has arrived; returns how many datagrams.
  uint32_t poll() {
    io::RxPacket in[io::kMaxBurst];
    const uint32_t n = t_.rx(in, io::kMaxBurst);
    for (uint32_t i = 0; i < n; i++) {
      Answer a;
      if (wire::validate(in[i].data, in[i].len, nullptr, &a.h) != wire::Reason::kOk) {
        invalid++;
        continue;
      }
      a.len = in[i].len;
      a.from = in[i].from;
      if (a.len > wire::kHeaderSize) a.cause = in[i].data[wire::kHeaderSize];
      if (a.len >= wire::kHeaderSize + 4) a.payload0 = wire::load_be32(in[i].data + wire::kHeaderSize);
      by_id_[a.h.req_id].push_back(got.size());
      got.push_back(a);
    }
    return n;
  }

  // Takes answers until pred() holds or `ms` pass, waiting on the transport (20 µs steps) between
  // empty polls.
  template <typename Pred>
  bool until(Pred pred, int ms = 10000) {
    const auto deadline = Clock::now() + milliseconds(ms);
    for (;;) {
      poll();
      if (pred()) return true;
      if (Clock::now() >= deadline) return false;
      t_.wait_rx(20);
    }
  }
  // Until every one of `ids` has an answer.
  bool until_answered(const std::vector<uint32_t>& ids, int ms = 10000) {
    return until([&] { return std::all_of(ids.begin(), ids.end(), [&](uint32_t id) { return answers(id) > 0; }); }, ms);
  }

  size_t answers(uint32_t id) const {
    const auto it = by_id_.find(id);
    return it == by_id_.end() ? 0 : it->second.size();
  }
  const Answer* first(uint32_t id) const {
    const auto it = by_id_.find(id);
    return it == by_id_.end() ? nullptr : &got[it->second.front()];
  }
  size_t count(bool (Answer::*kind)() const) const {
    return static_cast<size_t>(std::count_if(got.begin(), got.end(), [&](const Answer& a) { return (a.*kind)(); }));
  }
  size_t notices_with(wire::DropCause c) const {
    return static_cast<size_t>(std::count_if(
        got.begin(), got.end(), [&](const Answer& a) { return a.notice() && a.cause == static_cast<uint8_t>(c); }));
  }
  // Ids with more than one answer.
  size_t duplicated() const {
    return static_cast<size_t>(
        std::count_if(by_id_.begin(), by_id_.end(), [](const auto& kv) { return kv.second.size() > 1; }));
  }

  std::vector<Answer> got;
  uint64_t invalid = 0;

 private:
  io::Transport& t_;
  io::Endpoint to_;
  std::map<uint32_t, std::vector<size_t>> by_id_;
};

// ---- An in-memory network ----------------------------------------------------------------------

// A MemTransport is a point-to-point link that carries no destination, and the software switch
// talks to every client and server through one transport. MemMesh joins N nodes with one
// MemTransport pair per two nodes; each node gets a MeshPort, a Transport that sends a datagram over
// the link to the node its destination address names and presents what arrives on the link from
// node j as coming from j's address. Node i's address is 10.0.0.(i+1), port 9000 + i. A datagram to
// an address that is no node is lost (counted), as on a network.
class MeshPort final : public io::Transport {
 public:
  static io::Endpoint addr(uint32_t node) {
    io::Endpoint e;
    e.ip = 0x0a000001u + node;
    e.port = static_cast<uint16_t>(9000 + node);
    return e;
  }
  static int node_of(const io::Endpoint& e) {
    const uint32_t n = e.ip - 0x0a000001u;
    return n < 256 && e.port == 9000 + n ? static_cast<int>(n) : -1;
  }

  MeshPort(uint32_t self, uint32_t nodes) : self_(self), links_(nodes) {}
  const char* kind() const override { return "mesh"; }
  uint32_t rx(io::RxPacket* pkts, uint32_t n) override {
    // Every link is read on every call, so that the views of the previous call are released.
    uint32_t got = 0;
    const uint32_t k = static_cast<uint32_t>(links_.size());
    for (uint32_t j = 0; j < k; j++) {
      const uint32_t node = (next_ + j) % k;
      if (!links_[node]) continue;
      const uint32_t m = links_[node]->rx(pkts + got, n - got);
      for (uint32_t i = 0; i < m; i++) pkts[got + i].from = addr(node);
      got += m;
    }
    next_ = (next_ + 1) % k;
    counters_.n_rx.fetch_add(got, std::memory_order_relaxed);
    return got;
  }
  // Stops at the first datagram its link refuses: the transport contract refuses a tail, never a hole.
  uint32_t tx(const io::TxPacket* pkts, uint32_t n) override {
    uint32_t sent = 0;
    for (; sent < n; sent++) {
      const int node = node_of(pkts[sent].to);
      if (node < 0 || node >= static_cast<int>(links_.size()) || !links_[node]) {
        lost_.fetch_add(1, std::memory_order_relaxed);
        continue;
      }
      if (links_[node]->tx(&pkts[sent], 1) != 1) break;
    }
    counters_.n_tx.fetch_add(sent, std::memory_order_relaxed);
    if (sent < n) counters_.n_tx_full.fetch_add(n - sent, std::memory_order_relaxed);
    return sent;
  }
  void wait_rx(uint32_t timeout_us) override {
    std::this_thread::sleep_for(std::chrono::microseconds(std::min<uint32_t>(timeout_us, 20)));
  }
  io::Endpoint local() const override { return addr(self_); }
  uint64_t lost() const { return lost_.load(std::memory_order_relaxed); }

 private:
  friend class MemMesh;
  uint32_t self_;
  uint32_t next_ = 0;
  std::vector<std::unique_ptr<io::MemTransport>> links_;  // by peer node; none for self
  std::atomic<uint64_t> lost_{0};
};

class MemMesh {
 public:
  MemMesh(uint32_t nodes, uint32_t slots) {
    for (uint32_t i = 0; i < nodes; i++) ports_.push_back(std::make_unique<MeshPort>(i, nodes));
    for (uint32_t i = 0; i < nodes; i++)
      for (uint32_t j = i + 1; j < nodes; j++) {
        auto [a, b] = io::MemTransport::pair(slots);
        ports_[i]->links_[j] = std::move(a);
        ports_[j]->links_[i] = std::move(b);
      }
  }
  // Node i's port, once.
  std::unique_ptr<MeshPort> take(uint32_t i) {
    REQUIRE(ports_.at(i));
    return std::move(ports_[i]);
  }

 private:
  std::vector<std::unique_ptr<MeshPort>> ports_;
};

// ---- The runtime ---------------------------------------------------------------------------------

// Hybrid waiting (the default), small buffers, spin handlers for short, medium and long; cfcfs.
inline runtime::RuntimeConfig runtime_config(uint32_t workers, uint8_t server_id = 7) {
  runtime::RuntimeConfig c;
  c.server_id = server_id;
  c.workers = workers;
  c.busy_poll = false;
  c.idle_polls = 50;
  c.wait_us = 1000;
  c.slots = 512;
  for (uint8_t t : {kShort, kMedium, kLong}) c.work[t].kind = runtime::Work::kSpin;
  c.policy.kind = "cfcfs";
  return c;
}

inline uint64_t server_cell(runtime::Runtime& rt, uint32_t c) { return runtime::cell_get(&rt.stats().server()[c]); }
inline uint64_t type_cell(runtime::Runtime& rt, uint8_t type, uint32_t c) {
  const auto& rows = rt.row_types();
  const auto it = std::find(rows.begin(), rows.end(), type);
  REQUIRE(it != rows.end());
  return runtime::cell_get(&rt.stats().type_row(static_cast<uint32_t>(it - rows.begin()))[c]);
}
inline uint64_t invalid_total(runtime::Runtime& rt) {
  uint64_t n = 0;
  for (uint32_t r = 0; r < wire::kReasonCount; r++) n += server_cell(rt, runtime::kServerCellsBase + r);
  return n;
}

// The dispatcher's cells (server cells and type rows) copied under the seq protocol (stats.hpp).
struct RuntimeSnapshot {
  std::vector<uint64_t> server;
  std::vector<uint64_t> types;  // rows of kTypeCells
};
inline bool snapshot(runtime::StatsBlock& s, RuntimeSnapshot* out, int tries = 1000) {
  out->server.resize(s.area_size(0));
  out->types.resize(s.area_size(1));
  for (int i = 0; i < tries; i++) {
    const uint64_t s1 = __atomic_load_n(&s.server()[runtime::kSeq], __ATOMIC_ACQUIRE);
    if (s1 & 1) {
      std::this_thread::yield();
      continue;
    }
    for (size_t c = 0; c < out->server.size(); c++) out->server[c] = runtime::cell_get(&s.area(0)[c]);
    for (size_t c = 0; c < out->types.size(); c++) out->types[c] = runtime::cell_get(&s.area(1)[c]);
    __atomic_thread_fence(__ATOMIC_ACQUIRE);
    if (runtime::cell_get(&s.server()[runtime::kSeq]) == s1) return true;
  }
  return false;
}

// In a consistent snapshot, the requests the type rows hold as neither finished nor queued are the
// ones running: received - completed - drops - bounced - queued, summed over the types, is
// in_service.
inline bool snapshot_consistent(const RuntimeSnapshot& s) {
  using namespace runtime;
  uint64_t running = 0;
  for (size_t r = 0; r < s.types.size() / kTypeCells; r++) {
    const uint64_t* t = &s.types[r * kTypeCells];
    const uint64_t done = t[kTCompleted] + t[kTDropFull] + t[kTDropClone] + t[kTDropOther] + t[kTBounced] + t[kTQueued];
    if (done > t[kTReceived]) return false;
    running += t[kTReceived] - done;
  }
  return running == s.server[kInService];
}

// After stop (nothing queued or running): every valid request received ended as exactly one of
// reply, counted drop (with a notice) or bounce, in the type rows and in the server cells; every
// datagram received is a request of a type with a handler, an invalid one, a reply, or a request
// with no handler. `tx_ok`: the transport accepted everything (nothing counted in n_tx_failed).
inline void check_accounting(runtime::Runtime& rt, bool tx_ok = true) {
  using namespace runtime;
  CHECK(server_cell(rt, kQueued) == 0);
  CHECK(server_cell(rt, kInService) == 0);
  uint64_t received = 0, completed = 0, drop_full = 0, drop_clone = 0, drop_other = 0, bounced = 0;
  for (uint8_t t : rt.row_types()) {
    CAPTURE(int{t});
    const uint64_t rcv = type_cell(rt, t, kTReceived);
    const uint64_t done = type_cell(rt, t, kTCompleted);
    CHECK(type_cell(rt, t, kTQueued) == 0);
    CHECK(rcv == done + type_cell(rt, t, kTDropFull) + type_cell(rt, t, kTDropClone) + type_cell(rt, t, kTDropOther) +
                     type_cell(rt, t, kTBounced));
    CHECK(type_cell(rt, t, kTDispatched) >= done);
    received += rcv;
    completed += done;
    drop_full += type_cell(rt, t, kTDropFull);
    drop_clone += type_cell(rt, t, kTDropClone);
    drop_other += type_cell(rt, t, kTDropOther);
    bounced += type_cell(rt, t, kTBounced);
  }
  CHECK(server_cell(rt, kRx) ==
        invalid_total(rt) + server_cell(rt, kUnexpectedReply) + server_cell(rt, kNoHandler) + received);
  CHECK(server_cell(rt, kDropFull) == drop_full);
  CHECK(server_cell(rt, kDropClone) == drop_clone);
  CHECK(server_cell(rt, kDropNoBuffer) + server_cell(rt, kDropHandover) + server_cell(rt, kDropShutdown) == drop_other);
  CHECK(server_cell(rt, kBounced) == bounced);
  if (tx_ok) {
    CHECK(server_cell(rt, kTxFailed) == 0);
    CHECK(server_cell(rt, kReplies) == completed);
    CHECK(server_cell(rt, kNotices) == server_cell(rt, kNoHandler) + drop_full + drop_clone + drop_other);
  }
  uint64_t worker_completed = 0;
  for (uint32_t w = 0; w < rt.stats().workers(); w++) {
    worker_completed += cell_get(&rt.stats().worker_row(w)[kWCompleted]);
    CHECK(cell_get(&rt.stats().worker_row(w)[kWBusy]) == 0);
  }
  // Workers count what they ran, cut short or not; requests handed to a worker that had stopped
  // are cut short without running.
  CHECK(worker_completed >= completed);
  CHECK(worker_completed <= completed + server_cell(rt, kDropShutdown));
}

// ---- A rack: the software switch and server runtimes on a MemMesh ------------------------------

namespace ss = pallas::softswitch;

// The switch is node 0 of the mesh, server i node 1 + i, the client the last node.
inline softswitch::SwitchConfig switch_config(uint32_t servers, const std::string& kind) {
  softswitch::SwitchConfig c;
  c.policy.kind = kind;
  c.policy.servers = servers;
  c.policy.workers = 1;
  c.policy.seed = 7;
  c.policy.queue_capacity = 4096;
  for (uint32_t i = 0; i < servers; i++) c.servers.push_back(MeshPort::addr(1 + i));
  c.client_slots = 4096;
  c.slots = 256;
  c.busy_poll = false;
  c.idle_polls = 50;
  c.wait_us = 1000;
  return c;
}

// Types to groups, and each group's WRR entries {server, weight}. No cloning.
inline sw::Tables make_tables(const std::vector<std::pair<uint8_t, uint8_t>>& type_group,
                              const std::vector<std::vector<sw::WrrEntry>>& groups) {
  sw::Tables t;
  for (const auto& tg : type_group) t.type_to_group[tg.first] = tg.second;
  t.default_group = 0;
  t.clone = false;
  for (const auto& g : groups) {
    sw::GroupTable gt;
    gt.wrr = g;
    t.groups.push_back(gt);
  }
  return t;
}

struct Rack {
  std::vector<std::unique_ptr<runtime::Runtime>> servers;
  std::unique_ptr<softswitch::SoftSwitch> sw;
  std::unique_ptr<MeshPort> client;
  ~Rack() {
    if (sw) sw->stop();
    for (auto& s : servers) s->stop();
  }
  uint64_t cell(uint32_t c) { return __atomic_load_n(&sw->area(0)[c], __ATOMIC_RELAXED); }
  uint64_t type_cell(uint8_t t, uint32_t c) {
    return __atomic_load_n(&sw->area(1)[size_t{t} * ss::kTypeCells + c], __ATOMIC_RELAXED);
  }
  uint64_t server_cell(uint32_t s, uint32_t c) {
    return __atomic_load_n(&sw->area(2)[size_t{s} * ss::kServerCells + c], __ATOMIC_RELAXED);
  }
  uint64_t invalid_total() {
    uint64_t n = 0;
    for (uint32_t r = 0; r < wire::kReasonCount; r++) n += cell(ss::kCellsBase + r);
    return n;
  }
  io::Endpoint switch_addr() const { return sw->transport().local(); }
};

// Servers of `workers` workers each (runtime_config: cfcfs, spin handlers), started with the switch.
inline void make_rack(Rack* r, const softswitch::SwitchConfig& cfg, uint32_t workers = 1, uint32_t link_slots = 256) {
  const uint32_t n = cfg.policy.servers;
  MemMesh mesh(n + 2, link_slots);
  Status st = softswitch::SoftSwitch::create(mesh.take(0), cfg, &r->sw);
  REQUIRE_MESSAGE(st.ok(), st.message);
  for (uint32_t i = 0; i < n; i++) {
    std::unique_ptr<runtime::Runtime> rt;
    st = runtime::Runtime::create(mesh.take(1 + i), runtime_config(workers, static_cast<uint8_t>(i)), &rt);
    REQUIRE_MESSAGE(st.ok(), st.message);
    REQUIRE(rt->start().ok());
    r->servers.push_back(std::move(rt));
  }
  r->client = mesh.take(n + 1);
  REQUIRE(r->sw->start().ok());
}

}  // namespace pallas::testing
