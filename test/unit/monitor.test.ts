// The control plane's side of the monitor (docs/switch-contract.md): cumulative 32-bit registers
// turned into per-interval samples modulo 2^32, and the estimate an Adapter makes of them (means
// from execution-time sums, shares and rate from the requests the switch counted).
import { describe, expect, it } from 'vitest';

import { Adapter, MonitorDiff, type MonitorRead } from '../../lib/control/adapt.js';
import { buildPlan, type Plan } from '../../lib/control/policy.js';

const read = (o: Partial<Record<keyof MonitorRead, Record<number, number>>>): MonitorRead => {
  const col = (m: Record<number, number> = {}) => Array.from({ length: 256 }, (_, t) => m[t] ?? 0);
  return { requests: col(o.requests), replies: col(o.replies), timeUnits: col(o.timeUnits), notices: col(o.notices) };
};

describe('monitor differences', () => {
  it('takes differences modulo 2^32, so a register that wrapped once between two reads still counts right', () => {
    const d = new MonitorDiff(read({ requests: { 1: 2 ** 32 - 10 }, replies: { 1: 2 ** 32 - 3 }, timeUnits: { 1: 2 ** 32 - 100 } }));
    const s = d.next(read({ requests: { 1: 15 }, replies: { 1: 4 }, timeUnits: { 1: 900 }, notices: { 1: 2 } }));
    expect([s.requests[1], s.replies[1], s.timeNs[1], s.notices[1]]).toEqual([25, 7, 1000 * 16, 2]);
    const s2 = d.next(read({ requests: { 1: 15 }, replies: { 1: 4 }, timeUnits: { 1: 900 }, notices: { 1: 2 } }));
    expect([s2.requests[1], s2.replies[1], s2.timeNs[1]]).toEqual([0, 0, 0]);
    // Without a baseline, the first read counts from zero (a switch that started with us).
    expect(new MonitorDiff().next(read({ requests: { 3: 7 } })).requests[3]).toBe(7);
  });

  it('an adapter estimates means from sums and shares from requests, over intervals until minSamples', async () => {
    const types = [
      { type: 1, name: 'S' },
      { type: 3, name: 'L' },
    ];
    const rack = Array.from({ length: 4 }, (_, id) => ({ id, cores: 10 }));
    const plan: Plan = buildPlan(
      [
        { type: 1, name: 'S', meanNs: 10_000, share: 0.5 },
        { type: 3, name: 'L', meanNs: 100_000, share: 0.5 },
      ],
      [[1], [3]],
      rack,
    )!;
    const seen: { est: unknown; load: number }[] = [];
    const a = new Adapter(types, rack, plan, { deltaCores: -1, minSamples: 1000, plan: { groups: 2 } }, (est, load) => {
      seen.push({ est, load });
      return async () => ({ p99Us: 1, saturated: false });
    });
    const diff = new MonitorDiff();
    // 10 ms intervals: 450 S and 50 L requests each; S's replies took 10 µs, L's 100 µs; every L
    // request beyond 30 per interval was dropped at a full queue (its demand still counts).
    let regs = read({});
    const step = () => {
      regs = read({
        requests: { 1: regs.requests[1]! + 450, 3: regs.requests[3]! + 50 },
        replies: { 1: regs.replies[1]! + 450, 3: regs.replies[3]! + 30 },
        timeUnits: { 1: regs.timeUnits[1]! + (450 * 10_000) / 16, 3: regs.timeUnits[3]! + (30 * 100_000) / 16 },
        notices: { 3: regs.notices[3]! + 20 },
      });
      return diff.next(regs);
    };
    expect(await a.onMonitor(step(), 10e6, 10e6)).toBeNull(); // 500 < minSamples
    const ad = await a.onMonitor(step(), 10e6, 20e6);
    expect(ad).not.toBeNull();
    expect(ad!.estimate).toEqual([
      { type: 1, name: 'S', meanNs: 10_000, share: 0.9 },
      { type: 3, name: 'L', meanNs: 100_000, share: 0.1 },
    ]);
    // Load: 50 000 req/s × 19 µs over 40 cores.
    expect(seen[0]!.load).toBeCloseTo((50_000 * 19e-6) / 40, 9);
  });
});
