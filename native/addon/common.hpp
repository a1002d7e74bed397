// Helpers shared by the addon's source files: Status -> JS error, and reading fields of the
// normalised config objects that lib/ hands down (already validated there; defaults here only
// guard against a missing field).
#pragma once

#include <napi.h>

#include <atomic>
#include <memory>
#include <set>
#include <string>

#include "../core/status.hpp"
#include "../io/transport.hpp"

namespace pallas::addon {

inline Napi::Error status_error(Napi::Env env, const Status& st) {
  Napi::Error e = Napi::Error::New(env, st.message);
  e.Set("code", Napi::String::New(env, st.code));
  return e;
}

[[noreturn]] inline void throw_status(Napi::Env env, const Status& st) { throw status_error(env, st); }

[[noreturn]] inline void throw_bad(Napi::Env env, const std::string& msg) {
  throw_status(env, Status::Error("BAD_CONFIG", msg));
}

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

// A BigUint64Array over `n` native u64 cells. The view keeps `owner` (a JS object) alive, so the
// cells outlive every view of them.
template <typename T>
Napi::Value counter_view(Napi::Env env, const T* cells, size_t n, Napi::Object owner) {
  static_assert(sizeof(std::atomic<uint64_t>) == sizeof(uint64_t));
  auto* ref = new Napi::ObjectReference(Napi::Persistent(owner));
  Napi::ArrayBuffer ab = Napi::ArrayBuffer::New(
      env, const_cast<T*>(cells), n * sizeof(uint64_t), [](Napi::Env, void*, Napi::ObjectReference* r) { delete r; },
      ref);
  napi_value arr;
  napi_create_typedarray(env, napi_biguint64_array, n, ab, 0, &arr);
  return Napi::Value(env, arr);
}

// Transports from a normalised config (lib/io/transport.ts): udp, dpdk, or one side of a MemLink.
std::unique_ptr<io::Transport> open_transport(Napi::Env env, const Napi::Object& cfg);
io::Endpoint parse_endpoint(Napi::Env env, const Napi::Object& o);
Napi::Object endpoint_to_js(Napi::Env env, const io::Endpoint& e);

// A long native job on a libuv worker that settles a promise: run() on the worker thread returns a
// Status; on the JS thread a failure rejects with the Status's code, success resolves with
// result(). The job counts itself in `jobs.running` while it may touch native state, so that the
// env cleanup hook waits for it.
class StatusJob : public Napi::AsyncWorker {
 public:
  StatusJob(Napi::Env env, JobRegistry jobs)
      : Napi::AsyncWorker(env), deferred_(Napi::Promise::Deferred::New(env)), jobs_(jobs) {
    jobs_.running->fetch_add(1);
  }
  // Queues the job and returns its promise.
  Napi::Promise start() {
    Napi::Promise p = deferred_.Promise();
    Queue();
    return p;
  }
  void Execute() override {
    st_ = run();
    jobs_.running->fetch_sub(1);
  }
  void OnOK() override {
    if (!st_.ok())
      deferred_.Reject(status_error(Env(), st_).Value());
    else
      deferred_.Resolve(result(Env()));
  }
  void OnError(const Napi::Error& e) override { deferred_.Reject(e.Value()); }

 protected:
  virtual Status run() = 0;
  virtual Napi::Value result(Napi::Env env) = 0;
  const JobRegistry& jobs() const { return jobs_; }

 private:
  Napi::Promise::Deferred deferred_;
  JobRegistry jobs_;
  Status st_;
};

// Native objects the env cleanup hook must shut down (join threads, close transports) before
// DPDK's EAL is released.
class Closable {
 public:
  virtual void Close() = 0;

 protected:
  ~Closable() = default;
};
struct LiveObjects {
  std::set<Closable*> items;
};

}  // namespace pallas::addon
