// Runtime implementation: see runtime.hpp.
#include "runtime.hpp"

#include <pthread.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstring>

#include "../core/policy/handover.hpp"
#include "../io/wait.hpp"
#include "../platform/thread_cpu.hpp"

namespace pallas::runtime {

namespace {

using policy::Admit;
using policy::Item;
using policy::kNoWorker;

Status pin_thread(std::thread& t, int core, const char* who) {
  if (core < 0) return Status::Ok();
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(core, &set);
  if (pthread_setaffinity_np(t.native_handle(), sizeof set, &set) != 0)
    return Status::Error("PIN", std::string("cannot pin the ") + who + " to CPU " + std::to_string(core) +
                                    " (does it exist, and is it in this process's cpuset?)");
  return Status::Ok();
}

uint32_t sat32(uint64_t v) { return v > 0xffffffffu ? 0xffffffffu : static_cast<uint32_t>(v); }

}  // namespace

Status Runtime::create(std::unique_ptr<io::Transport> transport, RuntimeConfig cfg, std::unique_ptr<Runtime>* out) {
  if (cfg.workers == 0 || cfg.workers > 1024)
    return Status::Error("BAD_CONFIG", "runtime: workers must be in [1, 1024]");
  if (!cfg.worker_cores.empty() && cfg.worker_cores.size() != cfg.workers)
    return Status::Error("BAD_CONFIG", "runtime: give one core per worker, or none");
  if (cfg.slots < cfg.workers + 1) return Status::Error("BAD_CONFIG", "runtime: slots must exceed the worker count");
  std::unique_ptr<Runtime> r(new Runtime);
  cfg.policy.workers = cfg.workers;
  std::string err;
  r->policy_ = policy::make_policy(cfg.policy, &err);
  if (!r->policy_) return Status::Error("BAD_POLICY", "runtime: " + err);
  if (r->policy_->fluid())
    return Status::Error("BAD_POLICY", "runtime: policy '" + cfg.policy.kind + "' is simulator-only");
  r->policy_name_ = r->policy_->name();
  bool needs_kv = false;
  r->row_of_.fill(-1);
  for (int t = 0; t < 256; t++) {
    const Work k = cfg.work[t].kind;
    if (k == Work::kNone) continue;
    if (!r->proto_types_.known[t])
      return Status::Error("BAD_CONFIG", "runtime: type " + std::to_string(t) + " is not in the wire format");
    const wire::PayloadKind pk = r->proto_types_.payload[t];
    if ((k == Work::kGet || k == Work::kScan) && pk != wire::PayloadKind::kKv)
      return Status::Error("BAD_CONFIG",
                           "runtime: type " + std::to_string(t) + " has no key/count payload for a RocksDB handler");
    if (k == Work::kSpin && pk != wire::PayloadKind::kSpin)
      return Status::Error("BAD_CONFIG",
                           "runtime: type " + std::to_string(t) + " has no spin_ns payload for the spin handler");
    needs_kv |= k == Work::kGet || k == Work::kScan;
    r->row_of_[t] = static_cast<int16_t>(r->row_types_.size());
    r->row_types_.push_back(static_cast<uint8_t>(t));
  }
  if (needs_kv) {
    if (cfg.kv_path.empty()) return Status::Error("BAD_CONFIG", "runtime: a RocksDB handler needs kv.path");
    if (Status st = KvStore::open(cfg.kv_path, &r->kv_); !st.ok()) return st;
  }
  r->stats_ = std::make_unique<StatsBlock>(static_cast<uint32_t>(r->row_types_.size()), cfg.workers);
  // Touched now, not on the hot path: first-touch page faults cost the dispatcher microseconds.
  r->buffers_.reset(new uint8_t[size_t{cfg.slots} * wire::kMaxDatagram]);
  std::memset(r->buffers_.get(), 0, size_t{cfg.slots} * wire::kMaxDatagram);
  r->slots_.resize(cfg.slots);
  r->free_.reserve(cfg.slots);
  for (uint32_t i = cfg.slots; i-- > 0;) r->free_.push_back(i);
  r->free_after_flush_.reserve(io::kMaxBurst);
  for (uint32_t w = 0; w < cfg.workers; w++) r->workers_.push_back(std::make_unique<Worker>());
  r->efd_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (r->efd_ < 0) return Status::Error("SOCKET", "runtime: eventfd failed");
  r->transport_ = std::move(transport);
  r->cfg_ = std::move(cfg);
  r->clock_ = platform::TscClock::calibrate();
  r->publish_reservation();
  *out = std::move(r);
  return Status::Ok();
}

uint64_t Runtime::thread_cpu_ns(std::vector<uint64_t>* workers) {
  workers->assign(workers_.size(), 0);
  if (!running_) return 0;
  for (size_t w = 0; w < workers_.size(); w++)
    if (workers_[w]->thread.joinable()) (*workers)[w] = platform::thread_cpu_ns(workers_[w]->thread.native_handle());
  return dispatcher_.joinable() ? platform::thread_cpu_ns(dispatcher_.native_handle()) : 0;
}

Runtime::~Runtime() {
  stop();
  if (efd_ >= 0) close(efd_);
}

Status Runtime::start() {
  if (running_) return Status::Ok();
  if (stopped_) return Status::Error("STOPPED", "this server has been stopped; create a new one");
  for (uint32_t w = 0; w < cfg_.workers; w++) {
    Worker& wk = *workers_[w];
    wk.thread = std::thread([this, w] { worker_loop(w); });
    const int core = cfg_.worker_cores.empty() ? -1 : cfg_.worker_cores[w];
    const std::string name = "pallas-w" + std::to_string(w);
    pthread_setname_np(wk.thread.native_handle(), name.c_str());
    if (Status st = pin_thread(wk.thread, core, ("worker " + std::to_string(w)).c_str()); !st.ok()) {
      running_ = true;
      stop();
      return st;
    }
  }
  dispatcher_ = std::thread([this] { dispatcher_loop(); });
  pthread_setname_np(dispatcher_.native_handle(), "pallas-disp");
  running_ = true;
  if (Status st = pin_thread(dispatcher_, cfg_.dispatcher_core, "dispatcher"); !st.ok()) {
    stop();
    return st;
  }
  return Status::Ok();
}

void Runtime::stop() {
  if (!running_) return;
  stop_workers_.store(true);
  for (auto& w : workers_) {
    w->bell.fetch_add(1);
    w->bell.notify_one();
  }
  for (auto& w : workers_)
    if (w->thread.joinable()) w->thread.join();
  stop_dispatcher_.store(true);
  wake_dispatcher();
  if (dispatcher_.joinable()) dispatcher_.join();
  transport_->close();  // frees the port for a successor (stats stay readable)
  running_ = false;
  stopped_ = true;
  std::lock_guard<std::mutex> g(mu_);
  cv_.notify_all();
}

Status Runtime::apply(PolicyUpdate u, uint32_t timeout_ms) {
  u.policy.workers = cfg_.workers;
  std::string err;
  std::unique_ptr<policy::Policy> p = policy::make_policy(u.policy, &err);
  if (!p) return Status::Error("BAD_POLICY", err);
  if (p->fluid()) return Status::Error("BAD_POLICY", "policy '" + u.policy.kind + "' is simulator-only");
  if (!running_) {
    // No dispatcher: switch in place (nothing is queued or running).
    policy_ = std::move(p);
    policy_name_ = policy_->name();
    publish_reservation();
    if (u.has_served) epoch_.on_epoch(u.served, u.mean_ns);
    cell_put(&stats_->server()[kEpoch], u.epoch);
    cell_add(&stats_->server()[kPolicies], 1);
    return Status::Ok();
  }
  std::unique_lock<std::mutex> g(mu_);
  const uint64_t target = applied_count_ + 1;
  pending_policy_ = std::move(p);
  pending_update_ = std::make_unique<PolicyUpdate>(std::move(u));
  pending_.store(true, std::memory_order_release);
  wake_dispatcher();
  if (!cv_.wait_for(g, std::chrono::milliseconds(timeout_ms), [&] { return applied_count_ >= target || !running_; }))
    return Status::Error("TIMEOUT",
                         "the dispatcher did not take the policy within " + std::to_string(timeout_ms) + " ms");
  return Status::Ok();
}

void Runtime::wake_dispatcher() {
  const uint64_t one = 1;
  [[maybe_unused]] ssize_t r = write(efd_, &one, sizeof one);
}

// ---- workers -----------------------------------------------------------------------------------

void Runtime::spin_ns(uint64_t ns, bool* aborted) {
  const uint64_t end = platform::rdtsc() + clock_.ticks(ns);
  uint32_t i = 0;
  while (platform::rdtsc() < end) {
    // A stop request cuts a long spin short (checked every few hundred ns, not every cycle).
    if ((++i & 63) == 0 && stop_workers_.load(std::memory_order_relaxed)) {
      *aborted = true;
      return;
    }
    platform::cpu_relax();
  }
}

uint32_t Runtime::execute(const TypeWork& tw, uint8_t* b, uint32_t len, bool* aborted) {
  uint8_t* payload = b + wire::kHeaderSize;
  switch (tw.kind) {
    case Work::kZero:
      return len;
    case Work::kSpin:
      spin_ns(wire::load_be32(payload), aborted);
      return len;
    case Work::kFixed:
      spin_ns(tw.fixed_ns, aborted);
      return len;
    case Work::kGet:
    case Work::kScan: {
      const uint32_t key = wire::load_be32(payload);
      const uint32_t count = (uint32_t{payload[4]} << 8) | payload[5];
      const uint32_t cap = wire::kMaxDatagram - wire::kHeaderSize;
      const uint32_t n =
          tw.kind == Work::kGet ? kv_->get(key, count, payload, cap) : kv_->scan(key, count, payload, cap);
      return wire::kHeaderSize + n;
    }
    case Work::kNone:
      break;
  }
  return len;
}

void Runtime::worker_loop(uint32_t w) {
  Worker& me = *workers_[w];
  uint64_t* row = stats_->worker_row(w);
  uint32_t idle = 0, spins = 0;
  Job job;
  while (!stop_workers_.load(std::memory_order_relaxed)) {
    const uint32_t bell = cfg_.busy_poll ? 0 : me.bell.load(std::memory_order_acquire);
    if (!me.jobs.take(&job)) {
      if (cfg_.busy_poll || ++idle < cfg_.idle_polls) {
        io::poll_pause(++spins);
        continue;
      }
      // Block until the dispatcher rings: it bumps `bell` after every push, so a push that
      // happened after we read `bell` makes wait() return at once (no lost wake-up). stop() rings
      // too, but it may have stored its flag after our check at the top and rung before we read
      // `bell`: check the flag again, after that read (seq_cst, as stop()'s store).
      me.sleeping.store(1, std::memory_order_seq_cst);
      if (me.jobs.empty() && !stop_workers_.load(std::memory_order_seq_cst)) {
        cell_add(&row[kWSleeps], 1);
        me.bell.wait(bell, std::memory_order_acquire);
      }
      me.sleeping.store(0, std::memory_order_relaxed);
      idle = 0;
      continue;
    }
    idle = 0;
    cell_put(&row[kWBusy], 1);
    const Slot& s = slots_[job.item.handle];
    bool aborted = false;
    const uint64_t t0 = platform::rdtsc();
    const uint32_t len = execute(cfg_.work[job.item.type], buf(job.item.handle), s.len, &aborted);
    const uint64_t t1 = platform::rdtsc();
    const uint64_t exec = clock_.ns(t1 - t0);
    cell_put(&row[kWBusy], 0);
    cell_add(&row[kWBusyNs], exec);
    cell_add(&row[kWCompleted], 1);
    const Done d{job.item, len, sat32(exec), static_cast<uint8_t>(aborted)};
    me.done.put(d);  // the dispatcher took our previous completion before it gave us this job
    // Ring the dispatcher if it is blocked (or about to): the fence orders our push before the
    // read of its flag, as its flag store is ordered before its re-check of our ring.
    std::atomic_thread_fence(std::memory_order_seq_cst);
    if (disp_sleeping_.load(std::memory_order_relaxed)) wake_dispatcher();
  }
}

// ---- dispatcher --------------------------------------------------------------------------------

void Runtime::dispatcher_loop() {
  io::Transport& t = *transport_;
  t.thread_enter();
  io::RxPacket in[io::kMaxBurst];
  uint64_t* sc = stats_->server();
  uint64_t next_tick = 0, next_res = 0;
  uint32_t idle = 0, spins = 0;
  scratch_.reserve(1024);
  // Acquire: stop() sets the flag after joining the workers, and shutdown_drain() then pops their
  // mailboxes; this load is what orders the workers' last accesses before that.
  while (!stop_dispatcher_.load(std::memory_order_acquire)) {
    bool busy = false;
    uint64_t now = clock_.now_ns();
    const uint64_t loop_start = now;
    stats_->begin();
    if (pending_.load(std::memory_order_acquire)) {
      take_update(now);
      busy = true;
    }
    for (uint32_t w = 0; w < cfg_.workers; w++) {
      Done d;
      while (workers_[w]->done.take(&d)) {
        on_done(w, d, now);
        busy = true;
      }
    }
    const uint32_t n = t.rx(in, io::kMaxBurst);
    if (n) {
      now = clock_.now_ns();
      for (uint32_t i = 0; i < n; i++) on_rx(in[i], now);
      busy = true;
    }
    if (const uint64_t tick = policy_->tick_ns(); tick > 0 && now >= next_tick) {
      policy_->on_tick(now);
      next_tick = now + tick;
    }
    if (policy_->take_kick()) offer_idle(now);
    // DARC may re-reserve on any completion: the stats show its reservation as of the last ms.
    if (now >= next_res) {
      publish_reservation();
      next_res = now + 1000000;
    }
    // Before the replies leave: a client that has its reply sees gauges that include it.
    cell_put(&sc[kQueued], policy_->queued());
    cell_put(&sc[kInService], outstanding() - policy_->queued());
    flush();
    cell_add(&sc[kLoops], 1);
    if (busy) cell_add(&sc[kBusyNs], clock_.now_ns() - loop_start);
    stats_->end();
    if (busy) {
      idle = 0;
      continue;
    }
    if (cfg_.busy_poll || ++idle < cfg_.idle_polls) {
      io::poll_pause(++spins);
      continue;
    }
    // Hybrid: block until a datagram, a completion, a policy or stop arrives.
    disp_sleeping_.store(1, std::memory_order_seq_cst);
    std::atomic_thread_fence(std::memory_order_seq_cst);
    bool work = pending_.load() || stop_dispatcher_.load();
    for (uint32_t w = 0; w < cfg_.workers && !work; w++) work = !workers_[w]->done.empty();
    if (!work) {
      cell_add(&sc[kSleeps], 1);
      io::block_rx(t, efd_, cfg_.wait_us);
    }
    disp_sleeping_.store(0, std::memory_order_relaxed);
    io::drain_eventfd(efd_);
    idle = 0;
  }
  shutdown_drain(clock_.now_ns());
  t.thread_exit();
}

uint64_t Runtime::outstanding() const { return policy_->queued() + (policy_->workers() - policy_->idle().count()); }

void Runtime::on_rx(const io::RxPacket& p, uint64_t now) {
  uint64_t* sc = stats_->server();
  cell_add(&sc[kRx], 1);
  wire::Header h;
  const wire::Reason r = wire::validate(p.data, p.len, &proto_types_, &h);
  if (r != wire::Reason::kOk) {
    cell_add(&sc[kServerCellsBase + static_cast<uint32_t>(r)], 1);
    return;
  }
  if (h.flags & wire::kFlagResponse) {
    cell_add(&sc[kUnexpectedReply], 1);
    return;
  }
  if (cfg_.work[h.type].kind == Work::kNone) {
    cell_add(&sc[kNoHandler], 1);
    notice(p.data, p.len, p.from, wire::DropCause::kNoHandler);
    return;
  }
  uint64_t* row = trow(h.type);
  cell_add(&row[kTReceived], 1);
  if (free_.empty()) {
    cell_add(&sc[kDropNoBuffer], 1);
    cell_add(&row[kTDropOther], 1);
    notice(p.data, p.len, p.from, wire::DropCause::kOverload);
    return;
  }
  const uint32_t slot = free_.back();
  free_.pop_back();
  std::memcpy(buf(slot), p.data, p.len);
  Slot& s = slots_[slot];
  s.from = p.from;
  s.len = p.len;
  s.arrive_ns = now;
  // Epoch bouncing runs before the arrival is queued: a shorter request purges the queues of the
  // longer types this server no longer serves first (epoch.hpp).
  if (epoch_.armed()) {
    policy::BounceFilter f;
    if (epoch_.on_arrival(h.type, &f)) bounce(f);
  }
  Item it;
  it.handle = slot;
  it.type = h.type;
  it.flags = h.flags;
  it.group = h.group;
  const policy::Verdict v = policy_->on_arrival(it, now);
  switch (v.admit) {
    case Admit::kQueued:
      cell_add(&row[kTQueued], 1);
      if (v.wake != kNoWorker) offer(v.wake, now);
      break;
    case Admit::kDropFull:
      drop(slot, h.type, wire::DropCause::kQueueFull, kDropFull, kTDropFull);
      break;
    case Admit::kDropClone:
      drop(slot, h.type, wire::DropCause::kCloneBusy, kDropClone, kTDropClone);
      break;
  }
}

void Runtime::offer(uint32_t w, uint64_t now) {
  policy::Dispatch d;
  if (!policy_->next_for_worker(w, now, &d)) return;
  uint64_t* row = trow(d.item.type);
  cell_put(&row[kTQueued], cell_get(&row[kTQueued]) - 1);
  cell_add(&row[kTDispatched], 1);
  Slot& s = slots_[d.item.handle];
  s.dispatch_ns = now;
  const uint64_t wait = now - s.arrive_ns;
  cell_add(&row[kTWaitNsSum], wait);
  cell_max(&row[kTWaitNsMax], wait);
  Worker& wk = *workers_[w];
  // The policy has the worker idle: it took its last job, and we took the completion of it.
  wk.jobs.put(Job{d.item});
  // Ring only a worker that sleeps (or is about to): with the bump and the flag both seq_cst, a
  // worker that set its flag after our read of it sees the bumped bell and does not block.
  // In busy-poll mode workers never block: leave the bell's cache line alone.
  if (cfg_.busy_poll) return;
  wk.bell.fetch_add(1, std::memory_order_seq_cst);
  if (wk.sleeping.load(std::memory_order_seq_cst)) wk.bell.notify_one();
}

void Runtime::offer_idle(uint64_t now) {
  const policy::WorkerSet idle = policy_->idle();  // a copy: offer() changes the policy's set
  for (uint32_t w = idle.next(0); w != kNoWorker; w = idle.next(w + 1)) offer(w, now);
}

void Runtime::on_done(uint32_t w, const Done& d, uint64_t now) {
  const uint32_t slot = d.item.handle;
  Slot& s = slots_[slot];
  uint64_t* row = trow(d.item.type);
  policy_->on_completion(w, d.item, d.exec_ns, now);
  if (d.aborted) {
    cell_add(&stats_->server()[kDropShutdown], 1);
    cell_add(&row[kTDropOther], 1);
    notice(buf(slot), s.len, s.from, wire::DropCause::kShutdown);
    free_.push_back(slot);
    return;
  }
  const uint32_t r = static_cast<uint32_t>(row_of_[d.item.type]);
  cell_add(&row[kTCompleted], 1);
  cell_add(&row[kTExecNsSum], d.exec_ns);
  const uint64_t sojourn = now - s.arrive_ns;
  cell_add(&row[kTSojournNsSum], sojourn);
  cell_add(&stats_->hist(r, 0)[LogBuckets::index(d.exec_ns)], 1);
  cell_add(&stats_->hist(r, 1)[LogBuckets::index(sojourn)], 1);
  uint8_t* b = buf(slot);
  wire::make_reply(b, cfg_.server_id, sat32(outstanding()), d.exec_ns);
  send(b, d.len, s.from, kReplies);
  free_after_flush_.push_back(slot);
  if (!draining_) offer(w, now);
}

void Runtime::bounce(const policy::BounceFilter& f) {
  scratch_.clear();
  policy_->bounce(f, &scratch_);
  for (const Item& it : scratch_) {
    uint64_t* row = trow(it.type);
    cell_put(&row[kTQueued], cell_get(&row[kTQueued]) - 1);
    cell_add(&row[kTBounced], 1);
    cell_add(&stats_->server()[kBounced], 1);
    uint8_t* b = buf(it.handle);
    b[wire::off::flags] = static_cast<uint8_t>(b[wire::off::flags] | wire::kFlagBounced);
    b[wire::off::server] =
        static_cast<uint8_t>(cfg_.server_id);  // the switch decrements this server's outstanding count
    send(b, slots_[it.handle].len, slots_[it.handle].from, kBounced);
    free_after_flush_.push_back(it.handle);
  }
}

void Runtime::drop(uint32_t slot, uint8_t type, wire::DropCause cause, ServerCell cell, TypeCell tcell) {
  cell_add(&stats_->server()[cell], 1);
  cell_add(&trow(type)[tcell], 1);
  notice(buf(slot), slots_[slot].len, slots_[slot].from, cause);
  free_.push_back(slot);  // notice() copied what it needs
}

void Runtime::notice(const uint8_t* req, uint32_t len, const io::Endpoint& to, wire::DropCause cause) {
  if (!cfg_.drop_notices) return;
  if (n_tx_ == io::kMaxBurst || n_notice_ == io::kMaxBurst) flush();
  uint8_t* b = notice_buf_[n_notice_++];
  std::memcpy(b, req, wire::kHeaderSize);
  wire::make_reply(b, cfg_.server_id, sat32(outstanding()), 0);
  b[wire::off::flags] = static_cast<uint8_t>(b[wire::off::flags] | wire::kFlagDropNotice);
  b[wire::kHeaderSize] = static_cast<uint8_t>(cause);
  send(b, wire::kHeaderSize + 1, to, kNotices);
}

void Runtime::send(const uint8_t* data, uint32_t len, const io::Endpoint& to, ServerCell cell) {
  if (n_tx_ == io::kMaxBurst) flush();
  tx_cell_[n_tx_] = cell;
  tx_[n_tx_++] = io::TxPacket{data, len, to};
}

void Runtime::flush() {
  uint64_t* sc = stats_->server();
  if (n_tx_) {
    const uint32_t sent = transport_->tx(tx_, n_tx_);
    // Count by kind what went out; the transport refuses a tail, never a hole.
    // (bounces are counted when they leave the policy, in bounce())
    for (uint32_t i = 0; i < sent; i++)
      if (tx_cell_[i] != kBounced) cell_add(&sc[tx_cell_[i]], 1);
    if (sent < n_tx_) cell_add(&sc[kTxFailed], n_tx_ - sent);
    n_tx_ = 0;
  }
  n_notice_ = 0;
  for (uint32_t s : free_after_flush_) free_.push_back(s);
  free_after_flush_.clear();
}

void Runtime::take_update(uint64_t now) {
  std::unique_ptr<policy::Policy> next;
  std::unique_ptr<PolicyUpdate> u;
  {
    std::lock_guard<std::mutex> g(mu_);
    next = std::move(pending_policy_);
    u = std::move(pending_update_);
    pending_.store(false, std::memory_order_relaxed);
  }
  if (next && u) {
    scratch_.clear();
    policy::handover(*policy_, *next, now, &scratch_);
    for (const Item& it : scratch_) {
      cell_put(&trow(it.type)[kTQueued], cell_get(&trow(it.type)[kTQueued]) - 1);
      drop(it.handle, it.type, wire::DropCause::kQueueFull, kDropHandover, kTDropOther);
    }
    policy_ = std::move(next);
    publish_reservation();
    if (u->has_served) epoch_.on_epoch(u->served, u->mean_ns);
    cell_put(&stats_->server()[kEpoch], u->epoch);
    cell_add(&stats_->server()[kPolicies], 1);
    offer_idle(now);
  }
  std::lock_guard<std::mutex> g(mu_);
  if (next == nullptr && u == nullptr) return;
  policy_name_ = policy_->name();
  applied_count_++;
  cv_.notify_all();
}

void Runtime::publish_reservation() {
  const policy::Reservation* res = policy_->reservation();
  cell_put(&stats_->server()[kResGroups], res ? res->groups.size() : 0);
  for (uint32_t r = 0; r < row_types_.size(); r++) {
    const uint8_t t = row_types_[r];
    const int g = res ? res->group_of[t] : -1;
    uint64_t* row = stats_->type_row(r);
    cell_put(&row[kTGroup], g >= 0 ? static_cast<uint64_t>(g) + 1 : 0);
    cell_put(&row[kTDemandMilli],
             g >= 0 ? static_cast<uint64_t>(std::llround(std::max(0.0, res->demand_of[t]) * 1000)) : 0);
  }
  for (uint32_t w = 0; w < cfg_.workers; w++) {
    uint64_t g = 0;
    if (res)
      for (size_t i = 0; i < res->groups.size(); i++)
        if (w >= res->groups[i].first && w < res->groups[i].first + res->groups[i].count) g = i + 1;
    cell_put(&stats_->worker_row(w)[kWGroup], g);
  }
}

void Runtime::shutdown_drain(uint64_t now) {
  // Workers have stopped: their last completions are in the rings. Those that finished are
  // answered as usual (on_done hands the worker nothing more while draining_), the cut-short ones
  // get SHUTDOWN notices.
  // A job a worker had not picked up yet when it stopped is cut short too (the worker threads are
  // joined, so popping their rings from here is safe).
  draining_ = true;
  for (uint32_t w = 0; w < cfg_.workers; w++) {
    Done d;
    while (workers_[w]->done.take(&d)) on_done(w, d, now);
    Job j;
    while (workers_[w]->jobs.take(&j)) on_done(w, Done{j.item, 0, 0, 1}, now);
  }
  scratch_.clear();
  policy_->drain(&scratch_);
  for (const Item& it : scratch_) {
    cell_put(&trow(it.type)[kTQueued], cell_get(&trow(it.type)[kTQueued]) - 1);
    drop(it.handle, it.type, wire::DropCause::kShutdown, kDropShutdown, kTDropOther);
  }
  flush();
  uint64_t* sc = stats_->server();
  cell_put(&sc[kQueued], 0);
  cell_put(&sc[kInService], 0);
}

}  // namespace pallas::runtime
