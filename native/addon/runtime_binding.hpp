// N-API bindings of the server runtime (Runtime, runtimeLayout) and of the RocksDB store
// (kvLoad, kvBench, kvValue). See runtime_binding.cpp.
#pragma once

#include <napi.h>

#include "common.hpp"

namespace pallas::addon {

void register_runtime(Napi::Env env, Napi::Object exports, LiveObjects* live, JobRegistry jobs);

}  // namespace pallas::addon
