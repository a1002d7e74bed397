// The server runtime (native/runtime) with its real threads over the in-memory transport: dispatch
// to workers and replies, policy swaps under load, epoch bouncing, stop while busy, drops with
// their notices, malformed input, lifecycle. Built for the sanitizers (tsan, asan presets): every
// thread waits in hybrid mode, every wait is bounded, and assertions are about counts and order,
// never about speed.
#include <doctest/doctest.h>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "core/rng.hpp"
#include "io/mem_transport.hpp"
#include "runtime/runtime.hpp"
#include "threaded_helpers.hpp"

using namespace pallas;
using namespace pallas::runtime;
using namespace pallas::testing;

namespace {

struct Rig {
  std::unique_ptr<io::MemTransport> mine;  // the test's end of the link
  std::unique_ptr<Runtime> rt;
};

Rig make_rig(const RuntimeConfig& cfg, uint32_t link_slots = 1024) {
  auto [mine, theirs] = io::MemTransport::pair(link_slots);
  Rig r;
  r.mine = std::move(mine);
  const Status st = Runtime::create(std::move(theirs), cfg, &r.rt);
  REQUIRE_MESSAGE(st.ok(), st.message);
  return r;
}

uint64_t worker_cell(Runtime& rt, uint32_t w, uint32_t c) { return cell_get(&rt.stats().worker_row(w)[c]); }

PolicyUpdate cfcfs(uint64_t epoch, uint32_t cap) {
  PolicyUpdate u;
  u.epoch = epoch;
  u.policy.kind = "cfcfs";
  u.policy.queue_capacity = cap;
  return u;
}

}  // namespace

TEST_CASE("runtime: requests over a mem link are dispatched to workers and each answered once") {
  Watchdog wd("runtime dispatch");
  Rig r = make_rig(runtime_config(2));
  Runtime& rt = *r.rt;
  REQUIRE(rt.start().ok());
  CHECK(rt.running());
  // A reader copies the statistics while the dispatcher writes them (the JS views do the same).
  std::atomic<bool> reading{true};
  std::atomic<uint64_t> snaps{0}, inconsistent{0};
  std::jthread reader([&] {
    while (reading.load()) {
      RuntimeSnapshot s;
      if (snapshot(rt.stats(), &s)) {
        snaps.fetch_add(1);
        if (!snapshot_consistent(s)) inconsistent.fetch_add(1);
      }
      std::this_thread::sleep_for(std::chrono::microseconds(200));
    }
  });
  // Idle, in hybrid mode, the dispatcher and both workers block; requests must wake them.
  CHECK(eventually([&] {
    return server_cell(rt, kSleeps) > 0 && worker_cell(rt, 0, kWSleeps) > 0 && worker_cell(rt, 1, kWSleeps) > 0;
  }));
  Peer peer(*r.mine, rt.transport().local());
  constexpr uint32_t kN = 400;
  std::vector<uint32_t> ids;
  for (uint32_t id = 1; id <= kN; id++) {
    REQUIRE(peer.send(request(id % 3 == 0 ? kLong : kShort, id, (id % 7) * 1000)));  // 0 to 6 µs of work
    ids.push_back(id);
    if (id % 32 == 0) peer.poll();
  }
  REQUIRE(peer.until_answered(ids));
  reading.store(false);
  reader.join();
  CHECK(snaps.load() > 0);
  CHECK(inconsistent.load() == 0);
  for (uint32_t id : ids) {
    CAPTURE(id);
    REQUIRE(peer.answers(id) == 1);
    const Answer& a = *peer.first(id);
    CHECK(a.reply());
    CHECK(a.h.type == (id % 3 == 0 ? kLong : kShort));
    CHECK(a.h.server == 7);
    CHECK(a.h.send_ts == id * 7 + 1);
    CHECK(a.len == wire::kHeaderSize + 4);
    CHECK(a.payload0 == (id % 7) * 1000);
    CHECK(uint64_t{a.h.time_ns} + 1 >= (id % 7) * 1000);  // the worker spun at least that long
  }
  rt.stop();
  CHECK_FALSE(rt.running());
  check_accounting(rt);
  CHECK(server_cell(rt, kRx) == kN);
  CHECK(server_cell(rt, kReplies) == kN);
  CHECK(type_cell(rt, kShort, kTCompleted) + type_cell(rt, kLong, kTCompleted) == kN);
  CHECK(type_cell(rt, kLong, kTReceived) == kN / 3);
  CHECK(worker_cell(rt, 0, kWCompleted) + worker_cell(rt, 1, kWCompleted) == kN);
  CHECK(rt.transport().counters().n_rx.load() == kN);
  CHECK(rt.transport().counters().n_tx.load() == kN);
}

TEST_CASE("runtime: policy swaps under load from a sender thread leave every request answered once") {
  Watchdog wd("runtime policy swaps");
  RuntimeConfig cfg = runtime_config(2);
  cfg.policy.queue_capacity = 64;
  Rig r = make_rig(cfg);
  Runtime& rt = *r.rt;
  REQUIRE(rt.start().ok());

  constexpr uint32_t kN = 1500;
  std::atomic<uint32_t> sent{0};
  std::atomic<uint64_t> applied{0};
  std::atomic<bool> sender_ok{false};
  Peer peer(*r.mine, rt.transport().local());
  std::jthread sender([&] {
    std::vector<uint32_t> ids;
    bool ok = true;
    for (uint32_t id = 1; id <= kN && ok; id++) {
      // At most 128 in flight (fewer than the 512 buffers, more than any queue holds), and one
      // swap per 100 requests at least: the swaps find requests queued and running.
      ok = peer.until([&] { return id - 1 - peer.got.size() < 128 && applied.load() >= id / 100; });
      const uint8_t type = id % 3 == 0 ? kLong : id % 3 == 1 ? kShort : kMedium;
      ok = ok && peer.send(request(type, id, (id % 5) * 2000));  // 0 to 8 µs
      ids.push_back(id);
      sent.store(id);
    }
    sender_ok.store(ok && peer.until_answered(ids, 20000));
  });

  // The updates cycle through the policies the runtime runs, with queues small enough that a
  // handover may drop (QUEUE_FULL notices).
  std::vector<PolicyUpdate> updates;
  updates.push_back(cfcfs(0, 64));
  {
    PolicyUpdate u;
    u.policy.kind = "darc";
    u.policy.queue_capacity = 32;
    u.policy.darc.given = true;
    u.policy.darc.groups = {{{kShort, kMedium}, 1}, {{kLong}, 1}};
    updates.push_back(u);
  }
  {
    PolicyUpdate u;
    u.policy.kind = "dfcfs";
    u.policy.queue_capacity = 8;
    u.policy.push_round_robin = true;
    updates.push_back(u);
  }
  {
    PolicyUpdate u;
    u.policy.kind = "darc";
    u.policy.darc.profile_samples = 50;
    u.policy.darc.recheck_samples = 20;
    updates.push_back(u);
  }
  updates.push_back(cfcfs(0, 2));
  while (sent.load() < kN && applied.load() < 1000) {
    PolicyUpdate u = updates[applied.load() % updates.size()];
    u.epoch = applied.load() + 1;
    const std::string kind = u.policy.kind;
    const Status st = rt.apply(u);
    REQUIRE_MESSAGE(st.ok(), st.message);
    applied.fetch_add(1);
    CHECK(std::string(rt.policy_name()) == kind);
    CHECK(server_cell(rt, kEpoch) == applied.load());
    if (applied.load() % 7 == 0) {
      // Bad policies are refused and change nothing, under load too.
      PolicyUpdate bad = cfcfs(999, 8);
      bad.policy.kind = "nope";
      CHECK(std::string(rt.apply(bad).code) == "BAD_POLICY");
      bad.policy.kind = "ps";  // simulator-only
      CHECK(std::string(rt.apply(bad).code) == "BAD_POLICY");
      CHECK(std::string(rt.policy_name()) == kind);
    }
    std::this_thread::sleep_for(std::chrono::microseconds(500));
  }
  sender.join();
  REQUIRE(sender_ok.load());
  CHECK(applied.load() >= kN / 100);
  CHECK(server_cell(rt, kPolicies) == applied.load());
  CHECK(server_cell(rt, kEpoch) == applied.load());
  rt.stop();
  // Every request answered exactly once: a reply, or a QUEUE_FULL notice (full queue or handover).
  CHECK(peer.duplicated() == 0);
  CHECK(peer.got.size() == kN);
  CHECK(peer.count(&Answer::reply) + peer.notices_with(wire::DropCause::kQueueFull) == kN);
  CHECK(peer.count(&Answer::reply) == server_cell(rt, kReplies));
  CHECK(peer.notices_with(wire::DropCause::kQueueFull) == server_cell(rt, kDropFull) + server_cell(rt, kDropHandover));
  CHECK(server_cell(rt, kDropShutdown) == 0);
  check_accounting(rt);
  MESSAGE("policy swaps: " << applied.load() << ", handover drops: " << server_cell(rt, kDropHandover)
                           << ", full drops: " << server_cell(rt, kDropFull));
}

TEST_CASE("runtime: an epoch with served types bounces the queued longer requests, once") {
  Watchdog wd("runtime bounce");
  Rig r = make_rig(runtime_config(1));
  Runtime& rt = *r.rt;
  REQUIRE(rt.start().ok());
  Peer peer(*r.mine, rt.transport().local());
  // One worker busy until stop; then seven requests queued: three longs, two mediums, a short,
  // and a long that was bounced once already (re-scheduled here by the switch).
  REQUIRE(peer.send(request(kLong, 1, kForeverNs)));
  REQUIRE(eventually([&] { return server_cell(rt, kInService) == 1; }));
  for (uint32_t id : {2, 3, 4}) REQUIRE(peer.send(request(kLong, id, 1000, 0, 100 + id)));
  for (uint32_t id : {5, 6}) REQUIRE(peer.send(request(kMedium, id, 1000, 0, 100 + id)));
  REQUIRE(peer.send(request(kShort, 7, 1000)));
  REQUIRE(peer.send(request(kLong, 8, 1000, wire::kFlagBounced, 108)));
  REQUIRE(eventually([&] { return server_cell(rt, kQueued) == 7; }));

  PolicyUpdate u = cfcfs(5, 4096);
  u.has_served = true;
  u.served[kShort] = 1;
  u.mean_ns[kShort] = 1000;
  u.mean_ns[kMedium] = 10000;
  u.mean_ns[kLong] = 1e6;
  REQUIRE(rt.apply(u).ok());
  CHECK(server_cell(rt, kEpoch) == 5);
  CHECK(server_cell(rt, kPolicies) == 1);
  // Nothing bounces before a shorter request arrives.
  CHECK(server_cell(rt, kQueued) == 7);
  peer.poll();
  CHECK(peer.got.empty());

  REQUIRE(peer.send(request(kShort, 9, 1000)));  // purges the longer types' queued requests
  REQUIRE(peer.until([&] { return peer.count(&Answer::bounced) == 5; }));
  for (uint32_t id : {2, 3, 4, 5, 6}) {
    CAPTURE(id);
    REQUIRE(peer.answers(id) == 1);
    const Answer& a = *peer.first(id);
    CHECK(a.bounced());
    CHECK((a.h.flags & wire::kFlagResponse) == 0);
    CHECK(a.h.server == 7);        // the switch decrements this server's outstanding count
    CHECK(a.h.index == 100 + id);  // the index goes back with it
    CHECK(a.payload0 == 1000);     // the request as it came
  }
  // Later arrivals bounce nothing: the epoch's bounce happened, and request 8 was bounced before.
  REQUIRE(peer.send(request(kShort, 10, 1000)));
  REQUIRE(eventually([&] { return server_cell(rt, kQueued) == 4; }));  // 7, 8, 9, 10
  CHECK(server_cell(rt, kBounced) == 5);
  CHECK(type_cell(rt, kLong, kTBounced) == 3);
  CHECK(type_cell(rt, kMedium, kTBounced) == 2);

  rt.stop();
  REQUIRE(peer.until_answered({1, 7, 8, 9, 10}));
  for (uint32_t id : {1, 7, 8, 9, 10}) {
    CAPTURE(id);
    CHECK(peer.answers(id) == 1);
    CHECK(peer.first(id)->notice());
    CHECK(peer.first(id)->cause == static_cast<uint8_t>(wire::DropCause::kShutdown));
  }
  CHECK(peer.got.size() == 10);
  CHECK(server_cell(rt, kDropShutdown) == 5);
  check_accounting(rt);
}

TEST_CASE("runtime: stop while workers are busy cuts the running requests short and drops the queued ones") {
  Watchdog wd("runtime stop while busy");
  Rig r = make_rig(runtime_config(2));
  Runtime& rt = *r.rt;
  REQUIRE(rt.start().ok());
  Peer peer(*r.mine, rt.transport().local());
  REQUIRE(peer.send(request(kLong, 1, kForeverNs)));
  REQUIRE(peer.send(request(kLong, 2, kForeverNs)));
  REQUIRE(eventually([&] { return worker_cell(rt, 0, kWBusy) == 1 && worker_cell(rt, 1, kWBusy) == 1; }));
  for (uint32_t id = 3; id <= 7; id++) REQUIRE(peer.send(request(kShort, id, 1000)));
  REQUIRE(eventually([&] { return server_cell(rt, kQueued) == 5; }));
  CHECK(server_cell(rt, kInService) == 2);

  rt.stop();  // returns although both workers are in a spin of seconds
  CHECK_FALSE(rt.running());
  std::vector<uint32_t> ids = {1, 2, 3, 4, 5, 6, 7};
  REQUIRE(peer.until_answered(ids));
  for (uint32_t id : ids) {
    CAPTURE(id);
    CHECK(peer.answers(id) == 1);
    CHECK(peer.first(id)->notice());
    CHECK(peer.first(id)->cause == static_cast<uint8_t>(wire::DropCause::kShutdown));
    CHECK(peer.first(id)->h.server == 7);
  }
  CHECK(server_cell(rt, kDropShutdown) == 7);
  CHECK(server_cell(rt, kNotices) == 7);
  CHECK(server_cell(rt, kReplies) == 0);
  // The workers ran the two long requests (cut short) and nothing else.
  CHECK(worker_cell(rt, 0, kWCompleted) + worker_cell(rt, 1, kWCompleted) == 2);
  check_accounting(rt);

  // Idempotent; a stopped runtime cannot restart; a policy still applies in place.
  const uint64_t loops = server_cell(rt, kLoops);
  rt.stop();
  CHECK(server_cell(rt, kLoops) == loops);
  CHECK(std::string(rt.start().code) == "STOPPED");
  CHECK(rt.apply(cfcfs(3, 16)).ok());
  CHECK(server_cell(rt, kEpoch) == 3);
  peer.poll();
  CHECK(peer.got.size() == ids.size());
}

TEST_CASE("runtime: stop under load from a sender thread answers every request it received, once") {
  Watchdog wd("runtime stop under load");
  Rig r = make_rig(runtime_config(2));
  Runtime& rt = *r.rt;
  REQUIRE(rt.start().ok());
  std::atomic<bool> stop_sending{false};
  std::atomic<uint64_t> expect_answers{UINT64_MAX};
  std::atomic<uint32_t> sent{0};
  std::atomic<bool> settled{false};
  Peer peer(*r.mine, rt.transport().local());
  std::jthread sender([&] {
    for (uint32_t id = 1; id <= 200000 && !stop_sending.load(); id++) {
      if (!peer.send(request(id % 4 == 0 ? kLong : kShort, id, (id % 4 == 0) ? 20000 : 2000), 50)) break;
      sent.store(id);
      if (id % 16 == 0) {
        peer.poll();
        r.mine->wait_rx(20);
      }
    }
    settled.store(peer.until([&] { return peer.got.size() >= expect_answers.load(); }, 10000));
  });
  REQUIRE(eventually([&] { return server_cell(rt, kReplies) >= 300; }));
  rt.stop();
  stop_sending.store(true);
  uint64_t received = 0;
  for (uint8_t t : rt.row_types()) received += type_cell(rt, t, kTReceived);
  expect_answers.store(received);
  sender.join();
  REQUIRE(settled.load());
  CHECK(received == server_cell(rt, kRx));
  CHECK(received <= sent.load());
  CHECK(peer.got.size() == received);
  CHECK(peer.duplicated() == 0);
  CHECK(peer.count(&Answer::reply) == server_cell(rt, kReplies));
  // Flooded, the runtime also runs out of request buffers (OVERLOAD) or queue room (QUEUE_FULL).
  CHECK(peer.notices_with(wire::DropCause::kShutdown) == server_cell(rt, kDropShutdown));
  CHECK(peer.notices_with(wire::DropCause::kOverload) == server_cell(rt, kDropNoBuffer));
  CHECK(peer.notices_with(wire::DropCause::kQueueFull) == server_cell(rt, kDropFull));
  CHECK(peer.count(&Answer::reply) + peer.count(&Answer::notice) == received);
  check_accounting(rt);
  MESSAGE("sent " << sent.load() << ", received " << received << ", cut short or dropped at stop "
                  << server_cell(rt, kDropShutdown));
}

// The dispatcher leaves its loop busy (never blocking, so never reading the eventfd stop() rings)
// while idle workers get jobs now and then: after stop() joined a worker, the dispatcher may still
// hand it a job, which its shutdown drain takes back. What orders the worker's last look at its
// mailbox before that is the stop flag alone, which the dispatcher must read with acquire
// (runtime.cpp; TSan reported the race before).
TEST_CASE("runtime: stop while the dispatcher is busy and the workers mostly idle") {
  Watchdog wd("runtime stop busy dispatcher");
  for (uint32_t round = 0; round < 6; round++) {
    CAPTURE(round);
    RuntimeConfig cfg = runtime_config(2);
    cfg.work[kShort].kind = Work::kZero;
    Rig r = make_rig(cfg);
    Runtime& rt = *r.rt;
    REQUIRE(rt.start().ok());
    std::atomic<bool> stop_sending{false};
    std::atomic<uint64_t> requests{0};
    Peer peer(*r.mine, rt.transport().local());
    std::jthread sender([&] {
      // Datagrams the dispatcher refuses (too short) keep it busy; one request in four is work.
      const std::vector<uint8_t> junk(4, 0xA1);
      const auto deadline = Clock::now() + milliseconds(10000);
      for (uint32_t id = 1; !stop_sending.load() && Clock::now() < deadline; id++) {
        const auto req = request(kShort, id, 0);
        const io::TxPacket p[4] = {{junk.data(), 4, {}},
                                   {junk.data(), 4, {}},
                                   {junk.data(), 4, {}},
                                   {req.data(), static_cast<uint32_t>(req.size()), {}}};
        const uint32_t n = r.mine->tx(p, 4);
        if (n == 4) requests.fetch_add(1);
        if (peer.poll() == 0 && n < 4) std::this_thread::yield();
      }
      peer.until([] { return false; }, 20);  // the answers stop() sent
    });
    REQUIRE(eventually([&] { return server_cell(rt, kReplies) >= 500; }));
    rt.stop();
    stop_sending.store(true);
    sender.join();
    CHECK(server_cell(rt, kTxFailed) == 0);
    CHECK(peer.got.size() == type_cell(rt, kShort, kTReceived));
    CHECK(peer.duplicated() == 0);
    CHECK(type_cell(rt, kShort, kTReceived) <= requests.load());
    check_accounting(rt);
  }
}

TEST_CASE("runtime: busy clones, full queues and exhausted buffers are dropped with their notices") {
  Watchdog wd("runtime drops");
  RuntimeConfig cfg = runtime_config(1);
  cfg.slots = 3;  // one running, at most two queued
  cfg.policy.queue_capacity = 1;
  Rig r = make_rig(cfg);
  Runtime& rt = *r.rt;
  REQUIRE(rt.start().ok());
  Peer peer(*r.mine, rt.transport().local());
  auto answer = [&](uint32_t id) {
    REQUIRE(peer.until_answered({id}));
    return *peer.first(id);
  };
  REQUIRE(peer.send(request(kLong, 1, kForeverNs)));
  REQUIRE(eventually([&] { return server_cell(rt, kInService) == 1; }));
  REQUIRE(peer.send(request(kShort, 2, 1000, wire::kCloneClone)));  // no idle worker for a clone
  CHECK(answer(2).cause == static_cast<uint8_t>(wire::DropCause::kCloneBusy));
  CHECK((answer(2).h.flags & wire::kCloneMask) == wire::kCloneClone);  // the switch's filter needs it
  REQUIRE(peer.send(request(kShort, 3, 1000)));                        // queued
  REQUIRE(peer.send(request(kShort, 4, 1000)));                        // the queue (1) is full
  CHECK(answer(4).cause == static_cast<uint8_t>(wire::DropCause::kQueueFull));
  CHECK(peer.answers(3) == 0);
  REQUIRE(rt.apply(cfcfs(1, 4)).ok());           // room for more: request 3 moves to the new queue
  REQUIRE(peer.send(request(kShort, 5, 1000)));  // queued, in the last buffer
  REQUIRE(peer.send(request(kShort, 6, 1000)));  // no buffer left
  CHECK(answer(6).cause == static_cast<uint8_t>(wire::DropCause::kOverload));
  CHECK(server_cell(rt, kQueued) == 2);
  rt.stop();
  REQUIRE(peer.until_answered({1, 3, 5}));
  for (uint32_t id : {1, 3, 5}) CHECK(peer.first(id)->cause == static_cast<uint8_t>(wire::DropCause::kShutdown));
  CHECK(peer.got.size() == 6);
  CHECK(peer.duplicated() == 0);
  CHECK(server_cell(rt, kDropClone) == 1);
  CHECK(server_cell(rt, kDropFull) == 1);
  CHECK(server_cell(rt, kDropNoBuffer) == 1);
  CHECK(server_cell(rt, kDropShutdown) == 3);
  CHECK(server_cell(rt, kDropHandover) == 0);
  CHECK(type_cell(rt, kShort, kTReceived) == 5);
  CHECK(type_cell(rt, kShort, kTDropOther) == 3);  // no buffer, and two at stop
  check_accounting(rt);
}

TEST_CASE("runtime: malformed datagrams are counted and never crash it, and a type with no handler gets NO_HANDLER") {
  Watchdog wd("runtime malformed");
  RuntimeConfig cfg = runtime_config(1);
  cfg.work[kLong].kind = Work::kNone;  // long has no handler here (nor has exp, nor get)
  Rig r = make_rig(cfg);
  Runtime& rt = *r.rt;
  REQUIRE(rt.start().ok());
  Peer peer(*r.mine, rt.transport().local());
  std::vector<std::pair<std::vector<uint8_t>, wire::Reason>> bad;
  bad.push_back({{}, wire::Reason::kTooShort});
  bad.emplace_back(std::vector<uint8_t>(3, 0), wire::Reason::kTooShort);
  auto v = request(kShort, 1000, 1000);
  v[0] = 0x51;
  bad.emplace_back(v, wire::Reason::kBadMagic);
  v[0] = 0xA2;
  bad.emplace_back(v, wire::Reason::kBadVersion);
  bad.emplace_back(request(kShort, 1001, 1000, 3), wire::Reason::kBadFlags);  // clone state 3
  bad.emplace_back(request(kShort, 1002, 1000, wire::kFlagDropNotice), wire::Reason::kBadFlags);
  bad.emplace_back(request(200, 1003, 1000), wire::Reason::kUnknownType);
  auto short_payload = request(kShort, 1004, 1000);
  short_payload.resize(wire::kHeaderSize + 2);
  bad.emplace_back(short_payload, wire::Reason::kBadPayload);
  auto get = request(kGet, 1005, 1000);  // a kv payload needs 6 bytes
  bad.emplace_back(get, wire::Reason::kBadPayload);
  for (const auto& [b, why] : bad) REQUIRE(peer.send(b));
  uint32_t sent = static_cast<uint32_t>(bad.size());
  // Replies and drop notices are valid datagrams a server never expects.
  REQUIRE(peer.send(request(kShort, 1006, 1000, wire::kFlagResponse)));
  REQUIRE(peer.send(request(kShort, 1007, 1000, wire::kFlagResponse | wire::kFlagDropNotice)));
  sent += 2;
  // Junk of every length up to 60 bytes, never a valid header (the first byte is never 0xA1).
  Rng rng(7, 1);
  for (int i = 0; i < 500; i++) {
    std::vector<uint8_t> j(rng.next() % 61);
    for (auto& x : j) x = static_cast<uint8_t>(rng.next());
    if (!j.empty() && j[0] == wire::kMagicVersion) j[0] = 0;
    REQUIRE(peer.send(j));
    sent++;
    if (i % 64 == 0) peer.poll();
  }
  // Valid requests with a mangled type, flags, group, server or queue length: each is answered
  // (a reply, or a notice) or counted invalid.
  constexpr uint32_t kMangled = 300;
  for (uint32_t i = 0; i < kMangled; i++) {
    auto m = request(kShort, 2000 + i, 500);
    m[1 + rng.next() % 5] = static_cast<uint8_t>(rng.next());
    REQUIRE(peer.send(m));
    sent++;
    if (i % 64 == 0) peer.poll();
  }
  REQUIRE(peer.send(request(kLong, 1, 1000)));   // no handler
  REQUIRE(peer.send(request(kExp, 2, 1000)));    // no handler
  REQUIRE(peer.send(request(kShort, 3, 1000)));  // served
  sent += 3;
  REQUIRE(eventually([&] { return server_cell(rt, kRx) == sent; }));
  uint64_t received = 0;
  for (uint8_t t : rt.row_types()) received += type_cell(rt, t, kTReceived);
  const uint64_t valid_requests = server_cell(rt, kNoHandler) + received;
  REQUIRE(peer.until([&] { return peer.got.size() == valid_requests; }));
  CHECK(rt.running());
  for (const auto& b : bad) {
    CAPTURE(wire::reason_name(b.second));
    CHECK(server_cell(rt, kServerCellsBase + static_cast<uint32_t>(b.second)) >= 1);
  }
  CHECK(server_cell(rt, kServerCellsBase) == 0);  // "ok" is never an invalid reason
  CHECK(server_cell(rt, kUnexpectedReply) >= 2);
  CHECK(server_cell(rt, kRx) == invalid_total(rt) + server_cell(rt, kUnexpectedReply) + valid_requests);
  for (uint32_t id : {1, 2}) {
    CAPTURE(id);
    REQUIRE(peer.answers(id) == 1);
    CHECK(peer.first(id)->notice());
    CHECK(peer.first(id)->cause == static_cast<uint8_t>(wire::DropCause::kNoHandler));
  }
  CHECK(peer.first(3)->reply());
  CHECK(peer.duplicated() == 0);
  CHECK(peer.invalid == 0);
  // Only the types with a handler have statistics rows.
  CHECK(rt.row_types() == std::vector<uint8_t>{kShort, kMedium});
  rt.stop();
  check_accounting(rt);
}

// Workers and the dispatcher block after a single empty poll, so each cycle's stop finds them
// asleep, waking or about to sleep: stop must wake and join them all, every time.
TEST_CASE("runtime: start, serve and stop, many times over, with threads that block at once") {
  Watchdog wd("runtime cycles");
  for (uint32_t cycle = 0; cycle < 40; cycle++) {
    CAPTURE(cycle);
    RuntimeConfig cfg = runtime_config(1 + cycle % 2);
    cfg.idle_polls = 1;
    cfg.slots = 8;
    Rig r = make_rig(cfg, 64);
    REQUIRE(r.rt->start().ok());
    Peer peer(*r.mine, r.rt->transport().local());
    REQUIRE(peer.send(request(kShort, 1, 0)));
    if (cycle % 4 == 0) REQUIRE(peer.until_answered({1}));
    // Stop races the request in the other cycles: answered (replied, or cut short) if the
    // dispatcher took it before it stopped, and then before stop() returned.
    r.rt->stop();
    peer.poll();
    CHECK(peer.got.size() == server_cell(*r.rt, kRx));
    CHECK(peer.duplicated() == 0);
    check_accounting(*r.rt);
  }
}

TEST_CASE("runtime: pinning to a CPU that does not exist fails start with PIN and leaves nothing running") {
  Watchdog wd("runtime pin");
  {
    RuntimeConfig cfg = runtime_config(2);
    cfg.worker_cores = {-1, 4000};
    Rig r = make_rig(cfg);
    const Status st = r.rt->start();
    CHECK(std::string(st.code ? st.code : "ok") == "PIN");
    CHECK_FALSE(r.rt->running());
    CHECK(std::string(r.rt->start().code) == "STOPPED");
    r.rt->stop();
  }
  {
    RuntimeConfig cfg = runtime_config(1);
    cfg.dispatcher_core = 4000;
    Rig r = make_rig(cfg);
    const Status st = r.rt->start();
    CHECK(std::string(st.code ? st.code : "ok") == "PIN");
    CHECK_FALSE(r.rt->running());
  }
}

TEST_CASE("runtime: create refuses bad configs") {
  auto code = [](RuntimeConfig cfg) {
    std::unique_ptr<Runtime> rt;
    auto [a, b] = io::MemTransport::pair(4);
    const Status st = Runtime::create(std::move(b), std::move(cfg), &rt);
    CHECK((st.ok() == (rt != nullptr)));
    return std::string(st.ok() ? "ok" : st.code);
  };
  CHECK(code(runtime_config(1)) == "ok");
  RuntimeConfig c = runtime_config(0);
  CHECK(code(c) == "BAD_CONFIG");
  c = runtime_config(2);
  c.worker_cores = {0};
  CHECK(code(c) == "BAD_CONFIG");
  c = runtime_config(2);
  c.slots = 2;
  CHECK(code(c) == "BAD_CONFIG");
  c = runtime_config(1);
  c.policy.kind = "nope";
  CHECK(code(c) == "BAD_POLICY");
  c.policy.kind = "ps";
  CHECK(code(c) == "BAD_POLICY");
  c = runtime_config(1);
  c.work[kGet].kind = Work::kSpin;  // get has a key/count payload, not spin_ns
  CHECK(code(c) == "BAD_CONFIG");
  c = runtime_config(1);
  c.work[kGet].kind = Work::kGet;  // no kv path
  CHECK(code(c) == "BAD_CONFIG");
  c = runtime_config(1);
  c.work[200].kind = Work::kZero;  // not in the wire format
  CHECK(code(c) == "BAD_CONFIG");
}
