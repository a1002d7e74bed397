// The C++ wire codec through the addon, held byte for byte to the TypeScript codec.
import { describe, expect, it } from 'vitest';

import { decode, DEFAULT_TYPES, encode, flagsValid } from '../../lib/wire/codec.js';
import { REASONS } from '../../lib/wire/gen.js';
import { loadNative } from '../../lib/native.js';
import { adversarial, randomBytes, randomHeader, rng } from '../helpers/random.js';
import { bytesOf, fromHex, fullHeader, INVALID, toHex, VALID } from '../helpers/vectors.js';

const addon = loadNative();

function batch(datagrams: Uint8Array[]): { data: Uint8Array; lens: Uint32Array } {
  const lens = Uint32Array.from(datagrams.map((d) => d.length));
  const data = new Uint8Array(lens.reduce((a, b) => a + b, 0));
  let off = 0;
  for (const d of datagrams) {
    data.set(d, off);
    off += d.length;
  }
  return { data, lens };
}

describe('wire codec (C++ through the addon)', () => {
  it.each(VALID)('encodes and decodes the shared vector: $name', (v) => {
    const bytes = addon.wireEncode(v.header, fromHex(v.payload));
    expect(toHex(bytes)).toBe(v.hex);
    const d = addon.wireDecode(bytes, true);
    expect(d.reason).toBe('ok');
    expect(d.header).toEqual(fullHeader(v.header));
  });

  it.each(INVALID)('rejects the shared vector: $name', (v) => {
    expect(addon.wireDecode(bytesOf(v), v.strict ?? false).reason).toBe(v.reason);
  });

  it('encodes 5 000 random headers to the same bytes as TypeScript, and each decodes the other', () => {
    const r = rng(3);
    for (let i = 0; i < 5000; i++) {
      const h = randomHeader(r);
      const payload = randomBytes(r, 1 + Math.floor(r() * 8)); // >= 1: a drop notice carries its cause
      const ts = encode(h, payload);
      const cc = addon.wireEncode(h, payload);
      expect(toHex(cc)).toBe(toHex(ts));
      const d = addon.wireDecode(ts, false);
      if (flagsValid(h.flags)) expect(d.header).toEqual(h);
      else expect(d.reason).toBe('bad_flags');
    }
  });

  it('gives the same reason as TypeScript for 20 000 adversarial datagrams, in one batch', () => {
    const datagrams = adversarial(rng(4), 20_000);
    const { data, lens } = batch(datagrams);
    for (const strict of [false, true]) {
      const reasons = addon.wireValidateBatch(data, lens, strict);
      expect(reasons.length).toBe(datagrams.length);
      const mismatches = datagrams
        .map((d, i) => ({ i, ts: decode(d, strict ? DEFAULT_TYPES : undefined).reason, cc: REASONS[reasons[i]!] }))
        .filter((m) => m.ts !== m.cc);
      expect(mismatches.slice(0, 5)).toEqual([]);
    }
  });

  it('refuses a batch whose lengths overrun the data with a typed error', () => {
    expect(() => addon.wireValidateBatch(new Uint8Array(10), Uint32Array.from([30]))).toThrow(/exceed/);
  });
});
