// Intra-server policies (core/policy) on a fake clock, driven through the Policy interface: cfcfs,
// dfcfs, darc (the reservation rule, given and profiled reservations, stealing, the spillway,
// re-checks), ts, ps; the clone rule, bouncing, epochs, handover, and the factory. The TS tests
// test/native/policies.test.ts and darc.test.ts check some of these rules through N-API.
#include <doctest/doctest.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/policy/bounce.hpp"
#include "core/policy/cfcfs.hpp"
#include "core/policy/darc.hpp"
#include "core/policy/darc_reserve.hpp"
#include "core/policy/dfcfs.hpp"
#include "core/policy/epoch.hpp"
#include "core/policy/factory.hpp"
#include "core/policy/handover.hpp"
#include "core/policy/ps.hpp"
#include "core/policy/ts.hpp"
#include "core/rng.hpp"

using namespace pallas::policy;
namespace wire = pallas::wire;

namespace {

constexpr uint64_t kUs = 1000;

Item item(uint32_t handle, uint8_t type = 0, uint8_t flags = 0, uint8_t group = 0) {
  Item it;
  it.handle = handle;
  it.type = type;
  it.flags = flags;
  it.group = group;
  return it;
}

std::vector<uint32_t> idle_list(const Policy& p) {
  std::vector<uint32_t> v;
  for (uint32_t w = p.idle().next(0); w != WorkerSet::kNone; w = p.idle().next(w + 1)) v.push_back(w);
  return v;
}

std::vector<uint32_t> handles(const std::vector<Item>& items) {
  std::vector<uint32_t> v;
  v.reserve(items.size());
  for (const Item& it : items) v.push_back(it.handle);
  return v;
}

// A fake-clock driver: what each worker runs, the dispatch log, the kicks it honoured.
struct Driver {
  explicit Driver(Policy& policy) : p(policy) {}
  Policy& p;
  uint64_t now = 0;
  uint32_t next_handle = 1;
  std::map<uint32_t, Item> running;
  std::vector<std::pair<uint32_t, Item>> log;
  int kicks = 0;

  void start(uint32_t w) {
    REQUIRE(running.count(w) == 0);
    Dispatch d;
    if (!p.next_for_worker(w, now, &d)) return;
    running[w] = d.item;
    log.emplace_back(w, d.item);
  }
  void kicked() {
    if (!p.take_kick()) return;
    kicks++;
    for (uint32_t w : idle_list(p))
      if (!running.count(w)) start(w);
  }
  Admit arrive(uint8_t type, uint8_t flags = 0) {
    const Verdict v = p.on_arrival(item(next_handle++, type, flags), now);
    if (v.wake != kNoWorker) {
      REQUIRE(p.idle().has(v.wake));  // a verdict only names an idle worker
      start(v.wake);
    }
    kicked();
    return v.admit;
  }
  void complete(uint32_t w, uint64_t service_ns) {
    REQUIRE(running.count(w) == 1);
    const Item it = running[w];
    running.erase(w);
    p.on_completion(w, it, service_ns, now);
    start(w);
    kicked();
  }
  // The invariant of every policy: no idle worker may take a queued request.
  void check_no_idle_eligible() {
    for (uint32_t w : idle_list(p)) {
      Dispatch d;
      const bool got = p.next_for_worker(w, now, &d);
      CHECK_MESSAGE(!got, "idle worker " << w << " could have run queued request " << d.item.handle);
      if (got) running[w] = d.item;
    }
  }
  // Arrivals of `type` until every worker is busy.
  void fill(uint8_t type, uint32_t workers) {
    for (int i = 0; i < 64 && running.size() < workers; i++) arrive(type);
    REQUIRE(running.size() == workers);
  }
  // Completes everything, queued requests included.
  void drain(uint64_t service_ns) {
    for (int i = 0; i < 1000 && !running.empty(); i++) {
      now += service_ns;
      complete(running.begin()->first, service_ns);
    }
    REQUIRE(running.empty());
  }
  // `count` requests of `type`, each starting at once and completing after `service_ns` (before the next).
  void feed(uint8_t type, uint64_t service_ns, int count) {
    for (int i = 0; i < count; i++) {
      const size_t before = log.size();
      const uint32_t h = next_handle;
      arrive(type);
      REQUIRE(log.size() == before + 1);
      REQUIRE(log.back().second.handle == h);
      now += service_ns;
      complete(log.back().first, service_ns);
    }
  }
};

DarcConfig given_cfg(std::vector<GivenGroup> groups, uint32_t queue_capacity = 4096) {
  DarcConfig c;
  c.given = true;
  c.groups = std::move(groups);
  c.queue_capacity = queue_capacity;
  return c;
}

struct GroupShape {
  std::vector<uint8_t> types;
  uint32_t first, count;
  bool spill;
  bool operator==(const GroupShape& o) const {
    return types == o.types && first == o.first && count == o.count && spill == o.spill;
  }
};
std::vector<GroupShape> shape(const Reservation& r) {
  std::vector<GroupShape> v;
  for (const GroupReservation& g : r.groups) v.push_back({g.types, g.first, g.count, g.spill});
  return v;
}
std::vector<int> serve_upto(const Reservation& r) { return {r.serve_upto.begin(), r.serve_upto.end()}; }

}  // namespace

// ---- containers ----

TEST_CASE("policy: ItemQueue is a bounded FIFO ring, remove_if keeps the order of both parts") {
  ItemQueue q(3);  // ring of 4, limit 3
  CHECK(q.capacity() == 3);
  CHECK(q.empty());
  for (uint32_t h = 1; h <= 3; h++) CHECK(q.push(item(h)));
  CHECK_FALSE(q.push(item(4)));
  CHECK(q.size() == 3);
  CHECK(q.front().handle == 1);
  CHECK(q.at(2).handle == 3);
  // Wrap around the ring many times.
  uint32_t next_in = 4, next_out = 1;
  for (int i = 0; i < 100; i++) {
    REQUIRE(q.pop().handle == next_out++);
    REQUIRE(q.push(item(next_in++)));
  }
  REQUIRE(q.size() == 3);  // 101, 102, 103
  std::vector<Item> out;
  CHECK(q.remove_if([](const Item& it) { return it.handle != 102; }, &out) == 2);
  CHECK(handles(out) == std::vector<uint32_t>{101, 103});
  CHECK(q.size() == 1);
  CHECK(q.front().handle == 102);
  CHECK(q.push(item(200)));
  CHECK(q.push(item(201)));
  CHECK_FALSE(q.push(item(202)));
  CHECK(q.at(1).handle == 200);
  CHECK(q.pop().handle == 102);
  CHECK(q.pop().handle == 200);
  CHECK(q.pop().handle == 201);
  CHECK(q.empty());
}

TEST_CASE("policy: WorkerSet over several 64-bit words") {
  WorkerSet s(130);
  CHECK(s.size() == 130);
  CHECK_FALSE(s.any());
  CHECK(s.next(0) == WorkerSet::kNone);
  s.set(0);
  s.set(63);
  s.set(64);
  s.set(129);
  CHECK(s.count() == 4);
  CHECK(s.next(0) == 0);
  CHECK(s.next(1) == 63);
  CHECK(s.next(64) == 64);
  CHECK(s.next(65) == 129);
  CHECK(s.next(130) == WorkerSet::kNone);
  CHECK(s.next(500) == WorkerSet::kNone);
  s.clear(63);
  CHECK_FALSE(s.has(63));
  CHECK(s.next(1) == 64);
  s.fill();
  CHECK(s.count() == 130);
  CHECK(s.has(129));
  WorkerSet empty(0);
  CHECK(empty.next(0) == WorkerSet::kNone);
  CHECK(empty.count() == 0);
}

// ---- cfcfs and the hooks every policy shares ----

TEST_CASE("cfcfs: serves in arrival order on any idle worker, waking the lowest idle one") {
  Cfcfs p(2, 4096);
  CHECK(std::string(p.name()) == "cfcfs");
  CHECK(p.workers() == 2);
  CHECK(idle_list(p) == std::vector<uint32_t>{0, 1});
  Verdict v = p.on_arrival(item(1), 0);
  CHECK(v.admit == Admit::kQueued);
  CHECK(v.wake == 0);
  Dispatch d;
  REQUIRE(p.next_for_worker(0, 0, &d));
  CHECK(d.item.handle == 1);
  CHECK(d.budget_ns == kRunToCompletion);
  CHECK(p.on_arrival(item(2), 1).wake == 1);
  REQUIRE(p.next_for_worker(1, 1, &d));
  CHECK(d.item.handle == 2);
  for (uint32_t h : {3u, 4u, 5u}) {
    v = p.on_arrival(item(h), 2 + h);
    CHECK(v.admit == Admit::kQueued);
    CHECK(v.wake == kNoWorker);
  }
  CHECK(p.queued() == 3);
  p.on_completion(1, item(2), 5, 7);
  CHECK(p.idle().has(1));
  REQUIRE(p.next_for_worker(1, 7, &d));
  CHECK(d.item.handle == 3);
  CHECK(d.item.enq_ns == 5);  // on_arrival stamped it
  CHECK_FALSE(p.idle().has(1));
  CHECK(p.queued() == 2);
  const PolicyCounters& c = p.counters();
  CHECK(c.n_arrivals == 5);
  CHECK(c.n_dispatched == 3);
  CHECK(c.n_completed == 1);
  // An empty queue leaves the worker idle.
  Cfcfs e(1, 4);
  CHECK_FALSE(e.next_for_worker(0, 0, &d));
  CHECK(e.idle().has(0));
  CHECK(e.counters().n_dispatched == 0);
}

TEST_CASE("cfcfs: drops and counts when its queue is full") {
  Cfcfs p(1, 2);
  Driver d(p);
  CHECK(d.arrive(0) == Admit::kQueued);  // runs
  CHECK(d.arrive(0) == Admit::kQueued);
  CHECK(d.arrive(0) == Admit::kQueued);
  CHECK(d.arrive(0) == Admit::kDropFull);
  CHECK(p.queued() == 2);
  CHECK(p.counters().n_arrivals == 4);
  CHECK(p.counters().n_drop_full == 1);
  CHECK(p.counters().n_dispatched == 1);
  d.drain(10);
  CHECK(handles({d.log[0].second, d.log[1].second, d.log[2].second}) == std::vector<uint32_t>{1, 2, 3});
  CHECK(p.counters().n_completed == 3);
}

TEST_CASE("clone rule: a clone with no idle worker is dropped and counted, never queued, with one it runs") {
  Cfcfs p(1, 4096);
  Driver d(p);
  CHECK(d.arrive(0, wire::kCloneClone) == Admit::kQueued);
  CHECK(d.running.at(0).handle == 1);
  CHECK(d.arrive(0, wire::kCloneClone) == Admit::kDropClone);
  CHECK(d.arrive(0, wire::kCloneOriginal) == Admit::kQueued);
  CHECK(d.arrive(0, wire::kCloneNone) == Admit::kQueued);
  CHECK(p.queued() == 2);
  CHECK(p.counters().n_drop_clone == 1);
  CHECK(p.counters().n_drop_full == 0);
  CHECK(p.counters().n_arrivals == 4);
  // The clone rule runs before the queue is looked at: a full queue still drops a clone as a clone.
  Cfcfs full(1, 1);
  Driver f(full);
  f.arrive(0);
  f.arrive(0);
  CHECK(f.arrive(0, wire::kCloneClone) == Admit::kDropClone);
  CHECK(f.arrive(0) == Admit::kDropFull);
}

TEST_CASE("policy: non-preemptive policies run on at a slice end, at no cost") {
  Cfcfs p(1, 8);
  Driver d(p);
  d.arrive(0);
  d.arrive(0);
  uint64_t budget = 7, cost = 7;
  CHECK(p.on_slice_end(0, d.running.at(0), 100, &budget, &cost) == SliceEnd::kContinue);
  CHECK(budget == kRunToCompletion);
  CHECK(cost == 0);
  CHECK(p.queued() == 1);
  CHECK(p.tick_ns() == 0);
  CHECK_FALSE(p.fluid());
  CHECK(p.next_departure_ns() == kNever);
  CHECK(p.reservation() == nullptr);
}

// ---- bouncing ----

TEST_CASE("bounce: purges the matching groups in queue order, flags them BOUNCED, never bounces twice") {
  Cfcfs p(1, 4096);
  p.on_arrival(item(1, 0, 0, 0), 0);
  Dispatch d;
  REQUIRE(p.next_for_worker(0, 0, &d));  // the running request is never bounced
  p.on_arrival(item(2, 0, 0, 1), 1);
  p.on_arrival(item(3, 0, 0, 2), 2);
  p.on_arrival(item(4, 0, wire::kFlagBounced, 1), 3);
  p.on_arrival(item(5, 0, wire::kCloneOriginal, 1), 4);
  BounceFilter f;
  CHECK(f.empty());
  f.add(1);
  CHECK_FALSE(f.empty());
  std::vector<Item> out;
  CHECK(p.bounce(f, &out) == 2);
  CHECK(handles(out) == std::vector<uint32_t>{2, 5});
  for (const Item& it : out) CHECK(is_bounced(it.flags));
  CHECK(out[1].flags == (wire::kCloneOriginal | wire::kFlagBounced));  // clone bits kept
  CHECK(out[0].enq_ns == 1);
  CHECK(p.queued() == 2);
  CHECK(p.counters().n_bounced == 2);
  // Nothing left to bounce: the bounced one (4) stays.
  out.clear();
  CHECK(p.bounce(f, &out) == 0);
  p.on_completion(0, d.item, 10, 10);
  REQUIRE(p.next_for_worker(0, 10, &d));
  CHECK(d.item.handle == 3);
  p.on_completion(0, d.item, 10, 20);
  REQUIRE(p.next_for_worker(0, 20, &d));
  CHECK(d.item.handle == 4);
}

TEST_CASE("bounce: the filter matches by group or by type, over the whole 0-255 range") {
  BounceFilter g;
  g.add(0);
  g.add(63);
  g.add(64);
  g.add(255);
  CHECK(g.match(item(1, 9, 0, 0)));
  CHECK(g.match(item(1, 9, 0, 63)));
  CHECK(g.match(item(1, 9, 0, 64)));
  CHECK(g.match(item(1, 9, 0, 255)));
  CHECK_FALSE(g.match(item(1, 0, 0, 1)));
  CHECK_FALSE(g.match(item(1, 0, 0, 254)));
  BounceFilter t;
  t.by_type = true;
  t.add(200);
  CHECK(t.match(item(1, 200, 0, 3)));
  CHECK_FALSE(t.match(item(1, 3, 0, 200)));
  BounceFilter d;
  d.drain = true;
  CHECK_FALSE(d.empty());
  CHECK(d.match(item(1, 77, 0, 77)));
}

TEST_CASE("bounce: works by type in every queued policy, ps has no queue to purge") {
  for (const char* kind : {"cfcfs", "dfcfs", "darc", "ts"}) {
    PolicyConfig cfg;
    cfg.kind = kind;
    cfg.workers = 1;
    cfg.darc = given_cfg({{{1, 2}, 1}});
    std::string err;
    auto p = make_policy(cfg, &err);
    REQUIRE(p);
    CAPTURE(kind);
    Dispatch d;
    p->on_arrival(item(1, 1), 0);
    REQUIRE(p->next_for_worker(0, 0, &d));
    p->on_arrival(item(2, 2), 1);
    p->on_arrival(item(3, 1), 2);
    p->on_arrival(item(4, 2, wire::kFlagBounced), 3);
    BounceFilter f;
    f.by_type = true;
    f.add(2);
    std::vector<Item> out;
    CHECK(p->bounce(f, &out) == 1);
    CHECK(handles(out) == std::vector<uint32_t>{2});
    CHECK(p->queued() == 2);
    CHECK(p->counters().n_bounced == 1);
  }
  Ps ps(1);
  ps.on_arrival(item(1, 2), 0);
  BounceFilter f;
  f.by_type = true;
  f.add(2);
  std::vector<Item> out;
  CHECK(ps.bounce(f, &out) == 0);
  CHECK(ps.queued() == 1);
}

TEST_CASE("bounce: a drain filter is refused by bounce(), drain() empties every queue unflagged, uncounted") {
  Dfcfs p(2, 16, Dfcfs::Push::kRoundRobin, 1);
  for (uint32_t h = 1; h <= 5; h++) p.on_arrival(item(h, 0, h == 3 ? wire::kFlagBounced : 0), h);
  BounceFilter f;
  f.drain = true;
  std::vector<Item> out;
  CHECK(p.bounce(f, &out) == 0);
  CHECK(out.empty());
  CHECK(p.queued() == 5);
  CHECK(p.drain(&out) == 5);
  CHECK(p.queued() == 0);
  std::vector<uint32_t> hs = handles(out);
  std::sort(hs.begin(), hs.end());
  CHECK(hs == std::vector<uint32_t>{1, 2, 3, 4, 5});
  for (const Item& it : out) CHECK(is_bounced(it.flags) == (it.handle == 3));  // flags untouched
  CHECK(p.counters().n_bounced == 0);
  // bounce_from on a bare queue.
  ItemQueue q;
  q.push(item(1, 0, 0, 4));
  q.push(item(2, 0, wire::kFlagBounced, 4));
  q.push(item(3, 0, 0, 5));
  BounceFilter g;
  g.add(4);
  std::vector<Item> b;
  CHECK(bounce_from(&q, g, &b) == 1);
  CHECK(handles(b) == std::vector<uint32_t>{1});
  CHECK(q.size() == 2);
}

// ---- dfcfs ----

TEST_CASE("dfcfs: pushes round robin to per-worker queues and never moves a request to another worker") {
  Dfcfs p(2, 4096, Dfcfs::Push::kRoundRobin, 1);
  CHECK(std::string(p.name()) == "dfcfs");
  Driver d(p);
  d.arrive(0);
  CHECK(d.running.at(0).handle == 1);
  d.arrive(0);
  CHECK(d.running.at(1).handle == 2);
  const Verdict v = p.on_arrival(item(3), 0);  // worker 0's queue; worker 0 is busy
  CHECK(v.admit == Admit::kQueued);
  CHECK(v.wake == kNoWorker);
  d.now = 1;
  d.complete(1, 1);
  CHECK(d.running.count(1) == 0);  // idle, while worker 0 has a backlog
  CHECK(p.idle().has(1));
  CHECK(p.queued() == 1);
  d.now = 5;
  d.complete(0, 5);
  CHECK(d.running.at(0).handle == 3);
  CHECK(p.queued() == 0);
  d.check_no_idle_eligible();
}

TEST_CASE("dfcfs: random pushes are seeded, spread over every worker, and roughly uniform") {
  const auto run = [](uint64_t seed) {
    Dfcfs p(4, 4096, Dfcfs::Push::kRandom, seed);
    std::vector<uint32_t> wakes;
    for (uint32_t h = 0; h < 4000; h++) {
      const Verdict v = p.on_arrival(item(h), h);
      REQUIRE(v.wake != kNoWorker);  // every worker is idle: the chosen one is always woken
      wakes.push_back(v.wake);
      Dispatch d;
      REQUIRE(p.next_for_worker(v.wake, h, &d));
      REQUIRE(d.item.handle == h);
      p.on_completion(v.wake, d.item, 0, h);
      REQUIRE_FALSE(p.next_for_worker(v.wake, h, &d));
    }
    return wakes;
  };
  const auto a = run(9), b = run(9), c = run(10);
  CHECK(a == b);
  CHECK(a != c);
  int counts[4] = {};
  for (uint32_t w : a) counts[w]++;
  for (int n : counts) CHECK(std::abs(n - 1000) < 5 * 28);  // binomial sd sqrt(4000·¼·¾) ≈ 27
}

TEST_CASE("dfcfs: the clone rule asks about the queue the clone would join, full per-worker queues drop") {
  Dfcfs p(2, 1, Dfcfs::Push::kRoundRobin, 1);
  Driver d(p);
  d.arrive(0);  // #1 -> worker 0, runs
  // #2 -> worker 1, idle: the clone may run there.
  CHECK(d.arrive(0, wire::kCloneClone) == Admit::kQueued);
  CHECK(d.running.at(1).flags == wire::kCloneClone);
  d.now = 1;
  d.complete(1, 1);  // worker 1 idle, worker 0 busy
  // #3: worker 0's turn. Worker 1 is idle, but the clone would wait behind worker 0: dropped.
  CHECK(d.arrive(0, wire::kCloneClone) == Admit::kDropClone);
  CHECK(p.idle().has(1));
  CHECK(p.queued() == 0);
  // A dropped clone joined no queue: its turn passes to the next arrival (#4: worker 0's queue).
  CHECK(d.arrive(0) == Admit::kQueued);
  CHECK(p.queued() == 1);
  CHECK(d.running.count(1) == 0);
  CHECK(d.arrive(0, wire::kCloneClone) == Admit::kQueued);  // #5 -> worker 1, idle
  CHECK(d.running.at(1).flags == wire::kCloneClone);
  // #6 -> worker 0, whose queue holds #4 (capacity 1): dropped full.
  d.now = 2;
  d.complete(1, 1);
  CHECK(d.arrive(0) == Admit::kDropFull);
  CHECK(p.counters().n_drop_clone == 1);
  CHECK(p.counters().n_drop_full == 1);
}

// ---- ts ----

TEST_CASE("ts: hands out slices, runs on when nothing waits, requeues at the tail and charges the switch") {
  Ts p(1, 4096, 50 * kUs, 1 * kUs);
  CHECK(std::string(p.name()) == "ts");
  p.on_arrival(item(1), 0);
  Dispatch d;
  REQUIRE(p.next_for_worker(0, 0, &d));
  CHECK(d.budget_ns == 50 * kUs);
  const Item first = d.item;
  uint64_t budget = 0, cost = 99;
  CHECK(p.on_slice_end(0, first, 50 * kUs, &budget, &cost) == SliceEnd::kContinue);
  CHECK(budget == 50 * kUs);
  CHECK(cost == 0);
  CHECK(p.counters().n_preempted == 0);
  p.on_arrival(item(2), 60 * kUs);
  p.on_arrival(item(3), 70 * kUs);
  CHECK(p.on_slice_end(0, first, 100 * kUs, &budget, &cost) == SliceEnd::kRequeued);
  CHECK(budget == 50 * kUs);
  CHECK(cost == 1 * kUs);
  REQUIRE(p.next_for_worker(0, 101 * kUs, &d));
  CHECK(d.item.handle == 2);
  CHECK(p.queued() == 2);
  p.on_completion(0, d.item, 10, 101 * kUs + 10);
  REQUIRE(p.next_for_worker(0, 101 * kUs + 10, &d));
  CHECK(d.item.handle == 3);
  p.on_completion(0, d.item, 10, 101 * kUs + 20);
  REQUIRE(p.next_for_worker(0, 101 * kUs + 20, &d));
  CHECK(d.item.handle == 1);
  CHECK(d.item.enq_ns == 0);  // a preempted request keeps its first arrival time
  CHECK(p.counters().n_preempted == 1);
  CHECK(p.counters().n_dispatched == 4);  // a preempted request counts again
  CHECK(p.counters().n_arrivals == 3);
}

TEST_CASE("ts: a full queue never drops a preempted request: it runs on") {
  Ts p(1, 1, 10, 5);
  p.on_arrival(item(1), 0);
  Dispatch d;
  REQUIRE(p.next_for_worker(0, 0, &d));
  CHECK(p.on_arrival(item(2), 1).admit == Admit::kQueued);
  uint64_t budget = 0, cost = 0;
  CHECK(p.on_slice_end(0, d.item, 10, &budget, &cost) == SliceEnd::kContinue);
  CHECK(cost == 0);
  CHECK(budget == 10);
  CHECK(p.queued() == 1);
  CHECK(p.counters().n_preempted == 0);
  CHECK(p.counters().n_drop_full == 0);
}

// ---- ps ----

TEST_CASE("ps: shares one worker between two requests: 1 µs and 3 µs of work leave at 2 µs and 4 µs") {
  Ps p(1);
  CHECK(p.fluid());
  CHECK(std::string(p.name()) == "ps");
  CHECK(p.next_departure_ns() == kNever);
  Item a = item(1), b = item(2);
  a.work_ns = 1000;
  b.work_ns = 3000;
  CHECK(p.on_arrival(a, 0).wake == kNoWorker);
  p.on_arrival(b, 0);
  CHECK(p.queued() == 2);
  CHECK(p.next_departure_ns() == 2000);
  Item out;
  CHECK_FALSE(p.pop_departure(1999, &out));
  REQUIRE(p.pop_departure(2000, &out));
  CHECK(out.handle == 1);
  CHECK(p.next_departure_ns() == 4000);
  CHECK_FALSE(p.pop_departure(3999, &out));
  REQUIRE(p.pop_departure(4000, &out));
  CHECK(out.handle == 2);
  CHECK(p.next_departure_ns() == kNever);
  CHECK_FALSE(p.pop_departure(5000, &out));
  CHECK(p.counters().n_dispatched == 2);
  // next_for_worker never hands anything out.
  Dispatch d;
  CHECK_FALSE(p.next_for_worker(0, 0, &d));
}

TEST_CASE("ps: runs up to k requests at full speed and shares beyond, idle time costs nothing") {
  Ps p(2);
  Item a = item(1), b = item(2), c = item(3);
  a.work_ns = 1000;
  b.work_ns = 3000;
  c.work_ns = 1000;
  p.on_arrival(a, 0);
  p.on_arrival(b, 0);
  CHECK(p.next_departure_ns() == 1000);
  p.on_arrival(c, 500);  // 3 requests on 2 workers from 500 ns: rate 2/3; #1 has 500 left
  CHECK(p.next_departure_ns() == 1250);
  Item out;
  REQUIRE(p.pop_departure(1250, &out));
  CHECK(out.handle == 1);
  // From 1250: #3 has 1000 − 750·(2/3) = 500 left, #2 3000 − 500 − 500 = 2000; two on two: rate 1.
  CHECK(p.next_departure_ns() == 1750);
  REQUIRE(p.pop_departure(1750, &out));
  CHECK(out.handle == 3);
  CHECK(p.next_departure_ns() == 3250);
  REQUIRE(p.pop_departure(3250, &out));
  CHECK(out.handle == 2);
  // A request arriving at an idle server long after runs at full speed.
  Item e = item(4);
  e.work_ns = 700;
  p.on_arrival(e, 1000000);
  CHECK(p.next_departure_ns() == 1000700);
}

TEST_CASE("ps: n equal requests on one worker all leave together after n times their work") {
  for (const uint32_t n : {3u, 7u, 10u}) {
    for (const uint64_t work : {999ull, 1000ull, 12345ull}) {
      Ps p(1);
      for (uint32_t h = 1; h <= n; h++) {
        Item it = item(h);
        it.work_ns = work;
        p.on_arrival(it, 0);
      }
      CAPTURE(n);
      CAPTURE(work);
      const uint64_t t = p.next_departure_ns();
      CHECK(t == n * work);
      Item out;
      CHECK_FALSE(p.pop_departure(t - 1, &out));
      for (uint32_t i = 0; i < n; i++) REQUIRE(p.pop_departure(t, &out));
      CHECK(p.queued() == 0);
      CHECK(p.next_departure_ns() == kNever);
    }
  }
}

TEST_CASE("ps: departure times are rounded up to whole ns") {
  Ps p(2);
  for (uint32_t h = 1; h <= 3; h++) {
    Item it = item(h);
    it.work_ns = h == 1 ? 1001 : 5000;
    p.on_arrival(it, 0);
  }
  // Three on two workers: rate 2/3; 1001 ns of work take 1501.5 ns.
  CHECK(p.next_departure_ns() == 1502);
  Item out;
  CHECK_FALSE(p.pop_departure(1501, &out));
  REQUIRE(p.pop_departure(1502, &out));
  CHECK(out.handle == 1);
}

TEST_CASE("ps: the clone rule: a clone runs only while fewer than k requests are present") {
  Ps p(2);
  Item it = item(1, 0, wire::kCloneClone);
  it.work_ns = 100;
  CHECK(p.on_arrival(it, 0).admit == Admit::kQueued);
  it.handle = 2;
  CHECK(p.on_arrival(it, 0).admit == Admit::kQueued);
  it.handle = 3;
  CHECK(p.on_arrival(it, 0).admit == Admit::kDropClone);
  it.flags = wire::kCloneOriginal;
  CHECK(p.on_arrival(it, 0).admit == Admit::kQueued);
  CHECK(p.queued() == 3);
  CHECK(p.counters().n_drop_clone == 1);
}

// ---- darc: the reservation rule ----

TEST_CASE("darc: cores per group: 1 below 1, floor up to a fraction of .5, ceil above") {
  CHECK(darc_cores(0.0) == 1);
  CHECK(darc_cores(0.2) == 1);
  CHECK(darc_cores(0.999) == 1);
  CHECK(darc_cores(1.0) == 1);
  CHECK(darc_cores(1.5) == 1);
  CHECK(darc_cores(1.5000001) == 2);
  CHECK(darc_cores(2.0) == 2);
  CHECK(darc_cores(2.5) == 2);
  CHECK(darc_cores(2.51) == 3);
  CHECK(darc_cores(11.88) == 12);
  CHECK(darc_cores(7.665) == 8);
  CHECK(darc_cores(std::nan("")) == 1);  // a profile that overflows makes demands NaN: never cast
}

TEST_CASE("darc reserve: bimodal 1 µs / 100 µs, 50/50, 12 workers: short 1 core, long the rest with the spillway") {
  const Reservation r = darc_reserve({{1, 1 * kUs, 0.5}, {2, 100 * kUs, 0.5}}, 12);
  REQUIRE(r.valid());
  CHECK(r.demand_of[1] == doctest::Approx(12.0 * 0.5 / 50.5));
  CHECK(r.demand_of[2] == doctest::Approx(12.0 * 50 / 50.5));
  CHECK(shape(r) == std::vector<GroupShape>{{{1}, 0, 1, false}, {{2}, 1, 11, true}});
  CHECK(r.groups[0].mean_ns == 1 * kUs);
  CHECK(r.groups[1].mean_ns == 100 * kUs);
  CHECK(r.spillway == 11);
  CHECK(serve_upto(r) == std::vector<int>{0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1});
  CHECK(r.group_of[1] == 0);
  CHECK(r.group_of[2] == 1);
  CHECK(r.group_of[3] == -1);
  CHECK(r.demand_of[3] == 0.0);
}

TEST_CASE("darc reserve: TPC-C on 16 workers: the paper's grouping, rounding up above .5, the last group spills") {
  const Reservation r = darc_reserve(
      {{20, 5 * kUs, 0.43}, {21, 6 * kUs, 0.04}, {22, 16 * kUs, 0.45}, {23, 62 * kUs, 0.04}, {24, 74 * kUs, 0.04}}, 16);
  REQUIRE(r.groups.size() == 3);
  CHECK(r.groups[0].demand == doctest::Approx(2.39 / 15.03 * 16));
  CHECK(r.groups[1].demand == doctest::Approx(7.2 / 15.03 * 16));
  CHECK(r.groups[2].demand == doctest::Approx(5.44 / 15.03 * 16));
  CHECK(shape(r) == std::vector<GroupShape>{{{20, 21}, 0, 3, false}, {{22}, 3, 8, false}, {{23, 24}, 11, 5, true}});
  double total = 0;
  for (int t = 0; t < 256; t++) total += r.demand_of[t];
  CHECK(total == doctest::Approx(16.0));
  // serve_upto never decreases with the worker index.
  for (size_t w = 1; w < r.serve_upto.size(); w++) CHECK(r.serve_upto[w] >= r.serve_upto[w - 1]);
}

TEST_CASE("darc reserve: a fraction of exactly .5 rounds down, and cores left over go to the last group") {
  const Reservation r = darc_reserve({{1, 10 * kUs, 0.5}, {2, 100 * kUs, 0.03}}, 4);
  CHECK(r.groups[0].demand == doctest::Approx(2.5));
  CHECK(r.groups[1].demand == doctest::Approx(1.5));
  CHECK(shape(r) == std::vector<GroupShape>{{{1}, 0, 2, false}, {{2}, 2, 2, false}});
}

TEST_CASE("darc reserve: a group that finds no core left gets the spillway core alone") {
  const Reservation r = darc_reserve({{1, 1 * kUs, 1}, {2, 10 * kUs, 0.1}, {3, 100 * kUs, 0.01}}, 2);
  CHECK(shape(r) == std::vector<GroupShape>{{{1}, 0, 1, false}, {{2}, 1, 1, false}, {{3}, 1, 1, true}});
  CHECK(serve_upto(r) == std::vector<int>{0, 2});
  CHECK(r.spillway == 1);
}

TEST_CASE("darc reserve: within 20 % is inclusive, just above starts a group, ties keep input order") {
  const Reservation in = darc_reserve({{1, 1000, 1}, {2, 1200, 1}}, 4);
  CHECK(in.groups.size() == 1);
  CHECK(in.groups[0].types == std::vector<uint8_t>{1, 2});
  const Reservation out = darc_reserve({{1, 1000, 1}, {2, 1200.01, 1}}, 4);
  CHECK(out.groups.size() == 2);
  // The group leader is its shortest type: 1440 is within 20 % of 1200 but not of 1000.
  const Reservation chain = darc_reserve({{1, 1000, 1}, {2, 1200, 1}, {3, 1440, 1}}, 4);
  REQUIRE(chain.groups.size() == 2);
  CHECK(chain.groups[0].types == std::vector<uint8_t>{1, 2});
  CHECK(chain.groups[1].types == std::vector<uint8_t>{3});
  // Sorted by mean, stable for equal means; the input order does not matter otherwise.
  const Reservation ties = darc_reserve({{9, 5000, 1}, {4, 1000, 1}, {7, 1000, 1}}, 4);
  CHECK(ties.groups[0].types == std::vector<uint8_t>{4, 7});
  CHECK(ties.groups[1].types == std::vector<uint8_t>{9});
  // A custom ratio.
  CHECK(darc_reserve({{1, 1000, 1}, {2, 1900, 1}}, 4, 2.0).groups.size() == 1);
}

TEST_CASE("darc reserve: share 0 and mean 0 are ignored, nothing active or no workers gives no reservation") {
  CHECK_FALSE(darc_reserve({{1, 1 * kUs, 0}}, 4).valid());
  CHECK_FALSE(darc_reserve({}, 4).valid());
  CHECK_FALSE(darc_reserve({{1, 1 * kUs, 1}}, 0).valid());
  CHECK_FALSE(darc_reserve({{1, 0, 1}}, 4).valid());
  const Reservation none = darc_reserve({}, 4);
  for (int t = 0; t < 256; t++) REQUIRE(none.group_of[t] == -1);
  const Reservation r = darc_reserve({{1, 1 * kUs, 0}, {2, 5 * kUs, 1}}, 4);
  CHECK(shape(r) == std::vector<GroupShape>{{{2}, 0, 4, false}});
  CHECK(r.group_of[1] == -1);
  CHECK(r.demand_of[2] == doctest::Approx(4.0));
}

TEST_CASE(
    "darc layout: given groups in order, zero-worker groups, the rest to the last group, over-subscription spills") {
  const Reservation a = darc_layout({{{1}, 2}, {{2, 3}, 1}}, 5);
  CHECK(shape(a) == std::vector<GroupShape>{{{1}, 0, 2, false}, {{2, 3}, 2, 3, false}});
  CHECK(serve_upto(a) == std::vector<int>{0, 0, 1, 1, 1});
  CHECK(a.group_of[3] == 1);
  CHECK(a.spillway == 4);
  const Reservation z = darc_layout({{{1}, 0}, {{2}, 2}}, 2);
  CHECK(shape(z) == std::vector<GroupShape>{{{1}, 0, 0, false}, {{2}, 0, 2, false}});
  CHECK(serve_upto(z) == std::vector<int>{1, 1});
  const Reservation over = darc_layout({{{1}, 2}, {{2}, 2}, {{3}, 1}}, 3);
  CHECK(shape(over) == std::vector<GroupShape>{{{1}, 0, 2, false}, {{2}, 2, 1, true}, {{3}, 2, 1, true}});
  CHECK(serve_upto(over) == std::vector<int>{0, 0, 2});
  const Reservation one = darc_layout({{{5}, 0}}, 3);
  CHECK(shape(one) == std::vector<GroupShape>{{{5}, 0, 3, false}});
}

// ---- darc: the policy ----

TEST_CASE("darc: short requests steal idle long cores, long requests never run on short cores") {
  Darc p(4, given_cfg({{{1}, 2}, {{2}, 2}}));
  CHECK(std::string(p.name()) == "darc");
  CHECK_FALSE(p.profiling());
  REQUIRE(p.reservation());
  CHECK(serve_upto(*p.reservation()) == std::vector<int>{0, 0, 1, 1});
  Driver d(p);
  d.arrive(1);
  d.arrive(1);
  CHECK(d.running.at(0).type == 1);
  CHECK(d.running.at(1).type == 1);
  d.arrive(1);  // both short cores busy: steals long core 2
  CHECK(d.running.at(2).type == 1);
  d.arrive(2);  // long takes its own core 3
  CHECK(d.running.at(3).type == 2);
  CHECK(d.arrive(2) == Admit::kQueued);  // no long core free: waits, though...
  d.now += 1 * kUs;
  d.complete(0, 1 * kUs);  // ...a short core frees: it must stay idle
  CHECK(d.running.count(0) == 0);
  CHECK(p.idle().has(0));
  CHECK(p.queued() == 1);
  d.complete(2, 1 * kUs);  // the stolen long core frees: the long request runs there
  CHECK(d.running.at(2).type == 2);
  d.check_no_idle_eligible();
}

TEST_CASE("darc: a freed core looks at the shortest group first, or with owner_first at its own group first") {
  for (const bool owner_first : {false, true}) {
    DarcConfig cfg = given_cfg({{{1}, 1}, {{2}, 1}});
    cfg.owner_first = owner_first;
    Darc p(2, cfg);
    Driver d(p);
    d.arrive(2);  // worker 1
    d.arrive(1);  // worker 0
    d.now = 10;
    d.arrive(2);  // queued, older
    d.now = 20;
    d.arrive(1);  // queued, newer
    d.now = 30;
    d.complete(1, 30);
    CAPTURE(owner_first);
    CHECK(d.running.at(1).type == (owner_first ? 2 : 1));
    // Worker 0 may only ever run the short group.
    d.complete(0, 30);
    if (owner_first) {
      CHECK(d.running.at(0).type == 1);
    } else {
      CHECK(d.running.count(0) == 0);  // the long request waits for worker 1
      CHECK(p.queued() == 1);
    }
    d.check_no_idle_eligible();
  }
}

TEST_CASE("darc: a zero-worker group runs only on longer groups' idle cores, ahead of their requests") {
  Darc p(2, given_cfg({{{1}, 0}, {{2}, 2}}));
  CHECK(serve_upto(*p.reservation()) == std::vector<int>{1, 1});
  Driver d(p);
  d.arrive(2);
  d.arrive(2);
  d.now = 1;
  d.arrive(2);  // older
  d.now = 2;
  d.arrive(1);  // newer, shorter: goes first
  d.now = 3;
  d.complete(0, 3);
  CHECK(d.running.at(0).type == 1);
  d.complete(1, 3);
  CHECK(d.running.at(1).type == 2);
  CHECK(p.queued() == 0);
}

TEST_CASE("darc: the spillway core (the last worker) serves unknown types, after the groups it runs") {
  Darc p(3, given_cfg({{{1}, 1}, {{2}, 2}}));
  CHECK(p.reservation()->spillway == 2);
  Driver d(p);
  d.arrive(9);  // unknown type: straight to the idle spillway
  CHECK(d.running.at(2).type == 9);
  d.arrive(9);
  CHECK(p.queued() == 1);
  CHECK(d.running.size() == 1);  // workers 0 and 1 stay idle: they may not run unknown types
  d.check_no_idle_eligible();
  d.arrive(2);             // long takes worker 1
  d.arrive(2);             // and queues behind it
  d.complete(2, 5 * kUs);  // the spillway runs the queued long request before the unknown one
  CHECK(d.running.at(2).type == 2);
  d.complete(2, 5 * kUs);
  CHECK(d.running.at(2).type == 9);
  // A clone of an unknown type may only start on an idle spillway.
  CHECK(d.arrive(9, wire::kCloneClone) == Admit::kDropClone);
}

TEST_CASE("darc: drops a clone that no idle eligible worker can start, queues an original") {
  Darc p(3, given_cfg({{{1}, 1}, {{2}, 2}}));
  Driver d(p);
  d.arrive(2);
  d.arrive(2);                                                 // both long cores busy; the short core is idle
  CHECK(d.arrive(2, wire::kCloneClone) == Admit::kDropClone);  // a long clone cannot use the short core
  CHECK(d.arrive(2, wire::kCloneOriginal) == Admit::kQueued);  // the original waits
  CHECK(d.arrive(1, wire::kCloneClone) == Admit::kQueued);     // a short clone can start on the idle short core
  CHECK(d.running.at(0).type == 1);
  CHECK(p.counters().n_drop_clone == 1);
}

TEST_CASE("darc: per-type queues drop when full, within a group the oldest goes first, whatever its type") {
  Darc p(1, given_cfg({{{1, 2}, 1}}, 2));
  Driver d(p);
  d.arrive(1);  // handle 1 runs
  d.now = 1;
  CHECK(d.arrive(2) == Admit::kQueued);  // handle 2, the oldest queued
  d.now = 2;
  CHECK(d.arrive(1) == Admit::kQueued);
  CHECK(d.arrive(1) == Admit::kQueued);
  CHECK(d.arrive(1) == Admit::kDropFull);  // type 1's queue holds 2
  CHECK(d.arrive(2) == Admit::kQueued);    // type 2's queue has room
  CHECK(p.queued() == 4);
  CHECK(p.counters().n_drop_full == 1);
  d.now = 10;
  d.complete(0, 10);
  CHECK(d.running.at(0).handle == 2);  // type 2, though type 1 comes first in the group
  d.complete(0, 10);
  CHECK(d.running.at(0).handle == 3);
}

TEST_CASE("darc: given reservations never change by themselves") {
  Darc p(4, given_cfg({{{1}, 1}, {{2}, 3}}));
  Driver d(p);
  CHECK(p.counters().n_reserved == 1);
  d.feed(1, 50 * kUs, 2000);  // the "short" type is now the long one: DARC would re-reserve
  d.fill(1, 4);
  d.arrive(1);
  d.arrive(1);
  d.now += 1000 * kUs;
  d.arrive(1);
  CHECK(p.counters().n_reserved == 1);
  std::vector<uint32_t> counts;
  for (const auto& g : p.reservation()->groups) counts.push_back(g.count);
  CHECK(counts == std::vector<uint32_t>{1, 3});
  CHECK(p.type_mean_ns(1) == 0.0);  // given mode learns nothing
}

TEST_CASE("darc: profiles as cFCFS (oldest first, any worker), then reserves from what it measured") {
  {
    DarcConfig cfg;
    cfg.profile_samples = 1000;
    Darc p(1, cfg);
    CHECK(p.profiling());
    CHECK(p.reservation() == nullptr);
    Driver d(p);
    d.arrive(2);
    d.now = 1;
    d.arrive(2);
    d.now = 2;
    d.arrive(1);
    d.now = 3;
    d.complete(0, 3);
    CHECK(d.running.at(0).type == 2);  // oldest first: no shortest-first while profiling
  }
  DarcConfig cfg;
  cfg.profile_samples = 1000;
  Darc p(12, cfg);
  Driver d(p);
  for (int i = 0; i < 500; i++) {
    d.feed(1, 1 * kUs, 1);
    REQUIRE(p.profiling());
    d.feed(2, 100 * kUs, 1);
  }
  REQUIRE_FALSE(p.profiling());
  const Reservation want = darc_reserve({{1, 1 * kUs, 500}, {2, 100 * kUs, 500}}, 12);
  CHECK(shape(*p.reservation()) == shape(want));
  CHECK(p.reservation()->demand_of[2] == want.demand_of[2]);
  CHECK(p.counters().n_reserved == 1);
  CHECK(d.kicks == 1);
  CHECK(p.type_mean_ns(1) == 1.0 * kUs);
  CHECK(p.type_mean_ns(2) == 100.0 * kUs);
  // A type never seen while profiling is unknown: only the spillway (11) runs it.
  d.arrive(7);
  CHECK(d.running.at(11).type == 7);
  d.arrive(7);
  CHECK(p.queued() == 1);
  d.check_no_idle_eligible();
}

TEST_CASE("darc: shares come from arrivals, means from completions") {
  DarcConfig cfg;
  cfg.profile_samples = 200;
  Darc p(2, cfg);
  Driver d(p);
  d.feed(1, 1 * kUs, 100);
  for (int i = 0; i < 200; i++) d.arrive(2);  // 2 run, 198 wait
  for (int i = 0; i < 100; i++) {
    REQUIRE(p.profiling());
    d.now += 10 * kUs;
    d.complete(d.running.begin()->first, 10 * kUs);
  }
  REQUIRE_FALSE(p.profiling());
  const Reservation by_arrivals = darc_reserve({{1, 1 * kUs, 100}, {2, 10 * kUs, 200}}, 2);
  const Reservation by_completions = darc_reserve({{1, 1 * kUs, 100}, {2, 10 * kUs, 100}}, 2);
  CHECK(p.reservation()->demand_of[2] == by_arrivals.demand_of[2]);
  CHECK(p.reservation()->demand_of[2] != by_completions.demand_of[2]);
  CHECK(p.type_mean_ns(2) == 10.0 * kUs);
}

TEST_CASE("darc: a warm profile starts from its reservation, a starved type keeps its previous mean") {
  DarcConfig cfg;
  cfg.warm = {{1, 1 * kUs, 0.5}, {2, 100 * kUs, 0.5}};
  cfg.recheck_samples = 10;
  Darc p(4, cfg);
  REQUIRE_FALSE(p.profiling());
  CHECK(p.counters().n_reserved == 1);
  CHECK(shape(*p.reservation()) == shape(darc_reserve(cfg.warm, 4)));
  CHECK(p.type_mean_ns(2) == 100.0 * kUs);
  Driver d(p);
  // Three long requests occupy workers 1-3 and never complete; the short type runs on worker 0.
  for (int i = 0; i < 3; i++) d.arrive(2);
  CHECK(d.running.size() == 3);
  CHECK(d.running.count(0) == 0);
  d.feed(1, 1 * kUs, 20);
  // The re-check trigger: the 2nd-oldest queued long request waited longer than the long mean.
  d.arrive(2);
  d.arrive(2);
  d.now += 101 * kUs;
  d.arrive(2);
  CHECK(p.counters().n_reserved == 2);  // the short demand moved by far more than 10 %
  const Reservation* r = p.reservation();
  REQUIRE(r);
  // Type 2 arrived 6 times and never completed: still in, with its warm mean of 100 µs.
  CHECK(r->group_of[2] >= 0);
  CHECK(r->demand_of[2] == doctest::Approx(4.0 * 6 * 100 / (20 * 1 + 6 * 100)));
  CHECK(p.type_mean_ns(2) == 100.0 * kUs);
}

TEST_CASE("darc: re-reserves on the re-check trigger only when a demand moved by more than 10 % or the types changed") {
  DarcConfig cfg;
  cfg.profile_samples = 400;
  cfg.recheck_samples = 200;
  Darc p(4, cfg);
  Driver d(p);
  const auto window = [&](double short_share, int extra_type) {
    for (int i = 0; i < 400; i++) {
      const bool is_short = i % 100 < short_share * 100;
      if (extra_type >= 0 && i % 20 == 0)
        d.feed(static_cast<uint8_t>(extra_type), 50 * kUs, 1);
      else
        d.feed(is_short ? 1 : 2, is_short ? 10 * kUs : 40 * kUs, 1);
    }
  };
  // Fill every worker, then queue three short requests; when the third arrives, the 2nd-oldest
  // has waited longer than the short mean (10 µs).
  const auto trigger = [&] {
    d.fill(1, 4);  // short requests may run on every core (stealing)
    d.arrive(1);
    d.arrive(1);
    d.now += 11 * kUs;
    d.arrive(1);
    d.drain(10 * kUs);
  };
  window(0.5, -1);
  CHECK(p.counters().n_reserved == 1);
  CHECK(shape(*p.reservation()) == std::vector<GroupShape>{{{1}, 0, 1, false}, {{2}, 1, 3, false}});
  window(0.52, -1);  // demands move by a few %: no re-reservation
  trigger();
  CHECK(p.counters().n_reserved == 1);
  window(0.8, -1);  // the short demand more than doubles
  trigger();
  CHECK(p.counters().n_reserved == 2);
  CHECK(shape(*p.reservation()) == std::vector<GroupShape>{{{1}, 0, 2, false}, {{2}, 2, 2, false}});
  window(0.8, 3);  // the same mix plus a new type: the active set changed
  trigger();
  CHECK(p.counters().n_reserved == 3);
  CHECK(p.reservation()->group_of[3] >= 0);
  CHECK(d.kicks == 3);
}

TEST_CASE("darc: the re-check waits for recheck_samples completions") {
  DarcConfig cfg;
  cfg.warm = {{1, 10 * kUs, 0.5}, {2, 40 * kUs, 0.5}};
  cfg.recheck_samples = 50;
  Darc p(2, cfg);
  Driver d(p);
  d.feed(1, 10 * kUs, 49);  // only short requests: the long type vanished from the window
  d.fill(1, 2);
  d.arrive(1);
  d.arrive(1);
  d.now += 11 * kUs;
  d.arrive(1);
  CHECK(p.counters().n_reserved == 1);  // 49 < 50 completions
  d.drain(10 * kUs);
  d.fill(1, 2);
  d.arrive(1);
  d.arrive(1);
  d.now += 11 * kUs;
  d.arrive(1);
  CHECK(p.counters().n_reserved == 2);  // the window now holds enough; type 2 left the active set
  CHECK(p.reservation()->group_of[2] == -1);
}

TEST_CASE("darc: the re-check trigger is the wait of the 2nd-oldest queued request of the type, not the oldest's") {
  DarcConfig cfg;
  cfg.warm = {{1, 10 * kUs, 0.5}, {2, 40 * kUs, 0.5}};
  cfg.recheck_samples = 5;
  Darc p(2, cfg);
  Driver d(p);
  d.feed(1, 10 * kUs, 10);  // the long type vanished from the window: a re-check would re-reserve
  d.fill(1, 2);
  d.arrive(1);  // the oldest queued
  d.now += 11 * kUs;
  d.arrive(1);  // the oldest has waited 11 µs > 10 µs, the 2nd-oldest (this one) nothing
  CHECK(p.counters().n_reserved == 1);
  d.now += 11 * kUs;
  d.arrive(1);  // now the 2nd-oldest has waited 11 µs
  CHECK(p.counters().n_reserved == 2);
  CHECK(p.reservation()->group_of[2] == -1);
}

TEST_CASE("darc: random fake-clock workloads keep the rules on every dispatch, given and profiled") {
  for (const bool profiled : {false, true}) {
    DarcConfig cfg = given_cfg({{{1}, 2}, {{2}, 4}});
    if (profiled) {
      cfg = DarcConfig();
      cfg.profile_samples = 300;
      cfg.recheck_samples = 100;
    }
    Darc p(6, cfg);
    Driver d(p);
    pallas::Rng rng(42, profiled);
    int stolen = 0;
    size_t checked = 0;
    for (int step = 0; step < 20000; step++) {
      d.now += rng.below(3 * kUs);
      if (rng.uniform() < 0.55 || d.running.empty()) {
        d.arrive(rng.uniform() < 0.8 ? 1 : 2);
      } else {
        auto it = d.running.begin();
        std::advance(it, rng.below(static_cast<uint32_t>(d.running.size())));
        d.complete(it->first, it->second.type == 1 ? 1 * kUs : 30 * kUs);
      }
      if (step % 7 == 0) d.check_no_idle_eligible();
      const Reservation* r = p.reservation();
      if (!r) {  // profiling: cFCFS, any worker runs anything
        checked = d.log.size();
        continue;
      }
      for (; checked < d.log.size(); checked++) {
        const uint32_t w = d.log[checked].first;  // no structured binding: clang 14 cannot capture one
        const Item it = d.log[checked].second;
        const int g = r->group_of[it.type];
        if (g < 0) {
          CHECK_MESSAGE(w == r->spillway, "unknown type " << int(it.type) << " ran on worker " << w);
          continue;
        }
        CHECK_MESSAGE(r->serve_upto[w] >= g, "type " << int(it.type) << " ran on worker " << w);
        if (g == 0 && r->serve_upto[w] > 0) stolen++;
      }
    }
    CAPTURE(profiled);
    CHECK(p.reservation() != nullptr);
    CHECK(stolen > 0);
    if (profiled) CHECK(p.counters().n_reserved >= 1);
  }
}

// ---- epochs and handover ----

TEST_CASE("epoch: the first arrival of a type after an epoch bounces the longer types, once each") {
  std::array<uint8_t, 256> served{};
  std::array<double, 256> mean{};
  mean[1] = 1 * kUs;
  mean[2] = 5 * kUs;
  mean[3] = 20 * kUs;
  mean[4] = 100 * kUs;
  served[2] = served[3] = 1;  // the server now serves 2 and 3
  EpochBounce e;
  CHECK_FALSE(e.armed());
  e.on_epoch(served, mean);
  CHECK(e.armed());  // 3 and 4 are longer than the shortest served type (2)
  BounceFilter f;
  CHECK_FALSE(e.on_arrival(9, &f));  // unknown mean: never bounces anything
  CHECK(e.armed());
  REQUIRE(e.on_arrival(3, &f));  // bounces what is longer than 3: type 4
  CHECK(f.by_type);
  CHECK(f.match(item(1, 4)));
  CHECK_FALSE(f.match(item(1, 3)));
  CHECK_FALSE(f.match(item(1, 2)));
  CHECK(e.armed());                  // 3 is still to bounce, at a shorter arrival
  CHECK_FALSE(e.on_arrival(3, &f));  // nothing longer than 3 is left
  CHECK_FALSE(e.on_arrival(4, &f));
  REQUIRE(e.on_arrival(2, &f));
  CHECK(f.match(item(1, 3)));
  CHECK_FALSE(f.match(item(1, 4)));  // already bounced once
  CHECK_FALSE(e.armed());
  CHECK_FALSE(e.on_arrival(1, &f));
  // Types not longer than the shortest served type are never bounced.
  std::array<uint8_t, 256> only_long{};
  only_long[4] = 1;
  e.on_epoch(only_long, mean);
  CHECK_FALSE(e.armed());
  CHECK_FALSE(e.on_arrival(1, &f));
}

TEST_CASE("epoch: wired to a policy, the bounce takes the longer queued requests back") {
  std::array<uint8_t, 256> served{};
  std::array<double, 256> mean{};
  mean[1] = 1 * kUs;
  mean[2] = 50 * kUs;
  served[1] = 1;
  Cfcfs p(1, 64);
  Dispatch d;
  p.on_arrival(item(1, 2), 0);
  REQUIRE(p.next_for_worker(0, 0, &d));
  p.on_arrival(item(2, 2), 1);
  p.on_arrival(item(3, 2), 2);
  EpochBounce e;
  e.on_epoch(served, mean);
  BounceFilter f;
  std::vector<Item> out;
  REQUIRE(e.on_arrival(1, &f));
  CHECK(p.bounce(f, &out) == 2);
  p.on_arrival(item(4, 1), 3);
  CHECK(handles(out) == std::vector<uint32_t>{2, 3});
  CHECK(p.queued() == 1);
}

TEST_CASE("handover: queued requests move in arrival order with their times, busy workers stay busy") {
  Dfcfs from(2, 16, Dfcfs::Push::kRoundRobin, 1);
  Driver d(from);
  for (int i = 0; i < 5; i++) {
    d.now = static_cast<uint64_t>(i);
    d.arrive(0);  // 1 -> w0 runs, 2 -> w1 runs, 3 -> w0's queue, 4 -> w1's, 5 -> w0's
  }
  REQUIRE(from.queued() == 3);
  Cfcfs to(2, 16);
  std::vector<Item> dropped;
  handover(from, to, 100, &dropped);
  CHECK(dropped.empty());
  CHECK(from.queued() == 0);
  CHECK(to.queued() == 3);
  CHECK(idle_list(to).empty());  // both workers run the predecessor's requests
  CHECK(to.counters().n_arrivals == 0);
  CHECK(from.counters().n_bounced == 0);
  std::vector<std::pair<uint32_t, uint64_t>> got;
  for (int i = 0; i < 3; i++) {
    to.on_completion(0, item(0), 1, 200);
    Dispatch x;
    REQUIRE(to.next_for_worker(0, 200, &x));
    got.emplace_back(x.item.handle, x.item.enq_ns);
  }
  CHECK(got == std::vector<std::pair<uint32_t, uint64_t>>{{3, 2}, {4, 3}, {5, 4}});
}

TEST_CASE("handover: a successor with a full queue hands the rest back as dropped, into darc by its rules") {
  Cfcfs from(1, 16);
  Driver d(from);
  for (int i = 0; i < 4; i++) {
    d.now = static_cast<uint64_t>(i);
    d.arrive(0);
  }
  Cfcfs small(1, 1);
  std::vector<Item> dropped;
  handover(from, small, 10, &dropped);
  CHECK(small.queued() == 1);
  CHECK(handles(dropped) == std::vector<uint32_t>{3, 4});
  // cfcfs -> darc with reservations: the successor's own rules apply from then on.
  Cfcfs c(2, 16);
  Driver e(c);
  e.arrive(2);
  e.arrive(2);
  e.now = 1;
  e.arrive(2);
  e.now = 2;
  e.arrive(1);
  Darc darc(2, given_cfg({{{1}, 1}, {{2}, 1}}));
  dropped.clear();
  handover(c, darc, 3, &dropped);
  CHECK(dropped.empty());
  CHECK(darc.queued() == 2);
  CHECK(idle_list(darc).empty());
  darc.on_completion(0, item(0, 2), 1, 5);
  Dispatch x;
  REQUIRE(darc.next_for_worker(0, 5, &x));  // worker 0 serves the short group only
  CHECK(x.item.type == 1);
  CHECK(x.item.enq_ns == 2);
  darc.on_completion(0, x.item, 1, 6);
  CHECK_FALSE(darc.next_for_worker(0, 6, &x));
}

// ---- the factory ----

TEST_CASE("factory: builds every kind from its config, refuses no workers and unknown kinds") {
  std::string err;
  PolicyConfig cfg;
  cfg.workers = 0;
  CHECK(make_policy(cfg, &err) == nullptr);
  CHECK(err == "a server needs at least one worker");
  cfg.workers = 3;
  cfg.kind = "fifo";
  err.clear();
  CHECK(make_policy(cfg, &err) == nullptr);
  CHECK(err.find("unknown server policy 'fifo'") != std::string::npos);
  for (const char* kind : {"cfcfs", "dfcfs", "darc", "ts", "ps"}) {
    cfg.kind = kind;
    auto p = make_policy(cfg, &err);
    REQUIRE(p);
    CHECK(std::string(p->name()) == kind);
    CHECK(p->workers() == 3);
    CHECK(p->fluid() == (cfg.kind == "ps"));
  }
  // The queue capacity reaches each kind's queues (darc's per type, overriding its own).
  cfg.queue_capacity = 1;
  cfg.workers = 1;
  for (const char* kind : {"cfcfs", "ts", "darc", "dfcfs"}) {
    cfg.kind = kind;
    cfg.darc.queue_capacity = 4096;
    auto p = make_policy(cfg, &err);
    REQUIRE(p);
    CAPTURE(kind);
    Driver d(*p);
    CHECK(d.arrive(1) == Admit::kQueued);
    CHECK(d.arrive(1) == Admit::kQueued);
    CHECK(d.arrive(1) == Admit::kDropFull);
  }
  // ts: slice and switch cost; dfcfs: round robin; darc: given groups.
  cfg = PolicyConfig();
  cfg.kind = "ts";
  cfg.slice_ns = 777;
  cfg.switch_cost_ns = 33;
  auto ts = make_policy(cfg, &err);
  ts->on_arrival(item(1), 0);
  ts->on_arrival(item(2), 0);
  Dispatch x;
  REQUIRE(ts->next_for_worker(0, 0, &x));
  CHECK(x.budget_ns == 777);
  uint64_t budget = 0, cost = 0;
  CHECK(ts->on_slice_end(0, x.item, 777, &budget, &cost) == SliceEnd::kRequeued);
  CHECK(cost == 33);
  cfg = PolicyConfig();
  cfg.kind = "dfcfs";
  cfg.workers = 3;
  cfg.push_round_robin = true;
  auto df = make_policy(cfg, &err);
  std::vector<uint32_t> wakes;
  for (uint32_t h = 0; h < 6; h++) wakes.push_back(df->on_arrival(item(h), 0).wake);
  CHECK(wakes == std::vector<uint32_t>{0, 1, 2, 0, 1, 2});  // nobody started: every chosen worker is idle
  cfg = PolicyConfig();
  cfg.kind = "darc";
  cfg.workers = 4;
  cfg.darc = given_cfg({{{1}, 1}, {{2}, 3}});
  auto dc = make_policy(cfg, &err);
  REQUIRE(dc->reservation());
  CHECK(serve_upto(*dc->reservation()) == std::vector<int>{0, 1, 1, 1});
}
