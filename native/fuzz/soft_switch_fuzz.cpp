// libFuzzer target for the software switch's receive path: SoftSwitch objects (created once, for
// the whole run: Pallas, jbsq which holds requests, netclone which clones) each over an in-memory
// link whose other end this target holds. That end is both the rack's clients and one of its
// servers (the switch knows a server by its address): each input is sent as one datagram or a
// burst of up to 8 split by the input, and the target waits (bounded) until the switch's
// statistics account for every one. An input may first reconfigure the switch (Pallas tables,
// which server index the peer is, or none), and may then answer what the switch forwarded as a
// server would (replies or drop notices, made with wire::make_reply), a second burst accounted
// the same way: that is the path of a reply back to its client, through the reply filter and the
// client ring, and of held requests released by replies.
//
// Properties: no crash, UB, or race the sanitizers see; every datagram is counted received once
// and ends in exactly one of n_invalid_<reason>, n_reply_not_server, n_bad_bounce,
// n_drop_no_buffer, or the policy's requests or replies; nothing is refused by the link; what
// comes back numbers n_fwd_requests + n_fwd_replies; forwarded requests are valid requests with a
// group of the tables (Pallas) and an index; forwarded replies are byte for byte replies sent.

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
#include "../switch/soft_switch.hpp"
#include "fuzz_check.hpp"

using namespace pallas;
using softswitch::SoftSwitch;

namespace {

constexpr uint32_t kServers = 4;  // 0..2 wired (one of them, or none, is the peer), 3 never wired
constexpr auto kDeadline = std::chrono::seconds(5);
const char* const kKinds[] = {"pallas", "jbsq", "netclone"};
constexpr uint32_t kKindCount = 3;

// Pallas tables: type 1, 2 → group 0 (servers 0, 1; clones to group 1 past 2 a window), 3 → group
// 1 (po2 over 1, 2), others → group 0. Variants: no cloning, a group without servers, server 3 (not
// wired) in group 0.
sw::Tables tables(uint8_t variant) {
  sw::Tables t;
  t.tau_shift = 24;  // 16.8 ms: a burst is one window
  t.type_to_group[1] = 0;
  t.type_to_group[2] = 0;
  t.type_to_group[3] = 1;
  sw::GroupTable g0, g1;
  g0.wrr = {{0, 1}, {1, 2}};
  g0.c_thres = 2;
  g0.clone_target = 1;
  g1.wrr = {{1, 1}, {2, 1}};
  g1.c_thres = 3;
  g1.balance = sw::Balance::kPo2;
  switch (variant % 4) {
    case 1:
      t.clone = false;
      break;
    case 2:
      g1.wrr.clear();  // n_drop_no_server for type 3; clones to group 1 suppressed
      break;
    case 3:
      g0.wrr.push_back({3, 1});  // n_drop_not_wired
      g0.c_thres = 1;
      break;
  }
  t.groups = {g0, g1};
  return t;
}

io::Endpoint fake(uint32_t i) { return io::Endpoint{0x0a000001u + i, 9011, {}}; }

struct Switch {
  std::unique_ptr<SoftSwitch> sw;
  std::unique_ptr<io::MemTransport> link;  // our end
  io::Endpoint peer;
};

Switch* make(const char* kind) {
  auto s = std::make_unique<Switch>();
  auto [theirs, ours] = io::MemTransport::pair(256);
  s->link = std::move(ours);
  s->peer = s->link->local();
  softswitch::SwitchConfig cfg;
  cfg.policy.kind = kind;
  cfg.policy.servers = kServers;
  cfg.policy.workers = 1;
  cfg.policy.jbsq_depth = 1;
  cfg.policy.queue_capacity = 3;
  cfg.policy.filter_slots = 8;
  cfg.policy.tables = tables(0);
  cfg.servers = {s->peer, fake(1), fake(2), io::Endpoint{}};
  cfg.client_slots = 16;
  cfg.slots = 6;  // a burst, or held requests, can exhaust them (n_drop_no_buffer)
  cfg.busy_poll = false;
  const Status st = SoftSwitch::create(std::move(theirs), std::move(cfg), &s->sw);
  CHECK(st.ok());
  CHECK(s->sw->start().ok());
  return s.release();
}

Switch*& slot(uint32_t k) {
  static Switch* all[kKindCount] = {};
  return all[k];
}

Switch& the(uint32_t k) {
  static const bool once = [] {
    std::atexit([] {
      for (uint32_t i = 0; i < kKindCount; i++)
        if (slot(i)) slot(i)->sw->stop();
    });
    return true;
  }();
  (void)once;
  if (!slot(k)) slot(k) = make(kKinds[k]);
  return *slot(k);
}

struct Snapshot {
  uint64_t rx = 0, accounted = 0, fwd_requests = 0, fwd_replies = 0, tx_failed = 0;
};

// A consistent copy of the switch cells (equal even seq before and after, as the JS views read).
Snapshot snapshot(SoftSwitch& s) {
  using namespace softswitch;
  const uint64_t* c = s.area(0);
  auto get = [&](uint32_t i) { return __atomic_load_n(&c[i], __ATOMIC_RELAXED); };
  for (;;) {
    const uint64_t s0 = __atomic_load_n(&c[kSeq], __ATOMIC_ACQUIRE);
    Snapshot r;
    r.rx = get(kRx);
    for (uint32_t i = 1; i < wire::kReasonCount; i++) r.accounted += get(kCellsBase + i);
    r.accounted += get(kReplyNotServer) + get(kBadBounce) + get(kDropNoBuffer) + get(kRequests) + get(kReplies);
    r.fwd_requests = get(kFwdRequests);
    r.fwd_replies = get(kFwdReplies);
    r.tx_failed = get(kTxFailed);
    __atomic_thread_fence(__ATOMIC_ACQUIRE);
    const uint64_t s1 = __atomic_load_n(&c[kSeq], __ATOMIC_RELAXED);
    if (s0 == s1 && (s0 & 1) == 0) return r;
    sched_yield();
  }
}

struct Back {
  std::vector<std::vector<uint8_t>> requests;  // forwarded to a server
  size_t replies = 0;                          // forwarded to a client
};

// Sends `dgrams` from the peer, waits until the switch accounts for them, and collects what it
// forwards meanwhile.
Back exchange(Switch& s, const std::vector<std::vector<uint8_t>>& dgrams, bool pallas) {
  const Snapshot before = snapshot(*s.sw);
  static const uint8_t kEmpty = 0;  // an empty datagram still has an address (memcpy takes no null)
  std::vector<io::TxPacket> tx;
  tx.reserve(dgrams.size());
  for (const auto& d : dgrams)
    tx.push_back(io::TxPacket{d.empty() ? &kEmpty : d.data(), static_cast<uint32_t>(d.size()), {}});
  CHECK(s.link->tx(tx.data(), static_cast<uint32_t>(tx.size())) == tx.size());
  const uint64_t n = dgrams.size();
  const auto deadline = std::chrono::steady_clock::now() + kDeadline;
  io::RxPacket pkts[io::kMaxBurst];
  Back back;
  Snapshot now;
  for (uint32_t spins = 0;; spins++) {
    const uint32_t k = s.link->rx(pkts, io::kMaxBurst);
    for (uint32_t i = 0; i < k; i++) {
      wire::Header h;
      CHECK(wire::validate(pkts[i].data, pkts[i].len, nullptr, &h) == wire::Reason::kOk);
      if (h.flags & wire::kFlagResponse) {
        bool sent = false;  // a forwarded reply is one of ours, unchanged
        for (const auto& d : dgrams)
          sent |= d.size() == pkts[i].len && std::memcmp(d.data(), pkts[i].data, d.size()) == 0;
        CHECK(sent);
        back.replies++;
        continue;
      }
      if (pallas) {
        CHECK(h.index != 0);
        CHECK(h.group < 2);
      }
      back.requests.emplace_back(pkts[i].data, pkts[i].data + pkts[i].len);
    }
    now = snapshot(*s.sw);
    const uint64_t out = (now.fwd_requests - before.fwd_requests) + (now.fwd_replies - before.fwd_replies);
    if (now.rx - before.rx == n && now.accounted - before.accounted >= n && back.requests.size() + back.replies == out)
      break;
    if (std::chrono::steady_clock::now() > deadline) {
      std::fprintf(stderr, "soft_switch_fuzz: %llu datagrams: rx +%llu, accounted +%llu, %zu of %llu forwards seen\n",
                   static_cast<unsigned long long>(n), static_cast<unsigned long long>(now.rx - before.rx),
                   static_cast<unsigned long long>(now.accounted - before.accounted),
                   back.requests.size() + back.replies, static_cast<unsigned long long>(out));
      std::abort();
    }
    if ((spins & 15) == 15) sched_yield();  // two cores: let the switch thread run
  }
  CHECK(now.rx - before.rx == n);
  CHECK(now.accounted - before.accounted == n);  // each exactly once
  CHECK(now.tx_failed == before.tx_failed);
  CHECK(back.replies == now.fwd_replies - before.fwd_replies);
  return back;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  // Byte 0: bits 0-2 the number of datagrams - 1; bits 3-4 the switch; bit 5 reconfigure first;
  // bit 6 answer what was forwarded, bit 7 with drop notices.
  const uint8_t ctl = data[0];
  const uint32_t kind = ((ctl >> 3) & 3) % kKindCount;
  Switch& s = the(kind);
  const bool pallas = kind == 0;
  FuzzedDataProvider in(data + 1, size - 1);
  if (ctl & 32) {
    const uint8_t what = in.ConsumeIntegral<uint8_t>();
    if (what & 1) {
      const Status st = s.sw->load(tables(what >> 1));
      CHECK(st.ok() == pallas);
    } else {
      // The peer becomes server (what >> 1) % 4: 3 means no server at all (replies and bounces
      // from it are refused); the index it had gets a fake address.
      const uint32_t to = (what >> 1) % 4;
      for (uint32_t i = 0; i < 3; i++) CHECK(s.sw->set_server(i, i == to ? s.peer : fake(i)).ok());
    }
  }

  const uint32_t n = (ctl & 7) + 1;
  std::vector<std::vector<uint8_t>> dgrams;
  for (uint32_t i = 0; i < n; i++) {
    const size_t len = i + 1 == n ? in.remaining_bytes()
                                  : in.ConsumeIntegralInRange<size_t>(0, std::min<size_t>(in.remaining_bytes(), 64));
    dgrams.push_back(in.ConsumeBytes<uint8_t>(std::min<size_t>(len, wire::kMaxDatagram)));
  }
  Back back = exchange(s, dgrams, pallas);

  if ((ctl & 64) && !back.requests.empty()) {
    // The peer, as a server, answers each request it was sent (as runtime/runtime.cpp does).
    std::vector<std::vector<uint8_t>> answers;
    for (auto& r : back.requests) {
      wire::make_reply(r.data(), 0, static_cast<uint32_t>(answers.size()), 1000 + static_cast<uint32_t>(r.size()));
      if (ctl & 128) {
        r.resize(wire::kHeaderSize + 1);
        r[wire::off::flags] |= wire::kFlagDropNotice;
        r[wire::kHeaderSize] = static_cast<uint8_t>(wire::DropCause::kQueueFull);
      }
      answers.push_back(std::move(r));
      if (answers.size() == io::kMaxBurst) break;
    }
    exchange(s, answers, pallas);
  }
  return 0;
}
