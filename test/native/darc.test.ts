// DARC (native/core/policy/darc*) under a fake clock: the reservation rule on hand-worked cases,
// then the policy driven step by step through the addon's PolicyHarness.
import { describe, expect, it } from 'vitest';

import { loadNative, type NativeItem, type NativePolicyHarness } from '../../lib/native.js';
import { rng } from '../helpers/random.js';

const addon = loadNative();
const US = 1000;

describe('darc reservation rule (hand-worked)', () => {
  it('bimodal 1 µs / 100 µs, 50/50, 12 workers: short 1 core, long the rest with the spillway', () => {
    // d_s = 0.5/50.5·12 = 0.119 → 1 core (d < 1); d_l = 50/50.5·12 = 11.88 → wants 12, 11 left.
    const r = addon.darcReserve(
      [
        { type: 1, meanNs: 1 * US, share: 0.5 },
        { type: 2, meanNs: 100 * US, share: 0.5 },
      ],
      12,
    )!;
    expect(r.demandOf['1']).toBeCloseTo(0.1188, 4);
    expect(r.demandOf['2']).toBeCloseTo(11.8812, 4);
    expect(r.groups.map((g) => [g.types, g.first, g.count, g.spill])).toEqual([
      [[1], 0, 1, false],
      [[2], 1, 11, true],
    ]);
    expect(r.spillway).toBe(11);
    expect(r.serveUpto).toEqual([0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1]);
  });

  it("TPC-C on 16 workers: the paper's grouping, rounding up above .5, the last group spills", () => {
    // mean·share: P 5·.43 = 2.15, OS 6·.04 = .24, NO 16·.45 = 7.2, D 62·.04 = 2.48, SL 74·.04 = 2.96; Σ = 15.03.
    // OS (6) is within 20 % of P (5); SL (74) within 20 % of D (62, limit 74.4); NO starts its own.
    // D{P,OS} = 2.39/15.03·16 = 2.544 → 3; D{NO} = 7.665 → 8; D{D,SL} = 5.791 → 6, but only 5 are left.
    const r = addon.darcReserve(
      [
        { type: 20, meanNs: 5 * US, share: 0.43 },
        { type: 21, meanNs: 6 * US, share: 0.04 },
        { type: 22, meanNs: 16 * US, share: 0.45 },
        { type: 23, meanNs: 62 * US, share: 0.04 },
        { type: 24, meanNs: 74 * US, share: 0.04 },
      ],
      16,
    )!;
    expect(r.groups.map((g) => g.types)).toEqual([[20, 21], [22], [23, 24]]);
    expect(r.groups.map((g) => g.demand)).toEqual([expect.closeTo(2.544, 3), expect.closeTo(7.665, 3), expect.closeTo(5.791, 3)]);
    expect(r.groups.map((g) => [g.first, g.count, g.spill])).toEqual([
      [0, 3, false],
      [3, 8, false],
      [11, 5, true],
    ]);
  });

  it('a fraction of exactly .5 rounds down, and cores left over go to the last group', () => {
    // work 10·.5 = 5 and 100·.03 = 3 on 4 workers: d = 2.5 → 2 and 1.5 → 1; the 4th core goes to the last group.
    const r = addon.darcReserve(
      [
        { type: 1, meanNs: 10 * US, share: 0.5 },
        { type: 2, meanNs: 100 * US, share: 0.03 },
      ],
      4,
    )!;
    expect(r.groups.map((g) => g.demand)).toEqual([expect.closeTo(2.5, 9), expect.closeTo(1.5, 9)]);
    expect(r.groups.map((g) => [g.first, g.count])).toEqual([
      [0, 2],
      [2, 2],
    ]);
  });

  it('a group that finds no core left gets the spillway core alone', () => {
    // Three groups of equal work on 2 workers: d = 2/3 each → 1 core each; the third gets worker 1, shared.
    const r = addon.darcReserve(
      [
        { type: 1, meanNs: 1 * US, share: 1 },
        { type: 2, meanNs: 10 * US, share: 0.1 },
        { type: 3, meanNs: 100 * US, share: 0.01 },
      ],
      2,
    )!;
    expect(r.groups.map((g) => [g.first, g.count, g.spill])).toEqual([
      [0, 1, false],
      [1, 1, false],
      [1, 1, true],
    ]);
    expect(r.serveUpto).toEqual([0, 2]);
  });

  it('types with share 0 are ignored; a profile with nothing active gives no reservation', () => {
    expect(addon.darcReserve([{ type: 1, meanNs: 1 * US, share: 0 }], 4)).toBeNull();
    const r = addon.darcReserve(
      [
        { type: 1, meanNs: 1 * US, share: 0 },
        { type: 2, meanNs: 5 * US, share: 1 },
      ],
      4,
    )!;
    expect(r.groups).toEqual([expect.objectContaining({ types: [2], first: 0, count: 4 })]);
  });
});

// A fake-clock driver around the harness: tracks what each worker runs.
class Driver {
  running = new Map<number, NativeItem>();
  now = 0;
  nextHandle = 1;
  log: { worker: number; type: number }[] = [];
  constructor(public p: NativePolicyHarness) {}
  private start(w: number): void {
    const d = this.p.next(w, this.now);
    if (!d) return;
    this.running.set(w, d);
    this.log.push({ worker: w, type: d.type });
  }
  private kicked(): void {
    if (this.p.takeKick()) for (const w of this.p.idle()) this.start(w);
  }
  arrive(type: number, flags = 0): string {
    const v = this.p.arrive({ handle: this.nextHandle++, type, flags }, this.now);
    if (v.wake !== null) this.start(v.wake);
    this.kicked();
    return v.admit;
  }
  complete(w: number, serviceNs: number): void {
    const it = this.running.get(w)!;
    this.running.delete(w);
    this.p.complete(w, it, serviceNs, this.now);
    this.start(w);
    this.kicked();
  }
  /** Invariant: no idle worker may take a queued request (one arrival wakes at most one worker). */
  checkNoIdleEligible(): void {
    for (const w of this.p.idle()) {
      const d = this.p.next(w, this.now);
      expect(d, `idle worker ${w} could have run a queued request`).toBeNull();
    }
  }
  /** Arrivals of `type` until every worker is busy (bounded: fails if they cannot all start). */
  fill(type: number, workers: number): void {
    for (let i = 0; i < 64 && this.running.size < workers; i++) this.arrive(type);
    expect(this.running.size).toBe(workers);
  }
  /** Completes everything, queued requests included (bounded). */
  drain(serviceNs: number): void {
    for (let i = 0; i < 1000 && this.running.size; i++) {
      const [w] = [...this.running.keys()];
      this.now += serviceNs;
      this.complete(w!, serviceNs);
    }
    expect(this.running.size).toBe(0);
  }
  /** One request of `type` that runs alone for `serviceNs` (to feed profiles). */
  feed(type: number, serviceNs: number, count: number): void {
    for (let i = 0; i < count; i++) {
      this.arrive(type);
      const [w] = [...this.running.keys()];
      this.now += serviceNs;
      this.complete(w!, serviceNs);
    }
  }
}

const given = (workers: number, groups: { types: number[]; workers: number }[], queueCapacity = 4096) =>
  new addon.PolicyHarness({ kind: 'darc', workers, queueCapacity, darc: { groups } });

describe('darc policy (fake clock)', () => {
  it('short requests steal idle long cores; long requests never run on short cores', () => {
    const d = new Driver(
      given(4, [
        { types: [1], workers: 2 },
        { types: [2], workers: 2 },
      ]),
    );
    expect(d.p.reservation()!.serveUpto).toEqual([0, 0, 1, 1]);
    d.arrive(1);
    d.arrive(1);
    expect([...d.running.keys()]).toEqual([0, 1]);
    d.arrive(1); // both short cores busy: steals long core 2
    expect(d.running.get(2)!.type).toBe(1);
    d.arrive(2); // long takes its own core 3
    expect(d.running.get(3)!.type).toBe(2);
    expect(d.arrive(2)).toBe('queued'); // no long core free: waits, though...
    d.now += 1 * US;
    d.complete(0, 1 * US); // ...a short core frees: it must stay idle
    expect(d.running.has(0)).toBe(false);
    expect(d.p.idle()).toContain(0);
    expect(d.p.queued()).toBe(1);
    d.complete(2, 1 * US); // the stolen long core frees: the long request runs there
    expect(d.running.get(2)!.type).toBe(2);
    d.checkNoIdleEligible();
  });

  it('random fake-clock workload: the rules hold on every dispatch, with and without profiling', () => {
    for (const mode of ['given', 'profiled'] as const) {
      const p =
        mode === 'given'
          ? given(6, [
              { types: [1], workers: 2 },
              { types: [2], workers: 4 },
            ])
          : new addon.PolicyHarness({ kind: 'darc', workers: 6, darc: { profileSamples: 300, recheckSamples: 100 } });
      const d = new Driver(p);
      const r = rng(42);
      let stolen = 0;
      for (let step = 0; step < 20000; step++) {
        d.now += Math.floor(r() * 3 * US);
        if (r() < 0.55 || d.running.size === 0) d.arrive(r() < 0.8 ? 1 : 2);
        else {
          const ws = [...d.running.keys()];
          const w = ws[Math.floor(r() * ws.length)]!;
          d.complete(w, d.running.get(w)!.type === 1 ? 1 * US : 30 * US);
        }
        const res = p.reservation();
        if (res && step % 7 === 0) d.checkNoIdleEligible();
        if (!res) continue;
        const last = d.log[d.log.length - 1];
        if (!last) continue;
        const g = res.groups.findIndex((x) => x.types.includes(last.type));
        expect(res.serveUpto[last.worker]!, `type ${last.type} ran on worker ${last.worker}`).toBeGreaterThanOrEqual(g);
        if (g === 0 && res.serveUpto[last.worker]! > 0) stolen++;
      }
      expect(p.reservation(), mode).not.toBeNull();
      expect(stolen, `${mode}: short requests should have stolen idle long cores`).toBeGreaterThan(0);
      if (mode === 'profiled') expect(p.counters().n_reserved).toBeGreaterThanOrEqual(1);
    }
  });

  it('the spillway core (the last worker) serves unknown types, after the groups it runs', () => {
    const d = new Driver(
      given(3, [
        { types: [1], workers: 1 },
        { types: [2], workers: 2 },
      ]),
    );
    expect(d.p.reservation()!.spillway).toBe(2);
    d.arrive(9); // unknown type: straight to the idle spillway
    expect(d.running.get(2)!.type).toBe(9);
    d.arrive(9);
    expect(d.p.queued()).toBe(1);
    expect(d.running.size).toBe(1); // workers 0 and 1 stay idle: they may not run unknown types
    d.arrive(2); // long takes worker 1
    d.arrive(2); // and queues behind it
    d.complete(2, 5 * US); // the spillway runs the queued long request before the unknown one
    expect(d.running.get(2)!.type).toBe(2);
    d.complete(2, 5 * US);
    expect(d.running.get(2)!.type).toBe(9);
  });

  it('profiles as cFCFS, then reserves from what it measured', () => {
    const d = new Driver(new addon.PolicyHarness({ kind: 'darc', workers: 12, darc: { profileSamples: 1000 } }));
    expect(d.p.reservation()).toBeNull();
    for (let i = 0; i < 500; i++) {
      d.feed(1, 1 * US, 1);
      d.feed(2, 100 * US, 1);
    }
    const r = d.p.reservation()!;
    const want = addon.darcReserve(
      [
        { type: 1, meanNs: 1 * US, share: 0.5 },
        { type: 2, meanNs: 100 * US, share: 0.5 },
      ],
      12,
    )!;
    expect(r.groups).toEqual(want.groups);
    expect(d.p.counters().n_reserved).toBe(1);
  });

  it('re-reserves on the re-check trigger only when a demand moved by more than 10 % or the active types changed', () => {
    const p = new addon.PolicyHarness({ kind: 'darc', workers: 4, darc: { profileSamples: 400, recheckSamples: 200 } });
    const d = new Driver(p);
    const window = (shortShare: number, extraType?: number) => {
      for (let i = 0; i < 400; i++) {
        if (extraType !== undefined && i % 20 === 0) d.feed(extraType, 50 * US, 1);
        else d.feed(i % 100 < shortShare * 100 ? 1 : 2, i % 100 < shortShare * 100 ? 10 * US : 40 * US, 1);
      }
    };
    // Fires the trigger: fill every worker, then queue three short requests; when the third
    // arrives, the 2nd-oldest has waited longer than the short mean (10 µs).
    const trigger = () => {
      d.fill(1, 4); // short requests may run on every core (stealing)
      d.arrive(1);
      d.arrive(1);
      d.now += 11 * US;
      d.arrive(1);
      d.drain(10 * US);
    };
    window(0.5);
    expect(p.counters().n_reserved).toBe(1);
    p.takeKick();
    window(0.52); // demands move by ~3 %: no re-reservation
    trigger();
    expect(p.counters().n_reserved).toBe(1);
    window(0.8); // the short demand more than doubles
    trigger();
    expect(p.counters().n_reserved).toBe(2);
    window(0.8, 3); // same mix plus a new type: the active set changed
    trigger();
    expect(p.counters().n_reserved).toBe(3);
    expect(p.reservation()!.groups.flatMap((g) => g.types)).toContain(3);
  });

  it('given reservations never change by themselves', () => {
    const d = new Driver(
      given(4, [
        { types: [1], workers: 1 },
        { types: [2], workers: 3 },
      ]),
    );
    d.feed(1, 50 * US, 2000); // the "short" type is now the long one: DARC would re-reserve
    d.fill(1, 4);
    d.arrive(1);
    d.arrive(1);
    d.now += 1000 * US;
    d.arrive(1);
    expect(d.p.counters().n_reserved).toBe(1);
    expect(d.p.reservation()!.groups.map((g) => g.count)).toEqual([1, 3]);
  });

  it('drops a clone that no idle eligible worker can start; queues an original', () => {
    const d = new Driver(
      given(3, [
        { types: [1], workers: 1 },
        { types: [2], workers: 2 },
      ]),
    );
    d.arrive(2);
    d.arrive(2); // both long cores busy; the short core is idle
    expect(d.arrive(2, 2)).toBe('drop_clone'); // a long clone cannot use the short core
    expect(d.arrive(2, 1)).toBe('queued'); // the original waits
    expect(d.arrive(1, 2)).toBe('queued'); // a short clone can start on the idle short core
    expect(d.p.counters().n_drop_clone).toBe(1);
  });
});
