// Pallas in the simulator: the control plane of lib/control drives a stepped native simulation
// exactly as it drives the live rack. The headline `pallas` learns: it starts from the plan the
// live control plane starts from (one group on every server, nothing known), reads the switch's
// monitor registers every interval, plans from its first estimate (candidates, provisioning,
// selection by simulation), and re-plans incrementally when demand drifts by more than δ.
// `pallas-oracle` and `pallas-static` plan from the workload's declared means and shares instead
// (as if profiled offline); `pallas-static` never re-plans.
import { Adapter, MonitorDiff, type Adaptation } from '../control/adapt.js';
import { darcWithinOf, planSimConfig, simEvaluator } from '../control/evaluate.js';
import {
  buildPlan,
  generate,
  type CandidateReport,
  type Plan,
  type PlanOptions,
  type PlanVariant,
  type RackServer,
  type TypeEstimate,
} from '../control/policy.js';
import type { NativeAddon, NativeSimResult } from '../native.js';
import { nativeConfig, sweptShares, type NativeSimConfig, type Scenario, type SystemSpec } from './scenario.js';

export interface PlanSummary {
  groups: { types: string[]; cores: number; cThres: number; meanUs: number; balance: string; cloneTarget: number | null }[];
  mixedServers: number;
  within: string; // the policy of dedicated servers of multi-type groups
}
export interface PallasReport {
  learned: boolean;
  initial: PlanSummary; // the first plan made (learned: from the first estimate; oracle: from the declared mix)
  candidates: CandidateReport[];
  chosen: number;
  adaptations: { atMs: number; drift: number; overloaded: number[]; groups: string[][]; cores: number[]; moved: number; changed: number }[];
}

function summarizePlan(plan: Plan, names: string[]): PlanSummary {
  return {
    groups: plan.groups.map((g) => ({
      types: g.types.map((t) => names[t] ?? String(t)),
      cores: g.cores,
      cThres: g.cThres,
      meanUs: g.meanNs / 1000,
      balance: g.balance,
      cloneTarget: g.cloneTarget,
    })),
    mixedServers: plan.servers.filter((s) => s.roles.length > 1).length,
    within: withinOf(plan),
  };
}

/** How the plan's servers dedicated to a multi-type group schedule its types (policy.ts `Within`). */
function withinOf(plan: Plan): string {
  for (const s of plan.servers) {
    if (s.roles.length !== 1 || s.policy.kind !== 'darc') continue;
    return s.policy.darc.groups[0]!.workers === 0 ? 'priority' : 'darc';
  }
  return 'cfcfs';
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

export async function runPallas(
  native: NativeAddon,
  sc: Scenario,
  sys: SystemSpec,
  load: number,
  sweep: number | undefined,
  control: BigUint64Array,
): Promise<NativeSimResult & { pallas: PallasReport }> {
  const opts = sys.pallas!;
  const names = sc.workload.types.map((t) => t.name);
  const rack = rackOf(sc);
  const ablation = {
    ...(opts.ablation.tauUs !== undefined ? { tauNs: Math.round(opts.ablation.tauUs * 1000) } : {}),
    ...(opts.ablation.argminTarget ? { argminTarget: true } : {}),
    ...(opts.ablation.sharedCloneCounter ? { sharedCloneCounter: true } : {}),
  };
  const variants: PlanVariant[] | undefined =
    opts.balance === 'auto'
      ? undefined
      : (['cfcfs', 'priority', 'darc'] as const).map((within) => ({ balance: opts.balance as 'wrr' | 'po2', within }));
  const planOpts: PlanOptions = {
    tauShift: opts.tauShift,
    ablation,
    clone: opts.clone,
    cThresFactor: opts.cThresFactor,
    ownerFirst: opts.ownerFirst,
    darcWithin: darcWithinOf(native),
    ...(variants ? { variants } : {}),
    ...(opts.groups ? { groups: opts.groups } : {}),
  };
  // The shape of each type's distribution is known from profiling; means and shares are measured.
  const shapes = new Map(sc.workload.types.map((t, i) => [i, { dist: t.service.dist, sigma: t.service.sigma }]));
  // So is the shape of each type's arrivals (its burstiness); its rate is measured.
  const arrivals = new Map(
    sc.workload.types.flatMap((t, i) => (t.arrivals ? [[i, { process: t.arrivals.dist, cv: t.arrivals.cv }] as const] : [])),
  );
  const baseArrivals = { process: sc.workload.arrivals.dist, cv: sc.workload.arrivals.cv };
  const evaluatorFor = (est: TypeEstimate[], l: number) =>
    simEvaluator({
      types: est,
      shapes,
      arrivals,
      baseArrivals,
      servers: sc.rack.servers,
      workers: sc.rack.workers,
      load: l,
      oneWayUs: sc.network.oneWayUs,
      requests: opts.selectRequests,
      seed: sc.seed + 7,
      queueCapacity: sys.queueCapacity,
      bounce: opts.bounce,
    });
  const declared = declaredEstimate(sc, sweep);
  const setup = (est: TypeEstimate[], requests: number, seed: number) => ({
    types: est,
    servers: sc.rack.servers,
    workers: sc.rack.workers,
    load,
    oneWayUs: sc.network.oneWayUs,
    requests,
    seed,
    queueCapacity: sys.queueCapacity,
    bounce: opts.bounce,
  });
  const report: PallasReport = {
    learned: opts.learn,
    initial: { groups: [], mixedServers: 0, within: 'cfcfs' },
    candidates: [],
    chosen: 0,
    adaptations: [],
  };

  // The first plan: from the declared mix (oracle), or what the live control plane runs before it
  // has measured anything (one group of every type on every server, cFCFS, po2 on its own counts).
  let first: Plan;
  if (opts.learn) {
    const uniform = declared.map((t) => ({ ...t, meanNs: 10_000, share: 1 }));
    first = buildPlan(uniform, [uniform.map((t) => t.type)], rack, { ...planOpts, clone: false, balance: 'po2', within: 'cfcfs' })!;
  } else {
    const gen = await generate(declared, rack, evaluatorFor(declared, load), { ...planOpts, load });
    first = gen.plan;
    report.initial = summarizePlan(first, names);
    report.candidates = gen.candidates;
    report.chosen = gen.chosen;
  }
  const base = nativeConfig(sc, sys, load, sweep);
  const planned = planSimConfig(
    first,
    setup(opts.learn ? declared.map((t) => ({ ...t, meanNs: 10_000 })) : declared, sc.requests, sc.seed),
  ) as Pick<NativeSimConfig, 'switch' | 'perServer' | 'meanNs' | 'bounce'>;
  const cfg: NativeSimConfig = {
    ...base,
    switch: planned.switch,
    perServer: planned.perServer!,
    meanNs: planned.meanNs!,
    bounce: planned.bounce!,
    ...(sc.timelineMs ? { timelineNs: Math.round(sc.timelineMs * 1e6) } : {}),
  };
  if (!opts.adapt) return { ...(await native.runSim(cfg, control)), pallas: report };

  const session = new native.SimSession(cfg);
  const types = declared.map((t) => ({ type: t.type, name: t.name }));
  // Learning: the first estimate always plans (δ = −1), as the live control plane's bootstrap does.
  let bootstrap = opts.learn;
  const adapterFor = (plan: Plan) =>
    new Adapter(
      types,
      rack,
      plan,
      { deltaCores: bootstrap ? -1 : opts.deltaCores, minSamples: opts.minSamples, plan: planOpts },
      evaluatorFor,
    );
  let adapter = adapterFor(first);
  const monitor = new MonitorDiff();
  const interval = Math.round(opts.intervalMs * 1e6);
  const reaction = Math.round(opts.reactionMs * 1e6);
  const install = (a: Adaptation) => {
    const next = planSimConfig(a.plan, setup(declared, 1, 1)) as {
      switch: { tables: object };
      perServer: { policy: object; types: number[] }[];
    };
    // Each server learns the means behind the plan with its policy (epoch bouncing compares them);
    // a type the estimate lacks keeps a placeholder when learning (nothing is told), its declared mean otherwise.
    const meanNs = declared.map((t) => a.estimate.find((e) => e.type === t.type)?.meanNs ?? (opts.learn ? 10_000 : t.meanNs));
    session.apply({ tables: next.switch.tables, servers: a.changed.map((s) => ({ server: s, ...next.perServer[s]! })), meanNs });
    if (bootstrap) {
      report.initial = summarizePlan(a.plan, names);
      report.candidates = a.candidates;
      report.chosen = a.chosen;
    }
    report.adaptations.push({
      atMs: a.atNs / 1e6,
      drift: Math.round(a.drift * 10) / 10,
      overloaded: a.overloaded,
      groups: a.plan.groups.map((g) => g.types.map((t) => names[t] ?? String(t))),
      cores: a.plan.groups.map((g) => g.cores),
      moved: a.moved.length,
      changed: a.changed.length,
    });
  };
  let t = interval;
  for (let guard = 0; guard < 100_000_000; guard++) {
    if (await session.advance(t, control)) break;
    const sample = monitor.next(session.monitor()!);
    const a = await adapter.onMonitor(sample, interval, t);
    if (a) {
      if (reaction > 0 && (await session.advance(t + reaction, control))) break;
      install(a);
      if (bootstrap) {
        bootstrap = false;
        adapter = adapterFor(a.plan);
      }
    }
    t += interval;
  }
  return { ...session.finish(), pallas: report };
}
