// The Pallas switch pipeline (native/core/switch) through the addon: WRR windows, burst cloning,
// the reply filter under collisions and lost clones, the monitor's EWMA, table validation.
import { describe, expect, it } from 'vitest';

import { loadNative, type NativeSwitchTables } from '../../lib/native.js';
import { Clone, Flag } from '../../lib/wire/gen.js';
import { rng } from '../helpers/random.js';

const addon = loadNative();
const TAU = 20_000;

const tables = (over: Partial<NativeSwitchTables> = {}): NativeSwitchTables => ({
  typeToGroup: { 1: 0, 2: 1, 3: 2 },
  groups: [
    { wrr: [{ server: 0, weight: 3 }, { server: 1, weight: 1 }, { server: 2, weight: 2 }], cThres: 4 },
    { wrr: [{ server: 3, weight: 5 }, { server: 4, weight: 5 }], cThres: 10 },
    { wrr: [{ server: 5, weight: 2 }], cThres: 6 },
  ],
  ...over,
});

describe('switch pipeline', () => {
  it('shapes by type, sends unmapped types to the default group, and gives every request a fresh non-zero index', () => {
    const p = new addon.SwitchPipeline(tables({ defaultGroup: 2 }));
    expect(p.request({ type: 2 }, 0)).toMatchObject({ group: 1, index: 1 });
    expect(p.request({ type: 99 }, 0)).toMatchObject({ group: 2, server: 5, index: 2 });
    expect(p.request({ type: 1, flags: Flag.BOUNCED, index: 77 }, 0)).toMatchObject({ group: 0, index: 77 });  // bounced: keeps its index
    expect(p.counters()).toMatchObject({ n_requests: 3, n_unmapped: 1, n_bounced: 1 });
  });

  it('WRR gives each server exactly its weight in every window of Σw requests', () => {
    const p = new addon.SwitchPipeline(tables({ typeToGroup: { 1: 0 }, groups: [{ wrr: [{ server: 0, weight: 3 }, { server: 1, weight: 1 }, { server: 2, weight: 2 }, { server: 7, weight: 4 }] }] }));
    const seq = Array.from({ length: 200 }, (_, i) => p.request({ type: 1 }, i * 1e6).server);  // far apart: no bursts
    const want: Record<number, number> = { 0: 3, 1: 1, 2: 2, 7: 4 };
    for (let start = 0; start + 10 <= seq.length; start++) {  // every window, not only aligned ones
      const got: Record<number, number> = {};
      for (const s of seq.slice(start, start + 10)) got[s] = (got[s] ?? 0) + 1;
      expect(got, `window at ${start}`).toEqual(want);
    }
    // A table reload restarts the counter with the new weights.
    p.load(tables({ typeToGroup: { 1: 0 }, groups: [{ wrr: [{ server: 4, weight: 1 }, { server: 5, weight: 1 }] }] }));
    expect([0, 1, 2, 3].map(() => p.request({ type: 1 }, 0).server)).toEqual([4, 5, 4, 5]);
  });

  it('a burst of k requests in one τ window clones exactly k − C_thres, each to the least-burst group', () => {
    const p = new addon.SwitchPipeline(tables());
    // Group 1 already has 6 of its 10 in this window; group 2 none of its 6.
    for (let i = 0; i < 6; i++) p.request({ type: 2 }, 100);
    const count = [0, 6, 0], thres = [4, 10, 6];
    const k = 11;
    const outs = Array.from({ length: k }, (_, i) => p.request({ type: 1 }, 200 + i));
    const cloned = outs.filter((o) => o.clone);
    expect(cloned).toHaveLength(k - 4);
    expect(outs.slice(0, 4).every((o) => !o.clone && (o.flags & 3) === Clone.NONE)).toBe(true);
    const targets: number[] = [];
    for (const o of cloned) {
      expect(o.flags & 3).toBe(Clone.ORIGINAL);
      expect(o.group).toBe(0);
      expect(o.clone!).toMatchObject({ flags: Clone.CLONE, index: o.index });
      // The least-burst group, counting the clones each group received in this window.
      const want = count[1]! / thres[1]! < count[2]! / thres[2]! ? 1 : 2;
      expect(o.clone!.group).toBe(want);
      count[want]!++;
      targets.push(want);
    }
    expect(targets).toEqual([2, 2, 2, 2, 1, 2, 1]);
    expect(cloned.filter((o) => o.clone!.group === 2).every((o) => o.clone!.server === 5)).toBe(true);
    // A new window starts a new count.
    expect(p.request({ type: 1 }, TAU + 1).clone).toBeUndefined();
    expect(p.counters().n_cloned).toBe(k - 4);
  });

  it('does not clone with cloning off, without a threshold, or a bounced request', () => {
    const off = new addon.SwitchPipeline(tables({ clone: false }));
    expect(Array.from({ length: 20 }, () => off.request({ type: 1 }, 0)).some((o) => o.clone)).toBe(false);
    const noThr = new addon.SwitchPipeline(tables({ typeToGroup: { 1: 0 }, groups: [{ wrr: [{ server: 0, weight: 1 }] }, { wrr: [{ server: 1, weight: 1 }], cThres: 5 }] }));
    expect(Array.from({ length: 20 }, () => noThr.request({ type: 1 }, 0)).some((o) => o.clone)).toBe(false);
    const p = new addon.SwitchPipeline(tables());
    for (let i = 0; i < 4; i++) p.request({ type: 1 }, 0);
    expect(p.request({ type: 1, flags: Flag.BOUNCED, index: 9 }, 0).clone).toBeUndefined();
  });

  it('a group with cloneOut off never clones its excess, yet counts it and still receives clones', () => {
    const t = tables();
    t.groups[2] = { ...t.groups[2]!, cloneOut: false };
    const p = new addon.SwitchPipeline(t);
    // Group 2 (C_thres 6) gets 9 requests in one window: none cloned, but its count is 9 ...
    expect(Array.from({ length: 9 }, () => p.request({ type: 3 }, 0)).some((o) => o.clone)).toBe(false);
    // ... so group 0's excess goes to group 1 (degree 0/10) rather than group 2 (9/6), and group 2
    // is a target again once group 1's degree passes it.
    const outs = Array.from({ length: 4 + 16 }, () => p.request({ type: 1 }, 0)).filter((o) => o.clone);
    expect(outs).toHaveLength(16);
    expect(outs.slice(0, 15).every((o) => o.clone!.group === 1)).toBe(true);  // 15/10 = 1.5 = 9/6
    expect(outs[15]!.clone!.group).toBe(1);                                   // a tie goes to the lower group
    expect(p.request({ type: 1 }, 0).clone!.group).toBe(2);                  // 16/10 > 9/6
    expect(p.counters().n_cloned).toBe(17);
  });

  it('reply filter: exactly one reply per cloned request, with colliding indices and lost clones; never drops an only reply', () => {
    const SLOTS = 8;  // a tiny filter so that indices collide all the time
    const p = new addon.SwitchPipeline(tables(), SLOTS);
    const r = rng(7);
    let forwarded = new Map<number, number>();
    // Rounds of cloned requests whose indices collide in pairs (i and i + SLOTS share a slot);
    // each sends its two replies in a random order, interleaved with the others; some clones are
    // lost (one reply only), leaving stale entries behind.
    let next = 1;
    for (let round = 0; round < 300; round++) {
      const idx = [next, next + SLOTS];
      next += 2 * SLOTS;
      const lost = new Set(idx.filter(() => r() < 0.3));
      const replies = idx.flatMap((i) => (lost.has(i) ? [i] : [i, i]));
      replies.sort(() => r() - 0.5);
      for (const i of replies) {
        if (p.reply({ type: 1, flags: Clone.ORIGINAL, index: i, timeNs: 1000 })) forwarded.set(i, (forwarded.get(i) ?? 0) + 1);
      }
      for (const i of idx) expect(forwarded.get(i), `index ${i}`).toBe(1);
      forwarded = new Map();
    }
    // Replies of requests that were never cloned always pass.
    for (let i = 0; i < 20; i++) expect(p.reply({ type: 1, flags: 0, index: 5, timeNs: 1 })).toBe(true);
  });

  it('reply filter beyond two live entries per slot: forwards a duplicate (counted), never drops an only reply', () => {
    const p = new addon.SwitchPipeline(tables(), 4);
    const idx = [1, 5, 9];  // three live cloned requests in slot 1
    for (const i of idx) expect(p.reply({ type: 1, flags: Clone.ORIGINAL, index: i, timeNs: 1 })).toBe(true);
    const second = idx.map((i) => p.reply({ type: 1, flags: Clone.CLONE, index: i, timeNs: 1 }));
    expect(second).toEqual([true, false, false]);  // 1 was evicted (the oldest): its second reply passes
    expect(p.counters().n_filter_evicted).toBe(1);
  });

  it('consumes a dropped clone\'s notice, forwards other notices; an uncloned drop counts as demand, without a time', () => {
    const p = new addon.SwitchPipeline(tables());
    expect(p.reply({ type: 1, flags: Flag.RESPONSE | Flag.DROP_NOTICE | Clone.CLONE, index: 3, timeNs: 0 })).toBe(false);
    expect(p.reply({ type: 1, flags: Flag.RESPONSE | Clone.ORIGINAL, index: 3, timeNs: 500 })).toBe(true);  // the original's only reply
    expect(p.monitor()).toEqual([{ type: 1, count: 1, ewmaNs: 500 }]);
    expect(p.reply({ type: 1, flags: Flag.RESPONSE | Flag.DROP_NOTICE, index: 4, timeNs: 0 })).toBe(true);
    expect(p.monitor()).toEqual([{ type: 1, count: 2, ewmaNs: 500 }]);  // counted; the EWMA keeps 500
    // A cloned original's notice is not counted: its clone may still answer.
    expect(p.reply({ type: 1, flags: Flag.RESPONSE | Flag.DROP_NOTICE | Clone.ORIGINAL, index: 5, timeNs: 0 })).toBe(true);
    expect(p.monitor()).toEqual([{ type: 1, count: 2, ewmaNs: 500 }]);
    // A type seen only through drop notices has a count and no time yet.
    p.reply({ type: 2, flags: Flag.RESPONSE | Flag.DROP_NOTICE, index: 6, timeNs: 0 });
    expect(p.monitor().find((m) => m.type === 2)).toEqual({ type: 2, count: 1, ewmaNs: null });
    expect(p.counters().n_clone_drop_notices).toBe(1);
  });

  it('monitor: count and EWMA (α = 1/8, floor) per type on forwarded replies; counts reset on read', () => {
    const p = new addon.SwitchPipeline(tables());
    const r = rng(3);
    let ewma = 0, n = 0;
    for (let i = 0; i < 500; i++) {
      const t = Math.floor(r() * 200_000);
      p.reply({ type: 2, flags: Flag.RESPONSE, index: i + 1, timeNs: t });
      ewma = n === 0 ? t : ewma + Math.floor((t - ewma) / 8);
      n++;
    }
    expect(p.monitor(true)).toEqual([{ type: 2, count: 500, ewmaNs: ewma }]);
    expect(p.monitor()).toEqual([{ type: 2, count: 0, ewmaNs: ewma }]);
    // A cloned request's second reply is filtered and not monitored again.
    p.reply({ type: 3, flags: Clone.ORIGINAL, index: 1000, timeNs: 800 });
    p.reply({ type: 3, flags: Clone.CLONE, index: 1000, timeNs: 100 });
    expect(p.monitor().find((m) => m.type === 3)).toEqual({ type: 3, count: 1, ewmaNs: 800 });
  });

  it('rejects malformed tables with BAD_POLICY and keeps the old ones', () => {
    const p = new addon.SwitchPipeline(tables());
    const code = (t: NativeSwitchTables) => { try { p.load(t); return 'ok'; } catch (e) { return (e as { code: string }).code; } };
    expect(code(tables({ groups: [] }))).toBe('BAD_POLICY');
    expect(code(tables({ defaultGroup: 3 }))).toBe('BAD_POLICY');
    expect(code(tables({ typeToGroup: { 1: 9 } }))).toBe('BAD_POLICY');
    expect(code(tables({ tauNs: 0 }))).toBe('BAD_POLICY');
    expect(code({ ...tables(), typeToGroup: { x: 0 } as never })).toBe('BAD_CONFIG');
    expect(code(tables({ typeToGroup: { 1: 300 } }))).toBe('BAD_CONFIG');
    expect(code(tables({ groups: Array.from({ length: 33 }, () => ({ wrr: [] })) }))).toBe('BAD_POLICY');
    expect(p.request({ type: 3 }, 0)).toMatchObject({ group: 2, server: 5, dropped: false });
    // A group without servers: its requests are dropped and counted, never sent nowhere.
    p.load(tables({ groups: [{ wrr: [] }] , typeToGroup: {} }));
    expect(p.request({ type: 1 }, 0).dropped).toBe(true);
    expect(p.counters().n_drop_no_server).toBe(1);
  });
});
