// The open-loop load generator (native/client) with real threads over in-memory links: against an
// echo, against a server runtime, against a test peer that answers, drops, duplicates and ignores,
// through a software switch to two runtimes, and stopped by its tick while it runs. Every request
// must be accounted (reply, drop by cause, timeout, never sent). Built for the sanitizers:
// hybrid waiting, bounded runs, assertions about counts, never speed.
#include <doctest/doctest.h>

#include <atomic>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "client/client.hpp"
#include "io/echo.hpp"
#include "io/mem_transport.hpp"
#include "runtime/runtime.hpp"
#include "threaded_helpers.hpp"

using namespace pallas;
using namespace pallas::client;
using namespace pallas::testing;

namespace {

TypeSpec spin_type(uint8_t wire_type, double share, double mean_ns) {
  TypeSpec t;
  t.wire_type = wire_type;
  t.share = share;
  t.service.dist = Dist::kFixed;
  t.service.mean_ns = mean_ns;
  return t;
}

ClientConfig client_config(std::vector<TypeSpec> types, double rate_rps, uint64_t duration_ns, io::Endpoint dst) {
  ClientConfig c;
  c.schedule.types = std::move(types);
  PhaseSpec p;
  p.rate_rps = rate_rps;
  p.duration_ns = duration_ns;
  c.schedule.phases = {p};
  c.schedule.seed = 11;
  c.dst = dst;
  c.timeout_ns = 2000000000;  // answers come within ms; the bound only matters if one never does
  c.lead_ns = 1000000;
  return c;
}

std::vector<Entry> schedule_of(const ClientConfig& c) {
  std::vector<Entry> s;
  const Status st = build_schedule(c.schedule, &s);
  REQUIRE_MESSAGE(st.ok(), st.message);
  REQUIRE(!s.empty());
  return s;
}

const Tick kNoStop = [](uint64_t) { return false; };

// What every run must satisfy, whatever answered it.
void check_result(const ClientResult& r, const std::vector<Entry>& sched) {
  CHECK(r.accounting_ok());
  CHECK(r.scheduled == sched.size());
  uint64_t scheduled = 0, sent = 0, replies = 0, drops = 0, timeouts = 0, never = 0, measured = 0;
  for (const TypeOutcome& t : r.per_type) {
    CHECK(t.sent == t.replies + t.drops + t.timeouts);
    CHECK(t.scheduled == t.sent + t.never_sent);
    CHECK(t.latency.count() == t.measured);
    scheduled += t.scheduled;
    sent += t.sent;
    replies += t.replies;
    drops += t.drops;
    timeouts += t.timeouts;
    never += t.never_sent;
    measured += t.measured;
  }
  CHECK(scheduled == r.scheduled);
  CHECK(sent == r.sent);
  CHECK(replies == r.replies);
  CHECK(drops == r.drops);
  CHECK(timeouts == r.timeouts);
  CHECK(never == r.never_sent);
  CHECK(measured == r.replies);  // no warm-up in these runs
  uint64_t by_cause = 0;
  for (uint64_t d : r.drops_by_cause) by_cause += d;
  CHECK(by_cause == r.drops);
  if (r.sent > 0) CHECK(r.first_send_ns <= r.last_send_ns);
}

}  // namespace

TEST_CASE("client: schedules are deterministic, and bad ones are refused") {
  ClientConfig c = client_config({spin_type(kShort, 0.9, 1000), spin_type(kLong, 0.1, 100000)}, 50000, 20000000, {});
  c.schedule.types[1].own_arrivals = true;
  c.schedule.types[1].arrivals.process = Process::kGamma;
  c.schedule.types[1].arrivals.cv = 4;
  const std::vector<Entry> a = schedule_of(c), b = schedule_of(c);
  REQUIRE(a.size() == b.size());
  for (size_t i = 0; i < a.size(); i++) {
    CHECK(a[i].t_ns == b[i].t_ns);
    CHECK(a[i].type == b[i].type);
    CHECK(a[i].arg == b[i].arg);
    if (i > 0) CHECK(a[i - 1].t_ns <= a[i].t_ns);  // merged into send order
    CHECK(a[i].t_ns < 20000000);
  }
  std::vector<Entry> s;
  ClientConfig bad = c;
  bad.schedule.types.clear();
  CHECK(std::string(build_schedule(bad.schedule, &s).code) == "BAD_CONFIG");
  bad = c;
  bad.schedule.phases[0].rate_rps = 0;
  CHECK(std::string(build_schedule(bad.schedule, &s).code) == "BAD_CONFIG");
  bad = c;
  bad.schedule.phases[0].shares = {0, 0};
  CHECK(std::string(build_schedule(bad.schedule, &s).code) == "BAD_CONFIG");
  bad = c;
  bad.schedule.max_requests = 10;
  CHECK(std::string(build_schedule(bad.schedule, &s).code) == "BAD_CONFIG");
  bad = c;
  bad.schedule.types[1].arrivals.cv = 0;
  CHECK(std::string(build_schedule(bad.schedule, &s).code) == "BAD_CONFIG");
}

TEST_CASE("client: against an echo over a mem link, every scheduled request is sent and answered once") {
  Watchdog wd("client echo");
  auto link = io::MemTransport::pair(1024);
  std::unique_ptr<io::MemTransport> mine = std::move(link.first), theirs = std::move(link.second);
  io::Echo echo(std::move(theirs), io::EchoConfig{3, 64, 200});
  echo.start();
  const ClientConfig c = client_config({spin_type(kShort, 1, 1000)}, 20000, 50000000, echo.transport().local());
  const std::vector<Entry> sched = schedule_of(c);
  const ClientResult r = run_client(*mine, c, sched, kNoStop);
  echo.stop();
  check_result(r, sched);
  CHECK(r.sent == sched.size());
  CHECK(r.replies == r.sent);
  CHECK(r.drops + r.timeouts + r.never_sent == 0);
  CHECK(r.duplicates + r.unexpected + r.invalid == 0);
  CHECK_FALSE(r.aborted);
  CHECK(echo.counters().n_replied.load() == r.sent);
  CHECK(mine->counters().n_tx.load() == r.sent);
  MESSAGE("echo: " << r.sent << " requests, " << r.late << " sent late");
}

TEST_CASE("client: against a runtime, every request is a reply or a drop by its cause") {
  Watchdog wd("client runtime");
  runtime::RuntimeConfig rc = runtime_config(1);
  rc.policy.queue_capacity = 4;  // may overflow: QUEUE_FULL notices
  auto link = io::MemTransport::pair(1024);
  std::unique_ptr<io::MemTransport> mine = std::move(link.first), theirs = std::move(link.second);
  std::unique_ptr<runtime::Runtime> rt;
  REQUIRE(runtime::Runtime::create(std::move(theirs), rc, &rt).ok());
  REQUIRE(rt->start().ok());
  // exp has no handler there: every one comes back as a NO_HANDLER notice.
  const ClientConfig c = client_config({spin_type(kShort, 0.8, 20000), spin_type(kExp, 0.2, 1000)}, 20000, 40000000,
                                       rt->transport().local());
  const std::vector<Entry> sched = schedule_of(c);
  const ClientResult r = run_client(*mine, c, sched, kNoStop);
  rt->stop();
  check_result(r, sched);
  CHECK(r.sent == sched.size());
  CHECK(r.timeouts == 0);
  CHECK(r.duplicates + r.unexpected + r.invalid == 0);
  const TypeOutcome& shorts = r.per_type[0];
  const TypeOutcome& exps = r.per_type[1];
  CHECK(exps.sent > 0);
  CHECK(exps.drops == exps.sent);
  CHECK(r.drops_by_cause[static_cast<int>(wire::DropCause::kNoHandler)] == exps.sent);
  CHECK(r.drops_by_cause[static_cast<int>(wire::DropCause::kQueueFull)] +
            r.drops_by_cause[static_cast<int>(wire::DropCause::kOverload)] ==
        shorts.drops);
  CHECK(shorts.replies > 0);
  CHECK(shorts.exec_ns_sum + shorts.measured >= 20000.0 * shorts.measured);  // the servers' spin, reported
  // The server's view is the same.
  CHECK(server_cell(*rt, runtime::kNoHandler) == exps.sent);
  CHECK(type_cell(*rt, kShort, runtime::kTReceived) == shorts.sent);
  CHECK(server_cell(*rt, runtime::kReplies) == r.replies);
  CHECK(server_cell(*rt, runtime::kNotices) == r.drops);
  check_accounting(*rt);
  MESSAGE("runtime: " << r.sent << " requests, " << shorts.drops << " dropped for a full queue");
}

TEST_CASE("client: a peer that answers, drops, duplicates and ignores: each request is accounted once") {
  Watchdog wd("client accounting");
  auto link = io::MemTransport::pair(1024);
  std::unique_ptr<io::MemTransport> mine = std::move(link.first), theirs = std::move(link.second);
  ClientConfig c = client_config({spin_type(kShort, 1, 1000)}, 10000, 20000000, theirs->local());
  c.schedule.arrivals.process = Process::kFixed;
  c.timeout_ns = 300000000;  // the ignored ones time out 300 ms after the last send
  const std::vector<Entry> sched = schedule_of(c);
  const uint32_t n = static_cast<uint32_t>(sched.size());
  // id % 4: 0 a reply, 1 an OVERLOAD notice, 2 a reply twice, 3 nothing. The first request also
  // gets a reply for a request never made, a datagram too short, and a request (not a reply).
  std::atomic<bool> done{false};
  std::jthread peer([&] {
    io::Transport& t = *theirs;
    io::RxPacket in[io::kMaxBurst];
    uint8_t out[4][wire::kHeaderSize + 8];
    const auto deadline = Clock::now() + milliseconds(20000);
    bool first = true;
    while (!done.load() && Clock::now() < deadline) {
      const uint32_t k = t.rx(in, io::kMaxBurst);
      if (k == 0) t.wait_rx(20);
      for (uint32_t i = 0; i < k; i++) {
        wire::Header h;
        if (wire::validate(in[i].data, in[i].len, nullptr, &h) != wire::Reason::kOk) continue;
        std::vector<io::TxPacket> tx;
        std::memcpy(out[0], in[i].data, in[i].len);
        const uint32_t len = in[i].len;
        switch (h.req_id % 4) {
          case 0:
          case 2:
            wire::make_reply(out[0], 1, 0, 1000);
            tx.push_back({out[0], len, in[i].from});
            if (h.req_id % 4 == 2) tx.push_back({out[0], len, in[i].from});
            break;
          case 1:
            wire::make_reply(out[0], 1, 0, 0);
            out[0][wire::off::flags] |= wire::kFlagDropNotice;
            out[0][wire::kHeaderSize] = static_cast<uint8_t>(wire::DropCause::kOverload);
            tx.push_back({out[0], wire::kHeaderSize + 1, in[i].from});
            break;
          default:
            break;
        }
        if (first) {
          first = false;
          std::memcpy(out[1], in[i].data, in[i].len);
          wire::make_reply(out[1], 1, 0, 0);
          wire::store_be32(out[1] + wire::off::req_id, n + 100);
          tx.push_back({out[1], len, in[i].from});
          tx.push_back({out[1], 3, in[i].from});
          std::memcpy(out[2], in[i].data, in[i].len);  // the request as it came: not a reply
          tx.push_back({out[2], len, in[i].from});
        }
        if (!tx.empty()) t.tx(tx.data(), static_cast<uint32_t>(tx.size()));
      }
    }
  });
  const ClientResult r = run_client(*mine, c, sched, kNoStop);
  done.store(true);
  peer.join();
  check_result(r, sched);
  uint64_t by_kind[4] = {0, 0, 0, 0};
  for (uint32_t id = 1; id <= n; id++) by_kind[id % 4]++;
  CHECK(r.sent == n);
  CHECK(r.replies == by_kind[0] + by_kind[2]);
  CHECK(r.drops == by_kind[1]);
  CHECK(r.drops_by_cause[static_cast<int>(wire::DropCause::kOverload)] == by_kind[1]);
  CHECK(r.timeouts == by_kind[3]);
  CHECK(r.duplicates == by_kind[2]);
  CHECK(r.unexpected == 1);
  CHECK(r.invalid == 2);
  CHECK(r.never_sent == 0);
}

TEST_CASE("client: its tick stops it while it runs, and what was not sent counts as never sent") {
  Watchdog wd("client stop");
  auto link = io::MemTransport::pair(1024);
  std::unique_ptr<io::MemTransport> mine = std::move(link.first), theirs = std::move(link.second);
  io::Echo echo(std::move(theirs), io::EchoConfig{3, 64, 200});
  echo.start();
  // Two seconds of schedule; stopped after the first couple of hundred answers.
  const ClientConfig c = client_config({spin_type(kShort, 1, 1000)}, 5000, 2000000000, echo.transport().local());
  const std::vector<Entry> sched = schedule_of(c);
  std::atomic<bool> stop{false};
  std::atomic<uint64_t> ticks{0};
  ClientResult r;
  std::jthread runner([&] {
    r = run_client(*mine, c, sched, [&](uint64_t sent) {
      ticks.fetch_add(1);
      return stop.load();
    });
  });
  const bool answered = eventually([&] { return echo.counters().n_replied.load() >= 200; });
  stop.store(true);
  runner.join();
  echo.stop();
  REQUIRE(answered);
  check_result(r, sched);
  CHECK(r.aborted);
  CHECK(ticks.load() > 0);
  CHECK(r.sent >= 200);
  CHECK(r.never_sent > 0);
  CHECK(r.sent + r.never_sent == sched.size());
  CHECK(r.replies == r.sent);  // the echo answered each before the client stopped waiting
  CHECK(r.timeouts == 0);
  CHECK(echo.counters().n_replied.load() == r.sent);
}

TEST_CASE("client: through a software switch to two runtimes, every request is answered") {
  Watchdog wd("client rack");
  softswitch::SwitchConfig cfg = switch_config(2, "pallas");
  cfg.policy.tables = make_tables({{kShort, 0}, {kLong, 0}}, {{{0, 1}, {1, 1}}});
  Rack rack;
  make_rack(&rack, cfg);
  const ClientConfig c =
      client_config({spin_type(kShort, 0.9, 2000), spin_type(kLong, 0.1, 20000)}, 10000, 50000000, rack.switch_addr());
  const std::vector<Entry> sched = schedule_of(c);
  const ClientResult r = run_client(*rack.client, c, sched, kNoStop);
  check_result(r, sched);
  CHECK(r.sent == sched.size());
  CHECK(r.replies == r.sent);
  CHECK(r.timeouts + r.drops == 0);
  CHECK(r.duplicates + r.unexpected + r.invalid == 0);
  CHECK(eventually([&] { return rack.cell(ss::kFwdReplies) == r.sent; }));
  CHECK(rack.cell(ss::kFwdRequests) == r.sent);
  CHECK(rack.server_cell(0, ss::kSSent) == (r.sent + 1) / 2);  // WRR, weight 1 each, in turn
  CHECK(rack.server_cell(1, ss::kSSent) == r.sent / 2);
  rack.sw->stop();
  for (auto& s : rack.servers) s->stop();
  uint64_t replies = 0;
  for (auto& s : rack.servers) {
    check_accounting(*s);
    replies += server_cell(*s, runtime::kReplies);
  }
  CHECK(replies == r.sent);
}
