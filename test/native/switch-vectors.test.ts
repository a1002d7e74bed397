// The shared test vectors (p4/vectors/*.json), replayed against the C++ pipeline: every packet's
// fate, the registers and counters after, and the program entries of each vector's tables. The
// same files are what p4/ptf/test_vectors.py replays on the Tofino model; here they also fail when
// they are stale (the C++ pipeline changed, or a file was edited by hand).
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

import { describe, expect, it } from 'vitest';

import { loadNative, packageRoot, type NativeSwitchTables } from '../../lib/native.js';
import { p4Entries } from '../../lib/switch/p4-entries.js';
import type { SwitchTables } from '../../lib/control/policy.js';

interface Fwd {
  group: number;
  server: number;
  flags: number;
  index: number;
}
interface Step {
  atNs: number;
  request?: { type: number; flags?: number; index?: number; group?: number; server?: number };
  reply?: { type: number; flags: number; index: number; group: number; server: number; timeNs: number };
  expect: { dropped?: boolean; out?: Fwd; clone?: Fwd; forward?: boolean };
}
interface Vector {
  name: string;
  covers: string[];
  timing: 'one-window' | 'ns';
  seq?: number;
  tables: SwitchTables;
  p4Entries: unknown[];
  steps: Step[];
  filterSlots?: number[];
  after: { registers: Record<string, unknown>; monitor: unknown[]; counters: Record<string, number> };
}

const addon = loadNative();
const dir = join(packageRoot, 'p4', 'vectors');
const vectors: Vector[] = readdirSync(dir)
  .filter((f) => f.endsWith('.json'))
  .sort()
  .map((f) => JSON.parse(readFileSync(join(dir, f), 'utf8')) as Vector);

describe('shared switch vectors', () => {
  it('are what the C++ pipeline does today (node p4/vectors/generate.mjs --check)', () => {
    expect(() => execFileSync(process.execPath, [join(dir, 'generate.mjs'), '--check'], { stdio: 'pipe', timeout: 60_000 })).not.toThrow();
  });

  it('cover every stage of the contract', () => {
    const covers = vectors.flatMap((v) => v.covers).join('\n');
    for (const stage of [
      'type_to_group',
      'seq',
      'wrr_counter wrap',
      'burst count',
      'clone_counter',
      'suppression',
      'window',
      '2^40',
      'po2',
      'outstanding',
      'second dropped',
      'evicted',
      'notice',
      'bounced',
      'rounded',
      'wrapping',
    ])
      expect(covers, stage).toContain(stage);
    expect(vectors.filter((v) => v.timing === 'one-window').length).toBeGreaterThanOrEqual(vectors.length - 1);
  });

  for (const v of vectors) {
    it(`${v.name}: every packet, then the registers and counters, as the file says`, () => {
      const p = new addon.SwitchPipeline(v.tables as unknown as NativeSwitchTables, undefined, { seed: 1, allowAblation: false });
      if (v.seq !== undefined) p.writeSeq(v.seq);
      v.steps.forEach((s, i) => {
        if (s.request) {
          const o = p.request(s.request, s.atNs);
          if (s.expect.dropped) {
            expect(o.dropped, `step ${i}`).toBe(true);
            return;
          }
          expect(o.dropped, `step ${i}`).toBe(false);
          expect({ group: o.group, server: o.server, flags: o.flags, index: o.index }, `step ${i}`).toEqual(s.expect.out);
          expect(
            o.clone ? { group: o.clone.group, server: o.clone.server, flags: o.clone.flags, index: o.clone.index } : undefined,
            `step ${i} clone`,
          ).toEqual(s.expect.clone);
        } else {
          expect(p.reply(s.reply!), `step ${i}`).toBe(s.expect.forward);
        }
      });
      const r = p.registers(v.filterSlots);
      const g = v.tables.groups.length;
      expect({
        seq: r.seq,
        wrrCounter: r.wrrCounter.slice(0, g),
        cloneCounter: r.cloneCounter.slice(0, g),
        burstWindow: r.burstWindow.slice(0, g),
        burstCount: r.burstCount.slice(0, g),
        outstanding: r.outstanding,
        ...(r.filter ? { filter: r.filter } : {}),
      }).toEqual(v.after.registers);
      expect(p.monitor()).toEqual(v.after.monitor);
      const c = p.counters();
      for (const [k, n] of Object.entries(v.after.counters)) expect(c[k], k).toBe(n);
      // The program's entries for the vector's tables: what PTF installs.
      expect(p4Entries(v.tables, { vip: 0x0a000001, cloneSession: 1 })).toEqual(v.p4Entries);
    });
  }
});
