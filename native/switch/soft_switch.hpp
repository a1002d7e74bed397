// SoftSwitch: the software ToR switch, for racks without a Tofino (and the embedded default). One
// thread owns a transport and a switch policy from native/core/switch (the Pallas pipeline or a
// baseline's switch, through the Dispatcher interface: the same objects the simulator runs) and
// moves datagrams between clients and servers:
//
//   client request   validate → the policy (shaper → index → WRR → burst/clone, or a baseline)
//                    → header patched (group, flags, index) → to the chosen server(s)
//   bounced request  (from a server, flag BOUNCED) → the policy, with the current tables → server
//   server reply     validate → the policy (outstanding → filter → monitor) → to the client that sent it
//
// Kernel UDP cannot keep the client's source address when it forwards (a Tofino does), so the
// switch remembers each request's client in a ring keyed by the request index; a reply whose
// index is no longer there (more than `client_slots` requests later) is counted, not guessed.
// Requests a policy holds at the switch (draconis, jbsq) wait in request buffers.
//
// Control-plane operations (tables, server addresses) run on the switch thread between bursts:
// call() queues them and waits. Statistics and the monitor registers are published in shared
// memory (u64 cells with a sequence cell, as the runtime's) after every loop that did work: the
// monitor registers are cumulative 32-bit counters, as on a Tofino; the control plane takes
// differences between its reads.
#pragma once

#include <atomic>
#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "../core/status.hpp"
#include "../core/switch/dispatcher.hpp"
#include "../core/wire/wire.hpp"
#include "../io/transport.hpp"

namespace pallas::softswitch {

struct SwitchConfig {
  sw::DispatcherConfig policy;        // kind, servers, workers per server, seed, tables (pallas)
  std::vector<io::Endpoint> servers;  // address of each server index; ip 0 = absent (not wired)
  uint32_t client_slots = 1u << 18;   // requests whose client is remembered (power of two)
  uint32_t slots = 16384;             // request buffers (one per request a policy holds)
  bool busy_poll = false;
  uint32_t idle_polls = 200;
  uint32_t wait_us = 100000;
  int core = -1;  // the CPU to pin the switch's thread to (-1: not pinned)
};

// Switch cells, then n_invalid_<reason>.
// The cells and their names stay in rows as written (not one per line).
// clang-format off
enum Cell : uint32_t {
  kSeq, kRx, kRequests, kBounced, kReplies, kFwdRequests, kFwdReplies, kCloned, kUnmapped, kDropNoServer,
  kDropNoBuffer, kDropNotWired, kDropFull, kHeld, kRepliesFiltered, kFilterEvicted, kCloneNotices,
  kReplyNotServer, kReplyNoClient, kBadBounce, kTxFailed, kTablesLoaded, kLoops, kBusyNs, kCellsBase
};
inline constexpr const char* kCellNames[] = {
    "seq", "n_rx", "n_requests", "n_bounced", "n_replies", "n_fwd_requests", "n_fwd_replies", "n_cloned", "n_unmapped",
    "n_drop_no_server", "n_drop_no_buffer", "n_drop_not_wired", "n_drop_full", "held", "n_replies_filtered",
    "n_filter_evicted", "n_clone_drop_notices", "n_reply_not_server", "n_reply_no_client", "n_bad_bounce", "n_tx_failed",
    "n_tables_loaded", "n_loops", "busy_ns"};
// clang-format on
inline constexpr uint32_t kCells = kCellsBase + wire::kReasonCount;
// Per type (256 rows): the monitor registers (cumulative u32, as the switch keeps them) and requests seen.
enum TypeCell : uint32_t { kTMonRequests, kTMonReplies, kTMonTimeUnits, kTMonNotices, kTRequests, kTypeCells };
inline constexpr const char* kTypeCellNames[] = {"mon_requests", "mon_replies", "mon_time_units", "mon_notices",
                                                 "n_requests"};
// The Pallas pipeline's other registers (docs/switch-contract.md): seq, then per group (32)
// wrr_counter, clone_counter, burst window and burst count.
inline constexpr uint32_t kRegisterCells = 1 + 4 * sw::kMaxGroups;
// Per server: requests sent to it, replies from it, and the queue length of its last reply.
enum ServerCell : uint32_t { kSSent, kSReplies, kSQueueLen, kServerCells };
inline constexpr const char* kServerCellNames[] = {"n_sent", "n_replies", "queue_len"};

class SoftSwitch {
 public:
  static Status create(std::unique_ptr<io::Transport> transport, SwitchConfig cfg, std::unique_ptr<SoftSwitch>* out);
  ~SoftSwitch();
  Status start();
  // Idempotent. Requests held at the switch are discarded (the `held` cell keeps their count);
  // their clients time out, as behind a switch that loses power.
  void stop();
  // Installs Pallas tables (BAD_POLICY for a non-Pallas switch, malformed tables, or a WRR entry
  // naming a server index out of range; the old tables stay).
  Status load(const sw::Tables& t);
  // Sets (or, with ip 0, clears) the address of server `index`.
  Status set_server(uint32_t index, const io::Endpoint& e);

  bool running() const { return running_; }
  // CPU time (ns) the switch's thread has used; 0 when not running. The controlling thread only.
  uint64_t thread_cpu_ns();
  const char* policy_name() const { return policy_->name(); }
  const io::Transport& transport() const { return *transport_; }
  uint32_t server_count() const { return static_cast<uint32_t>(servers_.size()); }
  // Shared cells for the JS views: 0 switch, 1 types (256 rows), 2 servers, 3 registers.
  uint64_t* area(int i) { return cells_[i].data(); }
  size_t area_size(int i) const { return cells_[i].size(); }

 private:
  struct ClientEntry {
    uint32_t index = 0;  // 0: empty
    io::Endpoint ep;
  };
  struct Slot {
    uint32_t len = 0;
    bool used = false;  // holds a request (one being processed, or one a policy holds)
  };

  SoftSwitch() = default;
  Status call(std::function<Status()> fn, uint32_t timeout_ms = 2000);
  void loop();
  void run_commands();
  void on_packet(const io::RxPacket& p, uint64_t now);
  void on_request(const io::RxPacket& p, const wire::Header& h, int server,
                  uint64_t now);  // server: the sender's index, or -1 (a client)
  void on_reply(const io::RxPacket& p, const wire::Header& h, int server, uint64_t now);
  void emit(uint32_t handle, const sw::Send& s, uint32_t fresh_index);
  void stage(const uint8_t* data, uint32_t len, const io::Endpoint& to, uint32_t server);
  void flush();
  void release(uint32_t handle);
  void publish();
  int server_of(const io::Endpoint& from) const;
  uint8_t* buf(uint32_t slot) { return buffers_.data() + size_t{slot} * wire::kMaxDatagram; }
  uint64_t* cell(uint32_t c) { return &cells_[0][c]; }
  uint64_t* trow(uint8_t t) { return &cells_[1][size_t{t} * kTypeCells]; }
  uint64_t* srow(uint32_t s) { return &cells_[2][size_t{s} * kServerCells]; }

  SwitchConfig cfg_;
  std::unique_ptr<io::Transport> transport_;
  std::unique_ptr<sw::Dispatcher> policy_;
  std::vector<io::Endpoint> servers_;
  std::unordered_map<uint64_t, uint32_t> server_by_addr_;  // ip << 16 | port -> index
  std::vector<ClientEntry> clients_;
  uint32_t next_index_ = 1;  // for policies that leave the index to the switch (the baselines)

  std::vector<uint8_t> buffers_;
  std::vector<Slot> slots_;
  std::vector<uint32_t> free_;
  std::vector<sw::Send> out_;

  io::TxPacket tx_[io::kMaxBurst];
  uint32_t tx_server_[io::kMaxBurst];  // server index of a request send, or UINT32_MAX for a reply
  uint8_t tx_buf_[io::kMaxBurst][wire::kMaxDatagram];
  uint32_t n_tx_ = 0;

  std::vector<std::vector<uint64_t>> cells_;  // 0 switch, 1 types, 2 servers, 3 registers
  std::vector<uint8_t> touched_;              // types whose monitor cells changed this loop
  std::vector<uint8_t> is_touched_;

  std::thread thread_;
  std::atomic<bool> stop_{false};
  std::atomic<uint32_t> sleeping_{0};
  int efd_ = -1;
  std::atomic<bool> running_{false};  // atomic: call() may run on another thread than stop()
  bool stopped_ = false;

  std::mutex mu_;
  std::condition_variable cv_;
  struct Command {
    std::function<Status()> fn;
    Status result;
    bool done = false;
  };
  std::deque<std::shared_ptr<Command>> commands_;
  std::atomic<bool> pending_{false};
};

}  // namespace pallas::softswitch
