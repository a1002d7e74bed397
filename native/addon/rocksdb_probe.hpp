// RocksDB availability for `pallas doctor`: the build-time feature, the library version, and a probe
// that creates a database in a directory, writes, reads it back and closes it.
#pragma once

#include <string>

#include "../core/status.hpp"

namespace pallas::addon {

bool rocksdb_available();
std::string rocksdb_version();  // "" without RocksDB
Status rocksdb_probe(const std::string& dir);

}  // namespace pallas::addon
