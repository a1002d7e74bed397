// N-API bindings of the simulator (runSim) and of the intra-server policies (PolicyHarness, for
// tests driving a policy under a fake clock, and darcReserve).
#pragma once

#include <napi.h>

#include "common.hpp"

namespace pallas::addon {

void register_sim(Napi::Env env, Napi::Object exports, JobRegistry jobs);

}  // namespace pallas::addon
