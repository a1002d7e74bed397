// N-API binding of the switch pipeline (SwitchPipeline), for tests and tools.
#pragma once

#include <napi.h>

#include "common.hpp"

namespace pallas::addon {

void register_switch(Napi::Env env, Napi::Object exports);

}  // namespace pallas::addon
