// Helpers shared by the addon's source files: Status -> JS error, and reading fields of the
// normalised config objects that lib/ hands down (already validated there; defaults here only
// guard against a missing field).
#pragma once

#include <napi.h>

#include <atomic>
#include <string>

#include "../core/status.hpp"

namespace pallas::addon {

[[noreturn]] inline void throw_status(Napi::Env env, const Status& st) {
  Napi::Error e = Napi::Error::New(env, st.message);
  e.Set("code", Napi::String::New(env, st.code));
  throw e;
}

[[noreturn]] inline void throw_bad(Napi::Env env, const std::string& msg) { throw_status(env, Status::Error("BAD_CONFIG", msg)); }

inline std::string get_string(const Napi::Object& o, const char* key, const std::string& def = "") {
  const Napi::Value v = o.Get(key);
  return v.IsString() ? v.As<Napi::String>().Utf8Value() : def;
}
inline uint32_t get_u32(const Napi::Object& o, const char* key, uint32_t def) {
  const Napi::Value v = o.Get(key);
  return v.IsNumber() ? v.As<Napi::Number>().Uint32Value() : def;
}
inline double get_num(const Napi::Object& o, const char* key, double def) {
  const Napi::Value v = o.Get(key);
  return v.IsNumber() ? v.As<Napi::Number>().DoubleValue() : def;
}
inline uint64_t get_u64(const Napi::Object& o, const char* key, uint64_t def) {
  const Napi::Value v = o.Get(key);
  if (!v.IsNumber()) return def;
  const double d = v.As<Napi::Number>().DoubleValue();
  return d <= 0 ? 0 : static_cast<uint64_t>(d);
}
inline bool get_bool(const Napi::Object& o, const char* key, bool def) {
  const Napi::Value v = o.Get(key);
  return v.IsBoolean() ? v.As<Napi::Boolean>().Value() : def;
}

// What long-running native work needs from the addon's per-env state: a count of running jobs
// the env cleanup hook waits for, and the flag it raises to make them stop early.
struct JobRegistry {
  std::atomic<int>* running;
  const std::atomic<bool>* aborting;
};

}  // namespace pallas::addon
