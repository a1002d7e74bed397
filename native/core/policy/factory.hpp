// make_policy: builds an intra-server policy from a normalised config (validated in TypeScript:
// lib/sim/scenario.ts and, later, the agent's policy schema).
#pragma once

#include <memory>
#include <string>

#include "darc.hpp"
#include "policy.hpp"

namespace pallas::policy {

struct PolicyConfig {
  std::string kind = "cfcfs";  // cfcfs | dfcfs | darc | ts | ps
  uint32_t workers = 1;
  uint32_t queue_capacity = 4096;  // per queue (cfcfs, ts: the queue; dfcfs: per worker; darc: per type)
  bool push_round_robin = false;   // dfcfs: round robin instead of random
  uint64_t seed = 1;               // dfcfs random push
  uint64_t slice_ns = 50000;       // ts
  uint64_t switch_cost_ns = 1000;  // ts
  DarcConfig darc;
};

// nullptr (and *err set) for an unknown kind.
std::unique_ptr<Policy> make_policy(const PolicyConfig& cfg, std::string* err);

}  // namespace pallas::policy
