// SoftSwitch implementation: see soft_switch.hpp.
#include "soft_switch.hpp"

#include <pthread.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstring>

#include "../core/switch/pipeline.hpp"
#include "../io/wait.hpp"
#include "../platform/thread_cpu.hpp"
#include "../platform/tsc.hpp"

namespace pallas::softswitch {

namespace {

constexpr uint32_t kReplyTx = UINT32_MAX;  // tx_server_ of a send to a client

uint64_t addr_key(const io::Endpoint& e) { return (uint64_t{e.ip} << 16) | e.port; }

uint64_t get(const uint64_t* p) { return __atomic_load_n(p, __ATOMIC_RELAXED); }
void put(uint64_t* p, uint64_t v) { __atomic_store_n(p, v, __ATOMIC_RELAXED); }
void add(uint64_t* p, uint64_t d) { put(p, get(p) + d); }  // the switch thread is the only writer

}  // namespace

Status SoftSwitch::create(std::unique_ptr<io::Transport> transport, SwitchConfig cfg,
                          std::unique_ptr<SoftSwitch>* out) {
  if (cfg.servers.size() != cfg.policy.servers)
    return Status::Error("BAD_CONFIG",
                         "switch: give one address per server (" + std::to_string(cfg.policy.servers) + ")");
  if (cfg.policy.servers > 256)
    return Status::Error("BAD_CONFIG", "switch: at most 256 servers (the wire's server id is 8 bits)");
  if (cfg.client_slots < 2 || (cfg.client_slots & (cfg.client_slots - 1)) != 0 || cfg.client_slots > (1u << 24))
    return Status::Error("BAD_CONFIG", "switch: clientSlots must be a power of two in [2, 16777216]");
  if (cfg.slots < 1 || cfg.slots > (1u << 22))
    return Status::Error("BAD_CONFIG", "switch: slots must be in [1, 4194304]");
  std::unique_ptr<SoftSwitch> s(new SoftSwitch);
  std::string err;
  s->policy_ = sw::make_dispatcher(cfg.policy, &err);
  if (!s->policy_) return Status::Error("BAD_POLICY", "switch: " + err);
  s->servers_ = cfg.servers;
  for (uint32_t i = 0; i < s->servers_.size(); i++)
    if (s->servers_[i].ip != 0) s->server_by_addr_[addr_key(s->servers_[i])] = i;
  s->clients_.resize(cfg.client_slots);
  s->buffers_.assign(size_t{cfg.slots} * wire::kMaxDatagram, 0);  // touched now, not on the hot path
  s->slots_.resize(cfg.slots);
  s->free_.reserve(cfg.slots);
  for (uint32_t i = cfg.slots; i-- > 0;) s->free_.push_back(i);
  s->out_.reserve(64);
  s->cells_ = {std::vector<uint64_t>(kCells, 0), std::vector<uint64_t>(256 * kTypeCells, 0),
               std::vector<uint64_t>(size_t{cfg.policy.servers} * kServerCells, 0),
               std::vector<uint64_t>(kRegisterCells, 0)};
  s->is_touched_.assign(256, 0);
  s->efd_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (s->efd_ < 0) return Status::Error("SOCKET", "switch: eventfd failed");
  s->transport_ = std::move(transport);
  s->cfg_ = std::move(cfg);
  *out = std::move(s);
  return Status::Ok();
}

SoftSwitch::~SoftSwitch() {
  stop();
  if (efd_ >= 0) close(efd_);
}

Status SoftSwitch::start() {
  if (running_) return Status::Ok();
  if (stopped_) return Status::Error("STOPPED", "this switch has been stopped; create a new one");
  stop_.store(false);
  thread_ = std::thread([this] { loop(); });
  pthread_setname_np(thread_.native_handle(), "pallas-switch");
  running_ = true;
  if (cfg_.core >= 0) {
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cfg_.core, &set);
    if (pthread_setaffinity_np(thread_.native_handle(), sizeof set, &set) != 0) {
      stop();
      return Status::Error("PIN", "cannot pin the switch to CPU " + std::to_string(cfg_.core) +
                                      " (does it exist, and is it in this process's cpuset?)");
    }
  }
  return Status::Ok();
}

uint64_t SoftSwitch::thread_cpu_ns() {
  return running_ && thread_.joinable() ? platform::thread_cpu_ns(thread_.native_handle()) : 0;
}

void SoftSwitch::stop() {
  if (!running_) return;
  stop_.store(true);
  const uint64_t one = 1;
  [[maybe_unused]] ssize_t r = write(efd_, &one, sizeof one);
  if (thread_.joinable()) thread_.join();
  transport_->close();  // frees the port for a successor (stats stay readable)
  running_ = false;
  stopped_ = true;
  // Commands queued after the thread's last look fail rather than hang their callers.
  std::lock_guard<std::mutex> g(mu_);
  for (auto& c : commands_) {
    c->result = Status::Error("STOPPED", "the switch stopped");
    c->done = true;
  }
  commands_.clear();
  cv_.notify_all();
}

Status SoftSwitch::call(std::function<Status()> fn, uint32_t timeout_ms) {
  if (!running_) return fn();  // no switch thread: the caller's thread owns everything
  auto c = std::make_shared<Command>();
  c->fn = std::move(fn);
  std::unique_lock<std::mutex> g(mu_);
  if (!running_) {  // stopped meanwhile: the switch thread is gone, so this thread owns everything (as above)
    g.unlock();
    return c->fn();
  }
  commands_.push_back(c);
  pending_.store(true, std::memory_order_release);
  const uint64_t one = 1;
  [[maybe_unused]] ssize_t r = write(efd_, &one, sizeof one);
  if (!cv_.wait_for(g, std::chrono::milliseconds(timeout_ms), [&] { return c->done; })) {
    // Still queued: withdraw it, so that it never runs after we said it failed.
    auto it = std::find(commands_.begin(), commands_.end(), c);
    if (it != commands_.end()) {
      commands_.erase(it);
      return Status::Error("TIMEOUT",
                           "the switch thread did not take the command within " + std::to_string(timeout_ms) + " ms");
    }
    cv_.wait(g, [&] { return c->done; });  // it is running now: its result is coming
  }
  return c->result;
}

void SoftSwitch::run_commands() {
  std::unique_lock<std::mutex> g(mu_);
  while (!commands_.empty()) {
    std::shared_ptr<Command> c = commands_.front();
    commands_.pop_front();
    g.unlock();
    Status st = c->fn();
    g.lock();
    c->result = std::move(st);
    c->done = true;
  }
  pending_.store(false, std::memory_order_relaxed);
  cv_.notify_all();
}

Status SoftSwitch::load(const sw::Tables& t) {
  for (const sw::GroupTable& g : t.groups)
    for (const sw::WrrEntry& e : g.wrr)
      if (e.server >= servers_.size())
        return Status::Error("BAD_POLICY", "a WRR entry names server " + std::to_string(e.server) +
                                               " but the switch has " + std::to_string(servers_.size()));
  return call([this, t] {
    Status st = policy_->load(t);
    if (st.ok()) add(cell(kTablesLoaded), 1);
    return st;
  });
}

Status SoftSwitch::set_server(uint32_t index, const io::Endpoint& e) {
  if (index >= servers_.size())
    return Status::Error("BAD_CONFIG", "server index " + std::to_string(index) + " is out of range (" +
                                           std::to_string(servers_.size()) + ")");
  return call([this, index, e] {
    if (servers_[index].ip != 0) server_by_addr_.erase(addr_key(servers_[index]));
    servers_[index] = e;
    if (e.ip != 0) server_by_addr_[addr_key(e)] = index;
    return Status::Ok();
  });
}

int SoftSwitch::server_of(const io::Endpoint& from) const {
  const auto it = server_by_addr_.find(addr_key(from));
  return it == server_by_addr_.end() ? -1 : static_cast<int>(it->second);
}

// ---- the switch thread ---------------------------------------------------------------------------

void SoftSwitch::loop() {
  io::Transport& t = *transport_;
  t.thread_enter();
  const platform::TscClock clock = platform::TscClock::calibrate();
  io::RxPacket in[io::kMaxBurst];
  uint32_t idle = 0, spins = 0;
  while (!stop_.load(std::memory_order_relaxed)) {
    const uint64_t start = clock.now_ns();
    bool busy = false;
    put(cell(kSeq), get(cell(kSeq)) + 1);
    __atomic_thread_fence(__ATOMIC_RELEASE);
    if (pending_.load(std::memory_order_acquire)) {
      run_commands();
      busy = true;
    }
    const uint32_t n = t.rx(in, io::kMaxBurst);
    const uint64_t now = n ? clock.now_ns() : start;
    for (uint32_t i = 0; i < n; i++) on_packet(in[i], now);
    flush();
    if (n) {
      busy = true;
      publish();
    }
    add(cell(kLoops), 1);
    if (busy) add(cell(kBusyNs), clock.now_ns() - start);
    __atomic_store_n(cell(kSeq), get(cell(kSeq)) + 1, __ATOMIC_RELEASE);
    if (busy) {
      idle = 0;
      continue;
    }
    if (cfg_.busy_poll || ++idle < cfg_.idle_polls) {
      io::poll_pause(++spins);
      continue;
    }
    // Hybrid: block until a datagram, a command or stop.
    if (!pending_.load() && !stop_.load()) io::block_rx(t, efd_, cfg_.wait_us);
    io::drain_eventfd(efd_);
    idle = 0;
  }
  // Commands that arrived while we were stopping run now (stop() fails any later ones).
  if (pending_.load()) run_commands();
  t.thread_exit();
}

void SoftSwitch::on_packet(const io::RxPacket& p, uint64_t now) {
  add(cell(kRx), 1);
  wire::Header h;
  // No type table here: like the Tofino, the switch takes any request type and the shaper sends a
  // type it has no entry for to the default group (counted n_unmapped); the server, which knows
  // its handlers, refuses a type it cannot run (docs/wire-format.md, docs/switch-contract.md).
  const wire::Reason r = wire::validate(p.data, p.len, nullptr, &h);
  if (r != wire::Reason::kOk) {
    add(cell(kCellsBase + static_cast<uint32_t>(r)), 1);
    return;
  }
  const int server = server_of(p.from);
  if (h.flags & wire::kFlagResponse) {
    if (server < 0) {
      add(cell(kReplyNotServer), 1);
      return;
    }
    on_reply(p, h, server, now);
    return;
  }
  const bool bounced = (h.flags & wire::kFlagBounced) != 0;
  if (bounced && server < 0) {
    add(cell(kBadBounce), 1);  // only a server hands a request back
    return;
  }
  on_request(p, h, bounced ? server : -1, now);
}

void SoftSwitch::on_request(const io::RxPacket& p, const wire::Header& h, int server, uint64_t now) {
  const bool bounced = server >= 0;
  if (free_.empty()) {
    add(cell(kDropNoBuffer), 1);
    return;
  }
  const uint32_t slot = free_.back();
  free_.pop_back();
  slots_[slot] = Slot{p.len, true};
  uint8_t* b = buf(slot);
  std::memcpy(b, p.data, p.len);
  const sw::ReqIn in = sw::request_in(h, slot, bounced, static_cast<uint16_t>(server));
  if (!bounced) b[wire::off::flags] = in.flags;  // a client's request: clone state cleared in the copy too
  add(&trow(h.type)[kTRequests], 1);
  if (!is_touched_[h.type]) {  // its monitor cells (mon_requests) change
    is_touched_[h.type] = 1;
    touched_.push_back(h.type);
  }
  out_.clear();
  const sw::Fate fate = policy_->on_request(in, now, &out_);
  // An index for the baselines' policies, which leave it to us (Pallas assigns its own).
  uint32_t fresh = 0;
  if (!bounced && !out_.empty() && out_.front().index == 0) {
    fresh = next_index_;
    next_index_ = next_index_ == UINT32_MAX ? 1 : next_index_ + 1;
  }
  if (!bounced) {
    const uint32_t index = out_.empty() ? 0 : (out_.front().index ? out_.front().index : fresh);
    if (index != 0) clients_[index & (cfg_.client_slots - 1)] = ClientEntry{index, p.from};
  }
  for (const sw::Send& s : out_) emit(s.handle, s, s.handle == slot ? fresh : 0);
  for (const sw::Send& s : out_) release(s.handle);  // emit() copied them
  if (fate == sw::Fate::kHeld) {
    // Held at the switch (draconis, jbsq): remember the client now, the index comes at release.
    // Baselines that hold leave the index to us: give it one now and write it into the buffer.
    if (in.index == 0 && !bounced) {
      const uint32_t index = next_index_;
      next_index_ = next_index_ == UINT32_MAX ? 1 : next_index_ + 1;
      wire::store_be32(b + wire::off::index, index);
      clients_[index & (cfg_.client_slots - 1)] = ClientEntry{index, p.from};
    }
    return;
  }
  release(slot);
}

void SoftSwitch::emit(uint32_t handle, const sw::Send& s, uint32_t fresh_index) {
  uint8_t* b = buf(handle);
  const uint32_t index = s.index ? s.index : (fresh_index ? fresh_index : wire::load_be32(b + wire::off::index));
  if (s.server >= servers_.size() || servers_[s.server].ip == 0) {
    add(cell(kDropNotWired), 1);
  } else {
    if (n_tx_ == io::kMaxBurst) flush();
    uint8_t* o = tx_buf_[n_tx_];
    std::memcpy(o, b, slots_[handle].len);
    o[wire::off::group] = s.group;
    o[wire::off::flags] = s.flags;
    wire::store_be32(o + wire::off::index, index);
    stage(o, slots_[handle].len, servers_[s.server], s.server);
  }
}

void SoftSwitch::on_reply(const io::RxPacket& p, const wire::Header& h, int server, uint64_t now) {
  add(&srow(static_cast<uint32_t>(server))[kSReplies], 1);
  put(&srow(static_cast<uint32_t>(server))[kSQueueLen], h.queue_len);
  out_.clear();
  const bool forward = policy_->on_reply(sw::reply_in(h, static_cast<uint16_t>(server)), now, &out_);
  if (!is_touched_[h.type]) {
    is_touched_[h.type] = 1;
    touched_.push_back(h.type);
  }
  for (const sw::Send& s : out_) emit(s.handle, s, 0);  // requests the reply released
  for (const sw::Send& s : out_) release(s.handle);
  if (!forward) return;
  const ClientEntry& c = clients_[h.index & (cfg_.client_slots - 1)];
  if (c.index != h.index || h.index == 0) {
    add(cell(kReplyNoClient), 1);
    return;
  }
  if (n_tx_ == io::kMaxBurst) flush();
  std::memcpy(tx_buf_[n_tx_], p.data, p.len);
  stage(tx_buf_[n_tx_], p.len, c.ep, kReplyTx);
}

void SoftSwitch::stage(const uint8_t* data, uint32_t len, const io::Endpoint& to, uint32_t server) {
  tx_server_[n_tx_] = server;
  tx_[n_tx_++] = io::TxPacket{data, len, to};
}

void SoftSwitch::flush() {
  if (n_tx_) {
    const uint32_t sent = transport_->tx(tx_, n_tx_);
    for (uint32_t i = 0; i < sent; i++) {
      if (tx_server_[i] == kReplyTx) {
        add(cell(kFwdReplies), 1);
      } else {
        add(cell(kFwdRequests), 1);
        add(&srow(tx_server_[i])[kSSent], 1);
      }
    }
    if (sent < n_tx_) add(cell(kTxFailed), n_tx_ - sent);
    n_tx_ = 0;
  }
}

void SoftSwitch::release(uint32_t h) {
  if (!slots_[h].used) return;  // a clone's second send names the same buffer
  slots_[h].used = false;
  free_.push_back(h);
}

void SoftSwitch::publish() {
  const sw::DispatchCounters c = policy_->counters();
  put(cell(kRequests), c.n_requests);
  put(cell(kBounced), c.n_bounced);
  put(cell(kReplies), c.n_replies);
  put(cell(kCloned), c.n_cloned);
  put(cell(kUnmapped), c.n_unmapped);
  put(cell(kDropNoServer), c.n_drop_no_server);
  put(cell(kDropFull), c.n_drop_full);
  put(cell(kHeld), policy_->held());
  put(cell(kRepliesFiltered), c.n_replies_filtered);
  put(cell(kFilterEvicted), c.n_filter_evicted);
  put(cell(kCloneNotices), c.n_clone_drop_notices);
  const sw::Monitor* m = policy_->monitor();
  for (uint8_t t : touched_) {
    is_touched_[t] = 0;
    if (!m) continue;
    uint64_t* row = trow(t);
    put(&row[kTMonRequests], m->requests(t));
    put(&row[kTMonReplies], m->replies(t));
    put(&row[kTMonTimeUnits], m->time_units(t));
    put(&row[kTMonNotices], m->notices(t));
  }
  touched_.clear();
  if (const sw::Pipeline* p = policy_->pipeline()) {
    uint64_t* r = cells_[3].data();
    put(&r[0], p->seq());
    for (uint32_t g = 0; g < sw::kMaxGroups; g++) {
      put(&r[1 + g], p->wrr_counter().value(g));
      put(&r[1 + sw::kMaxGroups + g], p->clone_counter().value(g));
      put(&r[1 + 2 * sw::kMaxGroups + g], p->burst().window_of(g));
      put(&r[1 + 3 * sw::kMaxGroups + g], p->burst().count_of(g));
    }
  }
}

}  // namespace pallas::softswitch
