// make_dispatcher: see dispatcher.hpp.
#include "dispatcher.hpp"

#include "draconis.hpp"
#include "jbsq.hpp"
#include "netclone.hpp"
#include "pallas_dispatch.hpp"
#include "po2.hpp"
#include "spread.hpp"

namespace pallas::sw {

std::unique_ptr<Dispatcher> make_dispatcher(const DispatcherConfig& c, std::string* err) {
  if (c.servers == 0 || c.servers > 65535 || c.workers == 0) {
    *err = "a rack needs 1 to 65535 servers with at least one worker";
    return nullptr;
  }
  if (c.kind == "random" || c.kind == "rr") return std::make_unique<Spread>(c.servers, c.kind == "rr", c.seed);
  if (c.kind == "po2") return std::make_unique<Po2>(c.servers, c.seed);
  if (c.kind == "jbsq") {
    if (c.jbsq_depth == 0) {
      *err = "jbsq needs a depth of at least 1";
      return nullptr;
    }
    return std::make_unique<Jbsq>(c.servers, c.workers, c.jbsq_depth, c.queue_capacity);
  }
  if (c.kind == "draconis") return std::make_unique<Draconis>(c.servers, c.workers, c.queue_capacity);
  if (c.kind == "netclone") return std::make_unique<NetClone>(c.servers, c.workers, c.filter_slots, c.seed);
  if (c.kind == "pallas") {
    auto d = std::make_unique<PallasDispatch>(c.filter_slots, c.seed, c.allow_ablation);
    const Status st = d->load(c.tables);
    if (!st.ok()) {
      *err = st.message;
      return nullptr;
    }
    for (const GroupTable& g : c.tables.groups)
      for (const WrrEntry& e : g.wrr)
        if (e.server >= c.servers) {
          *err =
              "a WRR entry names server " + std::to_string(e.server) + " but the rack has " + std::to_string(c.servers);
          return nullptr;
        }
    return d;
  }
  *err = "unknown switch '" + c.kind + "' (expected random, rr, po2, jbsq, draconis, netclone or pallas)";
  return nullptr;
}

}  // namespace pallas::sw
