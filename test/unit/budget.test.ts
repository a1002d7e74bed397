// The embedded rack's CPU budget (lib/budget.ts): how it sizes the rack and its waiting for the
// CPUs there are, and the load it carries from measured costs; and the block waiting mode it
// gives the server and the switch.
import { describe, expect, it } from 'vitest';

import {
  busyThreads,
  carriedLoad,
  DEDICATED_HEADROOM,
  planRack,
  sendSpinAt,
  SHARED_HEADROOM,
  SHARED_SEND_SPIN_MAX_US,
  SHARED_SPIN_CPU,
  type RoleCosts,
} from '../../lib/budget.js';
import { normaliseServer } from '../../lib/runtime/config.js';
import { SoftSwitch } from '../../lib/switch/soft.js';

const cpus = (n: number, from = 0) => Array.from({ length: n }, (_, i) => from + i);
const costs: RoleCosts = { client: 30, switch: 25, dispatcher: 20, work: 110, background: 0.1 };

describe('CPU budget: the rack for the CPUs there are', () => {
  it('shares 2 CPUs: 2 servers of one worker, each worker on a CPU of its own, everything blocking, a short spin before sends', () => {
    const p = planRack({}, [0, 1]);
    expect(p).toMatchObject({ cores: 2, servers: 2, workers: 1, mode: 'shared', wait: 'block' });
    expect(p.sendSpinUs).toBeGreaterThan(0);
    expect(p.sendSpinUs).toBeLessThanOrEqual(50);
    expect(p.pin).toEqual({ servers: [{ workers: [0] }, { workers: [1] }] });
    expect(p.why).toContain('6 busy threads');
    // More workers than CPUs: none pinned (two on one CPU would halve each other).
    expect(planRack({ servers: 2, workers: 2 }, [0, 1]).pin).toBeUndefined();
    expect(planRack({}, [5]).mode).toBe('shared');
  });

  it('lets the generator spin longer before sends at low rates, within a small share of a CPU', () => {
    const shared = planRack({}, [0, 1]);
    expect(sendSpinAt(shared, 100)).toBe(SHARED_SEND_SPIN_MAX_US);
    expect(sendSpinAt(shared, 500)).toBe(60);
    expect((sendSpinAt(shared, 500) * 500) / 1e6).toBeLessThanOrEqual(SHARED_SPIN_CPU);
    expect(sendSpinAt(shared, 5000)).toBe(shared.sendSpinUs);
    expect(sendSpinAt(shared, 0)).toBe(shared.sendSpinUs);
    const dedicated = planRack({}, cpus(8));
    expect(sendSpinAt(dedicated, 100)).toBe(dedicated.sendSpinUs);
  });

  it('dedicates cores when every busy thread and one spare fit: each pinned to a CPU of its own, busy-polling', () => {
    expect(planRack({}, cpus(6)).mode).toBe('shared'); // 2 servers need 2 + 2·2 + 1 = 7
    const p = planRack({}, cpus(7, 10));
    expect(p).toMatchObject({ servers: 2, workers: 1, mode: 'dedicated', wait: 'poll' });
    const all = [p.pin!.switch!, ...p.pin!.servers.flatMap((s) => [s.dispatcher!, ...s.workers])];
    expect(new Set(all).size).toBe(all.length);
    expect(all).not.toContain(10); // the first CPU is the spare
    expect(all.every((c) => c > 10 && c < 17)).toBe(true);
    const big = planRack({}, cpus(64));
    expect(big.servers).toBe(8); // at most 8 servers
    expect(busyThreads(big.servers, big.workers) + 1).toBeLessThanOrEqual(64);
    // Asked for more than fits: shared.
    expect(planRack({ servers: 4, workers: 4 }, cpus(16)).mode).toBe('shared');
  });
});

describe('CPU budget: the load a machine carries', () => {
  it('shared: path and work per request, and the background, within the headroom of the CPUs', () => {
    const plan = planRack({}, [0, 1]);
    // Mean 100 µs on 2 workers: 20 000 req/s at load 1, each 185 µs of CPU: 3.7 CPUs at load 1.
    const c = carriedLoad(plan, costs, 100);
    expect(c.maxLoad).toBeCloseTo((SHARED_HEADROOM * 2 - 0.1) / 3.7, 6);
    expect(c.need(0.5)).toContain('needs 1.95 of 2 CPUs');
    // Cheaper requests carry more; a background that takes the headroom carries nothing.
    expect(carriedLoad(plan, { ...costs, client: 5, switch: 5, dispatcher: 5 }, 100).maxLoad).toBeGreaterThan(c.maxLoad);
    expect(carriedLoad(plan, { ...costs, background: 2 }, 100).maxLoad).toBe(0);
  });

  it('dedicated: the busiest path thread within the headroom of its core', () => {
    const plan = planRack({}, cpus(7));
    // 20 000 req/s at load 1: the generator (30 µs) is 60 % busy, the switch 50 %, a dispatcher 20 %.
    expect(carriedLoad(plan, costs, 100).maxLoad).toBe(1);
    const slow = carriedLoad(plan, { ...costs, switch: 80 }, 100); // 160 % busy at load 1
    expect(slow.maxLoad).toBeCloseTo(DEDICATED_HEADROOM / 1.6, 6);
    expect(slow.why).toContain('the switch');
  });
});

describe('waiting modes', () => {
  it('block: the server and the switch block after one empty poll; poll never blocks; bad modes are refused', () => {
    expect(normaliseServer({ wait: 'block' })).toMatchObject({ busyPoll: false, idlePolls: 1 });
    expect(normaliseServer({ wait: 'hybrid' })).toMatchObject({ busyPoll: false, idlePolls: 200 });
    expect(normaliseServer({ wait: 'poll' }).busyPoll).toBe(true);
    expect(() => normaliseServer({ wait: 'spin' })).toThrow(/server.wait: must be one of: poll, hybrid, block/);
    expect(() => new SoftSwitch({ servers: ['127.0.0.1:9'], wait: 'spin' as never })).toThrow(/switch.wait/);
    expect(() => new SoftSwitch({ servers: ['127.0.0.1:9'], core: -1 })).toThrow(/switch.core/);
  });
});
