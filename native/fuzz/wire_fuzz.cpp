// libFuzzer target for the wire decoder (clang -fsanitize=fuzzer,address,undefined). Properties:
// validate() never crashes or reads out of bounds on any input; a datagram it accepts re-encodes
// to the same header bytes; turning an accepted request into a reply keeps it valid.
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "../core/wire/wire.hpp"

using namespace pallas::wire;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const TypeTable types = TypeTable::defaults();
  // Copy into an exactly sized heap buffer so that ASan sees any read past the end.
  std::vector<uint8_t> buf(data, data + size);
  Header h;
  const Reason loose = validate(buf.data(), buf.size(), nullptr, &h);
  const Reason strict = validate(buf.data(), buf.size(), &types, nullptr);
  if (static_cast<uint32_t>(loose) >= kReasonCount || static_cast<uint32_t>(strict) >= kReasonCount) abort();
  // A type table can only add reasons, never accept what the forwarding check rejects.
  if (loose != Reason::kOk && strict != loose) abort();
  if (loose == Reason::kOk) {
    uint8_t out[kHeaderSize];
    if (encode(h, out, sizeof out) != kHeaderSize || std::memcmp(out, buf.data(), kHeaderSize) != 0) abort();
    if (strict == Reason::kOk && !(h.flags & kFlagResponse)) {
      make_reply(buf.data(), 1, 300, 1234);
      Header r;
      if (validate(buf.data(), buf.size(), nullptr, &r) != Reason::kOk || r.queue_len != 255 || r.req_id != h.req_id)
        abort();
    }
  }
  return 0;
}
