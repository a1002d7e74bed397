// N-API binding of the load generator (native/client).
#pragma once

#include <napi.h>

#include "common.hpp"

namespace pallas::addon {

void register_client(Napi::Env env, Napi::Object exports, JobRegistry jobs);

}  // namespace pallas::addon
