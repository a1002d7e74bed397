// KvStore: the RocksDB database behind the GET and SCAN handlers, as the Pallas and Perséphone
// papers use it: a small database on tmpfs, keys `key00000000`.. (fixed width, so that
// byte order is numeric order), read through mmap. GET(key, n) makes n point lookups of keys
// key..key+n-1 (wrapping at the end of the key space); SCAN(key, n) walks one iterator over n
// consecutive keys from key (wrapping to the first key at the end).
//
// kv_load builds the database (the loader); KvStore opens it read-only, so any number of server
// processes on one machine can share one copy. Reads are thread-safe: every worker calls get/scan
// on the same store. Without HAVE_ROCKSDB every call returns NO_ROCKSDB.
//
// Reply payload written by get/scan (docs/runtime.md), all big-endian:
//   u32 count   keys found (GET) or walked (SCAN)
//   u32 bytes   total bytes of the values found or walked
//   u32 hash    FNV-1a 32 over those values, in key order
//   u16 shown   how many values follow (GET: as many whole values as fit the datagram; SCAN: 0)
//   shown × (u16 len, len bytes)
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "../core/status.hpp"

namespace pallas::runtime {

struct KvLoadConfig {
  std::string path;
  uint32_t keys = 5000;
  uint32_t value_bytes = 64;
};

struct KvLoadResult {
  bool built = false;  // false: a database with the same keys and value size was already there
  uint32_t keys = 0;
  uint32_t value_bytes = 0;
};

// Builds the database at cfg.path (replacing one with a different shape), flushed and compacted.
Status kv_load(const KvLoadConfig& cfg, KvLoadResult* out);

// The stored value of key i (the loader's rule; tests recompute it to check replies).
std::string kv_value(uint32_t i, uint32_t value_bytes);

inline constexpr uint32_t kKvReplyFixed = 14;  // count, bytes, hash, shown

class KvStore {
 public:
  static Status open(const std::string& path, std::unique_ptr<KvStore>* out);
  ~KvStore();
  uint32_t keys() const { return keys_; }
  uint32_t value_bytes() const { return value_bytes_; }
  // Both write the reply payload into out[0, cap) and return its length (0 when cap is too small
  // for the fixed part).
  uint32_t get(uint32_t key, uint32_t count, uint8_t* out, uint32_t cap) const;
  uint32_t scan(uint32_t key, uint32_t count, uint8_t* out, uint32_t cap) const;

 private:
  KvStore() = default;
  struct Impl;
  std::unique_ptr<Impl> impl_;
  uint32_t keys_ = 0;
  uint32_t value_bytes_ = 0;
};

bool kv_available();

}  // namespace pallas::runtime
