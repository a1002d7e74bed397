// Dispatcher: the one interface of every rack switch policy — the Pallas pipeline and the
// baselines' switches — as pure logic with time passed in. The simulator drives it
// with a virtual clock; the software switch drives it with real packets. `handle` is
// the driver's id for a request (simulator: request slot; software switch: buffer slot): a
// dispatcher that holds requests (draconis, jbsq) hands the handle back when it releases one.
//
// Who calls what:
//   on_request(req, now, out)   a request from a client, or one a server bounced (flag BOUNCED).
//                               Appends the sends to make: one, two (the second a clone of the
//                               same handle), or none (held at the switch, or dropped: counted).
//   on_reply(reply, now, out)   a reply or drop notice from a server. Returns whether to forward
//                               it to the client; may release held requests into *out.
// One file per policy: spread.hpp (random, rr), po2.hpp, jbsq.hpp, draconis.hpp, netclone.hpp,
// pallas_dispatch.hpp (the Pallas pipeline, pipeline.hpp).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "../status.hpp"
#include "../wire/wire.hpp"
#include "monitor.hpp"
#include "tables.hpp"

namespace pallas::sw {

struct ReqIn {
  uint32_t handle = 0;
  uint8_t type = 0;
  uint8_t flags = 0;
  uint32_t index = 0;        // 0: fresh (the switch assigns one); a bounced request keeps its own
  uint8_t group = 0;         // a bounced request: the group it was sent with (header field)
  uint16_t server = 0xFFFF;  // a bounced request: the server that bounced it
};

struct Send {
  uint32_t handle = 0;
  uint16_t server = 0;
  uint8_t group = 0;
  uint8_t flags = 0;
  uint32_t index = 0;
};

struct ReplyIn {
  uint32_t handle = 0;
  uint16_t server = 0;
  uint8_t type = 0;
  uint8_t flags = 0;  // RESPONSE, clone bits, DROP_NOTICE
  uint8_t group = 0;  // the group the request was sent with (echoed by the server)
  uint32_t index = 0;
  uint32_t time_ns = 0;    // execution time the server measured
  uint32_t queue_len = 0;  // the server's outstanding requests (queued + running) when it replied
};

// A received datagram as a switch policy takes it (the software switch; the fuzz harness drives
// the policies the same way). A request from a client (`bounced` false): the switch owns its clone
// state, group and index, so they are cleared. A request a server bounced: it keeps its flags,
// group and index, and names that server.
inline ReqIn request_in(const wire::Header& h, uint32_t handle, bool bounced, uint16_t server) {
  ReqIn in;
  in.handle = handle;
  in.type = h.type;
  if (bounced) {
    in.flags = h.flags;
    in.index = h.index;
    in.group = h.group;
    in.server = server;
  } else {
    in.flags = static_cast<uint8_t>(h.flags & ~wire::kCloneMask);
  }
  return in;
}

// A server's reply (or drop notice) as a switch policy takes it.
inline ReplyIn reply_in(const wire::Header& h, uint16_t server) {
  ReplyIn r;
  r.server = server;
  r.type = h.type;
  r.flags = h.flags;
  r.group = h.group;
  r.index = h.index;
  r.time_ns = h.time_ns;
  r.queue_len = h.queue_len;
  return r;
}

enum class Fate : uint8_t { kSent, kHeld, kDropped };

struct DispatchCounters {
  uint64_t n_requests = 0, n_bounced = 0, n_cloned = 0, n_held = 0, n_drop_no_server = 0, n_drop_full = 0;
  uint64_t n_replies = 0, n_replies_filtered = 0, n_clone_drop_notices = 0, n_unmapped = 0, n_filter_evicted = 0;
  uint64_t n_clone_suppressed = 0, n_po2 = 0;  // pallas
};

struct DispatcherConfig {
  std::string kind = "random";  // random | rr | po2 | jbsq | draconis | netclone | pallas
  uint32_t servers = 1;
  uint32_t workers = 1;  // per server
  uint64_t seed = 1;
  uint32_t jbsq_depth = 2;          // jbsq: outstanding requests per worker before the switch holds
  uint32_t queue_capacity = 65536;  // draconis / jbsq: requests the switch may hold
  uint32_t filter_slots = kFilterSlots;
  Tables tables;                // pallas
  bool allow_ablation = false;  // pallas: accept the simulator-only ablations (Tables::ablation)
};

class Dispatcher {
 public:
  virtual ~Dispatcher() = default;
  virtual const char* name() const = 0;
  virtual Fate on_request(const ReqIn& r, uint64_t now_ns, std::vector<Send>* out) = 0;
  virtual bool on_reply(const ReplyIn& r, uint64_t now_ns, std::vector<Send>* out) = 0;
  virtual size_t held() const { return 0; }
  // Pallas only: a control-plane table write, and the monitor registers.
  virtual Status load(const Tables& t) {
    return Status::Error("BAD_POLICY", std::string(name()) + " has no Pallas tables");
  }
  virtual const Monitor* monitor() const { return nullptr; }
  virtual const class Pipeline* pipeline() const { return nullptr; }  // its registers, read-only
  virtual DispatchCounters counters() const { return c_; }

 protected:
  DispatchCounters c_;
};

// nullptr (and *err set) for an unknown kind or a bad config.
std::unique_ptr<Dispatcher> make_dispatcher(const DispatcherConfig& cfg, std::string* err);

}  // namespace pallas::sw
