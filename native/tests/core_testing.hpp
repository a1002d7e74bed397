// Helpers the core tests share: where the repository's shared test vectors are, hex, JSON files.
#pragma once

#include <doctest/doctest.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace pallas::testing {

// The repository root: found from this file's path (native/tests/ → ../..), or, when the build
// was moved, by walking up from the working directory to a directory that holds p4/vectors.
inline std::filesystem::path repo_root() {
  namespace fs = std::filesystem;
  std::error_code ec;
  const fs::path from_source = fs::path(__FILE__).parent_path() / ".." / "..";
  if (fs::is_directory(from_source / "p4" / "vectors", ec)) return fs::weakly_canonical(from_source, ec);
  for (fs::path p = fs::current_path(ec); !p.empty(); p = p.parent_path()) {
    if (fs::is_directory(p / "p4" / "vectors", ec)) return p;
    if (p == p.parent_path()) break;
  }
  FAIL("cannot find the repository root (p4/vectors) from " << __FILE__ << " or the working directory");
  return {};
}

inline nlohmann::json load_json(const std::filesystem::path& p) {
  std::ifstream in(p);
  REQUIRE_MESSAGE(in.good(), "cannot open " << p.string());
  return nlohmann::json::parse(in);
}

inline std::vector<uint8_t> from_hex(const std::string& h) {
  REQUIRE(h.size() % 2 == 0);
  std::vector<uint8_t> out(h.size() / 2);
  for (size_t i = 0; i < out.size(); i++) out[i] = static_cast<uint8_t>(std::stoul(h.substr(2 * i, 2), nullptr, 16));
  return out;
}

inline std::string to_hex(const uint8_t* p, size_t n) {
  static const char* kDigits = "0123456789abcdef";
  std::string s;
  for (size_t i = 0; i < n; i++) {
    s += kDigits[p[i] >> 4];
    s += kDigits[p[i] & 15];
  }
  return s;
}

}  // namespace pallas::testing
