// Candidate evaluation by simulation (paper §4.3 step b): a plan is run in the rack simulator —
// the same native switch pipeline and server policies the rack runs — on the workload the control
// plane estimated, and its p99 is the score. The control plane measures each type's mean and share
// and the load; the shapes of service times and arrivals come from profiling when the caller has
// them (`shapes`, `arrivals`), and are otherwise exponential and Poisson (docs/control-plane.md).
import { loadNative, type NativeAddon } from '../native.js';
import type { DarcReserveFn, Evaluator, Plan, TypeEstimate } from './policy.js';

export interface EvalSetup {
  types: TypeEstimate[];
  servers: number; // servers 0 … servers − 1, each with `workers` cores
  workers: number;
  load: number; // fraction of the rack's capacity (clamped to [0.05, 0.95])
  oneWayUs: number;
  requests: number;
  seed: number;
  queueCapacity?: number;
  bounce?: boolean;
  shapes?: Map<number, { dist: 'fixed' | 'exp' | 'lognormal'; sigma: number }>; // per wire type
  /** Per wire type, an arrival process of its own (profiled burstiness): its inter-arrival distribution (gamma of this coefficient of variation). */
  arrivals?: Map<number, { process: 'poisson' | 'gamma' | 'fixed'; cv: number }>;
  /** The arrivals of the types without their own process (default Poisson). */
  baseArrivals?: { process: 'poisson' | 'gamma' | 'fixed'; cv: number };
}

/** The native simulator config that runs `plan` on the estimated workload. */
export function planSimConfig(plan: Plan, s: EvalSetup): object {
  const index = new Map(s.types.map((t, i) => [t.type, i]));
  const ix = (t: number) => {
    const i = index.get(t);
    if (i === undefined) throw new Error(`plan names type ${t}, which the estimate lacks`);
    return i;
  };
  const typeToGroup: Record<string, number> = {};
  for (const [t, g] of Object.entries(plan.tables.typeToGroup)) if (index.has(Number(t))) typeToGroup[String(ix(Number(t)))] = g;
  const byServer = new Map(plan.servers.map((p) => [p.server, p]));
  const perServer = Array.from({ length: s.servers }, (_, id) => {
    const p = byServer.get(id);
    if (!p) throw new Error(`plan has no entry for server ${id}`);
    const policy =
      p.policy.kind === 'cfcfs'
        ? { kind: 'cfcfs' }
        : {
            kind: 'darc',
            darc: {
              groups: p.policy.darc.groups.map((g) => ({ types: g.types.map(ix), workers: g.workers })),
              ownerFirst: p.policy.darc.ownerFirst,
            },
          };
    return { policy: { ...policy, workers: s.workers, queueCapacity: s.queueCapacity ?? 4096 }, types: p.types.map(ix) };
  });
  return {
    servers: s.servers,
    workers: s.workers,
    oneWayNs: Math.round(s.oneWayUs * 1000),
    types: s.types.map((t) => {
      const a = s.arrivals?.get(t.type);
      return {
        name: t.name,
        dist: s.shapes?.get(t.type)?.dist ?? 'exp',
        sigma: s.shapes?.get(t.type)?.sigma ?? 1,
        meanNs: t.meanNs,
        share: t.share,
        ...(a ? { arrivals: a } : {}),
      };
    }),
    arrivals: s.baseArrivals ?? { process: 'poisson', cv: 1 },
    switch: { kind: 'pallas', tables: { ...plan.tables, typeToGroup } },
    server: { kind: 'cfcfs', workers: s.workers, queueCapacity: s.queueCapacity ?? 4096 },
    perServer,
    meanNs: s.types.map((t) => t.meanNs),
    bounce: s.bounce ?? true,
    load: Math.min(0.95, Math.max(0.05, s.load)),
    requests: s.requests,
    seed: s.seed,
    warmup: 0.1,
  };
}

/**
 * Every candidate runs on the same seed, so all see the same arrivals and service times (common
 * random numbers): their differences are the plans', not the draws'. The native runs go to the
 * libuv pool, so a generator that evaluates its candidates together uses every core.
 */
export function simEvaluator(s: EvalSetup): Evaluator {
  const native = loadNative();
  return async (plan) => {
    const r = await native.runSim(planSimConfig(plan, s));
    const perTypeP99Us: Record<string, number> = {};
    s.types.forEach((t) => {
      const pt = r.perType[t.name];
      if (pt && pt.measured > 0) perTypeP99Us[String(t.type)] = pt.latencyUs.p99;
    });
    return { p99Us: r.latencyUs.p99, saturated: r.achievedRps < 0.99 * r.offeredRps, perTypeP99Us };
  };
}

/** The native DARC reservation rule, as the generator's `darcWithin`. */
export function darcWithinOf(native: NativeAddon = loadNative()): DarcReserveFn {
  return (types, workers) => {
    const r = native.darcReserve(types, workers);
    if (!r) return [];
    // Given groups may not overlap: a group that spilled onto the spillway keeps what is left.
    let left = workers;
    return r.groups
      .map((g, i) => {
        const last = i === r.groups.length - 1;
        const w = Math.max(0, Math.min(g.count, left - (r.groups.length - 1 - i)));
        left -= w;
        return { types: g.types, workers: last ? w + left : w };
      })
      .filter((g) => g.workers > 0);
  };
}
