// The Pallas switch pipeline (native/core/switch) through the addon, stage by stage, against the
// exact integer behaviour docs/switch-contract.md gives the P4 program: shaper and index, WRR
// windows, burst windows of 2^k ns (and their 32-bit wrap), the clone target and the clone's own
// counter, suppression, po2 over outstanding counts, the paired reply filter, the cumulative
// monitor (rounding, 32-bit wrap), table validation, and the simulator-only ablations.
import { describe, expect, it } from 'vitest';

import { loadNative, type NativeSwitchTables } from '../../lib/native.js';
import { Clone, Flag, SWITCH } from '../../lib/wire/gen.js';
import { rng } from '../helpers/random.js';

const addon = loadNative();
const K = SWITCH.tauShiftDefault;
const TAU = 2 ** K; // 16 384 ns

const tables = (over: Partial<NativeSwitchTables> = {}): NativeSwitchTables => ({
  typeToGroup: { 1: 0, 2: 1, 3: 2 },
  groups: [
    {
      wrr: [
        { server: 0, weight: 3 },
        { server: 1, weight: 1 },
        { server: 2, weight: 2 },
      ],
      cThres: 4,
      cloneTarget: 2,
    },
    {
      wrr: [
        { server: 3, weight: 5 },
        { server: 4, weight: 5 },
      ],
      cThres: 10,
      cloneTarget: 2,
    },
    {
      wrr: [
        { server: 5, weight: 2 },
        { server: 6, weight: 1 },
      ],
      cThres: 6,
      cloneTarget: null,
    },
  ],
  ...over,
});
const code = (f: () => unknown) => {
  try {
    f();
    return 'ok';
  } catch (e) {
    return (e as { code: string }).code;
  }
};

describe('switch pipeline', () => {
  it('shapes by type, sends unmapped types to the default group, and gives every request a fresh non-zero index', () => {
    const p = new addon.SwitchPipeline(tables({ defaultGroup: 2 }));
    expect(p.request({ type: 2 }, 0)).toMatchObject({ group: 1, index: 1 });
    expect(p.request({ type: 99 }, 0)).toMatchObject({ group: 2, server: 5, index: 2 });
    expect(p.request({ type: 1, flags: Flag.BOUNCED, index: 77 }, 0)).toMatchObject({ group: 0, index: 77 }); // bounced: keeps its index
    expect(p.counters()).toMatchObject({ n_requests: 3, n_unmapped: 1, n_bounced: 1 });
    expect(p.registers().seq).toBe(3);
    // Demand is counted for fresh requests only: not the bounced one.
    expect(p.monitor()).toEqual([
      { type: 2, requests: 1, replies: 0, timeUnits: 0, notices: 0 },
      { type: 99, requests: 1, replies: 0, timeUnits: 0, notices: 0 },
    ]);
  });

  it('WRR gives each server exactly its weight in every window of Σw requests; a reload restarts the counter', () => {
    const p = new addon.SwitchPipeline(
      tables({
        typeToGroup: { 1: 0 },
        groups: [
          {
            wrr: [
              { server: 0, weight: 3 },
              { server: 1, weight: 1 },
              { server: 2, weight: 2 },
              { server: 7, weight: 4 },
            ],
          },
        ],
      }),
    );
    const seq = Array.from({ length: 200 }, (_, i) => p.request({ type: 1 }, i * 1e6).server);
    const want: Record<number, number> = { 0: 3, 1: 1, 2: 2, 7: 4 };
    for (let start = 0; start + 10 <= seq.length; start++) {
      // every window, not only aligned ones
      const got: Record<number, number> = {};
      for (const s of seq.slice(start, start + 10)) got[s] = (got[s] ?? 0) + 1;
      expect(got, `window at ${start}`).toEqual(want);
    }
    // The register returns the position before advancing: positions 0,1,2 are server 0.
    expect(seq.slice(0, 10)).toEqual([0, 0, 0, 1, 2, 2, 7, 7, 7, 7]);
    p.load(
      tables({
        typeToGroup: { 1: 0 },
        groups: [
          {
            wrr: [
              { server: 4, weight: 1 },
              { server: 5, weight: 1 },
            ],
          },
        ],
      }),
    );
    expect(p.registers().wrrCounter[0]).toBe(0);
    expect([0, 1, 2, 3].map(() => p.request({ type: 1 }, 0).server)).toEqual([4, 5, 4, 5]);
  });

  it("counts bursts in windows of 2^k ns: request n > C_thres of a window is cloned to the group's clone target", () => {
    const p = new addon.SwitchPipeline(tables());
    const t0 = 5 * TAU;
    // 7 requests of group 0 (C_thres 4) inside one window: the 5th, 6th and 7th are cloned.
    const outs = Array.from({ length: 7 }, (_, i) => p.request({ type: 1 }, t0 + i * 100));
    expect(outs.map((o) => (o.clone ? 1 : 0))).toEqual([0, 0, 0, 0, 1, 1, 1]);
    for (const o of outs.slice(4)) {
      expect(o.flags & 3).toBe(Clone.ORIGINAL);
      expect(o.clone).toMatchObject({ group: 2, flags: Clone.CLONE, index: o.index });
    }
    expect(outs.slice(0, 4).every((o) => (o.flags & 3) === Clone.NONE)).toBe(true);
    let r = p.registers();
    expect([r.burstWindow[0], r.burstCount[0]]).toEqual([5, 7]);
    expect([r.burstWindow[2], r.burstCount[2]]).toEqual([5, 3]); // the clones counted in their target's window
    // The last ns of the window still counts in it; the next ns starts a new window at 1.
    expect(p.request({ type: 1 }, 6 * TAU - 1).clone).toBeDefined();
    expect(p.request({ type: 1 }, 6 * TAU).clone).toBeUndefined();
    r = p.registers();
    expect([r.burstWindow[0], r.burstCount[0]]).toEqual([6, 1]);
    // A window id is (low 32 bits of now >> 8) >> (k − 8): 2^40 ns later the id repeats, whatever k
    // (exactly, as in P4: a slice of the timestamp, then a constant shift).
    const wrap = 2 ** 40 + 6 * TAU;
    expect(p.request({ type: 1 }, wrap).clone).toBeUndefined();
    expect([p.registers().burstWindow[0], p.registers().burstCount[0]]).toEqual([6, 2]);
    expect(p.counters().n_cloned).toBe(4);
  });

  it('takes every window from one timestamp slice: id = (now[39:8]) >> (k − 8), for k from 8 to 24', () => {
    const id = (now: number, k: number) => Math.floor(((now / 2 ** 8) % 2 ** 32) / 2 ** (k - 8));
    for (const k of [SWITCH.tauShiftMin, 14, 20, SWITCH.tauShiftMax]) {
      const p = new addon.SwitchPipeline(tables({ tauShift: k }));
      for (const now of [0, 2 ** k - 1, 2 ** k, 3 * 2 ** k + 5, 2 ** 40 - 1, 2 ** 40 + 7 * 2 ** k, 2 ** 45 + 12_345]) {
        p.request({ type: 3 }, now);
        expect(p.registers().burstWindow[2], `k ${k}, now ${now}`).toBe(id(now, k));
      }
    }
    // A wider than 32-bit slice is not taken: a window id is at most 32 − (k − 8) bits wide.
    const p = new addon.SwitchPipeline(tables({ tauShift: 24 }));
    p.request({ type: 3 }, 2 ** 40 - 1);
    expect(p.registers().burstWindow[2]).toBe(2 ** 16 - 1);
  });

  it("a clone takes its server from the target's clone counter and never a turn in the target's own WRR", () => {
    const t: NativeSwitchTables = {
      typeToGroup: { 1: 0, 3: 1 },
      groups: [
        { wrr: [{ server: 0, weight: 1 }], cThres: 1, cloneTarget: 1 },
        {
          wrr: [
            { server: 1, weight: 2 },
            { server: 2, weight: 1 },
            { server: 3, weight: 1 },
          ],
        },
      ],
    };
    const p = new addon.SwitchPipeline(t);
    const own: number[] = [],
      clones: number[] = [];
    for (let i = 0; i < 40; i++) {
      // Group 1's own request, then a burst of group 0 (the second request of a window is cloned).
      own.push(p.request({ type: 3 }, i * TAU).server);
      p.request({ type: 1 }, i * TAU + 1);
      const o = p.request({ type: 1 }, i * TAU + 2);
      clones.push(o.clone!.server);
    }
    // Group 1's own requests keep exactly its weights in every window of Σw = 4, clones interleaved.
    expect(own.slice(0, 8)).toEqual([1, 1, 2, 3, 1, 1, 2, 3]);
    for (let s = 0; s + 4 <= own.length; s++) expect(own.slice(s, s + 4).sort()).toEqual([1, 1, 2, 3]);
    // The clones walk the same ranges with a counter of their own.
    expect(clones.slice(0, 8)).toEqual([1, 1, 2, 3, 1, 1, 2, 3]);
    expect(p.registers().cloneCounter[1]).toBe(40 % 4);
    // Ablation (the paper's Algorithm 2): clones share the target's counter, and the target's own
    // requests stop receiving exactly their weights.
    const q = new addon.SwitchPipeline({ ...t, ablation: { sharedCloneCounter: true } }, undefined, { allowAblation: true });
    const own2: number[] = [];
    for (let i = 0; i < 8; i++) {
      own2.push(q.request({ type: 3 }, i * TAU).server);
      q.request({ type: 1 }, i * TAU + 1);
      q.request({ type: 1 }, i * TAU + 2);
    }
    expect(own2).toEqual([1, 2, 1, 2, 1, 2, 1, 2]); // server 3 never gets one of group 1's own requests
  });

  it('suppresses a clone whose target is over its own threshold; the original keeps its mark', () => {
    const p = new addon.SwitchPipeline(tables());
    // Group 2 (C_thres 6) already has 6 requests in this window.
    for (let i = 0; i < 6; i++) p.request({ type: 3 }, 10);
    const outs = Array.from({ length: 6 }, () => p.request({ type: 1 }, 20));
    expect(outs.filter((o) => o.clone)).toHaveLength(0);
    expect(outs.slice(4).every((o) => (o.flags & 3) === Clone.ORIGINAL)).toBe(true);
    expect(p.counters()).toMatchObject({ n_cloned: 0, n_clone_suppressed: 2 });
    // The next window: room again.
    for (let i = 0; i < 4; i++) p.request({ type: 1 }, TAU + 20);
    expect(p.request({ type: 1 }, TAU + 21).clone).toMatchObject({ group: 2 });
  });

  it('never clones with cloning off, without a threshold or target, or a bounced or already flagged request', () => {
    const off = new addon.SwitchPipeline(tables({ clone: false }));
    expect(Array.from({ length: 20 }, () => off.request({ type: 1 }, 0)).some((o) => o.clone)).toBe(false);
    expect(off.registers().burstCount[0]).toBe(20); // still counted
    const noTarget = new addon.SwitchPipeline(tables());
    expect(Array.from({ length: 20 }, () => noTarget.request({ type: 3 }, 0)).some((o) => o.clone)).toBe(false); // group 2: no target
    const noThr = new addon.SwitchPipeline(tables({ groups: tables().groups.map((g) => ({ ...g, cThres: 0 })) }));
    expect(Array.from({ length: 20 }, () => noThr.request({ type: 1 }, 0)).some((o) => o.clone)).toBe(false);
    const p = new addon.SwitchPipeline(tables());
    for (let i = 0; i < 4; i++) p.request({ type: 1 }, 0);
    expect(p.request({ type: 1, flags: Flag.BOUNCED, index: 9 }, 0).clone).toBeUndefined();
    expect(p.registers().burstCount[0]).toBe(4); // a bounced request is not counted again
  });

  it("po2 balances on the switch's own outstanding counts: +1 per send, −1 per reply, notice or bounce, never below 0", () => {
    const servers = [0, 1, 2, 3, 4, 5, 6, 7];
    const p = new addon.SwitchPipeline(
      { typeToGroup: { 1: 0 }, groups: [{ balance: 'po2', wrr: servers.map((server) => ({ server, weight: 10 })) }] },
      undefined,
      { seed: 3 },
    );
    const sent: { index: number; server: number }[] = [];
    for (let i = 0; i < 4000; i++) {
      const o = p.request({ type: 1 }, i);
      sent.push({ index: o.index, server: o.server });
    }
    const out = () => p.registers().outstanding.map((x) => x.value);
    // No replies: two choices keep the counts within a few of each other (random would spread by ~±30).
    expect(Math.max(...out()) - Math.min(...out())).toBeLessThanOrEqual(4);
    expect(out().reduce((a, b) => a + b, 0)).toBe(4000);
    expect(p.counters().n_po2).toBe(4000);
    // Server 3 answers everything it got: its count goes to 0.
    for (const s of sent.filter((x) => x.server === 3))
      p.reply({ type: 1, flags: Flag.RESPONSE, index: s.index, group: 0, server: 3, timeNs: 1000 });
    expect(p.registers().outstanding.find((x) => x.server === 3)!.value).toBe(0);
    // Saturating: a reply the switch never counted leaves 0 at 0.
    p.reply({ type: 1, flags: Flag.RESPONSE, index: 1, group: 0, server: 9, timeNs: 1 });
    expect(p.registers().outstanding.every((x) => x.value >= 0)).toBe(true);
    // A bounced request leaves its server (group and server from its header).
    const at5 = () => p.registers().outstanding.find((x) => x.server === 5)!.value;
    const before = at5();
    const wrrBefore = p.registers().wrrCounter[0];
    const again = p.request({ type: 1, flags: Flag.BOUNCED, index: sent[0]!.index, group: 0, server: 5 }, 9000);
    expect(at5()).toBe(before - 1 + (again.server === 5 ? 1 : 0));
    // ... and is balanced again by WRR, even in a po2 group (a Tofino's second pass has one access left).
    expect(p.counters().n_po2).toBe(4000);
    expect(again.server).toBe(servers[Math.floor(wrrBefore! / 10)]);
    expect(p.registers().wrrCounter[0]).toBe(wrrBefore! + 1);
  });

  it('po2 sends to the candidate with fewer requests beyond its cores: an emptied server wins whenever it is drawn', () => {
    // Two servers, equal weights: both draws name the same server half the time; otherwise the
    // lower score wins. Server 1 drained, server 0 holding 50: server 1 takes ~3/4 of what follows.
    const p = new addon.SwitchPipeline(
      {
        typeToGroup: { 1: 0 },
        groups: [
          {
            balance: 'po2',
            wrr: [
              { server: 0, weight: 4 },
              { server: 1, weight: 4 },
            ],
          },
        ],
      },
      undefined,
      { seed: 11 },
    );
    const sent = Array.from({ length: 100 }, (_, i) => p.request({ type: 1 }, i));
    for (const o of sent.filter((x) => x.server === 1))
      p.reply({ type: 1, flags: Flag.RESPONSE, index: o.index, group: 0, server: 1, timeNs: 1 });
    const next = Array.from({ length: 200 }, (_, i) => p.request({ type: 1 }, 1000 + i).server);
    const toOne = next.slice(0, 40).filter((s) => s === 1).length;
    expect(toOne).toBeGreaterThan(26); // 30 expected while it catches up; a blind coin gives 20 ± 3
    // Once server 1 has caught up, the two stay within a couple of requests of each other.
    const [a, b] = p.registers().outstanding.map((x) => x.value);
    expect(Math.abs(a! - b!)).toBeLessThanOrEqual(3);
  });

  it("clones count in their target's outstanding and their notices take them out", () => {
    const p = new addon.SwitchPipeline(tables());
    for (let i = 0; i < 4; i++) p.request({ type: 1 }, 0);
    const o = p.request({ type: 1 }, 0);
    const c = o.clone!;
    const at = (g: number, s: number) => p.registers().outstanding.find((x) => x.group === g && x.server === s)!.value;
    expect(at(c.group, c.server)).toBe(1);
    expect(
      p.reply({
        type: 1,
        flags: Flag.RESPONSE | Flag.DROP_NOTICE | Clone.CLONE,
        index: c.index,
        group: c.group,
        server: c.server,
        timeNs: 0,
      }),
    ).toBe(false);
    expect(at(c.group, c.server)).toBe(0);
  });

  it("reply filter: the paired register's actions, exactly", () => {
    const SLOTS = 4;
    const p = new addon.SwitchPipeline(tables(), SLOTS);
    const reply = (index: number, clone: number = Clone.ORIGINAL) => p.reply({ type: 1, flags: Flag.RESPONSE | clone, index, timeNs: 1 });
    const slot = (s: number) => {
      const f = p.registers([s]).filter![0]!;
      return [f.lo, f.hi];
    };
    expect(reply(1)).toBe(true); // store: lo 1
    expect(slot(1)).toEqual([1, 0]);
    expect(reply(5)).toBe(true); // hi ← lo, lo ← 5
    expect(slot(1)).toEqual([5, 1]);
    expect(reply(1, Clone.CLONE)).toBe(false); // hi = idx: drop, hi ← 0
    expect(slot(1)).toEqual([5, 0]);
    expect(reply(9)).toBe(true);
    expect(reply(13)).toBe(true); // evicts 5 (counted)
    expect(slot(1)).toEqual([13, 9]);
    expect(p.counters().n_filter_evicted).toBe(1);
    expect(reply(13, Clone.CLONE)).toBe(false); // lo = idx: drop, lo ← hi, hi ← 0
    expect(slot(1)).toEqual([9, 0]);
    expect(reply(5, Clone.CLONE)).toBe(true); // 5 was evicted: its second reply passes (a duplicate, never a drop) and is stored
    expect(slot(1)).toEqual([5, 9]);
    // A dropped clone's notice forgets the original's entry and is consumed; it never stores.
    expect(p.reply({ type: 1, flags: Flag.RESPONSE | Flag.DROP_NOTICE | Clone.CLONE, index: 9, timeNs: 0 })).toBe(false);
    expect(slot(1)).toEqual([5, 0]);
    expect(p.reply({ type: 1, flags: Flag.RESPONSE | Flag.DROP_NOTICE | Clone.CLONE, index: 21, timeNs: 0 })).toBe(false);
    expect(slot(1)).toEqual([5, 0]);
  });

  it('reply filter: exactly one reply per cloned request with colliding indices and lost clones; never drops an only reply', () => {
    const SLOTS = 8;
    const p = new addon.SwitchPipeline(tables(), SLOTS);
    const r = rng(7);
    let next = 1;
    for (let round = 0; round < 300; round++) {
      // Two cloned requests share a slot (i and i + SLOTS); each sends its two replies in a random
      // order, interleaved; some clones are lost (their notice comes instead), some originals too.
      const idx = [next, next + SLOTS];
      next += 2 * SLOTS;
      const events: { i: number; notice: boolean }[] = [];
      for (const i of idx) {
        const lost = r() < 0.3;
        events.push({ i, notice: false });
        events.push({ i, notice: lost });
      }
      events.sort(() => r() - 0.5);
      const forwarded = new Map<number, number>();
      for (const e of events) {
        const flags = Flag.RESPONSE | Clone.CLONE | (e.notice ? Flag.DROP_NOTICE : 0);
        if (p.reply({ type: 1, flags, index: e.i, timeNs: 1000 }) && !e.notice) forwarded.set(e.i, (forwarded.get(e.i) ?? 0) + 1);
      }
      for (const i of idx) expect(forwarded.get(i), `index ${i}`).toBe(1);
    }
    for (let i = 0; i < 20; i++) expect(p.reply({ type: 1, flags: Flag.RESPONSE, index: 5, timeNs: 1 })).toBe(true); // never cloned: always passes
  });

  it('monitor: cumulative per type, execution time in rounded 16 ns units, wrapping modulo 2^32', () => {
    const p = new addon.SwitchPipeline(tables());
    const r = rng(3);
    let units = 0;
    for (let i = 0; i < 500; i++) {
      const t = Math.floor(r() * 200_000);
      p.reply({ type: 2, flags: Flag.RESPONSE, index: i + 1, timeNs: t });
      units += (t + 8) >> 4;
    }
    expect(p.monitor()).toEqual([{ type: 2, requests: 0, replies: 500, timeUnits: units, notices: 0 }]);
    expect(p.monitor()).toEqual([{ type: 2, requests: 0, replies: 500, timeUnits: units, notices: 0 }]); // a read resets nothing
    // 2^32 − 1 ns is 2^28 units (rounded); 17 of them wrap the 32-bit sum to 2^28.
    for (let i = 0; i < 17; i++) p.reply({ type: 4, flags: Flag.RESPONSE, index: 1000 + i, timeNs: 2 ** 32 - 1 });
    expect(p.monitor().find((m) => m.type === 4)).toEqual({ type: 4, requests: 0, replies: 17, timeUnits: 2 ** 28, notices: 0 });
    // A cloned request counts once: its second reply is filtered before the monitor.
    p.reply({ type: 3, flags: Flag.RESPONSE | Clone.ORIGINAL, index: 5000, timeNs: 800 });
    p.reply({ type: 3, flags: Flag.RESPONSE | Clone.CLONE, index: 5000, timeNs: 100 });
    expect(p.monitor().find((m) => m.type === 3)).toEqual({ type: 3, requests: 0, replies: 1, timeUnits: 50, notices: 0 });
  });

  it("drop notices: a clone's is consumed, others forwarded; an uncloned request's counts in mon_notices", () => {
    const p = new addon.SwitchPipeline(tables());
    expect(p.reply({ type: 1, flags: Flag.RESPONSE | Flag.DROP_NOTICE | Clone.CLONE, index: 3, timeNs: 0 })).toBe(false);
    expect(p.reply({ type: 1, flags: Flag.RESPONSE | Clone.ORIGINAL, index: 3, timeNs: 500 })).toBe(true); // the original's only reply
    expect(p.reply({ type: 1, flags: Flag.RESPONSE | Flag.DROP_NOTICE, index: 4, timeNs: 0 })).toBe(true);
    expect(p.reply({ type: 1, flags: Flag.RESPONSE | Flag.DROP_NOTICE | Clone.ORIGINAL, index: 5, timeNs: 0 })).toBe(true); // forwarded, not counted
    expect(p.monitor()).toEqual([{ type: 1, requests: 0, replies: 1, timeUnits: 31, notices: 1 }]);
    expect(p.counters().n_clone_drop_notices).toBe(1);
  });

  it('rejects malformed tables with BAD_POLICY and keeps the old ones', () => {
    const p = new addon.SwitchPipeline(tables());
    const load = (t: NativeSwitchTables) => code(() => p.load(t));
    expect(load(tables({ groups: [] }))).toBe('BAD_POLICY');
    expect(load(tables({ defaultGroup: 3 }))).toBe('BAD_POLICY');
    expect(load(tables({ typeToGroup: { 1: 9 } }))).toBe('BAD_POLICY');
    expect(load(tables({ tauShift: SWITCH.tauShiftMin - 1 }))).toBe('BAD_POLICY');
    expect(load(tables({ tauShift: SWITCH.tauShiftMax + 1 }))).toBe('BAD_POLICY');
    expect(load(tables({ groups: [{ wrr: [{ server: 0, weight: 1 }], cloneTarget: 0 }] }))).toBe('BAD_POLICY'); // itself
    expect(load(tables({ groups: [{ wrr: [{ server: 0, weight: 1 }], cloneTarget: 5 }], typeToGroup: {} }))).toBe('BAD_POLICY'); // missing
    expect(load(tables({ groups: [{ wrr: [{ server: 256, weight: 1 }] }], typeToGroup: {} }))).toBe('BAD_POLICY');
    expect(load(tables({ ablation: { argminTarget: true } }))).toBe('BAD_POLICY'); // simulator-only
    expect(load({ ...tables(), typeToGroup: { x: 0 } as never })).toBe('BAD_CONFIG');
    expect(load(tables({ typeToGroup: { 1: 300 } }))).toBe('BAD_CONFIG');
    expect(load({ ...tables(), groups: [{ wrr: [], balance: 'jsq' as never }] })).toBe('BAD_CONFIG');
    expect(load(tables({ groups: Array.from({ length: 33 }, () => ({ wrr: [] })) }))).toBe('BAD_POLICY');
    expect(p.request({ type: 3 }, 0)).toMatchObject({ group: 2, server: 5, dropped: false });
    // A group without servers: its requests are dropped and counted, never sent nowhere.
    p.load(tables({ groups: [{ wrr: [] }], typeToGroup: {} }));
    expect(p.request({ type: 1 }, 0).dropped).toBe(true);
    expect(p.counters().n_drop_no_server).toBe(1);
  });

  it('ablations (simulator only): an exact 20 µs window, and the least-burst clone target', () => {
    const opts = { allowAblation: true };
    // Exact window: now / 20 000, not now >> 14.
    const w = new addon.SwitchPipeline(tables({ ablation: { tauNs: 20_000 } }), undefined, opts);
    for (let i = 0; i < 4; i++) w.request({ type: 1 }, 17_000);
    expect(w.request({ type: 1 }, 19_999).clone).toBeDefined(); // same 20 µs window (a 16.4 µs one would have turned)
    expect(w.registers().burstWindow[0]).toBe(0);
    // Least-burst target: over every group with a threshold, count / C_thres in the window, ties low.
    const p = new addon.SwitchPipeline(tables({ ablation: { argminTarget: true } }), undefined, opts);
    for (let i = 0; i < 6; i++) p.request({ type: 2 }, 100); // group 1: 6 of 10
    const count = [0, 6, 0],
      thres = [4, 10, 6];
    const targets: number[] = [];
    for (let i = 0; i < 11; i++) {
      const o = p.request({ type: 1 }, 200 + i);
      if (!o.clone) continue;
      const want = count[1]! / thres[1]! < count[2]! / thres[2]! ? 1 : 2;
      expect(o.clone.group).toBe(want);
      count[want]!++;
      targets.push(want);
    }
    expect(targets).toEqual([2, 2, 2, 2, 1, 2, 1]); // never suppressed under the paper's rule
  });
});
