// KvStore and the loader: see kv.hpp.
#include "kv.hpp"

#include <cstdio>
#include <cstring>

#ifdef HAVE_ROCKSDB
#include <rocksdb/db.h>
#include <rocksdb/iterator.h>
#include <rocksdb/options.h>
#include <rocksdb/table.h>
#include <rocksdb/write_batch.h>
#endif

#include "../core/wire/wire.hpp"

namespace pallas::runtime {

namespace {

// Sorts before every data key, so that no scan ever walks it.
constexpr const char* kMetaKey = "!pallas-meta";

std::string key_of(uint32_t i) {
  char b[16];
  snprintf(b, sizeof b, "key%08u", i);
  return b;
}

uint32_t fnv1a(uint32_t h, const char* p, size_t n) {
  for (size_t i = 0; i < n; i++) {
    h ^= static_cast<uint8_t>(p[i]);
    h *= 16777619u;
  }
  return h;
}
constexpr uint32_t kFnvBasis = 2166136261u;

void store_be16(uint8_t* p, uint16_t v) {
  p[0] = static_cast<uint8_t>(v >> 8);
  p[1] = static_cast<uint8_t>(v);
}

// Accumulates a reply payload: fixed part, then whole values while they fit.
struct ReplyWriter {
  uint8_t* out;
  uint32_t cap;
  bool show;
  uint32_t count = 0, bytes = 0, hash = kFnvBasis, shown = 0, len = kKvReplyFixed;
  void add(const char* v, size_t n) {
    count++;
    bytes += static_cast<uint32_t>(n);
    hash = fnv1a(hash, v, n);
    if (show && n <= 0xffff && len + 2 + n <= cap) {
      store_be16(out + len, static_cast<uint16_t>(n));
      std::memcpy(out + len + 2, v, n);
      len += static_cast<uint32_t>(2 + n);
      shown++;
    } else {
      show = false;  // keep the shown values a prefix of the found ones
    }
  }
  uint32_t finish() {
    wire::store_be32(out, count);
    wire::store_be32(out + 4, bytes);
    wire::store_be32(out + 8, hash);
    store_be16(out + 12, static_cast<uint16_t>(shown));
    return len;
  }
};

}  // namespace

std::string kv_value(uint32_t i, uint32_t value_bytes) {
  std::string v = "v";  // appended piece by piece: GCC 12 at -O3 warns (falsely) on "v" + std::string
  v += std::to_string(i);
  v += ':';
  const char fill = static_cast<char>('a' + i % 26);
  if (v.size() < value_bytes) v.append(value_bytes - v.size(), fill);
  v.resize(value_bytes);
  return v;
}

#ifndef HAVE_ROCKSDB

bool kv_available() { return false; }
static Status no_rocksdb() {
  return Status::Error("NO_ROCKSDB",
                       "this build of Pallas has no RocksDB support: install it with "
                       "`apt-get install librocksdb-dev pkg-config` and rebuild (npm run build)");
}
Status kv_load(const KvLoadConfig&, KvLoadResult*) { return no_rocksdb(); }
struct KvStore::Impl {};
Status KvStore::open(const std::string&, std::unique_ptr<KvStore>*) { return no_rocksdb(); }
KvStore::~KvStore() = default;
uint32_t KvStore::get(uint32_t, uint32_t, uint8_t*, uint32_t) const { return 0; }
uint32_t KvStore::scan(uint32_t, uint32_t, uint8_t*, uint32_t) const { return 0; }

#else

bool kv_available() { return true; }

namespace {

std::string meta_of(uint32_t keys, uint32_t value_bytes) {
  return "format=1 keys=" + std::to_string(keys) + " value_bytes=" + std::to_string(value_bytes);
}

bool parse_meta(const std::string& m, uint32_t* keys, uint32_t* value_bytes) {
  unsigned k = 0, v = 0;
  if (sscanf(m.c_str(), "format=1 keys=%u value_bytes=%u", &k, &v) != 2) return false;
  *keys = k;
  *value_bytes = v;
  return true;
}

// Reads are served from memory-mapped table files on tmpfs, as in the papers; the block-based
// table (not PlainTable) because SCAN needs total-order iteration across key prefixes.
rocksdb::Options read_options_base() {
  rocksdb::Options o;
  o.allow_mmap_reads = true;
  o.max_open_files = -1;
  rocksdb::BlockBasedTableOptions t;
  t.no_block_cache = false;
  t.cache_index_and_filter_blocks = false;
  o.table_factory.reset(rocksdb::NewBlockBasedTableFactory(t));
  return o;
}

}  // namespace

struct KvStore::Impl {
  std::unique_ptr<rocksdb::DB> db;
  rocksdb::ReadOptions ro;
};

Status kv_load(const KvLoadConfig& cfg, KvLoadResult* out) {
  if (cfg.keys == 0 || cfg.keys > 100000000) return Status::Error("BAD_CONFIG", "kv: keys must be in [1, 100000000]");
  if (cfg.value_bytes == 0 || cfg.value_bytes > 65535)
    return Status::Error("BAD_CONFIG", "kv: valueBytes must be in [1, 65535]");
  {
    // Already built with this shape? Open read-only to look (fails harmlessly when absent).
    rocksdb::DB* raw = nullptr;
    if (rocksdb::DB::OpenForReadOnly(read_options_base(), cfg.path, &raw).ok()) {
      std::unique_ptr<rocksdb::DB> db(raw);
      std::string m;
      uint32_t k = 0, v = 0;
      if (db->Get(rocksdb::ReadOptions(), kMetaKey, &m).ok() && parse_meta(m, &k, &v) && k == cfg.keys &&
          v == cfg.value_bytes) {
        *out = {false, k, v};
        return Status::Ok();
      }
    }
  }
  rocksdb::Options o = read_options_base();
  rocksdb::DestroyDB(cfg.path, o);  // a database of another shape, or debris
  o.create_if_missing = true;
  o.error_if_exists = true;
  rocksdb::DB* raw = nullptr;
  rocksdb::Status s = rocksdb::DB::Open(o, cfg.path, &raw);
  if (!s.ok()) return Status::Error("ROCKSDB", "kv: create " + cfg.path + ": " + s.ToString());
  std::unique_ptr<rocksdb::DB> db(raw);
  rocksdb::WriteOptions wo;
  wo.disableWAL = true;  // flushed below
  rocksdb::WriteBatch batch;
  for (uint32_t i = 0; i < cfg.keys; i++) {
    batch.Put(key_of(i), kv_value(i, cfg.value_bytes));
    if (batch.Count() == 10000 || i + 1 == cfg.keys) {
      if (s = db->Write(wo, &batch); !s.ok()) return Status::Error("ROCKSDB", "kv: write: " + s.ToString());
      batch.Clear();
    }
  }
  if (s = db->Put(wo, kMetaKey, meta_of(cfg.keys, cfg.value_bytes)); !s.ok())
    return Status::Error("ROCKSDB", "kv: write: " + s.ToString());
  if (s = db->Flush(rocksdb::FlushOptions()); !s.ok()) return Status::Error("ROCKSDB", "kv: flush: " + s.ToString());
  if (s = db->CompactRange(rocksdb::CompactRangeOptions(), nullptr, nullptr); !s.ok())
    return Status::Error("ROCKSDB", "kv: compact: " + s.ToString());
  if (s = db->Close(); !s.ok()) return Status::Error("ROCKSDB", "kv: close: " + s.ToString());
  *out = {true, cfg.keys, cfg.value_bytes};
  return Status::Ok();
}

Status KvStore::open(const std::string& path, std::unique_ptr<KvStore>* out) {
  rocksdb::DB* raw = nullptr;
  rocksdb::Status s = rocksdb::DB::OpenForReadOnly(read_options_base(), path, &raw);
  if (!s.ok())
    return Status::Error("KV_OPEN", "kv: cannot open the database at " + path + " (" + s.ToString() +
                                        "); build it first (kv.load in the server config, or `pallas kv-load`)");
  std::unique_ptr<KvStore> st(new KvStore);
  st->impl_ = std::make_unique<Impl>();
  st->impl_->db.reset(raw);
  std::string m;
  if (!raw->Get(rocksdb::ReadOptions(), kMetaKey, &m).ok() || !parse_meta(m, &st->keys_, &st->value_bytes_) ||
      st->keys_ == 0)
    return Status::Error("KV_OPEN",
                         "kv: " + path + " is not a Pallas database (no metadata); rebuild it with the loader");
  st->impl_->ro.verify_checksums = false;
  *out = std::move(st);
  return Status::Ok();
}

KvStore::~KvStore() = default;

uint32_t KvStore::get(uint32_t key, uint32_t count, uint8_t* out, uint32_t cap) const {
  if (cap < kKvReplyFixed) return 0;
  ReplyWriter w{out, cap, true};
  rocksdb::PinnableSlice v;
  for (uint32_t i = 0; i < count; i++) {
    const std::string k = key_of((key + i) % keys_);
    v.Reset();
    if (impl_->db->Get(impl_->ro, impl_->db->DefaultColumnFamily(), k, &v).ok()) w.add(v.data(), v.size());
  }
  return w.finish();
}

uint32_t KvStore::scan(uint32_t key, uint32_t count, uint8_t* out, uint32_t cap) const {
  if (cap < kKvReplyFixed) return 0;
  ReplyWriter w{out, cap, false};
  std::unique_ptr<rocksdb::Iterator> it(impl_->db->NewIterator(impl_->ro));
  it->Seek(key_of(key % keys_));
  const std::string first = key_of(0);
  uint32_t restarts = 0;
  while (w.count < count) {
    if (!it->Valid()) {
      if (++restarts > 1 && w.count == 0) break;  // an empty key space: nothing to walk
      it->Seek(first);
      continue;
    }
    const rocksdb::Slice v = it->value();
    w.add(v.data(), v.size());
    it->Next();
  }
  return w.finish();
}

#endif

}  // namespace pallas::runtime
