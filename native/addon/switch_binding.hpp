// N-API binding of the switch pipeline (SwitchPipeline), for tests and tools.
#pragma once

#include <napi.h>

#include "../core/switch/tables.hpp"
#include "common.hpp"

namespace pallas::addon {

void register_switch(Napi::Env env, Napi::Object exports, LiveObjects* live);

// Pallas switch tables from their JS form (lib/control: {typeToGroup, defaultGroup, tauNs, clone,
// groups: [{cThres, cloneOut, wrr: [{server, weight}]}]}); throws a BAD_CONFIG error on a malformed key.
sw::Tables parse_tables(Napi::Env env, const Napi::Object& o);

}  // namespace pallas::addon
