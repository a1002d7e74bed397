// N-API bindings of the simulator (runSim) and of the intra-server policies (PolicyHarness, for
// tests driving a policy under a fake clock, and darcReserve).
#pragma once

#include <napi.h>

#include "../core/policy/factory.hpp"
#include "common.hpp"

namespace pallas::addon {

// An intra-server policy from its normalised config ({kind, workers, queueCapacity, darc: {...}}),
// shared by the simulator and the runtime bindings. Throws BAD_CONFIG for one make_policy refuses.
policy::PolicyConfig parse_policy(Napi::Env env, const Napi::Object& o);

void register_sim(Napi::Env env, Napi::Object exports, JobRegistry jobs);

}  // namespace pallas::addon
