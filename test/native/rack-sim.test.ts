// The rack in the simulator: every switch policy (native/core/switch Dispatcher) on the same
// request sequence, the accounting invariant on each, cloning and filtering, switch-held queues,
// and Pallas's control loop (generation by simulation, adaptation, bouncing) end to end.
import { describe, expect, it } from 'vitest';

import { simEvaluator } from '../../lib/control/evaluate.js';
import { generate } from '../../lib/control/policy.js';
import { loadNative } from '../../lib/native.js';
import { runScenario } from '../../lib/sim/run.js';
import { normaliseScenario } from '../../lib/sim/scenario.js';

const native = loadNative();

const rack = (system: string | object, load: number, extra: object = {}) =>
  normaliseScenario({
    rack: { servers: 8, workers: 4 },
    network: { oneWayUs: 2 },
    workload: {
      types: [
        { name: 'S', service: { dist: 'exp', meanUs: 10 }, share: 0.9 },
        { name: 'L', service: { dist: 'exp', meanUs: 100 }, share: 0.1 },
      ],
    },
    systems: [system],
    loads: [load],
    requests: 150_000,
    ...extra,
  });

async function one(system: string | object, load: number, extra: object = {}) {
  const doc = await runScenario(rack(system, load, extra));
  return doc.runs[0]!;
}

describe('baseline switches in the rack simulator', () => {
  it.each(['random', 'rr', 'rs-cfcfs', 'rs-darc', 'r2p2', 'draconis', 'netclone', 'central-cfcfs', 'pallas-static'])(
    '%s: every request is answered exactly once or counted as dropped',
    async (name) => {
      const r = await one(name, 0.8);
      expect(r.lost).toBe(0);
      expect(r.duplicates).toBe(0);
      expect(r.requests).toBe(150_000);
      // Every request the switch forwarded a reply for was measured or in the warm-up; nothing else.
      expect(r.measured).toBeGreaterThan(0.85 * 150_000);
      expect(r.dropped.queueFull + r.dropped.switch).toBe(0);
      expect(r.saturated).toBe(false);
    },
  );

  it('po2 on stale queue lengths beats random spreading, and a rack-wide queue beats both', async () => {
    const [rnd, po2, central] = await Promise.all(['random', 'rs-cfcfs', 'central-cfcfs'].map((s) => one(s, 0.9)));
    expect(po2!.latencyUs.p99).toBeLessThan(0.8 * rnd!.latencyUs.p99);
    expect(central!.latencyUs.p99).toBeLessThan(po2!.latencyUs.p99);
  });

  it('netclone clones to idle servers, busy servers drop clones, the filter forwards one reply', async () => {
    const r = await one('netclone', 0.5);
    expect(r.cloneCopies).toBeGreaterThan(1000);
    expect(r.switch.n_cloned).toBe(r.cloneCopies);
    expect(r.dropped.clone).toBeGreaterThan(0);
    expect(r.switch.n_clone_drop_notices).toBe(r.dropped.clone);
    // Each cloned request whose clone ran produced two replies: one forwarded, one filtered.
    expect(r.switch.n_replies_filtered).toBe(r.cloneCopies - r.dropped.clone);
    expect(r.duplicates).toBe(0);
  });

  it('draconis and r2p2 hold requests at the switch, and draconis servers never queue', async () => {
    const d = await one('draconis', 0.9);
    expect(d.switch.n_held).toBeGreaterThan(1000);
    expect(d.policy.n_drop_full).toBe(0);
    const j = await one({ system: 'r2p2', jbsqDepth: 1 }, 0.9);
    expect(j.switch.n_held).toBeGreaterThan(1000);
  });

  it('a switch queue that is full drops and counts', async () => {
    const r = await one({ system: 'draconis', switchQueue: 4 }, 1.3);
    expect(r.switch.n_drop_full).toBeGreaterThan(0);
    expect(r.dropped.switch).toBe(r.switch.n_drop_full);
    expect(r.lost).toBe(0);
  });

  it('a SimSession refuses bad updates and concurrent use', async () => {
    const cfg = {
      servers: 2,
      workers: 2,
      types: [{ name: 'a', dist: 'exp', meanNs: 1000, share: 1 }],
      server: { kind: 'cfcfs' },
      switch: 'po2',
      load: 0.5,
      requests: 1000,
    };
    const s = new native.SimSession(cfg);
    expect(s.monitor()).toBeNull(); // not a Pallas switch
    expect(() => s.apply({ tables: { groups: [{ wrr: [{ server: 0, weight: 1 }] }] } })).toThrow(/no Pallas tables/);
    const p = s.advance(1e6);
    expect(() => s.apply({})).toThrow(/advancing/);
    await p;
    expect(() => s.apply({ servers: [{ server: 9, policy: { kind: 'cfcfs' }, types: [] }] })).toThrow(/server 9/);
    while (!(await s.advance(s.nowNs() + 1e7)));
    const r = s.finish();
    expect(r.requests).toBe(1000);
    expect(() => s.finish()).toThrow(/finished/);
  });
});

describe('Pallas in the rack simulator', () => {
  it('a server moved from long to short requests bounces its queued long ones to the servers now serving them', async () => {
    const tables = (s: number, l: number) => ({
      typeToGroup: { 0: 0, 1: 1 },
      defaultGroup: 1,
      tauShift: 14,
      clone: false,
      groups: [
        { cThres: 0, wrr: [{ server: s, weight: 2 }] },
        { cThres: 0, wrr: [{ server: l, weight: 2 }] },
      ],
    });
    const cfg = (bounce: boolean) => ({
      servers: 2,
      workers: 2,
      bounce,
      types: [
        { name: 'S', dist: 'fixed', meanNs: 10_000, share: 0.5 },
        { name: 'L', dist: 'fixed', meanNs: 100_000, share: 0.5 },
      ],
      switch: { kind: 'pallas', tables: tables(0, 1) },
      server: { kind: 'cfcfs' },
      perServer: [
        { policy: { kind: 'cfcfs' }, types: [0] },
        { policy: { kind: 'cfcfs' }, types: [1] },
      ],
      meanNs: [10_000, 100_000],
      load: 0.9,
      requests: 20_000,
      warmup: 0,
    });
    const swapAt = async (bounce: boolean) => {
      const s = new native.SimSession(cfg(bounce));
      await s.advance(5e6);
      s.apply({
        tables: tables(1, 0),
        servers: [
          { server: 0, policy: { kind: 'cfcfs' }, types: [1] },
          { server: 1, policy: { kind: 'cfcfs' }, types: [0] },
        ],
      });
      for (let i = 0; i < 1000 && !(await s.advance(s.nowNs() + 1e8)); i++);
      return s.finish();
    };
    const r = await swapAt(true);
    expect(r.serverMoves).toBe(2);
    expect(r.policy.n_bounced).toBeGreaterThan(10); // the long queue of server 1 at the swap
    expect(r.bouncedReroutes).toBe(r.policy.n_bounced);
    expect(r.switch.n_bounced).toBe(r.policy.n_bounced);
    expect(r.lost + r.duplicates).toBe(0);
    expect(r.completed).toBe(20_000); // every bounced request ran exactly once, on server 0
    const nb = await swapAt(false);
    expect(nb.policy.n_bounced).toBe(0);
    expect(r.perType.S!.latencyUs.mean).toBeLessThan(nb.perType.S!.latencyUs.mean);
  });

  it("generation by simulation reports every TPC-C candidate's p99, the paper's grouping among them", async () => {
    const types = [
      ['Payment', 5, 0.43],
      ['OrderStatus', 6, 0.04],
      ['NewOrder', 16, 0.45],
      ['Delivery', 62, 0.04],
      ['StockLevel', 74, 0.04],
    ] as const;
    const est = types.map(([name, us, share], i) => ({ type: i, name, meanNs: us * 1000, share }));
    const rackServers = Array.from({ length: 8 }, (_, id) => ({ id, cores: 10 }));
    const r = await generate(
      est,
      rackServers,
      simEvaluator({ types: est, servers: 8, workers: 10, load: 0.8, oneWayUs: 2, requests: 20_000, seed: 1 }),
    );
    expect(new Set(r.candidates.map((c) => c.k))).toEqual(new Set([1, 2, 3, 4, 5]));
    expect(r.candidates.some((c) => c.balance.includes('po2'))).toBe(true);
    for (const c of r.candidates) {
      expect(c.p99Us).toBeGreaterThan(0);
      expect(Object.keys(c.perTypeP99Us).sort()).toEqual(types.map((t) => t[0]).sort());
    }
    expect(r.candidates.map((c) => JSON.stringify(c.groups))).toContain(
      JSON.stringify([['Payment', 'OrderStatus'], ['NewOrder'], ['Delivery', 'StockLevel']]),
    );
  });

  it('one exponential type at high load: the generator balances by po2 over its own counts, which beats WRR there (App. D.1)', async () => {
    const est = [{ type: 0, name: 'E', meanNs: 25_000, share: 1 }];
    const rackServers = Array.from({ length: 8 }, (_, id) => ({ id, cores: 10 }));
    const shapes = new Map([[0, { dist: 'exp' as const, sigma: 1 }]]);
    const r = await generate(
      est,
      rackServers,
      simEvaluator({ types: est, shapes, servers: 8, workers: 10, load: 0.95, oneWayUs: 2.5, requests: 100_000, seed: 1 }),
    );
    const by = (b: string) => r.candidates.find((c) => c.balance[0] === b)!;
    expect(r.candidates).toHaveLength(2);
    expect(by('po2').p99Us).toBeLessThan(by('wrr').p99Us * 0.9);
    expect(r.plan.tables.groups[0]!.balance).toBe('po2');
  });

  const shift = (system: string) =>
    normaliseScenario({
      rack: { servers: 8, workers: 10 },
      network: { oneWayUs: 2 },
      workload: {
        // Variable long requests, so that the long servers have queues to bounce when their role changes.
        types: [
          { name: 'S', service: { dist: 'fixed', meanUs: 10 }, share: 0.5 },
          { name: 'L', service: { dist: 'lognormal', meanUs: 100, sigma: 0.5 }, share: 0.5 },
        ],
        phases: [
          { durationMs: 60, load: 1, shares: { S: 0.5, L: 0.5 } },
          { load: 1, shares: { S: 0.9, L: 0.1 } },
        ],
      },
      // Two WRR groups: the test is about re-planning them (WRR leaves queues to bounce).
      systems: [{ system, selectRequests: 20_000, groups: 2, balance: 'wrr' }],
      loads: [0.8],
      requests: 450_000,
      timelineMs: 10,
    });

  it('learns its first plan from the monitor, then adapts to a shift from port to normal bimodal within a few monitor intervals', async () => {
    const doc = await runScenario(shift('pallas'));
    const r = doc.runs[0]!;
    const ad = r.pallas!.adaptations;
    expect(r.pallas!.learned).toBe(true);
    // The bootstrap plan (one group, nothing known) is replaced at the first estimate, from the port mix.
    expect(ad[0]!.atMs).toBeLessThanOrEqual(20);
    expect(ad[0]!.groups).toEqual([['S'], ['L']]);
    expect(ad[0]!.cores[0]).toBeLessThan(14); // ~7 of 80 for the port mix
    expect(r.pallas!.initial.groups.map((g) => g.types)).toEqual([['S'], ['L']]);
    const after = ad.filter((a) => a.atMs >= 60);
    expect(after.length).toBeGreaterThanOrEqual(1);
    expect(after[0]!.atMs).toBeLessThanOrEqual(60 + 4 * 10);
    expect(after[0]!.groups).toEqual([['S'], ['L']]);
    expect(after[0]!.cores[0]).toBeGreaterThan(14); // from ~7 cores, towards the ~38 of 80 the normal mix needs
    expect(ad.at(-1)!.cores[0]).toBeGreaterThanOrEqual(35);
    expect(r.updates).toBe(ad.length);
    expect(r.serverMoves).toBeGreaterThan(0);
    // The long queues have mostly drained by the re-plan (the long share fell fivefold at the
    // shift); whatever was bounced was re-scheduled (the bouncing itself: the test above).
    expect(r.bouncedReroutes).toBe(r.policy.n_bounced);
    expect(r.lost).toBe(0);
    expect(r.duplicates).toBe(0);
    expect(r.timeline!.length).toBeGreaterThan(10);
    // After the re-plan the short requests are back to their pre-shift tail; without re-planning
    // the short group (7 cores) cannot carry the normal mix.
    const lastS = (x: typeof r) => Math.max(...x.timeline!.slice(-3).map((p) => p.p99Us[0]!));
    expect(lastS(r)).toBeLessThan(100);
    const stat = (await runScenario(shift('pallas-static'))).runs[0]!;
    expect(stat.updates).toBe(0);
    expect(lastS(stat)).toBeGreaterThan(1000);
    // Bouncing re-schedules the long requests stuck on servers that changed role.
    const nb = (await runScenario(shift('pallas-no-bounce'))).runs[0]!;
    expect(nb.updates).toBeGreaterThan(0);
    expect(nb.policy.n_bounced).toBe(0);
    expect(nb.lost).toBe(0);
    // Bounced long requests are re-scheduled, not lost or doubled, and cost them no more than the
    // wait behind short ones they would otherwise have had (their p99 is no worse than without).
    expect(r.perType.L!.latencyUs.p99).toBeLessThanOrEqual(nb.perType.L!.latencyUs.p99 * 1.05);
  }, 120_000);
});
