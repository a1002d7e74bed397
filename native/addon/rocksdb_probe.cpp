// RocksDB probe implementation: see rocksdb_probe.hpp. Built against librocksdb only with
// HAVE_ROCKSDB; otherwise every call says which Debian package to install.
#include "rocksdb_probe.hpp"

#ifdef HAVE_ROCKSDB
#include <rocksdb/db.h>
#include <rocksdb/options.h>
#include <rocksdb/version.h>

#include <memory>
#endif

namespace pallas::addon {

#ifndef HAVE_ROCKSDB
bool rocksdb_available() { return false; }
std::string rocksdb_version() { return ""; }
Status rocksdb_probe(const std::string&) {
  return Status::Error("NO_ROCKSDB",
                       "this build of Pallas has no RocksDB support: install it with "
                       "`apt-get install librocksdb-dev pkg-config` and rebuild (npm run build)");
}
#else
bool rocksdb_available() { return true; }
std::string rocksdb_version() { return rocksdb::GetRocksVersionAsString(true); }
Status rocksdb_probe(const std::string& dir) {
  rocksdb::Options opt;
  opt.create_if_missing = true;
  rocksdb::DB* raw = nullptr;
  rocksdb::Status s = rocksdb::DB::Open(opt, dir, &raw);
  if (!s.ok()) return Status::Error("ROCKSDB", "rocksdb: open " + dir + ": " + s.ToString());
  std::unique_ptr<rocksdb::DB> db(raw);
  std::string got;
  s = db->Put(rocksdb::WriteOptions(), "pallas-probe", "ok");
  if (s.ok()) s = db->Get(rocksdb::ReadOptions(), "pallas-probe", &got);
  if (!s.ok() || got != "ok") return Status::Error("ROCKSDB", "rocksdb: write/read probe failed: " + s.ToString());
  s = db->Close();
  return s.ok() ? Status::Ok() : Status::Error("ROCKSDB", "rocksdb: close: " + s.ToString());
}
#endif

}  // namespace pallas::addon
