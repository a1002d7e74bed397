// The software switch (native/switch) with its real thread, between a test client and server
// runtimes, over in-memory links (a MemMesh of MemTransport pairs; one plain pair for the simplest
// rack): forwarding by the Pallas tables and by the baselines' switches, replies back to their
// client, table loads from other threads while traffic flows, bouncing, bad input, stop while busy.
// Built for the sanitizers: hybrid waiting, bounded waits, assertions about counts, never speed.
#include <doctest/doctest.h>

#include <atomic>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "core/switch/tables.hpp"
#include "io/mem_transport.hpp"
#include "runtime/runtime.hpp"
#include "switch/soft_switch.hpp"
#include "threaded_helpers.hpp"

using namespace pallas;
using namespace pallas::testing;
using pallas::softswitch::SoftSwitch;
using pallas::softswitch::SwitchConfig;

namespace {

// Reads the switch's cells while its thread writes them: within a copy taken at an even seq, no
// reply was forwarded that was not asked for, and the counters only grow.
class CellReader {
 public:
  explicit CellReader(Rack& r) : r_(r), thread_([this] { run(); }) {}
  ~CellReader() { stop(); }
  void stop() {
    run_.store(false);
    if (thread_.joinable()) thread_.join();
  }
  uint64_t snapshots() const { return snaps_.load(); }
  uint64_t violations() const { return bad_.load(); }

 private:
  void run() {
    uint64_t last_rx = 0;
    while (run_.load()) {
      const uint64_t s1 = __atomic_load_n(&r_.sw->area(0)[ss::kSeq], __ATOMIC_ACQUIRE);
      const uint64_t rx = r_.cell(ss::kRx), req = r_.cell(ss::kFwdRequests), rep = r_.cell(ss::kFwdReplies);
      __atomic_thread_fence(__ATOMIC_ACQUIRE);
      if ((s1 & 1) == 0 && r_.cell(ss::kSeq) == s1) {
        snaps_.fetch_add(1);
        if (rx < last_rx || rep > rx || rep > req) bad_.fetch_add(1);
        last_rx = rx;
      }
      std::this_thread::sleep_for(std::chrono::microseconds(200));
    }
  }
  Rack& r_;
  std::atomic<bool> run_{true};
  std::atomic<uint64_t> snaps_{0}, bad_{0};
  std::jthread thread_;
};

}  // namespace

TEST_CASE("soft switch: pallas tables send each group to its WRR servers and every reply back to its client") {
  Watchdog wd("switch pallas wrr");
  SwitchConfig cfg = switch_config(3, "pallas");
  // short: group 0 on servers 0 (weight 2) and 1 (weight 1); long: group 1 on server 2.
  cfg.policy.tables = make_tables({{kShort, 0}, {kLong, 1}}, {{{0, 2}, {1, 1}}, {{2, 1}}});
  Rack r;
  make_rack(&r, cfg);
  CHECK(std::string(r.sw->policy_name()) == "pallas");
  CHECK(r.sw->server_count() == 3);
  CellReader reader(r);
  Peer peer(*r.client, r.switch_addr());
  constexpr uint32_t kRounds = 20;  // whole WRR rounds: each server's share is exactly its weight
  std::vector<uint32_t> ids;
  for (uint32_t i = 0; i < 4 * kRounds; i++) {
    const uint32_t id = i + 1;
    REQUIRE(peer.send(request(i % 4 == 3 ? kLong : kShort, id, 1000, wire::kCloneOriginal, 12345)));
    ids.push_back(id);
    if (i % 16 == 0) peer.poll();
  }
  REQUIRE(peer.until_answered(ids));
  uint32_t by_server[3] = {0, 0, 0};
  std::set<uint32_t> indexes;
  for (uint32_t id : ids) {
    CAPTURE(id);
    REQUIRE(peer.answers(id) == 1);
    const Answer& a = *peer.first(id);
    CHECK(a.reply());
    CHECK(MeshPort::node_of(a.from) == 0);       // from the switch
    CHECK((a.h.flags & wire::kCloneMask) == 0);  // the switch owns the clone state: cleared
    CHECK(a.h.index != 12345);                   // and the index
    indexes.insert(a.h.index);
    if (a.h.type == kLong) {
      CHECK(a.h.server == 2);
      CHECK(a.h.group == 1);
    } else {
      CHECK(a.h.server <= 1);
      CHECK(a.h.group == 0);
    }
    if (a.h.server < 3) by_server[a.h.server]++;
  }
  CHECK(indexes.size() == ids.size());
  CHECK(by_server[0] == 2 * kRounds);
  CHECK(by_server[1] == kRounds);
  CHECK(by_server[2] == kRounds);
  const uint64_t n = ids.size();
  // The cells are written after each burst: the last ones may trail the replies a little.
  CHECK(
      eventually([&] { return r.cell(ss::kFwdReplies) == n && r.type_cell(kShort, ss::kTMonReplies) == 3 * kRounds; }));
  CHECK(r.cell(ss::kRx) == 2 * n);
  CHECK(r.cell(ss::kRequests) == n);
  CHECK(r.cell(ss::kReplies) == n);
  CHECK(r.cell(ss::kFwdRequests) == n);
  CHECK(r.cell(ss::kReplyNoClient) == 0);
  CHECK(r.cell(ss::kTxFailed) == 0);
  CHECK(r.cell(ss::kDropNotWired) == 0);
  CHECK(r.type_cell(kShort, ss::kTRequests) == 3 * kRounds);
  CHECK(r.type_cell(kShort, ss::kTMonRequests) == 3 * kRounds);
  CHECK(r.type_cell(kLong, ss::kTMonRequests) == kRounds);
  CHECK(r.type_cell(kLong, ss::kTMonReplies) == kRounds);
  CHECK(r.type_cell(kLong, ss::kTMonTimeUnits) > 0);  // the servers' execution times, summed
  for (uint32_t s = 0; s < 3; s++) {
    CAPTURE(s);
    CHECK(r.server_cell(s, ss::kSSent) == by_server[s]);
    CHECK(r.server_cell(s, ss::kSReplies) == by_server[s]);
    CHECK(server_cell(*r.servers[s], runtime::kReplies) == by_server[s]);
  }
  CHECK(__atomic_load_n(&r.sw->area(3)[0], __ATOMIC_RELAXED) == 1 + n);  // the pipeline's seq register

  // Bad input is counted and never forwarded. A type the tables do not map goes to the default
  // group; the server has no handler for it, and its notice comes back to the client.
  const uint64_t rx0 = r.cell(ss::kRx);
  REQUIRE(peer.send(std::vector<uint8_t>(5, 0xA1)));                    // too short
  REQUIRE(peer.send(request(kShort, 900, 1000, wire::kFlagResponse)));  // a reply from a client
  REQUIRE(peer.send(request(kShort, 901, 1000, wire::kFlagBounced)));   // a bounce from a client
  REQUIRE(peer.send(request(kExp, 902, 1000)));                         // unmapped, no handler
  REQUIRE(peer.until_answered({902}));
  CHECK(peer.first(902)->notice());
  CHECK(peer.first(902)->cause == static_cast<uint8_t>(wire::DropCause::kNoHandler));
  CHECK(eventually([&] { return r.cell(ss::kRx) == rx0 + 5 && r.cell(ss::kUnmapped) == 1; }));
  CHECK(r.cell(ss::kCellsBase + static_cast<uint32_t>(wire::Reason::kTooShort)) == 1);
  CHECK(r.invalid_total() == 1);
  CHECK(r.cell(ss::kReplyNotServer) == 1);
  CHECK(r.cell(ss::kBadBounce) == 1);
  CHECK(peer.answers(900) + peer.answers(901) == 0);
  reader.stop();
  CHECK(reader.snapshots() > 0);
  CHECK(reader.violations() == 0);
}

TEST_CASE(
    "soft switch: a burst is cloned to another group, busy servers drop clones, and the client gets one reply per "
    "request") {
  Watchdog wd("switch clone");
  SwitchConfig cfg = switch_config(3, "pallas");
  // Group 0 (short): server 0; its excess beyond 2 per window is cloned to group 1 (servers 1, 2).
  cfg.policy.tables = make_tables({{kShort, 0}, {kLong, 1}}, {{{0, 1}}, {{1, 1}, {2, 1}}});
  cfg.policy.tables.clone = true;
  cfg.policy.tables.tau_shift = 24;  // 16.8 ms windows: the burst falls in one or two of them
  cfg.policy.tables.groups[0].c_thres = 2;
  cfg.policy.tables.groups[0].clone_target = 1;
  cfg.policy.tables.groups[1].c_thres = 1000;
  Rack r;
  make_rack(&r, cfg);
  Peer peer(*r.client, r.switch_addr());
  REQUIRE(peer.send(request(kLong, 1, kForeverNs)));  // server 1 or 2 busy until stop
  REQUIRE(eventually([&] {
    return server_cell(*r.servers[1], runtime::kInService) + server_cell(*r.servers[2], runtime::kInService) == 1;
  }));
  std::vector<uint32_t> shorts;
  for (uint32_t id = 2; id <= 13; id++) {
    REQUIRE(peer.send(request(kShort, id, 20000)));
    shorts.push_back(id);
  }
  REQUIRE(peer.until_answered(shorts));
  CHECK(eventually([&] { return r.cell(ss::kCloned) > 0; }));
  // Every clone was answered by its server (a reply, or a CLONE_BUSY notice from the busy one)
  // and the switch let one answer per request through: the second replies are filtered, the
  // clones' drop notices consumed.
  auto sum = [&](uint32_t c) {
    uint64_t n = 0;
    for (auto& s : r.servers) n += server_cell(*s, c);
    return n;
  };
  CHECK(eventually([&] {
    return r.cell(ss::kCloneNotices) + r.cell(ss::kRepliesFiltered) + r.cell(ss::kFwdReplies) ==
               12 + r.cell(ss::kCloned) &&
           sum(runtime::kReplies) == 12 + r.cell(ss::kRepliesFiltered);
  }));
  CHECK(r.cell(ss::kCloneNotices) == sum(runtime::kDropClone));
  CHECK(r.cell(ss::kFwdReplies) == 12);
  CHECK(r.cell(ss::kFwdRequests) == 13 + r.cell(ss::kCloned));
  for (uint32_t id : shorts) {
    CAPTURE(id);
    CHECK(peer.answers(id) == 1);
    CHECK(peer.first(id)->reply());
  }
  r.sw->stop();
  for (auto& s : r.servers) s->stop();  // the long one is cut short; its notice stops at the switch
  for (auto& s : r.servers) check_accounting(*s, false);
}

TEST_CASE("soft switch: table loads and server rewiring from another thread while traffic flows") {
  Watchdog wd("switch loads under traffic");
  SwitchConfig cfg = switch_config(2, "pallas");
  const sw::Tables to0 = make_tables({{kShort, 0}, {kLong, 1}}, {{{0, 1}}, {{0, 1}, {1, 1}}});
  const sw::Tables to1 = make_tables({{kShort, 0}, {kLong, 1}}, {{{1, 1}}, {{0, 1}, {1, 1}}});
  cfg.policy.tables = to0;
  Rack r;
  make_rack(&r, cfg);
  CellReader reader(r);
  constexpr uint32_t kN = 1500;
  std::atomic<bool> sending{true}, sender_ok{false};
  Peer peer(*r.client, r.switch_addr());
  std::jthread sender([&] {
    std::vector<uint32_t> ids;
    bool ok = true;
    for (uint32_t id = 1; id <= kN && ok; id++) {
      // At most 64 in flight: the servers (one worker each) never run out of buffers or queue room.
      ok = peer.until([&] { return id - 1 - peer.got.size() < 64; }) &&
           peer.send(request(id % 5 == 0 ? kLong : kShort, id, 1000));
      ids.push_back(id);
    }
    sending.store(false);
    sender_ok.store(ok && peer.until_answered(ids, 20000));
  });
  std::atomic<uint64_t> loads{0}, failures{0};
  std::jthread control([&] {
    for (uint64_t i = 0; sending.load() && i < 2000; i++) {
      if (!r.sw->load(i % 2 ? to1 : to0).ok()) failures.fetch_add(1);
      loads.fetch_add(1);
      if (i % 5 == 0) {
        // Rewired to the same address: a control-plane write that changes nothing.
        if (!r.sw->set_server(i % 2, MeshPort::addr(1 + i % 2)).ok()) failures.fetch_add(1);
        // Refused, and nothing changes: a WRR entry naming a server the switch does not have.
        sw::Tables bad = to0;
        bad.groups[0].wrr[0].server = 7;
        if (std::string(r.sw->load(bad).code) != "BAD_POLICY") failures.fetch_add(1);
        bad = to0;
        bad.groups.clear();
        if (std::string(r.sw->load(bad).code) != "BAD_POLICY") failures.fetch_add(1);
        if (std::string(r.sw->set_server(9, MeshPort::addr(1)).code) != "BAD_CONFIG") failures.fetch_add(1);
      }
      std::this_thread::sleep_for(std::chrono::microseconds(300));
    }
  });
  sender.join();
  control.join();
  REQUIRE(sender_ok.load());
  CHECK(failures.load() == 0);
  CHECK(loads.load() >= 1);
  CHECK(peer.duplicated() == 0);
  CHECK(peer.got.size() == kN);
  CHECK(peer.count(&Answer::reply) == kN);
  for (const Answer& a : peer.got) CHECK(a.h.server <= 1);
  CHECK(eventually([&] { return r.cell(ss::kFwdReplies) == kN; }));
  CHECK(r.cell(ss::kTablesLoaded) == loads.load());
  CHECK(r.cell(ss::kFwdRequests) == kN);
  CHECK(r.server_cell(0, ss::kSSent) + r.server_cell(1, ss::kSSent) == kN);
  CHECK(server_cell(*r.servers[0], runtime::kReplies) + server_cell(*r.servers[1], runtime::kReplies) == kN);
  MESSAGE("table loads under traffic: " << loads.load() << "; requests per server: " << r.server_cell(0, ss::kSSent)
                                        << ", " << r.server_cell(1, ss::kSSent));

  // Unwired, server 1 gets nothing: requests for it are counted and go nowhere. Wired again, it serves.
  REQUIRE(r.sw->load(to1).ok());
  REQUIRE(r.sw->set_server(1, io::Endpoint{}).ok());
  for (uint32_t id = kN + 1; id <= kN + 3; id++) REQUIRE(peer.send(request(kShort, id, 1000)));
  CHECK(eventually([&] { return r.cell(ss::kDropNotWired) == 3; }));
  REQUIRE(r.sw->set_server(1, MeshPort::addr(2)).ok());
  REQUIRE(peer.send(request(kShort, kN + 4, 1000)));
  REQUIRE(peer.until_answered({kN + 4}));
  CHECK(peer.first(kN + 4)->h.server == 1);
  for (uint32_t id = kN + 1; id <= kN + 3; id++) CHECK(peer.answers(id) == 0);
  reader.stop();
  CHECK(reader.violations() == 0);
}

TEST_CASE("soft switch: a bounced request is re-scheduled with the tables in force and answered once") {
  Watchdog wd("switch bounce");
  SwitchConfig cfg = switch_config(2, "pallas");
  cfg.policy.tables = make_tables({{kShort, 0}, {kLong, 1}}, {{{0, 1}}, {{1, 1}}});
  Rack r;
  make_rack(&r, cfg);
  Peer peer(*r.client, r.switch_addr());
  runtime::Runtime& s1 = *r.servers[1];
  // Server 1 runs a long request until it stops, with three more queued.
  REQUIRE(peer.send(request(kLong, 1, kForeverNs)));
  for (uint32_t id = 2; id <= 4; id++) REQUIRE(peer.send(request(kLong, id, 1000)));
  REQUIRE(eventually([&] { return server_cell(s1, runtime::kQueued) == 3; }));
  // The plan changes: long moves to server 0, server 1 serves short only (tables first).
  REQUIRE(r.sw->load(make_tables({{kShort, 0}, {kLong, 1}}, {{{1, 1}}, {{0, 1}}})).ok());
  runtime::PolicyUpdate u;
  u.epoch = 2;
  u.has_served = true;
  u.served[kShort] = 1;
  u.mean_ns[kShort] = 1000;
  u.mean_ns[kLong] = 1e6;
  REQUIRE(s1.apply(u).ok());
  REQUIRE(peer.send(request(kShort, 5, 1000)));  // its arrival at server 1 bounces the queued longs
  REQUIRE(peer.until_answered({2, 3, 4}));
  for (uint32_t id = 2; id <= 4; id++) {
    CAPTURE(id);
    CHECK(peer.answers(id) == 1);
    CHECK(peer.first(id)->reply());
    CHECK(peer.first(id)->h.server == 0);  // re-scheduled onto long's new server
  }
  CHECK(server_cell(s1, runtime::kBounced) == 3);
  CHECK(eventually([&] { return r.cell(ss::kBounced) == 3; }));
  CHECK(r.cell(ss::kBadBounce) == 0);
  // Stopping server 1 answers the running long and the queued short with SHUTDOWN notices,
  // through the switch.
  s1.stop();
  REQUIRE(peer.until_answered({1, 5}));
  for (uint32_t id : {1, 5}) CHECK(peer.first(id)->cause == static_cast<uint8_t>(wire::DropCause::kShutdown));
  CHECK(peer.got.size() == 5);
  CHECK(peer.duplicated() == 0);
  check_accounting(s1);
}

TEST_CASE("soft switch: the baselines' switches answer every request once, the holding ones included") {
  for (const char* kind : {"rr", "random", "po2", "jbsq", "draconis", "netclone"}) {
    CAPTURE(kind);
    Watchdog wd(kind);
    SwitchConfig cfg = switch_config(3, kind);
    cfg.policy.jbsq_depth = 1;
    Rack r;
    make_rack(&r, cfg);
    CHECK(std::string(r.sw->policy_name()) == kind);
    Peer peer(*r.client, r.switch_addr());
    constexpr uint32_t kN = 120;  // sent at once: jbsq and draconis hold most of them at the switch
    std::vector<uint32_t> ids;
    for (uint32_t id = 1; id <= kN; id++) {
      REQUIRE(peer.send(request(kShort, id, 2000)));
      ids.push_back(id);
    }
    REQUIRE(peer.until_answered(ids));
    std::set<uint32_t> indexes;
    for (uint32_t id : ids) {
      CAPTURE(id);
      CHECK(peer.answers(id) == 1);
      CHECK(peer.first(id)->reply());
      indexes.insert(peer.first(id)->h.index);
    }
    CHECK(indexes.size() == kN);  // the switch indexed each one
    CHECK(indexes.count(0) == 0);
    // The policy's counters are published after each burst: wait for the one after the last reply.
    CHECK(eventually([&] {
      return r.cell(ss::kFwdReplies) == kN && r.cell(ss::kHeld) == 0 &&
             r.cell(ss::kFwdRequests) == kN + r.cell(ss::kCloned);
    }));
    CHECK(r.cell(ss::kDropNoBuffer) == 0);
    CHECK(r.cell(ss::kRequests) == kN);
    uint64_t sent = 0;
    for (uint32_t s = 0; s < 3; s++) sent += r.server_cell(s, ss::kSSent);
    CHECK(sent == r.cell(ss::kFwdRequests));
    CHECK(std::string(r.sw->load(make_tables({}, {{{0, 1}}})).code) == "BAD_POLICY");  // no Pallas tables
  }
}

TEST_CASE("soft switch: stop while busy, with table loads racing it: nothing hangs and nothing is answered twice") {
  Watchdog wd("switch stop while busy");
  SwitchConfig cfg = switch_config(2, "pallas");
  const sw::Tables t = make_tables({{kShort, 0}}, {{{0, 1}, {1, 1}}});
  cfg.policy.tables = t;
  Rack r;
  make_rack(&r, cfg);
  std::atomic<bool> stopped{false};  // set once the switch stopped (or the test gave up)
  std::atomic<uint32_t> sent{0};
  Peer peer(*r.client, r.switch_addr());
  std::jthread sender([&] {
    const auto deadline = Clock::now() + milliseconds(15000);
    for (uint32_t id = 1; id <= 200000 && !stopped.load() && Clock::now() < deadline; id++) {
      if (!peer.send(request(kShort, id, 20000), 20)) break;  // refused once the switch stops reading
      sent.store(id);
      if (id % 16 == 0) {
        peer.poll();
        r.client->wait_rx(20);
      }
    }
    peer.until([&] { return stopped.load(); }, 15000);
    peer.until([] { return false; }, 50);  // what was on its way
  });
  // Table writes until the switch has stopped: each one runs (on the switch thread, or in place
  // once it is gone), or fails with STOPPED when stop() finds it queued; none waits for its timeout.
  std::atomic<uint64_t> loaded{0}, refused{0}, other{0};
  std::jthread control([&] {
    const auto deadline = Clock::now() + milliseconds(15000);
    for (int i = 0; i < 100000 && !stopped.load() && Clock::now() < deadline; i++) {
      const Status st = r.sw->load(t);
      if (st.ok()) {
        loaded.fetch_add(1);
      } else if (std::string(st.code) == "STOPPED") {
        refused.fetch_add(1);
        break;
      } else {
        other.fetch_add(1);
        break;
      }
      std::this_thread::sleep_for(std::chrono::microseconds(200));
    }
  });
  struct Release {  // on the way out, failed or not, the threads end before they are joined
    std::atomic<bool>& f;
    Rack& r;
    ~Release() {
      r.sw->stop();
      f.store(true);
    }
  } release{stopped, r};
  REQUIRE(eventually([&] { return r.cell(ss::kFwdReplies) >= 200; }));
  r.sw->stop();
  CHECK_FALSE(r.sw->running());
  stopped.store(true);
  sender.join();
  control.join();
  CHECK(other.load() == 0);
  CHECK(loaded.load() >= 1);
  // Nothing moves any more; what the client got is what the switch forwarded, once each.
  CHECK(peer.duplicated() == 0);
  CHECK(peer.got.size() == r.cell(ss::kFwdReplies));
  CHECK(peer.got.size() <= sent.load());
  CHECK(r.cell(ss::kFwdRequests) <= r.cell(ss::kRequests));
  CHECK(r.cell(ss::kTablesLoaded) == loaded.load());
  // Idempotent; no restart; control writes run in place once the thread is gone.
  r.sw->stop();
  CHECK(std::string(r.sw->start().code) == "STOPPED");
  CHECK(r.sw->load(t).ok());
  CHECK(r.cell(ss::kTablesLoaded) == loaded.load() + 1);
  for (auto& s : r.servers) s->stop();
  for (auto& s : r.servers) check_accounting(*s, false);  // replies to a stopped switch may be refused
  MESSAGE("sent " << sent.load() << ", answered " << peer.got.size() << ", loads " << loaded.load()
                  << " (then refused: " << refused.load() << ")");
}

TEST_CASE("soft switch: over one plain mem link, its peer both the client and the server") {
  Watchdog wd("switch plain mem link");
  auto [theirs, mine] = io::MemTransport::pair(64);
  const io::Endpoint me = mine->local();
  SwitchConfig cfg = switch_config(1, "rr");
  cfg.servers = {me};
  std::unique_ptr<SoftSwitch> s;
  REQUIRE(SoftSwitch::create(std::move(theirs), cfg, &s).ok());
  REQUIRE(s->start().ok());
  Peer peer(*mine);
  for (uint32_t id = 1; id <= 10; id++) {
    REQUIRE(peer.send(request(kShort, id, 1000)));
    // The request comes back (we are server 0), indexed; answered, the reply comes back to us as
    // the client that sent it.
    REQUIRE(peer.until([&] { return peer.answers(id) == 1; }));
    const Answer fwd = *peer.first(id);
    CHECK((fwd.h.flags & wire::kFlagResponse) == 0);
    CHECK(fwd.h.index != 0);
    auto reply = request(kShort, id, 1000, 0, fwd.h.index);
    wire::make_reply(reply.data(), 0, 0, 500);
    REQUIRE(peer.send(reply));
    REQUIRE(peer.until([&] { return peer.answers(id) == 2; }));
    CHECK(peer.got.back().reply());
    CHECK(peer.got.back().h.index == fwd.h.index);
  }
  CHECK(eventually([&] { return __atomic_load_n(&s->area(0)[ss::kFwdReplies], __ATOMIC_RELAXED) == 10; }));
  CHECK(__atomic_load_n(&s->area(0)[ss::kFwdRequests], __ATOMIC_RELAXED) == 10);
  s->stop();
}

TEST_CASE("soft switch: create refuses bad configs") {
  auto code = [](SwitchConfig cfg) {
    auto [a, b] = io::MemTransport::pair(4);
    std::unique_ptr<SoftSwitch> s;
    const Status st = SoftSwitch::create(std::move(a), std::move(cfg), &s);
    return std::string(st.ok() ? "ok" : st.code);
  };
  CHECK(code(switch_config(2, "rr")) == "ok");
  SwitchConfig c = switch_config(2, "rr");
  c.servers.pop_back();
  CHECK(code(c) == "BAD_CONFIG");
  c = switch_config(2, "rr");
  c.client_slots = 1000;
  CHECK(code(c) == "BAD_CONFIG");
  c = switch_config(2, "rr");
  c.slots = 0;
  CHECK(code(c) == "BAD_CONFIG");
  c = switch_config(2, "nope");
  CHECK(code(c) == "BAD_POLICY");
  c = switch_config(2, "pallas");  // no tables
  CHECK(code(c) == "BAD_POLICY");
  c.policy.tables = make_tables({}, {{{5, 1}}});
  CHECK(code(c) == "BAD_POLICY");
}
