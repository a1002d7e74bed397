// The wire codec in TypeScript, for tools and tests: the same layout, checks and check order as
// native/core/wire (tests hold the two to byte-for-byte agreement). Never throws on bad bytes:
// validate() returns the reason, as every hop counts it.
import {
  CLONE_MASK,
  Flag,
  FLAGS_RESERVED,
  HEADER_SIZE,
  MAGIC,
  MAX_DATAGRAM,
  MAGIC_VERSION,
  PAYLOADS,
  TYPES,
  VERSION,
  type PayloadName,
  type Reason,
} from './gen.js';

export interface Header {
  type: number;
  flags: number;
  group: number;
  server: number;
  queueLen: number;
  index: number;
  timeNs: number;
  reqId: number;
  sendTs: number;
}

export type Decoded = { reason: 'ok'; header: Header; payload: Uint8Array } | { reason: Exclude<Reason, 'ok'> };

/** Request type id → payload its requests must carry; the default table is every type in proto/. */
export type TypeTable = ReadonlyMap<number, PayloadName>;
export const DEFAULT_TYPES: TypeTable = new Map(TYPES.map((t) => [t.id, t.payload]));

export function emptyHeader(): Header {
  return { type: 0, flags: 0, group: 0, server: 0, queueLen: 0, index: 0, timeNs: 0, reqId: 0, sendTs: 0 };
}

/** Flag combinations no hop produces (see docs/wire-format.md). */
export function flagsValid(flags: number): boolean {
  if (flags & FLAGS_RESERVED) return false;
  if ((flags & CLONE_MASK) === CLONE_MASK) return false;
  const response = (flags & Flag.RESPONSE) !== 0;
  if (flags & Flag.DROP_NOTICE && !response) return false;
  if (flags & Flag.BOUNCED && response) return false;
  return true;
}

/** Header plus payload as one datagram. Field values are truncated to their widths. */
export function encode(h: Partial<Header>, payload: Uint8Array = new Uint8Array(0)): Uint8Array {
  const out = new Uint8Array(HEADER_SIZE + payload.length);
  const v = new DataView(out.buffer);
  v.setUint8(0, MAGIC_VERSION);
  v.setUint8(1, h.type ?? 0);
  v.setUint8(2, h.flags ?? 0);
  v.setUint8(3, h.group ?? 0);
  v.setUint8(4, h.server ?? 0);
  v.setUint8(5, h.queueLen ?? 0);
  v.setUint32(6, (h.index ?? 0) >>> 0);
  v.setUint32(10, (h.timeNs ?? 0) >>> 0);
  v.setUint32(14, (h.reqId ?? 0) >>> 0);
  v.setUint32(18, (h.sendTs ?? 0) >>> 0);
  out.set(payload, HEADER_SIZE);
  return out;
}

/**
 * Checks a datagram and decodes it. `types` undefined accepts any type (forwarding hops); with a
 * table, requests of unknown types or with short payloads are rejected.
 */
export function decode(data: Uint8Array, types?: TypeTable): Decoded {
  if (data.length < HEADER_SIZE) return { reason: 'too_short' };
  if (data.length > MAX_DATAGRAM) return { reason: 'too_long' };
  const mv = data[0]!;
  if (mv >> 4 !== MAGIC) return { reason: 'bad_magic' };
  if ((mv & 0x0f) !== VERSION) return { reason: 'bad_version' };
  const flags = data[2]!;
  if (!flagsValid(flags)) return { reason: 'bad_flags' };
  const payloadLen = data.length - HEADER_SIZE;
  if (flags & Flag.RESPONSE) {
    if (flags & Flag.DROP_NOTICE && payloadLen < 1) return { reason: 'bad_payload' };
  } else if (types) {
    const p = types.get(data[1]!);
    if (p === undefined) return { reason: 'unknown_type' };
    if (payloadLen < PAYLOADS[p].size) return { reason: 'bad_payload' };
  }
  const v = new DataView(data.buffer, data.byteOffset, data.byteLength);
  return {
    reason: 'ok',
    header: {
      type: data[1]!,
      flags,
      group: data[3]!,
      server: data[4]!,
      queueLen: data[5]!,
      index: v.getUint32(6),
      timeNs: v.getUint32(10),
      reqId: v.getUint32(14),
      sendTs: v.getUint32(18),
    },
    payload: data.subarray(HEADER_SIZE),
  };
}

/** A request payload: spin_ns for spin types; key and count for kv types. */
export function spinPayload(spinNs: number): Uint8Array {
  const p = new Uint8Array(PAYLOADS.spin.size);
  new DataView(p.buffer).setUint32(0, spinNs >>> 0);
  return p;
}

export function kvPayload(key: number, count: number): Uint8Array {
  const p = new Uint8Array(PAYLOADS.kv.size);
  const v = new DataView(p.buffer);
  v.setUint32(0, key >>> 0);
  v.setUint16(4, count & 0xffff);
  return p;
}

/** The payload a request of `type` needs, filled with a plausible default; empty for unknown types. */
export function defaultPayload(type: number, types: TypeTable = DEFAULT_TYPES): Uint8Array {
  const p = types.get(type);
  if (p === 'spin') return spinPayload(1000);
  if (p === 'kv') return kvPayload(0, 1);
  return new Uint8Array(0);
}
