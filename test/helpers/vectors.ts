// Loads test/fixtures/wire-vectors.json (shared by the TS and native codec tests).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

import type { Header } from '../../lib/wire/codec.js';

export interface ValidVector {
  name: string;
  header: Partial<Header>;
  payload: string;
  hex: string;
}
export interface InvalidVector {
  name: string;
  hex?: string;
  fill?: { byte: number; len: number };
  strict?: boolean;
  reason: string;
}

const raw = JSON.parse(readFileSync(join(__dirname, '..', 'fixtures', 'wire-vectors.json'), 'utf8')) as {
  valid: ValidVector[];
  invalid: InvalidVector[];
};
export const VALID = raw.valid;
export const INVALID = raw.invalid;

export const fromHex = (h: string) => Uint8Array.from(Buffer.from(h, 'hex'));
export const toHex = (b: Uint8Array) => Buffer.from(b).toString('hex');
export const bytesOf = (v: InvalidVector) => (v.fill ? new Uint8Array(v.fill.len).fill(v.fill.byte) : fromHex(v.hex ?? ''));
export const fullHeader = (h: Partial<Header>): Header => ({
  type: 0,
  flags: 0,
  group: 0,
  server: 0,
  queueLen: 0,
  index: 0,
  timeNs: 0,
  reqId: 0,
  sendTs: 0,
  ...h,
});
