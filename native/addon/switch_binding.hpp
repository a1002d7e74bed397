// N-API binding of the switch pipeline (SwitchPipeline), for tests and tools.
#pragma once

#include <napi.h>

#include "../core/switch/dispatcher.hpp"
#include "../core/switch/tables.hpp"
#include "common.hpp"

namespace pallas::addon {

void register_switch(Napi::Env env, Napi::Object exports, LiveObjects* live);

// Pallas switch tables from their JS form (lib/control: {typeToGroup, defaultGroup, tauShift, clone,
// groups: [{cThres, cloneTarget, balance, wrr: [{server, weight}]}], ablation?}); throws a BAD_CONFIG
// error on a malformed key or shape (values are Pipeline::load's to check).
sw::Tables parse_tables(Napi::Env env, const Napi::Object& o);

// The switch options both the simulator and the software switch take from {jbsqDepth,
// queueCapacity, filterSlots, tables}; the kind, the rack size and the seed are the caller's.
void parse_switch_options(Napi::Env env, const Napi::Object& o, sw::DispatcherConfig* c);

}  // namespace pallas::addon
