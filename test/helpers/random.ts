// Deterministic randomness for property tests: a seeded PRNG and generators of headers and bytes.
import { HEADER_SIZE, MAX_DATAGRAM } from '../../lib/wire/gen.js';
import { encode, type Header } from '../../lib/wire/codec.js';

export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export const u8 = (r: () => number) => Math.floor(r() * 256);
export const u32 = (r: () => number) => Math.floor(r() * 4294967296) >>> 0;

export function randomHeader(r: () => number): Header {
  return {
    type: u8(r),
    flags: u8(r),
    group: u8(r),
    server: u8(r),
    queueLen: u8(r),
    index: u32(r),
    timeNs: u32(r),
    reqId: u32(r),
    sendTs: u32(r),
  };
}

export function randomBytes(r: () => number, len: number): Uint8Array {
  const b = new Uint8Array(len);
  for (let i = 0; i < len; i++) b[i] = u8(r);
  return b;
}

/**
 * Adversarial datagrams: pure noise, valid headers with random flags/types/payloads, truncations of
 * valid datagrams, one-byte corruptions, and lengths around every boundary.
 */
export function adversarial(r: () => number, n: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let i = 0; i < n; i++) {
    const kind = i % 5;
    if (kind === 0) out.push(randomBytes(r, Math.floor(r() * 64)));
    else if (kind === 1) out.push(encode(randomHeader(r), randomBytes(r, Math.floor(r() * 12))));
    else if (kind === 2) {
      const d = encode(randomHeader(r), randomBytes(r, 8));
      out.push(d.subarray(0, Math.floor(r() * (d.length + 1))));
    } else if (kind === 3) {
      const d = encode({ ...randomHeader(r), flags: u8(r) & 0x1f }, randomBytes(r, Math.floor(r() * 8)));
      d[Math.floor(r() * d.length)] = u8(r);
      out.push(d);
    } else {
      const lens = [0, 1, HEADER_SIZE - 1, HEADER_SIZE, HEADER_SIZE + 1, MAX_DATAGRAM, MAX_DATAGRAM + 1, 2048];
      const d = randomBytes(r, lens[Math.floor(r() * lens.length)]!);
      if (d.length > 0 && r() < 0.5) d[0] = 0xa1;
      out.push(d);
    }
  }
  return out;
}
