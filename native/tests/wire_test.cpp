// The wire codec (core/wire): encode/decode round trips, validation reasons, replies in place, and
// the shared vectors of test/fixtures/wire-vectors.json (the TS codec's tests replay the same file).
#include <doctest/doctest.h>

#include <cstring>
#include <set>
#include <string>
#include <vector>

#include "core/rng.hpp"
#include "core/wire/wire.hpp"
#include "core_testing.hpp"

using namespace pallas::wire;
using pallas::testing::from_hex;
using pallas::testing::to_hex;

namespace {
std::vector<uint8_t> request(uint8_t type, uint32_t req_id, size_t payload) {
  std::vector<uint8_t> b(kHeaderSize + payload, 0);
  Header h;
  h.type = type;
  h.req_id = req_id;
  h.send_ts = 77;
  REQUIRE(encode(h, b.data(), b.size()) == kHeaderSize);
  return b;
}

Reason check(const std::vector<uint8_t>& b, const TypeTable* types = nullptr) {
  return validate(b.data(), b.size(), types, nullptr);
}

Header header_of(const nlohmann::json& j) {
  Header h;
  h.type = j.value("type", 0);
  h.flags = j.value("flags", 0);
  h.group = j.value("group", 0);
  h.server = j.value("server", 0);
  h.queue_len = j.value("queueLen", 0);
  h.index = j.value("index", 0u);
  h.time_ns = j.value("timeNs", 0u);
  h.req_id = j.value("reqId", 0u);
  h.send_ts = j.value("sendTs", 0u);
  return h;
}

bool same(const Header& a, const Header& b) {
  return a.type == b.type && a.flags == b.flags && a.group == b.group && a.server == b.server &&
         a.queue_len == b.queue_len && a.index == b.index && a.time_ns == b.time_ns && a.req_id == b.req_id &&
         a.send_ts == b.send_ts;
}

const nlohmann::json& vectors() {
  static const nlohmann::json v =
      pallas::testing::load_json(pallas::testing::repo_root() / "test" / "fixtures" / "wire-vectors.json");
  return v;
}
}  // namespace

TEST_CASE("wire: a header encodes and decodes to the same fields") {
  Header h;
  h.type = 3;
  h.flags = kFlagResponse;
  h.group = 2;
  h.server = 9;
  h.queue_len = 200;
  h.index = 0xdeadbeef;
  h.time_ns = 123456;
  h.req_id = 42;
  h.send_ts = 99;
  uint8_t buf[kHeaderSize];
  REQUIRE(encode(h, buf, sizeof buf) == kHeaderSize);
  const Header d = decode(buf);
  CHECK(d.type == 3);
  CHECK(d.flags == kFlagResponse);
  CHECK(d.group == 2);
  CHECK(d.server == 9);
  CHECK(d.queue_len == 200);
  CHECK(d.index == 0xdeadbeef);
  CHECK(d.time_ns == 123456);
  CHECK(d.req_id == 42);
  CHECK(d.send_ts == 99);
  CHECK(encode(h, buf, kHeaderSize - 1) == 0);
}

TEST_CASE("wire: the layout is big-endian at the documented offsets") {
  Header h;
  h.type = 0x11;
  h.flags = 0x02;
  h.group = 0x33;
  h.server = 0x44;
  h.queue_len = 0x55;
  h.index = 0x01020304;
  h.time_ns = 0x05060708;
  h.req_id = 0x090a0b0c;
  h.send_ts = 0x0d0e0f10;
  uint8_t buf[kHeaderSize + 4];
  std::memset(buf, 0xee, sizeof buf);
  REQUIRE(encode(h, buf, sizeof buf) == kHeaderSize);
  CHECK(to_hex(buf, kHeaderSize) == "a111023344550102030405060708090a0b0c0d0e0f10");
  CHECK(to_hex(buf + kHeaderSize, 4) == "eeeeeeee");  // encode never writes past the header
  CHECK(load_be32(buf + off::index) == 0x01020304u);
  uint8_t w[4];
  store_be32(w, 0xfedcba98u);
  CHECK(to_hex(w, 4) == "fedcba98");
  CHECK(load_be32(w) == 0xfedcba98u);
}

TEST_CASE("wire: 20 000 random headers round-trip through encode and decode") {
  pallas::Rng rng(11);
  uint8_t buf[kHeaderSize + 1] = {};  // one payload byte: a drop notice carries its cause
  for (int i = 0; i < 20000; i++) {
    Header h;
    h.type = static_cast<uint8_t>(rng.next());
    h.flags = static_cast<uint8_t>(rng.next());
    h.group = static_cast<uint8_t>(rng.next());
    h.server = static_cast<uint8_t>(rng.next());
    h.queue_len = static_cast<uint8_t>(rng.next());
    h.index = static_cast<uint32_t>(rng.next());
    h.time_ns = static_cast<uint32_t>(rng.next());
    h.req_id = static_cast<uint32_t>(rng.next());
    h.send_ts = static_cast<uint32_t>(rng.next());
    REQUIRE(encode(h, buf, sizeof buf) == kHeaderSize);
    REQUIRE(same(decode(buf), h));
    Header v;
    const Reason r = validate(buf, sizeof buf, nullptr, &v);
    REQUIRE(r == (flags_valid(h.flags) ? Reason::kOk : Reason::kBadFlags));
    if (r == Reason::kOk) REQUIRE(same(v, h));
  }
}

TEST_CASE("wire: validation names why a datagram is refused") {
  auto b = request(1, 7, 64);
  Header h;
  CHECK(validate(b.data(), b.size(), nullptr, &h) == Reason::kOk);
  CHECK(h.req_id == 7);
  CHECK(validate(b.data(), kHeaderSize - 1, nullptr, nullptr) == Reason::kTooShort);
  auto bad_magic = b;
  bad_magic[0] ^= 0xff;
  CHECK(check(bad_magic) == Reason::kBadMagic);
  auto bad_flags = b;
  bad_flags[off::flags] = kCloneMask;  // clone state 3 is never produced
  CHECK(check(bad_flags) == Reason::kBadFlags);
}

TEST_CASE("wire: every Reason is reachable with a crafted datagram") {
  const TypeTable strict = TypeTable::defaults();
  std::set<Reason> seen;
  const auto see = [&](const std::vector<uint8_t>& d, const TypeTable* t, Reason want) {
    const Reason r = validate(d.data(), d.size(), t, nullptr);
    CHECK_MESSAGE(r == want, "got " << reason_name(r) << ", want " << reason_name(want));
    seen.insert(r);
  };
  see(request(1, 1, 4), &strict, Reason::kOk);
  see(std::vector<uint8_t>(kHeaderSize - 1, kMagicVersion), nullptr, Reason::kTooShort);
  see(std::vector<uint8_t>{}, nullptr, Reason::kTooShort);
  auto big = request(1, 1, kMaxDatagram + 1 - kHeaderSize);
  see(big, nullptr, Reason::kTooLong);
  auto magic = request(1, 1, 4);
  magic[off::magic_version] = 0xB1;
  see(magic, nullptr, Reason::kBadMagic);
  auto version = request(1, 1, 4);
  version[off::magic_version] = 0xA2;
  see(version, nullptr, Reason::kBadVersion);
  auto version0 = request(1, 1, 4);
  version0[off::magic_version] = 0xA0;
  see(version0, nullptr, Reason::kBadVersion);
  auto flags = request(1, 1, 4);
  flags[off::flags] = 0x20;
  see(flags, nullptr, Reason::kBadFlags);
  see(request(99, 1, 4), &strict, Reason::kUnknownType);
  see(request(static_cast<uint8_t>(Type::kGet), 1, 5), &strict, Reason::kBadPayload);
  CHECK(seen.size() == kReasonCount);
  for (uint32_t i = 0; i < kReasonCount; i++) CHECK(seen.count(static_cast<Reason>(i)) == 1);
}

TEST_CASE("wire: reason names are the contract's strings") {
  const char* want[] = {"ok",          "too_short", "too_long",     "bad_magic",
                        "bad_version", "bad_flags", "unknown_type", "bad_payload"};
  REQUIRE(kReasonCount == 8);
  for (uint32_t i = 0; i < kReasonCount; i++) CHECK(std::string(reason_name(static_cast<Reason>(i))) == want[i]);
  CHECK(std::string(reason_name(static_cast<Reason>(kReasonCount))) == "invalid_reason");
  CHECK(std::string(reason_name(static_cast<Reason>(255))) == "invalid_reason");
}

TEST_CASE("wire: validation checks length, magic, version, flags, type, payload in that order") {
  const TypeTable strict = TypeTable::defaults();
  // Too long wins over a bad magic; bad magic over a bad version (both nibbles wrong).
  std::vector<uint8_t> junk(kMaxDatagram + 1, 0x00);
  CHECK(check(junk) == Reason::kTooLong);
  auto both = request(1, 1, 4);
  both[off::magic_version] = 0x02;
  CHECK(check(both) == Reason::kBadMagic);
  // Bad version over bad flags; bad flags over an unknown type; unknown type over a short payload.
  auto vf = request(1, 1, 4);
  vf[off::magic_version] = 0xA3;
  vf[off::flags] = 0xff;
  CHECK(check(vf) == Reason::kBadVersion);
  auto ft = request(200, 1, 0);
  ft[off::flags] = kCloneMask;
  CHECK(check(ft, &strict) == Reason::kBadFlags);
  CHECK(check(request(200, 1, 0), &strict) == Reason::kUnknownType);
}

TEST_CASE("wire: datagram sizes at the limits") {
  CHECK(check(request(1, 1, 0)) == Reason::kOk);  // a bare header, no type table
  CHECK(check(request(1, 1, kMaxDatagram - kHeaderSize)) == Reason::kOk);
  CHECK(check(request(1, 1, kMaxDatagram - kHeaderSize + 1)) == Reason::kTooLong);
  const auto b = request(1, 1, 0);
  CHECK(validate(b.data(), 0, nullptr, nullptr) == Reason::kTooShort);
}

TEST_CASE("wire: flags_valid over all 256 values") {
  int valid = 0;
  for (int f = 0; f < 256; f++) {
    const bool reserved = (f & 0xE0) != 0;
    const bool clone3 = (f & 3) == 3;
    const bool resp = (f & 0x04) != 0, bounced = (f & 0x08) != 0, notice = (f & 0x10) != 0;
    const bool want = !reserved && !clone3 && !(notice && !resp) && !(bounced && resp);
    CHECK_MESSAGE(flags_valid(static_cast<uint8_t>(f)) == want, "flags " << f);
    valid += want;
  }
  // Clone state 0..2 × {request, request+bounced, reply, reply+notice}.
  CHECK(valid == 12);
}

TEST_CASE("wire: the default type table knows proto/wire.json's types and their payloads") {
  const TypeTable t = TypeTable::defaults();
  int known = 0;
  for (uint32_t i = 0; i < kMaxTypes; i++) known += t.known[i];
  CHECK(known == static_cast<int>(kTypeCount));
  CHECK(t.known[1]);
  CHECK(t.payload[1] == PayloadKind::kSpin);
  CHECK(t.known[10]);
  CHECK(t.payload[10] == PayloadKind::kKv);
  CHECK(t.payload[11] == PayloadKind::kKv);
  CHECK(t.known[24]);
  CHECK_FALSE(t.known[0]);
  CHECK_FALSE(t.known[5]);
  CHECK_FALSE(t.known[255]);
  // The minimum payload per kind, at the boundary.
  for (const TypeInfo& info : kTypes) {
    const uint32_t need = kPayloadSize[static_cast<uint8_t>(info.payload)];
    CHECK(check(request(info.id, 1, need), &t) == Reason::kOk);
    if (need > 0) CHECK(check(request(info.id, 1, need - 1), &t) == Reason::kBadPayload);
  }
  CHECK(kPayloadSize[static_cast<uint8_t>(PayloadKind::kSpin)] == 4);
  CHECK(kPayloadSize[static_cast<uint8_t>(PayloadKind::kKv)] == 6);
  // A custom table: a type with no payload needs none.
  TypeTable c;
  c.set(7, PayloadKind::kNone);
  CHECK(check(request(7, 1, 0), &c) == Reason::kOk);
  CHECK(check(request(1, 1, 4), &c) == Reason::kUnknownType);
}

TEST_CASE("wire: replies are not checked against the type table, a drop notice needs its cause") {
  const TypeTable strict = TypeTable::defaults();
  auto reply = request(99, 1, 0);  // unknown type, no payload
  reply[off::flags] = kFlagResponse;
  CHECK(check(reply, &strict) == Reason::kOk);
  auto notice = reply;
  notice[off::flags] = kFlagResponse | kFlagDropNotice;
  CHECK(check(notice, &strict) == Reason::kBadPayload);
  CHECK(check(notice, nullptr) == Reason::kBadPayload);
  notice.push_back(static_cast<uint8_t>(DropCause::kQueueFull));
  CHECK(check(notice, &strict) == Reason::kOk);
}

TEST_CASE("wire: validate leaves *out alone unless the datagram is valid") {
  auto b = request(1, 5, 4);
  b[off::magic_version] = 0x00;
  Header out;
  out.req_id = 0xabcdef;
  out.type = 77;
  CHECK(validate(b.data(), b.size(), nullptr, &out) == Reason::kBadMagic);
  CHECK(out.req_id == 0xabcdef);
  CHECK(out.type == 77);
}

TEST_CASE("wire: the shared vectors: valid datagrams encode to their bytes and decode to their fields") {
  const TypeTable strict = TypeTable::defaults();
  const auto& valid = vectors().at("valid");
  REQUIRE(valid.size() >= 5);
  for (const auto& v : valid) {
    CAPTURE(v.at("name").get<std::string>());
    const Header h = header_of(v.at("header"));
    const std::vector<uint8_t> payload = from_hex(v.at("payload").get<std::string>());
    std::vector<uint8_t> bytes(kHeaderSize + payload.size());
    REQUIRE(encode(h, bytes.data(), bytes.size()) == kHeaderSize);
    if (!payload.empty()) std::memcpy(bytes.data() + kHeaderSize, payload.data(), payload.size());
    CHECK(to_hex(bytes.data(), bytes.size()) == v.at("hex").get<std::string>());
    const std::vector<uint8_t> wire = from_hex(v.at("hex").get<std::string>());
    Header d;
    REQUIRE(validate(wire.data(), wire.size(), &strict, &d) == Reason::kOk);
    CHECK(same(d, h));
    CHECK(validate(wire.data(), wire.size(), nullptr, nullptr) == Reason::kOk);
    // Re-encoding the decoded header gives the same bytes.
    std::vector<uint8_t> again(wire);
    REQUIRE(encode(d, again.data(), again.size()) == kHeaderSize);
    CHECK(again == wire);
  }
}

TEST_CASE("wire: the shared vectors: invalid datagrams give their named reason") {
  const TypeTable strict = TypeTable::defaults();
  const auto& invalid = vectors().at("invalid");
  REQUIRE(invalid.size() >= 10);
  std::set<std::string> reasons;
  for (const auto& v : invalid) {
    CAPTURE(v.at("name").get<std::string>());
    std::vector<uint8_t> bytes;
    if (v.contains("fill"))
      bytes.assign(v.at("fill").at("len").get<size_t>(), v.at("fill").at("byte").get<uint8_t>());
    else
      bytes = from_hex(v.value("hex", std::string()));
    const bool is_strict = v.value("strict", false);
    const Reason r = validate(bytes.data(), bytes.size(), is_strict ? &strict : nullptr, nullptr);
    CHECK(std::string(reason_name(r)) == v.at("reason").get<std::string>());
    reasons.insert(v.at("reason").get<std::string>());
  }
  // The file exercises every rejection reason.
  for (uint32_t i = 1; i < kReasonCount; i++) CHECK(reasons.count(reason_name(static_cast<Reason>(i))) == 1);
}

TEST_CASE("wire: make_reply turns a request into its reply in place") {
  auto b = request(1, 1234, 64);
  make_reply(b.data(), 5, 1000, 4321);
  Header r;
  REQUIRE(validate(b.data(), b.size(), nullptr, &r) == Reason::kOk);
  CHECK((r.flags & kFlagResponse) != 0);
  CHECK(r.server == 5);
  CHECK(r.queue_len == 255);  // saturated
  CHECK(r.time_ns == 4321);
  CHECK(r.req_id == 1234);
}

TEST_CASE("wire: make_reply keeps clone state, group, index and echoes, clears BOUNCED, saturates the queue") {
  Header h;
  h.type = 11;
  h.flags = kCloneOriginal | kFlagBounced;
  h.group = 7;
  h.server = 99;
  h.index = 0x01020304;
  h.req_id = 555;
  h.send_ts = 0xffffffff;
  std::vector<uint8_t> b(kHeaderSize + 6, 0xab);
  REQUIRE(encode(h, b.data(), b.size()) == kHeaderSize);
  REQUIRE(check(b) == Reason::kOk);
  make_reply(b.data(), 3, 254, 0xffffffff);
  Header r;
  const TypeTable strict = TypeTable::defaults();
  REQUIRE(validate(b.data(), b.size(), &strict, &r) == Reason::kOk);
  CHECK(r.flags == (kCloneOriginal | kFlagResponse));  // a bounced reply would be invalid
  CHECK(r.type == 11);
  CHECK(r.group == 7);
  CHECK(r.server == 3);
  CHECK(r.queue_len == 254);
  CHECK(r.index == 0x01020304u);
  CHECK(r.time_ns == 0xffffffffu);
  CHECK(r.req_id == 555);
  CHECK(r.send_ts == 0xffffffffu);
  CHECK(to_hex(b.data() + kHeaderSize, 6) == "abababababab");  // the payload is untouched
  make_reply(b.data(), 3, 255, 0);
  CHECK(b[off::queue_len] == 255);
  make_reply(b.data(), 3, 256, 0);
  CHECK(b[off::queue_len] == 255);
  make_reply(b.data(), 3, 0, 0);
  CHECK(b[off::queue_len] == 0);
  // A clone's reply stays a clone's (the reply filter needs it).
  auto c = request(1, 1, 4);
  c[off::flags] = kCloneClone;
  make_reply(c.data(), 0, 0, 0);
  CHECK(c[off::flags] == (kCloneClone | kFlagResponse));
  // Making a reply twice changes nothing more.
  auto twice = c;
  make_reply(twice.data(), 0, 0, 0);
  CHECK(twice == c);
}
