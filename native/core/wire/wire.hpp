// Pallas wire codec: encode, decode and validate request/reply headers (wire format v1).
// Pure functions over byte spans: no allocation, no I/O, no exceptions. Every hop (switch, server,
// client, simulator) validates with validate() and counts a rejected datagram under its Reason.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>

#include "wire_gen.hpp"

namespace pallas::wire {

// The header fields as host-order values. magic_version is implied (always kMagicVersion).
struct Header {
  uint8_t type = 0;
  uint8_t flags = 0;
  uint8_t group = 0;
  uint8_t server = 0;
  uint8_t queue_len = 0;
  uint32_t index = 0;
  uint32_t time_ns = 0;
  uint32_t req_id = 0;
  uint32_t send_ts = 0;
};

// Which request types a hop accepts, and the payload each needs. Index = type id.
// A hop that forwards any type (the switch) passes nullptr to validate().
struct TypeTable {
  bool known[kMaxTypes] = {};
  PayloadKind payload[kMaxTypes] = {};

  // The table of every type in proto/wire.json.
  static TypeTable defaults() {
    TypeTable t;
    for (const TypeInfo& info : kTypes) t.set(info.id, info.payload);
    return t;
  }
  void set(uint8_t type, PayloadKind kind) {
    known[type] = true;
    payload[type] = kind;
  }
};

inline uint32_t load_be32(const uint8_t* p) {
  return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | uint32_t{p[3]};
}
inline void store_be32(uint8_t* p, uint32_t v) {
  p[0] = static_cast<uint8_t>(v >> 24);
  p[1] = static_cast<uint8_t>(v >> 16);
  p[2] = static_cast<uint8_t>(v >> 8);
  p[3] = static_cast<uint8_t>(v);
}

// Flag combinations that no hop ever produces: reserved bits, clone state 3, a drop notice that is
// not a reply, a bounced reply.
inline bool flags_valid(uint8_t flags) {
  if (flags & kFlagsReserved) return false;
  if ((flags & kCloneMask) == kCloneMask) return false;
  const bool response = flags & kFlagResponse;
  if ((flags & kFlagDropNotice) && !response) return false;
  if ((flags & kFlagBounced) && response) return false;
  return true;
}

// Checks a datagram and, when it is valid and `out` is set, decodes its header into `out`.
// `types` == nullptr accepts any type (forwarding hops). Returns Reason::kOk or why it was rejected.
Reason validate(const uint8_t* data, size_t len, const TypeTable* types, Header* out);

// Writes the header into out[0, kHeaderSize). Returns kHeaderSize, or 0 when cap is too small.
size_t encode(const Header& h, uint8_t* out, size_t cap);

// Decodes the header fields without validating (caller has validated).
Header decode(const uint8_t* data);

// Turns a validated request in place into its reply header: RESPONSE set, clone state and group
// kept (the switch's reply filter needs them), server, queue length (saturated) and time written.
inline void make_reply(uint8_t* data, uint8_t server, uint32_t queue_len, uint32_t time_ns) {
  data[off::flags] = static_cast<uint8_t>((data[off::flags] | kFlagResponse) & ~kFlagBounced);
  data[off::server] = server;
  data[off::queue_len] = static_cast<uint8_t>(queue_len > 255 ? 255 : queue_len);
  store_be32(data + off::time_ns, time_ns);
}

inline const char* reason_name(Reason r) {
  const auto i = static_cast<uint32_t>(r);
  return i < kReasonCount ? kReasonNames[i] : "invalid_reason";
}

}  // namespace pallas::wire
