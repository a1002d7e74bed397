// libFuzzer target for the server runtime's receive path: one Runtime (created once, for the
// whole run) over an in-memory link, hybrid waiting, two workers; each input is sent through the
// other end of the link as one datagram, or as up to 8 (a burst the dispatcher takes in one rx)
// split by the input, and the target waits (bounded) until the runtime's statistics account for
// every one. Now and then an input first applies a new policy (cfcfs / dfcfs / darc, small queues,
// epoch bouncing armed), so that full queues, clone drops, buffer exhaustion, handovers and
// bounces are reached.
//
// Handlers: types 1 and 2 reply at once (Work::kZero), 3 spins a fixed 500 ns, 4 spins its
// payload's spin_ns (the target clears the high bytes of spin_ns so a request spins < 256 ns: the
// only change made to an input), every other type has no handler (NO_HANDLER notices).
//
// Properties: no crash, UB, or race the sanitizers see; every datagram is counted received once
// and ends in exactly one outcome cell (n_invalid_<reason>, n_unexpected_reply, n_no_handler,
// n_drop_*, n_bounced or n_replies); nothing is refused by the link; nothing stays queued or in
// service; every datagram that comes back is valid, from this server, answers a request of this
// input (by req_id), and they number n_replies + n_notices + n_bounced.

#include <fuzzer/FuzzedDataProvider.h>

#include <sched.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <vector>

#include "../core/wire/wire.hpp"
#include "../io/mem_transport.hpp"
#include "../runtime/runtime.hpp"
#include "fuzz_check.hpp"

using namespace pallas;
using runtime::Runtime;

namespace {

constexpr uint8_t kServerId = 3;
constexpr uint32_t kWorkers = 2;
constexpr auto kDeadline = std::chrono::seconds(5);  // a datagram not accounted by then is lost

struct Setup {
  std::unique_ptr<Runtime> rt;
  std::unique_ptr<io::MemTransport> link;  // our end
};

Setup* setup() {
  auto s = std::make_unique<Setup>();
  auto [theirs, ours] = io::MemTransport::pair(256);
  s->link = std::move(ours);
  runtime::RuntimeConfig cfg;
  cfg.server_id = kServerId;
  cfg.workers = kWorkers;
  cfg.busy_poll = false;  // hybrid: the dispatcher and the workers block when idle
  cfg.slots = 4;          // few buffers: a burst can exhaust them (n_drop_no_buffer)
  cfg.work[1].kind = runtime::Work::kZero;
  cfg.work[2].kind = runtime::Work::kZero;
  cfg.work[3] = {runtime::Work::kFixed, 500};
  cfg.work[4].kind = runtime::Work::kSpin;
  cfg.policy.kind = "cfcfs";
  cfg.policy.queue_capacity = 2;
  const Status st = Runtime::create(std::move(theirs), std::move(cfg), &s->rt);
  CHECK(st.ok());
  CHECK(s->rt->start().ok());
  return s.release();  // stopped at exit (below), so that no thread outlives the statics it uses
}

Setup& the() {
  static Setup* s = [] {
    Setup* p = setup();
    std::atexit([] { the().rt->stop(); });
    return p;
  }();
  return *s;
}

// The policies an input may switch to (PolicyUpdate through Runtime::apply, as the agent does).
runtime::PolicyUpdate update(uint8_t which, uint64_t epoch) {
  runtime::PolicyUpdate u;
  u.epoch = epoch;
  policy::PolicyConfig& p = u.policy;
  switch (which % 6) {
    case 0:
      p.kind = "cfcfs";
      p.queue_capacity = 2;
      break;
    case 1:
      p.kind = "cfcfs";
      p.queue_capacity = 1;
      break;
    case 2:
      p.kind = "dfcfs";
      p.queue_capacity = 1;
      p.push_round_robin = true;
      break;
    case 3:  // darc, given: short types on worker 0, the rest on worker 1
      p.kind = "darc";
      p.queue_capacity = 2;
      p.darc.given = true;
      p.darc.groups = {{{1, 2}, 1}, {{3, 4}, 1}};
      break;
    case 4:  // darc, profiling: reserves after a few completions, re-checks often
      p.kind = "darc";
      p.queue_capacity = 3;
      p.darc.profile_samples = 4;
      p.darc.recheck_samples = 2;
      break;
    case 5:  // an epoch that arms bouncing: a short arrival bounces the queued longer types
      p.kind = "cfcfs";
      p.queue_capacity = 3;
      u.has_served = true;
      u.served[1] = 1;
      u.mean_ns[1] = 1000;
      u.mean_ns[2] = 2000;
      u.mean_ns[3] = 5000;
      u.mean_ns[4] = 3000;
      break;
  }
  return u;
}

enum Outcome : uint32_t { kOutInvalid, kOutUnexpected, kOutNoHandler, kOutDrop, kOutBounced, kOutReplied, kOutCount };

struct Snapshot {
  uint64_t rx = 0, out[kOutCount] = {}, notices = 0, tx_failed = 0, queued = 0, in_service = 0;
  uint64_t total() const {
    uint64_t n = 0;
    for (uint64_t v : out) n += v;
    return n;
  }
};

// A consistent copy of the dispatcher's cells (stats.hpp: equal even seq before and after).
Snapshot snapshot(runtime::StatsBlock& stats) {
  using namespace runtime;
  const uint64_t* c = stats.server();
  for (;;) {
    const uint64_t s0 = __atomic_load_n(&c[kSeq], __ATOMIC_ACQUIRE);
    Snapshot s;
    s.rx = cell_get(&c[kRx]);
    for (uint32_t r = 1; r < wire::kReasonCount; r++) s.out[kOutInvalid] += cell_get(&c[kServerCellsBase + r]);
    s.out[kOutUnexpected] = cell_get(&c[kUnexpectedReply]);
    s.out[kOutNoHandler] = cell_get(&c[kNoHandler]);
    s.out[kOutDrop] = cell_get(&c[kDropNoBuffer]) + cell_get(&c[kDropFull]) + cell_get(&c[kDropClone]) +
                      cell_get(&c[kDropHandover]) + cell_get(&c[kDropShutdown]);
    s.out[kOutBounced] = cell_get(&c[kBounced]);
    s.out[kOutReplied] = cell_get(&c[kReplies]);
    s.notices = cell_get(&c[kNotices]);
    s.tx_failed = cell_get(&c[kTxFailed]);
    s.queued = cell_get(&c[kQueued]);
    s.in_service = cell_get(&c[kInService]);
    __atomic_thread_fence(__ATOMIC_ACQUIRE);
    const uint64_t s1 = __atomic_load_n(&c[kSeq], __ATOMIC_RELAXED);
    if (s0 == s1 && (s0 & 1) == 0) return s;
    sched_yield();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  Setup& s = the();
  static uint64_t epoch = 0;
  if (size == 0) return 0;
  // Byte 0: bits 0-2 the number of datagrams - 1; bit 3 a new policy first (bits 4-6 which).
  const uint8_t ctl = data[0];
  FuzzedDataProvider in(data + 1, size - 1);
  if (ctl & 8) CHECK(s.rt->apply(update(ctl >> 4, ++epoch)).ok());

  const uint32_t n = (ctl & 7) + 1;
  std::vector<std::vector<uint8_t>> dgrams;
  for (uint32_t i = 0; i < n; i++) {
    const size_t len = i + 1 == n ? in.remaining_bytes()
                                  : in.ConsumeIntegralInRange<size_t>(0, std::min<size_t>(in.remaining_bytes(), 64));
    std::vector<uint8_t> d = in.ConsumeBytes<uint8_t>(std::min<size_t>(len, wire::kMaxDatagram));
    // The spin handler spins what the request says: keep it below 256 ns.
    if (d.size() >= wire::kHeaderSize + 3 && d[wire::off::type] == 4) std::memset(&d[wire::kHeaderSize], 0, 3);
    dgrams.push_back(std::move(d));
  }

  // What should come back: an answer (reply, notice or bounce) per valid request, by req_id.
  static const wire::TypeTable types = wire::TypeTable::defaults();
  std::vector<uint32_t> expect;
  for (const auto& d : dgrams) {
    wire::Header h;
    if (wire::validate(d.data(), d.size(), &types, &h) == wire::Reason::kOk && !(h.flags & wire::kFlagResponse))
      expect.push_back(h.req_id);
  }

  const Snapshot before = snapshot(s.rt->stats());
  std::vector<io::TxPacket> tx;
  static const uint8_t kEmpty = 0;  // an empty datagram still has an address (memcpy takes no null)
  tx.reserve(dgrams.size());
  for (const auto& d : dgrams)
    tx.push_back(io::TxPacket{d.empty() ? &kEmpty : d.data(), static_cast<uint32_t>(d.size()), {}});
  CHECK(s.link->tx(tx.data(), static_cast<uint32_t>(tx.size())) == tx.size());

  // Wait until every datagram is accounted, reading what comes back meanwhile.
  const auto deadline = std::chrono::steady_clock::now() + kDeadline;
  uint64_t back = 0;
  io::RxPacket pkts[io::kMaxBurst];
  Snapshot now;
  for (uint32_t spins = 0;; spins++) {
    const uint32_t k = s.link->rx(pkts, io::kMaxBurst);
    for (uint32_t i = 0; i < k; i++) {
      wire::Header h;
      CHECK(wire::validate(pkts[i].data, pkts[i].len, nullptr, &h) == wire::Reason::kOk);
      CHECK(h.server == kServerId);
      CHECK((h.flags & wire::kFlagResponse) || (h.flags & wire::kFlagBounced));
      if (h.flags & wire::kFlagDropNotice) {
        CHECK(pkts[i].len == wire::kHeaderSize + 1);
        const uint8_t cause = pkts[i].data[wire::kHeaderSize];
        CHECK(cause >= static_cast<uint8_t>(wire::DropCause::kQueueFull) &&
              cause <= static_cast<uint8_t>(wire::DropCause::kShutdown));
      }
      bool found = false;
      for (size_t j = 0; j < expect.size() && !found; j++)
        if (expect[j] == h.req_id) {
          expect.erase(expect.begin() + static_cast<std::ptrdiff_t>(j));
          found = true;
        }
      CHECK(found);  // answers a request of this input, once
      back++;
    }
    now = snapshot(s.rt->stats());
    if (now.rx - before.rx == n && now.total() - before.total() >= n && expect.empty()) break;
    if (std::chrono::steady_clock::now() > deadline) {
      std::fprintf(stderr, "runtime_rx_fuzz: %u datagrams, after %lld s: rx +%llu, accounted +%llu, %zu unanswered\n",
                   n, static_cast<long long>(kDeadline.count()), static_cast<unsigned long long>(now.rx - before.rx),
                   static_cast<unsigned long long>(now.total() - before.total()), expect.size());
      std::abort();
    }
    if ((spins & 15) == 15) sched_yield();  // two cores: let the dispatcher and the workers run
  }
  CHECK(now.rx - before.rx == n);
  CHECK(now.total() - before.total() == n);  // each exactly once
  CHECK(now.tx_failed == before.tx_failed);
  CHECK(now.queued == 0 && now.in_service == 0);
  const uint64_t sent = (now.out[kOutReplied] - before.out[kOutReplied]) + (now.notices - before.notices) +
                        (now.out[kOutBounced] - before.out[kOutBounced]);
  CHECK(back == sent);
  return 0;
}
