// Runtime: the server side of Pallas (one per server). One dispatcher thread owns the transport
// and the intra-server policy (native/core/policy): it receives bursts, validates and classifies
// each request, runs the policy, hands requests to workers, and sends the replies, drop notices
// and bounced requests. N worker threads, pinned to configured cores, each run one request at a
// time through the handler configured for its type and hand the result back. Between the
// dispatcher and each worker: one single-value mailbox each way (mailbox.hpp); a worker holds at
// most one request, and the dispatcher hands it the next one only after taking its completion.
//
// Waiting: in busy-poll mode (deployment: isolated cores) no thread ever sleeps. In hybrid mode
// (shared machines, the default) a thread that found nothing `idle_polls` times in a row blocks:
// a worker on a futex the dispatcher rings when it hands it work; the dispatcher in poll() on the
// transport's descriptor and an eventfd the workers ring when they complete (transports without a
// descriptor: short sleeps).
//
// Threads and ownership: create/start/apply/stop are called from one control thread (the JS
// thread). The policy, the request buffers' free list and the dispatcher's stats cells are the
// dispatcher's alone; a policy update crosses over through a mailbox (mutex + flag) that the
// dispatcher checks once per loop. Statistics live in a StatsBlock (stats.hpp).
//
// Accounting (checked by the tests): every valid request received ends as exactly one of reply,
// counted drop (with a notice to the sender when drop_notices is on), or bounce; until then it is
// counted in queued or in_service.
#pragma once

#include <array>
#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "../core/policy/epoch.hpp"
#include "../core/policy/factory.hpp"
#include "../core/status.hpp"
#include "../core/wire/wire.hpp"
#include "../io/transport.hpp"
#include "../platform/tsc.hpp"
#include "kv.hpp"
#include "mailbox.hpp"
#include "stats.hpp"

namespace pallas::runtime {

// What a worker does for a request type.
enum class Work : uint8_t {
  kNone,   // no handler: the request is refused with a NO_HANDLER notice
  kZero,   // nothing: the reply is sent at once (benchmarks of the runtime itself)
  kSpin,   // spin on the TSC for the request's spin_ns
  kFixed,  // spin for a fixed time (the TPC-C profile: each transaction type's service time)
  kGet,    // RocksDB GET(count) from key
  kScan,   // RocksDB SCAN(count) from key
};

struct TypeWork {
  Work kind = Work::kNone;
  uint64_t fixed_ns = 0;  // kFixed
};

struct RuntimeConfig {
  uint8_t server_id = 0;
  uint32_t workers = 1;
  std::vector<int> worker_cores;  // empty, or one CPU per worker (-1: not pinned)
  int dispatcher_core = -1;
  bool busy_poll = false;
  uint32_t idle_polls = 200;  // hybrid: empty polls before a thread blocks
  uint32_t wait_us = 100000;  // hybrid: longest single block in poll() (every event also rings
                              // the eventfd, so this only bounds a missed wake-up)
  uint32_t slots = 16384;     // request buffers (a request holds one from arrival to reply)
  bool drop_notices = true;
  std::array<TypeWork, 256> work{};
  std::string kv_path;          // opened read-only when a type uses kGet or kScan
  policy::PolicyConfig policy;  // policy.workers is set to `workers`
};

// A new intra-server policy at a policy epoch (from the agent). With `served` set, requests of
// types longer than the shortest served type are bounced at the next shorter arrival (epoch.hpp).
struct PolicyUpdate {
  uint64_t epoch = 0;
  policy::PolicyConfig policy;
  bool has_served = false;
  std::array<uint8_t, 256> served{};
  std::array<double, 256> mean_ns{};
};

class Runtime {
 public:
  static Status create(std::unique_ptr<io::Transport> transport, RuntimeConfig cfg, std::unique_ptr<Runtime>* out);
  ~Runtime();
  Status start();
  // Stops workers (a running request is cut short and answered with a SHUTDOWN notice), then the
  // dispatcher, which drops what is queued with SHUTDOWN notices. Idempotent.
  void stop();
  // Applies a policy; returns once the dispatcher has switched to it (or at once when not
  // running). BAD_POLICY for a policy that cannot be built; TIMEOUT if the dispatcher is stuck.
  Status apply(PolicyUpdate u, uint32_t timeout_ms = 2000);

  bool running() const { return running_; }
  // CPU time (ns) the dispatcher has used, and each worker in `workers`; zeros when not running.
  // Control thread only (as start and stop).
  uint64_t thread_cpu_ns(std::vector<uint64_t>* workers);
  const io::Transport& transport() const { return *transport_; }
  StatsBlock& stats() { return *stats_; }
  // Stats row of each type (-1: no handler), and the types in row order.
  const std::vector<uint8_t>& row_types() const { return row_types_; }
  const char* policy_name() const { return policy_name_.c_str(); }

 private:
  struct Slot {
    io::Endpoint from;
    uint32_t len = 0;
    uint64_t arrive_ns = 0;
    uint64_t dispatch_ns = 0;
  };
  struct Job {
    policy::Item item;
  };
  struct Done {
    policy::Item item;
    uint32_t len;      // reply length (header + payload)
    uint32_t exec_ns;  // measured, saturated
    uint8_t aborted;   // cut short by stop()
  };
  struct Worker {
    Mailbox<Job> jobs;
    Mailbox<Done> done;
    alignas(64) std::atomic<uint32_t> bell{0};
    std::atomic<uint32_t> sleeping{0};
    std::thread thread;
  };

  Runtime() = default;
  void dispatcher_loop();
  void worker_loop(uint32_t w);
  uint32_t execute(const TypeWork& tw, uint8_t* buf, uint32_t len, bool* aborted);
  void spin_ns(uint64_t ns, bool* aborted);

  // Dispatcher-side steps.
  void on_rx(const io::RxPacket& p, uint64_t now);
  void on_done(uint32_t w, const Done& d, uint64_t now);
  void offer(uint32_t w, uint64_t now);
  void offer_idle(uint64_t now);
  void take_update(uint64_t now);
  void bounce(const policy::BounceFilter& f);
  void drop(uint32_t slot, uint8_t type, wire::DropCause cause, ServerCell cell, TypeCell tcell);
  void notice(const uint8_t* req, uint32_t len, const io::Endpoint& to, wire::DropCause cause);
  void send(const uint8_t* data, uint32_t len, const io::Endpoint& to, ServerCell cell);
  void flush();
  void shutdown_drain(uint64_t now);
  void publish_reservation();
  uint64_t outstanding() const;
  uint8_t* buf(uint32_t slot) { return buffers_.get() + size_t{slot} * wire::kMaxDatagram; }
  uint64_t* trow(uint8_t type) { return stats_->type_row(static_cast<uint32_t>(row_of_[type])); }
  void wake_dispatcher();

  RuntimeConfig cfg_;
  std::unique_ptr<io::Transport> transport_;
  std::unique_ptr<KvStore> kv_;
  std::unique_ptr<policy::Policy> policy_;
  std::string policy_name_;
  policy::EpochBounce epoch_;
  wire::TypeTable proto_types_ = wire::TypeTable::defaults();
  platform::TscClock clock_;

  std::unique_ptr<uint8_t[]> buffers_;
  std::vector<Slot> slots_;
  std::vector<uint32_t> free_;
  std::vector<std::unique_ptr<Worker>> workers_;
  std::array<int16_t, 256> row_of_{};
  std::vector<uint8_t> row_types_;
  std::unique_ptr<StatsBlock> stats_;

  // TX batch: entries point into buffers_ or notice_buf_; slots freed after the flush.
  io::TxPacket tx_[io::kMaxBurst];
  uint32_t n_tx_ = 0;
  ServerCell tx_cell_[io::kMaxBurst];
  std::vector<uint32_t> free_after_flush_;
  uint8_t notice_buf_[io::kMaxBurst][wire::kHeaderSize + 1];
  uint32_t n_notice_ = 0;
  std::vector<policy::Item> scratch_;

  std::thread dispatcher_;
  std::atomic<bool> stop_workers_{false};
  std::atomic<bool> stop_dispatcher_{false};
  std::atomic<uint32_t> disp_sleeping_{0};
  int efd_ = -1;
  bool running_ = false;
  bool stopped_ = false;
  bool draining_ = false;  // dispatcher: stopping, hand workers nothing more

  std::mutex mu_;
  std::condition_variable cv_;
  std::unique_ptr<PolicyUpdate> pending_update_;
  std::unique_ptr<policy::Policy> pending_policy_;
  std::atomic<bool> pending_{false};
  uint64_t applied_epoch_ = 0;  // guarded by mu_
  uint64_t applied_count_ = 0;  // guarded by mu_
};

}  // namespace pallas::runtime
