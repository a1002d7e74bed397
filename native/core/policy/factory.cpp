// make_policy: see factory.hpp.
#include "factory.hpp"

#include "cfcfs.hpp"
#include "dfcfs.hpp"
#include "ps.hpp"
#include "ts.hpp"

namespace pallas::policy {

std::unique_ptr<Policy> make_policy(const PolicyConfig& cfg, std::string* err) {
  if (cfg.workers == 0) {
    *err = "a server needs at least one worker";
    return nullptr;
  }
  if (cfg.kind == "cfcfs") return std::make_unique<Cfcfs>(cfg.workers, cfg.queue_capacity);
  if (cfg.kind == "dfcfs")
    return std::make_unique<Dfcfs>(cfg.workers, cfg.queue_capacity,
                                   cfg.push_round_robin ? Dfcfs::Push::kRoundRobin : Dfcfs::Push::kRandom, cfg.seed);
  if (cfg.kind == "ts") return std::make_unique<Ts>(cfg.workers, cfg.queue_capacity, cfg.slice_ns, cfg.switch_cost_ns);
  if (cfg.kind == "ps") return std::make_unique<Ps>(cfg.workers);
  if (cfg.kind == "darc") {
    DarcConfig d = cfg.darc;
    d.queue_capacity = cfg.queue_capacity;
    return std::make_unique<Darc>(cfg.workers, d);
  }
  *err = "unknown server policy '" + cfg.kind + "' (expected cfcfs, dfcfs, darc, ts or ps)";
  return nullptr;
}

}  // namespace pallas::policy
