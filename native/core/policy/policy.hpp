// Policy: the one interface of every intra-server scheduling policy (cfcfs, dfcfs, darc, ts, ps).
// The same object runs under the real clock in the server runtime, under the virtual
// clock of native/sim, and under a fake clock in the unit tests: time is always passed in (ns),
// nothing here does I/O, takes a lock or starts a thread.
//
// Who calls what (the "driver" is the runtime's dispatcher thread or the simulator):
//   on_arrival(item, now)        a request reached the server. The clone rule (clone.hpp) runs
//                                first; then the policy queues it or drops it (queue full). The
//                                verdict names at most one idle worker to offer work to.
//   next_for_worker(w, now)      worker w is idle: the policy hands it a request and a run budget
//                                (kRunToCompletion unless the policy preempts), or nothing, in
//                                which case w stays idle until the policy names it again.
//   on_completion(w, item, ns)   w finished a request after `service_ns` of execution; w is idle
//                                and the driver calls next_for_worker(w) next.
//   on_slice_end(w, item, now)   (preemptive policies) w used its budget with work left.
//   on_tick(now)                 periodic housekeeping; the driver calls it when tick_ns() > 0.
//   bounce(filter, out)          purge queued requests back to the driver (bounce.hpp).
//   take_kick()                  true once after the policy changed which workers may serve what
//                                (e.g. DARC re-reserved): the driver then offers every idle worker.
// Fluid policies (ps) have no workers: the driver asks next_departure_ns() / pop_departure().
//
// Invariant kept by every policy: no idle worker is eligible for a queued request. Hence one
// arrival wakes at most one worker.
#pragma once

#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "item.hpp"

namespace pallas::policy {

struct Reservation;

inline constexpr uint64_t kRunToCompletion = std::numeric_limits<uint64_t>::max();
inline constexpr uint32_t kNoWorker = WorkerSet::kNone;
inline constexpr uint64_t kNever = std::numeric_limits<uint64_t>::max();

enum class Admit : uint8_t {
  kQueued,     // queued (and maybe handed to the worker named in Verdict::wake)
  kDropFull,   // its queue was full: dropped, counted
  kDropClone,  // a clone (flag 2) arrived with no idle worker able to run it: dropped, counted
};

struct Verdict {
  Admit admit = Admit::kQueued;
  uint32_t wake = kNoWorker;  // an idle worker to call next_for_worker on, or kNoWorker
};

struct Dispatch {
  Item item;
  uint64_t budget_ns = kRunToCompletion;
};

enum class SliceEnd : uint8_t {
  kContinue,  // keep running the same request for another budget_ns (nothing else waits)
  kRequeued,  // the request went back to the queue; the worker pays switch_cost_ns, then is idle
};

// What bounce() purges: queued requests whose group (or type) is set here, never a request
// already bounced once.
struct BounceFilter {
  bool by_type = false;  // false: match item.group; true: match item.type
  bool drain = false;    // handover (handover.hpp): every queued item, bounced or not, unflagged
  uint64_t mask[4] = {0, 0, 0, 0};
  void add(uint8_t v) { mask[v >> 6] |= 1ull << (v & 63); }
  bool empty() const { return !drain && (mask[0] | mask[1] | mask[2] | mask[3]) == 0; }
  bool match(const Item& it) const {
    if (drain) return true;
    const uint8_t v = by_type ? it.type : it.group;
    return (mask[v >> 6] >> (v & 63)) & 1;
  }
};

struct PolicyCounters {
  uint64_t n_arrivals = 0;
  uint64_t n_dispatched = 0;  // requests handed to a worker (a preempted one counts again)
  uint64_t n_completed = 0;
  uint64_t n_drop_full = 0;
  uint64_t n_drop_clone = 0;
  uint64_t n_bounced = 0;
  uint64_t n_preempted = 0;
  uint64_t n_reserved = 0;  // darc: reservations computed (profiling end and re-reservations)
};

class Policy {
 public:
  explicit Policy(uint32_t workers) : idle_(workers) { idle_.fill(); }
  virtual ~Policy() = default;
  Policy(const Policy&) = delete;
  Policy& operator=(const Policy&) = delete;

  virtual const char* name() const = 0;
  uint32_t workers() const { return idle_.size(); }

  Verdict on_arrival(Item it, uint64_t now_ns);
  bool next_for_worker(uint32_t w, uint64_t now_ns, Dispatch* out);
  void on_completion(uint32_t w, const Item& it, uint64_t service_ns, uint64_t now_ns);
  virtual SliceEnd on_slice_end(uint32_t w, const Item& it, uint64_t now_ns, uint64_t* budget_ns,
                                uint64_t* switch_cost_ns);
  virtual void on_tick(uint64_t now_ns) {}
  virtual uint64_t tick_ns() const { return 0; }
  size_t bounce(const BounceFilter& f, std::vector<Item>* out);
  // Handover to a successor policy (handover.hpp): take every queued item out, in any order;
  // mark worker w busy (it runs a request the predecessor dispatched); queue an item without the
  // clone rule or counting an arrival, keeping its enq_ns.
  size_t drain(std::vector<Item>* out);
  void adopt_busy(uint32_t w) { idle_.clear(w); }
  Verdict requeue(const Item& it, uint64_t now_ns);
  bool take_kick() {
    const bool k = kick_;
    kick_ = false;
    return k;
  }

  virtual size_t queued() const = 0;
  // Core reservation in force (darc, once it has one); nullptr for policies without one.
  virtual const Reservation* reservation() const { return nullptr; }
  const WorkerSet& idle() const { return idle_; }
  const PolicyCounters& counters() const { return c_; }

  // Fluid policies (simulator-only ps) share the server among all requests; no workers.
  virtual bool fluid() const { return false; }
  virtual uint64_t next_departure_ns() const { return kNever; }
  virtual bool pop_departure(uint64_t now_ns, Item* out) { return false; }

 protected:
  // Queue `it` (enq_ns is set) and name an idle worker that may now run something, or drop.
  virtual Verdict enqueue(const Item& it, uint64_t now_ns) = 0;
  // Choose work for idle worker w; false leaves w idle.
  virtual bool pick(uint32_t w, uint64_t now_ns, Dispatch* out) = 0;
  virtual void completed(uint32_t w, const Item& it, uint64_t service_ns, uint64_t now_ns) {}
  // Whether some idle worker could start `it` right now (the clone rule asks this).
  virtual bool can_start_now(const Item& it) { return idle_.any(); }
  virtual size_t purge(const BounceFilter& f, std::vector<Item>* out) = 0;

  void kick() { kick_ = true; }

  WorkerSet idle_;
  PolicyCounters c_;

 private:
  bool kick_ = false;
};

}  // namespace pallas::policy
