// Pallas in the simulator: the control plane of lib/control drives a stepped native simulation
// exactly as it will drive the live rack. Before the run it generates the policy from the
// workload's declared means and shares (as if profiled: candidates, provisioning, selection by
// simulated p99); during the run it reads the switch's monitor every interval and installs an
// incremental re-plan when demand drifts by more than δ — learning only from the monitor.
import { Adapter, type Adaptation } from '../control/adapt.js';
import { planSimConfig, simEvaluator } from '../control/evaluate.js';
import { generate, type CandidateReport, type Plan, type RackServer, type TypeEstimate } from '../control/policy.js';
import type { NativeAddon, NativeSimResult } from '../native.js';
import { nativeConfig, sweptShares, type NativeSimConfig, type Scenario, type SystemSpec } from './scenario.js';

export interface PlanSummary { groups: { types: string[]; cores: number; cThres: number; meanUs: number }[]; mixedServers: number }
export interface PallasReport {
  initial: PlanSummary;
  candidates: CandidateReport[];
  chosen: number;
  adaptations: { atMs: number; drift: number; overloaded: number[]; groups: string[][]; cores: number[]; moved: number; changed: number }[];
}

function summarizePlan(plan: Plan, names: string[]): PlanSummary {
  return {
    groups: plan.groups.map((g) => ({ types: g.types.map((t) => names[t] ?? String(t)), cores: g.cores, cThres: g.cThres, meanUs: g.meanNs / 1000 })),
    mixedServers: plan.servers.filter((s) => s.roles.length > 1).length,
  };
}

/** The workload the control plane starts from: declared means, the first phase's (or the sweep's) shares. */
export function declaredEstimate(sc: Scenario, sweep?: number): TypeEstimate[] {
  const names = sc.workload.types.map((t) => t.name);
  let shares = sc.sweep && sweep !== undefined ? sweptShares(sc.workload.types, sc.sweep, sweep) : sc.workload.types.map((t) => t.share);
  const p0 = sc.workload.phases[0];
  if (p0?.shares && !(sc.sweep && sweep !== undefined)) shares = names.map((n) => p0.shares![n] ?? 0);
  return sc.workload.types.map((t, i) => ({ type: i, name: t.name, meanNs: t.service.meanUs * 1000, share: shares[i] ?? 0 }));
}

function rackOf(sc: Scenario): RackServer[] {
  return Array.from({ length: sc.rack.servers }, (_, id) => ({ id, cores: sc.rack.workers }));
}

export async function runPallas(native: NativeAddon, sc: Scenario, sys: SystemSpec, load: number, sweep: number | undefined,
                                control: BigUint64Array): Promise<NativeSimResult & { pallas: PallasReport }> {
  const opts = sys.pallas!;
  const names = sc.workload.types.map((t) => t.name);
  const rack = rackOf(sc);
  const planOpts = { tauNs: Math.round(opts.tauUs * 1000), clone: opts.clone, cThresFactor: opts.cThresFactor, ownerFirst: opts.ownerFirst, ...(opts.groups ? { groups: opts.groups } : {}) };
  // The shape of each type's distribution is known from profiling; means and shares are measured.
  const shapes = new Map(sc.workload.types.map((t, i) => [i, { dist: t.service.dist, sigma: t.service.sigma }]));
  const evaluatorFor = (est: TypeEstimate[], l: number) => simEvaluator({
    types: est, shapes, servers: sc.rack.servers, workers: sc.rack.workers, load: l, oneWayUs: sc.network.oneWayUs,
    requests: opts.selectRequests, seed: sc.seed + 7, queueCapacity: sys.queueCapacity, bounce: opts.bounce,
  });
  const est = declaredEstimate(sc, sweep);
  const gen = await generate(est, rack, evaluatorFor(est, load), planOpts);
  const base = nativeConfig(sc, sys, load, sweep);
  const planned = planSimConfig(gen.plan, {
    types: est, servers: sc.rack.servers, workers: sc.rack.workers, load, oneWayUs: sc.network.oneWayUs,
    requests: sc.requests, seed: sc.seed, queueCapacity: sys.queueCapacity, bounce: opts.bounce,
  }) as Pick<NativeSimConfig, 'switch' | 'perServer' | 'meanNs' | 'bounce'>;
  const cfg: NativeSimConfig = {
    ...base, switch: planned.switch, perServer: planned.perServer!, meanNs: planned.meanNs!, bounce: planned.bounce!,
    ...(sc.timelineMs ? { timelineNs: Math.round(sc.timelineMs * 1e6) } : {}),
  };
  const report: PallasReport = { initial: summarizePlan(gen.plan, names), candidates: gen.candidates, chosen: gen.chosen, adaptations: [] };
  if (!opts.adapt) return { ...(await native.runSim(cfg, control)), pallas: report };

  const session = new native.SimSession(cfg);
  const adapter = new Adapter(est.map((t) => ({ type: t.type, name: t.name })), rack, gen.plan,
    { deltaCores: opts.deltaCores, minSamples: opts.minSamples, plan: planOpts }, evaluatorFor);
  const interval = Math.round(opts.intervalMs * 1e6);
  const reaction = Math.round(opts.reactionMs * 1e6);
  const install = (a: Adaptation) => {
    const next = planSimConfig(a.plan, {
      types: est, servers: sc.rack.servers, workers: sc.rack.workers, load, oneWayUs: sc.network.oneWayUs,
      requests: 1, seed: 1, queueCapacity: sys.queueCapacity,
    }) as { switch: { tables: object }; perServer: { policy: object; types: number[] }[] };
    // Each server learns the means behind the plan with its policy (epoch bouncing compares them).
    const meanNs = est.map((t) => a.estimate.find((e) => e.type === t.type)?.meanNs ?? t.meanNs);
    session.apply({ tables: next.switch.tables, servers: a.changed.map((s) => ({ server: s, ...next.perServer[s]! })), meanNs });
    report.adaptations.push({
      atMs: a.atNs / 1e6, drift: Math.round(a.drift * 10) / 10, overloaded: a.overloaded,
      groups: a.plan.groups.map((g) => g.types.map((t) => names[t] ?? String(t))), cores: a.plan.groups.map((g) => g.cores),
      moved: a.moved.length, changed: a.changed.length,
    });
  };
  let t = interval;
  for (let guard = 0; guard < 100_000_000; guard++) {
    if (await session.advance(t, control)) break;
    const read = session.monitor(true)!;
    const a = await adapter.onMonitor(read, interval, t);
    if (a) {
      if (reaction > 0 && await session.advance(t + reaction, control)) break;
      install(a);
    }
    t += interval;
  }
  return { ...session.finish(), pallas: report };
}
