// Runtime statistics in shared memory: plain u64 cells that TypeScript reads as BigUint64Array
// views, with no call per field and no lock on the hot path (STYLE 3). Every cell has exactly one
// writer thread, which updates it with relaxed atomic load+store (no read-modify-write needed):
//   - server cells and type rows and histograms: the dispatcher;
//   - worker rows: that worker, except `group` (the dispatcher).
// The dispatcher brackets each batch of updates with `seq` (odd while writing), so a reader that
// sees the same even seq before and after its copy has a consistent snapshot of the dispatcher's
// cells. Worker rows are not covered by seq (each cell is still never torn).
//
// Names and layout are exported to JS by the addon (runtimeLayout); keep the *Names arrays in the
// same order as the enums.
#pragma once

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>

#include "../core/hist/log_buckets.hpp"
#include "../core/wire/wire_gen.hpp"

namespace pallas::runtime {

inline uint64_t cell_get(const uint64_t* p) { return __atomic_load_n(p, __ATOMIC_RELAXED); }
inline void cell_put(uint64_t* p, uint64_t v) { __atomic_store_n(p, v, __ATOMIC_RELAXED); }
inline void cell_add(uint64_t* p, uint64_t d) { cell_put(p, cell_get(p) + d); }  // single writer only
inline void cell_max(uint64_t* p, uint64_t v) {
  if (v > cell_get(p)) cell_put(p, v);
}

// Server cells. n_invalid_<reason> follow, one per wire reason (index 0, "ok", stays 0).
enum ServerCell : uint32_t {
  kSeq,              // even: consistent; odd: the dispatcher is writing
  kEpoch,            // policy epoch in force
  kRx,               // datagrams received
  kUnexpectedReply,  // valid datagrams that were replies
  kNoHandler,        // requests of a type with no handler here (drop notice NO_HANDLER)
  kDropNoBuffer,     // no free request buffer (drop notice OVERLOAD)
  kDropFull,         // the policy's queue was full (drop notice QUEUE_FULL)
  kDropClone,        // a clone with no idle eligible worker (drop notice CLONE_BUSY)
  kDropHandover,     // queued requests the successor policy had no room for (drop notice QUEUE_FULL)
  kDropShutdown,     // queued or running at stop (drop notice SHUTDOWN)
  kBounced,          // requests handed back to the switch, flagged BOUNCED
  kReplies,          // replies handed to the transport
  kNotices,          // drop notices handed to the transport
  kTxFailed,         // replies, notices or bounces the transport refused (counted, not retried)
  kQueued,           // now: requests queued in the policy
  kInService,        // now: requests running on workers
  kPolicies,         // policies applied since start
  kSleeps,           // hybrid mode: times the dispatcher blocked waiting for work
  kLoops,            // dispatcher loop iterations
  kBusyNs,           // time in loop iterations that did work (its cost per request, contention included)
  kResGroups,        // now: groups of the policy's core reservation (darc); 0 for none (cfcfs, profiling)
  kServerCellsBase   // n_invalid_<reason> start here
};
// The cells and their names stay in rows as written (not one per line).
// clang-format off
inline constexpr const char* kServerCellNames[] = {
    "seq", "epoch", "n_rx", "n_unexpected_reply", "n_no_handler", "n_drop_no_buffer", "n_drop_full", "n_drop_clone",
    "n_drop_handover", "n_drop_shutdown", "n_bounced", "n_replies", "n_notices", "n_tx_failed", "queued", "in_service",
    "n_policies", "n_sleeps", "n_loops", "busy_ns", "res_groups"};
// clang-format on
inline constexpr uint32_t kServerCells = kServerCellsBase + wire::kReasonCount;

// Per request type with a handler.
enum TypeCell : uint32_t {
  kTReceived,
  kTDispatched,
  kTCompleted,
  kTDropFull,
  kTDropClone,
  kTDropOther,
  kTBounced,
  kTQueued,
  kTExecNsSum,
  kTWaitNsSum,
  kTWaitNsMax,
  kTSojournNsSum,
  kTGroup,        // now: 1 + the type's reservation group (0: none, or not in the reservation)
  kTDemandMilli,  // now: the type's DARC demand d_i in thousandths of a core (0 when unknown)
  kTypeCells
};
inline constexpr const char* kTypeCellNames[] = {
    "n_received", "n_dispatched", "n_completed", "n_drop_full", "n_drop_clone",   "n_drop_other", "n_bounced",
    "queued",     "exec_ns_sum",  "wait_ns_sum", "wait_ns_max", "sojourn_ns_sum", "group",        "demand_milli"};

// Per worker, one cache line each.
// `group` (1 + the reservation group the worker is reserved for; 0: none) is the dispatcher's.
enum WorkerCell : uint32_t { kWCompleted, kWBusyNs, kWBusy, kWSleeps, kWGroup, kWorkerCells };
inline constexpr const char* kWorkerCellNames[] = {"n_completed", "busy_ns", "busy", "n_sleeps", "group"};
inline constexpr uint32_t kWorkerStride = 8;

// Histograms per type row: execution ns (measured by the worker) and sojourn ns (arrival at the
// dispatcher to completion seen by it).
inline constexpr uint32_t kHistKinds = 2;

class StatsBlock {
 public:
  StatsBlock(uint32_t types, uint32_t workers)
      : types_(types),
        workers_(workers),
        sizes_{kServerCells, size_t{types} * kTypeCells, size_t{workers} * kWorkerStride,
               size_t{types} * kHistKinds * LogBuckets::kCount} {
    for (int i = 0; i < 4; i++) {
      const size_t bytes = ((sizes_[i] * 8 + 63) / 64) * 64 + 64;
      mem_[i].reset(static_cast<uint64_t*>(std::aligned_alloc(64, bytes)));
      std::memset(mem_[i].get(), 0, bytes);
    }
  }
  uint64_t* server() { return mem_[0].get(); }
  uint64_t* type_row(uint32_t r) { return mem_[1].get() + size_t{r} * kTypeCells; }
  uint64_t* worker_row(uint32_t w) { return mem_[2].get() + size_t{w} * kWorkerStride; }
  uint64_t* hist(uint32_t r, uint32_t kind) {
    return mem_[3].get() + (size_t{r} * kHistKinds + kind) * LogBuckets::kCount;
  }
  // Raw areas for the JS views: 0 server, 1 types, 2 workers, 3 histograms.
  uint64_t* area(int i) { return mem_[i].get(); }
  size_t area_size(int i) const { return sizes_[i]; }
  uint32_t types() const { return types_; }
  uint32_t workers() const { return workers_; }

  void begin() {
    cell_put(&server()[kSeq], cell_get(&server()[kSeq]) + 1);
    __atomic_thread_fence(__ATOMIC_RELEASE);
  }
  void end() { __atomic_store_n(&server()[kSeq], cell_get(&server()[kSeq]) + 1, __ATOMIC_RELEASE); }

 private:
  struct Free {
    void operator()(uint64_t* p) const { std::free(p); }
  };
  uint32_t types_, workers_;
  size_t sizes_[4];
  std::unique_ptr<uint64_t, Free> mem_[4];
};

}  // namespace pallas::runtime
