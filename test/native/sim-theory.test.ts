// The simulator against queueing theory. Service means are 10 µs so that rounding to
// whole ns is negligible; theory is in units of the mean service time. Each case averages fixed
// seeds (deterministic, so a pass is reproducible); tolerances follow the statistics of the run
// lengths used: ~1-2 % on means, ~3 % on p99, ~5 % on p99.9. Little's law is checked on every run.
import { describe, expect, it } from 'vitest';

import type { NativeSimResult } from '../../lib/native.js';
import { erlangC, simulate } from '../helpers/sim.js';

const S = 10; // µs, the mean service time
const SEEDS = [1, 2, 3, 4];
const BIG_Q = 1 << 22;

const one = (name: string, dist: string, meanUs = S, share = 1) => ({ name, service: { dist, meanUs }, share });
const doc = (o: {
  servers?: number;
  workers?: number;
  types: object[];
  server?: string;
  sw?: string;
  load: number;
  requests?: number;
  oneWayUs?: number;
}) => ({
  rack: { servers: o.servers ?? 1, workers: o.workers ?? 1 },
  network: { oneWayUs: o.oneWayUs ?? 0 },
  workload: { types: o.types },
  systems: [{ switch: o.sw ?? 'random', server: o.server ?? 'cfcfs', ...(o.server === 'ps' ? {} : { queueCapacity: BIG_Q }) }],
  loads: [o.load],
  requests: o.requests ?? 1_000_000,
});

function expectLittle(r: NativeSimResult, oneWayUs = 0): void {
  // L (time-average requests at the servers) = λ · E[time at the server].
  const sojournUs = r.latencyUs.mean - 2 * oneWayUs;
  expect(r.inSystemMean).toBeCloseTo(r.arrivalRps * sojournUs * 1e-6, 1);
  expect(Math.abs(r.inSystemMean / (r.arrivalRps * sojournUs * 1e-6) - 1)).toBeLessThan(0.01);
}

async function mean(d: ReturnType<typeof doc>, f: (r: NativeSimResult) => number[], oneWayUs = 0): Promise<number[]> {
  let acc: number[] = [];
  for (const seed of SEEDS) {
    const r = await simulate(d, seed);
    expect(r.dropped.queueFull + r.dropped.clone).toBe(0);
    expect(r.measured).toBe(Math.round(d.requests * 0.9));
    expectLittle(r, oneWayUs);
    const v = f(r);
    acc = acc.length ? acc.map((a, i) => a + v[i]!) : v;
  }
  return acc.map((a) => a / SEEDS.length);
}

const within = (got: number, want: number, tol: number) => {
  expect(Math.abs(got / want - 1), `${got} vs ${want} (tolerance ${tol * 100} %)`).toBeLessThan(tol);
};

describe('simulator vs queueing theory', () => {
  it('M/M/1 at ρ = 0.9: E[T] = 10, T p99 = 46.05, p99.9 = 69.08', async () => {
    const [m, p99, p999] = await mean(doc({ types: [one('job', 'exp')], load: 0.9, requests: 2_500_000 }), (r) => [
      r.latencyUs.mean / S,
      r.latencyUs.p99 / S,
      r.latencyUs.p999 / S,
    ]);
    within(m!, 10, 0.02);
    within(p99!, 46.05, 0.03);
    within(p999!, 69.08, 0.05);
  });

  it('M/M/1 with a one-way network delay adds exactly two delays to the latency', async () => {
    const d = doc({ types: [one('job', 'exp')], load: 0.5, requests: 200_000 });
    const a = await simulate(d, 7);
    const b = await simulate({ ...d, network: { oneWayUs: 5 } }, 7);
    expect(b.latencyUs.mean - a.latencyUs.mean).toBeCloseTo(10, 6);
    expect(b.waitUs.mean).toBeCloseTo(a.waitUs.mean, 6);
    expectLittle(b, 5);
  });

  it('M/D/1 at ρ = 0.8: E[W] = 2.0, P(W = 0) = 0.2, W p99 = 10.356, p99.9 = 15.700', async () => {
    const [w, p0, p99, p999] = await mean(doc({ types: [one('job', 'fixed')], load: 0.8 }), (r) => [
      r.waitUs.mean / S,
      1 - r.waitedFraction,
      r.waitUs.p99 / S,
      r.waitUs.p999 / S,
    ]);
    within(w!, 2.0, 0.02);
    within(p0!, 0.2, 0.02);
    within(p99!, 10.356, 0.03);
    within(p999!, 15.7, 0.05);
  });

  it.each([2, 16])('M/M/%i at ρ = 0.8: waiting probability and mean wait match Erlang C', async (k) => {
    const a = 0.8 * k;
    const c = erlangC(k, a);
    if (k === 16) expect(c).toBeCloseTo(0.304884, 5); // Erlang C for M/M/16 at ρ = 0.8
    const [pw, w] = await mean(doc({ workers: k, types: [one('job', 'exp')], load: 0.8 }), (r) => [r.waitedFraction, r.waitUs.mean / S]);
    within(pw!, c, 0.015);
    within(w!, c / (k - a), 0.025);
  });

  it('M/G/1 FCFS, bimodal service: Pollaczek–Khinchine mean wait', async () => {
    // 90 % of 10 µs and 10 % of 100 µs (units: 1 and 10): E[S] = 1.9, E[S²] = 10.9.
    const rho = 0.7,
      es = 1.9,
      es2 = 0.9 * 1 + 0.1 * 100;
    const want = ((rho / es) * es2) / (2 * (1 - rho));
    const [w] = await mean(doc({ types: [one('short', 'fixed', S, 0.9), one('long', 'fixed', 10 * S, 0.1)], load: rho }), (r) => [
      r.waitUs.mean / S,
    ]);
    within(w!, want, 0.02);
  });

  it('M/G/1 processor sharing: every job size sees mean slowdown 1/(1 − ρ)', async () => {
    const [s, l, all] = await mean(
      doc({ types: [one('short', 'fixed', S, 0.9), one('long', 'exp', 10 * S, 0.1)], server: 'ps', load: 0.8 }),
      (r) => [r.perType.short!.slowdown.mean, r.perType.long!.slowdown.mean, r.slowdown.mean],
    );
    within(s!, 5, 0.02);
    within(l!, 5, 0.02);
    within(all!, 5, 0.02);
  });

  it.each([
    ['deterministic', { dist: 'fixed' }],
    ['gamma cv 2', { dist: 'gamma', cv: 2 }],
    ['gamma cv 0.5', { dist: 'gamma', cv: 0.5 }],
  ])('GI/M/1 with %s arrivals at ρ = 0.8: P(wait) = σ and E[W] = σ/(1 − σ), σ = A*(1 − σ)', async (_n, arr) => {
    // A* is the Laplace transform of the inter-arrival time (mean 1/ρ in service units): for
    // gamma(k, θ) it is (1 + θs)^−k; deterministic is its limit e^(−s/ρ). Solve by iteration.
    const rho = 0.8;
    const lst = (s: number) => {
      if (arr.dist === 'fixed') return Math.exp(-s / rho);
      const cv = (arr as { cv?: number }).cv!;
      const k = 1 / (cv * cv),
        theta = 1 / rho / k;
      return Math.pow(1 + theta * s, -k);
    };
    let sigma = 0.5;
    for (let i = 0; i < 500; i++) sigma = lst(1 - sigma);
    const d = { ...doc({ types: [one('job', 'exp')], load: rho }), workload: { types: [one('job', 'exp')], arrivals: arr } };
    const [pw, w] = await mean(d as ReturnType<typeof doc>, (r) => [r.waitedFraction, r.waitUs.mean / S]);
    within(pw!, sigma, 0.015);
    within(w!, sigma / (1 - sigma), 0.03);
  });

  it('M/G/1 with lognormal service (σ = 1): Pollaczek–Khinchine with E[S²] = e·E[S]²', async () => {
    const rho = 0.6;
    const want = (rho * Math.E) / (2 * (1 - rho));
    const [w] = await mean(doc({ types: [{ name: 'job', service: { dist: 'lognormal', meanUs: S, sigma: 1 } }], load: rho }), (r) => [
      r.waitUs.mean / S,
    ]);
    within(w!, want, 0.03);
  });

  it('phases change the mix at their boundary', async () => {
    // 50 000 requests/s (1 worker, 10 µs, ρ = 0.5): 10 ms of type a only, then b only.
    const r = await simulate(
      {
        ...doc({ types: [one('a', 'exp'), one('b', 'exp')], load: 0.5, requests: 2000 }),
        workload: { types: [one('a', 'exp'), one('b', 'exp')], phases: [{ durationMs: 10, shares: { a: 1 } }, { shares: { b: 1 } }] },
      },
      5,
    );
    expect(r.perType.a!.generated).toBeGreaterThan(430);
    expect(r.perType.a!.generated).toBeLessThan(570);
    expect(r.perType.a!.generated + r.perType.b!.generated).toBe(2000);
  });

  it('Poisson to 4 single-worker servers at ρ = 0.8: round robin E[T] = 3.2674 (E_4/M/1), random 5.0 (M/M/1)', async () => {
    const d = (sw: string) => doc({ servers: 4, types: [one('job', 'exp')], sw, load: 0.8 });
    const [rr] = await mean(d('rr'), (r) => [r.latencyUs.mean / S]);
    const [rnd] = await mean(d('random'), (r) => [r.latencyUs.mean / S]);
    within(rr!, 3.2674, 0.015);
    within(rnd!, 5.0, 0.02);
  });

  it('one central queue over 4 × 4 workers behaves as M/M/16', async () => {
    const [pw] = await mean(doc({ servers: 4, workers: 4, types: [one('job', 'exp')], sw: 'central', load: 0.8 }), (r) => [
      r.waitedFraction,
    ]);
    within(pw!, erlangC(16, 12.8), 0.015);
  });

  it('is deterministic for a seed and common to every system', async () => {
    const d = doc({ workers: 4, types: [one('a', 'exp', S, 0.7), one('b', 'lognormal', 3 * S, 0.3)], load: 0.7, requests: 100_000 });
    const strip = (r: NativeSimResult) => ({ ...r, wallS: 0, eventsPerSec: 0 });
    expect(strip(await simulate(d, 3))).toEqual(strip(await simulate(d, 3)));
    expect(strip(await simulate(d, 3))).not.toEqual(strip(await simulate(d, 4)));
    // Same seed, another policy: the same requests were generated (same count per type).
    const ps = await simulate({ ...d, systems: [{ server: 'ps' }] }, 3);
    const fcfs = await simulate(d, 3);
    expect(ps.perType.a!.generated).toBe(fcfs.perType.a!.generated);
    expect(ps.perType.b!.generated).toBe(fcfs.perType.b!.generated);
  });
});
