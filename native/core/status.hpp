// Status: how native code reports failure. Nothing in native/ throws across a module boundary; a
// function that can fail returns a Status whose `code` is a stable string (the same one the JS
// PallasError carries) and whose message says what to do about it.
#pragma once

#include <string>
#include <utility>

namespace pallas {

struct Status {
  const char* code = nullptr;  // nullptr when ok; otherwise e.g. "EAL_INIT", "PORT_START", "SOCKET"
  std::string message;

  bool ok() const { return code == nullptr; }
  static Status Ok() { return {}; }
  static Status Error(const char* code, std::string message) { return {code, std::move(message)}; }
};

}  // namespace pallas
