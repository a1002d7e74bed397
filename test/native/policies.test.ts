// cfcfs, dfcfs, ts, ps and the hooks every policy shares (clone rule, bouncing, full queues),
// driven through the addon's PolicyHarness under a fake clock.
import { describe, expect, it } from 'vitest';

import { loadNative } from '../../lib/native.js';
import { Clone, Flag } from '../../lib/wire/gen.js';

const addon = loadNative();
const mk = (cfg: object) => new addon.PolicyHarness(cfg);

describe('cfcfs', () => {
  it('serves in arrival order on any idle worker, waking the lowest idle one', () => {
    const p = mk({ kind: 'cfcfs', workers: 2 });
    expect(p.arrive({ handle: 1, type: 0 }, 0).wake).toBe(0);
    expect(p.next(0, 0)!.handle).toBe(1);
    expect(p.arrive({ handle: 2, type: 0 }, 1).wake).toBe(1);
    expect(p.next(1, 1)!.handle).toBe(2);
    for (const h of [3, 4, 5]) expect(p.arrive({ handle: h, type: 0 }, 2)).toEqual({ admit: 'queued', wake: null });
    p.complete(1, { handle: 2, type: 0 }, 5, 7);
    const d = p.next(1, 7)!;
    expect([d.handle, d.enqNs, d.budgetNs]).toEqual([3, 2, null]);
    expect(p.queued()).toBe(2);
  });

  it('drops and counts when its queue is full', () => {
    const p = mk({ kind: 'cfcfs', workers: 1, queueCapacity: 2 });
    p.arrive({ handle: 1, type: 0 }, 0);
    p.next(0, 0);
    expect(p.arrive({ handle: 2, type: 0 }, 0).admit).toBe('queued');
    expect(p.arrive({ handle: 3, type: 0 }, 0).admit).toBe('queued');
    expect(p.arrive({ handle: 4, type: 0 }, 0).admit).toBe('drop_full');
    expect(p.counters()).toMatchObject({ n_arrivals: 4, n_drop_full: 1, n_dispatched: 1 });
  });

  it('clone rule: a clone with no idle worker is dropped and counted, never queued; with one it runs', () => {
    const p = mk({ kind: 'cfcfs', workers: 1 });
    expect(p.arrive({ handle: 1, type: 0, flags: Clone.CLONE }, 0)).toEqual({ admit: 'queued', wake: 0 });
    expect(p.next(0, 0)!.handle).toBe(1);
    expect(p.arrive({ handle: 2, type: 0, flags: Clone.CLONE }, 0).admit).toBe('drop_clone');
    expect(p.arrive({ handle: 3, type: 0, flags: Clone.ORIGINAL }, 0).admit).toBe('queued');
    expect(p.queued()).toBe(1);
    expect(p.counters().n_drop_clone).toBe(1);
  });
});

describe('bouncing hook', () => {
  it('purges the matching groups in queue order, flags them BOUNCED, and never bounces a request twice', () => {
    const p = mk({ kind: 'cfcfs', workers: 1 });
    p.arrive({ handle: 1, type: 0, group: 0 }, 0);
    p.next(0, 0); // the running request is not bounced
    p.arrive({ handle: 2, type: 0, group: 1 }, 1);
    p.arrive({ handle: 3, type: 0, group: 2 }, 2);
    p.arrive({ handle: 4, type: 0, group: 1, flags: Flag.BOUNCED }, 3);
    p.arrive({ handle: 5, type: 0, group: 1 }, 4);
    const out = p.bounce({ by: 'group', values: [1] });
    expect(out.map((i) => i.handle)).toEqual([2, 5]);
    expect(out.every((i) => (i.flags & Flag.BOUNCED) !== 0)).toBe(true);
    expect(p.queued()).toBe(2);
    p.complete(0, { handle: 1, type: 0 }, 10, 10);
    expect(p.next(0, 10)!.handle).toBe(3);
    p.complete(0, { handle: 3, type: 0 }, 10, 20);
    expect(p.next(0, 20)!.handle).toBe(4);
    expect(p.counters().n_bounced).toBe(2);
  });

  it('works by type and in every queued policy', () => {
    for (const kind of ['cfcfs', 'dfcfs', 'darc', 'ts']) {
      const p = mk({ kind, workers: 1, ...(kind === 'darc' ? { darc: { groups: [{ types: [1, 2], workers: 1 }] } } : {}) });
      p.arrive({ handle: 1, type: 1 }, 0);
      p.next(0, 0);
      p.arrive({ handle: 2, type: 2 }, 1);
      p.arrive({ handle: 3, type: 1 }, 2);
      expect(
        p.bounce({ by: 'type', values: [2] }).map((i) => i.handle),
        kind,
      ).toEqual([2]);
      expect(p.queued(), kind).toBe(1);
    }
  });
});

describe('dfcfs', () => {
  it('pushes round robin to per-worker queues and never moves a request to another worker', () => {
    const p = mk({ kind: 'dfcfs', workers: 2, push: 'rr' });
    expect(p.arrive({ handle: 1, type: 0 }, 0).wake).toBe(0);
    p.next(0, 0);
    expect(p.arrive({ handle: 2, type: 0 }, 0).wake).toBe(1);
    p.next(1, 0);
    expect(p.arrive({ handle: 3, type: 0 }, 0).wake).toBeNull(); // worker 0's queue
    p.complete(1, { handle: 2, type: 0 }, 1, 1);
    expect(p.next(1, 1)).toBeNull(); // idle, while worker 0 has a backlog
    expect(p.queued()).toBe(1);
    p.complete(0, { handle: 1, type: 0 }, 5, 5);
    expect(p.next(0, 5)!.handle).toBe(3);
  });

  it('spreads random pushes over every worker', () => {
    const p = mk({ kind: 'dfcfs', workers: 4, push: 'random', seed: 9 });
    const woken = new Set<number>();
    for (let h = 0; h < 64; h++) {
      const v = p.arrive({ handle: h, type: 0 }, h);
      if (v.wake !== null) {
        woken.add(v.wake);
        p.next(v.wake, h);
        p.complete(v.wake, { handle: h, type: 0 }, 0, h);
        p.next(v.wake, h);
      }
    }
    expect([...woken].sort()).toEqual([0, 1, 2, 3]);
  });
});

describe('ts', () => {
  it('hands out slices; runs on when nothing waits, requeues at the tail and charges the switch when something does', () => {
    const p = mk({ kind: 'ts', workers: 1, sliceNs: 50_000, switchCostNs: 1000 });
    p.arrive({ handle: 1, type: 0 }, 0);
    expect(p.next(0, 0)!.budgetNs).toBe(50_000);
    expect(p.sliceEnd(0, { handle: 1, type: 0, enqNs: 0 }, 50_000)).toEqual({ verdict: 'continue', budgetNs: 50_000, switchCostNs: 0 });
    p.arrive({ handle: 2, type: 0 }, 60_000);
    p.arrive({ handle: 3, type: 0 }, 70_000);
    expect(p.sliceEnd(0, { handle: 1, type: 0, enqNs: 0 }, 100_000)).toEqual({ verdict: 'requeued', budgetNs: 50_000, switchCostNs: 1000 });
    expect([p.next(0, 101_000)!.handle]).toEqual([2]);
    expect(p.queued()).toBe(2);
    p.complete(0, { handle: 2, type: 0 }, 10, 101_010);
    expect(p.next(0, 101_010)!.handle).toBe(3);
    p.complete(0, { handle: 3, type: 0 }, 10, 101_020);
    const back = p.next(0, 101_020);
    expect(back!.handle).toBe(1);
    expect(back!.enqNs).toBe(0); // a preempted request keeps its first arrival time
    expect(p.counters().n_preempted).toBe(1);
  });
});

describe('ps (exact processor sharing)', () => {
  it('shares one worker between two requests: 1 µs and 3 µs of work leave at 2 µs and 4 µs', () => {
    const p = mk({ kind: 'ps', workers: 1 });
    p.arrive({ handle: 1, type: 0, workNs: 1000 }, 0);
    p.arrive({ handle: 2, type: 0, workNs: 3000 }, 0);
    expect(p.nextDeparture()).toBe(2000);
    expect(p.popDeparture(1999)).toBeNull();
    expect(p.popDeparture(2000)!.handle).toBe(1);
    expect(p.nextDeparture()).toBe(4000);
    expect(p.popDeparture(4000)!.handle).toBe(2);
    expect(p.nextDeparture()).toBeNull();
  });

  it('runs up to k requests at full speed and shares beyond', () => {
    const p = mk({ kind: 'ps', workers: 2 });
    p.arrive({ handle: 1, type: 0, workNs: 1000 }, 0);
    p.arrive({ handle: 2, type: 0, workNs: 3000 }, 0);
    expect(p.nextDeparture()).toBe(1000);
    p.arrive({ handle: 3, type: 0, workNs: 1000 }, 500); // 3 requests on 2 workers from 500 ns: rate 2/3
    // At 500 ns: #1 has 500 left → leaves at 500 + 750 = 1250.
    expect(p.nextDeparture()).toBe(1250);
  });
});
