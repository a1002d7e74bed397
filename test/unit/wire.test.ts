// The TypeScript wire codec: shared vectors, round trips, and adversarial input (never throws).
import { describe, expect, it } from 'vitest';

import { decode, DEFAULT_TYPES, encode, flagsValid } from '../../lib/wire/codec.js';
import { HEADER_SIZE, REASONS } from '../../lib/wire/gen.js';
import { adversarial, randomBytes, randomHeader, rng } from '../helpers/random.js';
import { bytesOf, fromHex, fullHeader, INVALID, toHex, VALID } from '../helpers/vectors.js';

describe('wire codec (TypeScript)', () => {
  it.each(VALID)('encodes and decodes the shared vector: $name', (v) => {
    const bytes = encode(v.header, fromHex(v.payload));
    expect(toHex(bytes)).toBe(v.hex);
    const d = decode(bytes, DEFAULT_TYPES);
    expect(d.reason).toBe('ok');
    if (d.reason === 'ok') {
      expect(d.header).toEqual(fullHeader(v.header));
      expect(toHex(d.payload)).toBe(v.payload);
    }
  });

  it.each(INVALID)('rejects the shared vector: $name', (v) => {
    expect(decode(bytesOf(v), v.strict ? DEFAULT_TYPES : undefined).reason).toBe(v.reason);
  });

  it('round-trips 20 000 random headers with valid flags', () => {
    const r = rng(1);
    let checked = 0;
    for (let i = 0; i < 20_000; i++) {
      const h = randomHeader(r);
      if (i % 2 === 0) h.flags &= 0x1f; // no reserved bits: about a third of these are valid
      const payload = randomBytes(r, 1 + Math.floor(r() * 16)); // >= 1: a drop notice carries its cause
      const d = decode(encode(h, payload));
      if (!flagsValid(h.flags)) {
        expect(d.reason).toBe('bad_flags');
        continue;
      }
      expect(d.reason).toBe('ok');
      if (d.reason === 'ok') {
        expect(d.header).toEqual(h);
        expect(d.payload).toEqual(payload);
      }
      checked++;
    }
    expect(checked).toBeGreaterThan(2000); // enough valid flag bytes were drawn to mean something
  });

  it('rejects 10 000 adversarial datagrams with a reason, never throwing', () => {
    const r = rng(2);
    const seen = new Set<string>();
    for (const d of adversarial(r, 10_000)) {
      for (const types of [undefined, DEFAULT_TYPES]) {
        const res = decode(d, types);
        expect(REASONS).toContain(res.reason);
        if (d.length < HEADER_SIZE) expect(res.reason).toBe('too_short');
        seen.add(res.reason);
      }
    }
    // The generator reaches every reason, so this run exercised every rejection path.
    expect([...seen].sort()).toEqual([...REASONS].sort());
  });
});
