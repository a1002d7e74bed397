// Pallas wire codec implementation; see wire.hpp for the contract and docs/wire-format.md for the
// layout. Validation order is part of the contract (TS lib/wire/codec.ts follows the same order).
#include "wire.hpp"

namespace pallas::wire {

Reason validate(const uint8_t* data, size_t len, const TypeTable* types, Header* out) {
  if (len < kHeaderSize) return Reason::kTooShort;
  if (len > kMaxDatagram) return Reason::kTooLong;
  const uint8_t mv = data[off::magic_version];
  if ((mv >> 4) != kMagic) return Reason::kBadMagic;
  if ((mv & 0x0f) != kVersion) return Reason::kBadVersion;
  const uint8_t flags = data[off::flags];
  if (!flags_valid(flags)) return Reason::kBadFlags;
  const size_t payload_len = len - kHeaderSize;
  if (flags & kFlagResponse) {
    if ((flags & kFlagDropNotice) && payload_len < 1) return Reason::kBadPayload;
  } else if (types != nullptr) {
    const uint8_t type = data[off::type];
    if (!types->known[type]) return Reason::kUnknownType;
    if (payload_len < kPayloadSize[static_cast<uint8_t>(types->payload[type])]) return Reason::kBadPayload;
  }
  if (out != nullptr) *out = decode(data);
  return Reason::kOk;
}

Header decode(const uint8_t* data) {
  Header h;
  h.type = data[off::type];
  h.flags = data[off::flags];
  h.group = data[off::group];
  h.server = data[off::server];
  h.queue_len = data[off::queue_len];
  h.index = load_be32(data + off::index);
  h.time_ns = load_be32(data + off::time_ns);
  h.req_id = load_be32(data + off::req_id);
  h.send_ts = load_be32(data + off::send_ts);
  return h;
}

size_t encode(const Header& h, uint8_t* out, size_t cap) {
  if (cap < kHeaderSize) return 0;
  out[off::magic_version] = kMagicVersion;
  out[off::type] = h.type;
  out[off::flags] = h.flags;
  out[off::group] = h.group;
  out[off::server] = h.server;
  out[off::queue_len] = h.queue_len;
  store_be32(out + off::index, h.index);
  store_be32(out + off::time_ns, h.time_ns);
  store_be32(out + off::req_id, h.req_id);
  store_be32(out + off::send_ts, h.send_ts);
  return kHeaderSize;
}

}  // namespace pallas::wire
