// Workload-change adaptation (paper §4.4): every monitor interval the control plane reads the
// switch's per-type counts and EWMAs, estimates the demand per group, and when the summed drift
// against the allocation exceeds δ cores, or a group is overloaded and short of its share, it
// re-runs the generator incrementally against the plan in force. The caller (the simulator front end, or the live control plane) installs the result:
// the switch tables, and the new intra-server policies of the servers whose policy changed.
import { changedServers, drift, generate, movedServers, overloadedGroups, type CandidateReport, type Evaluator, type Plan, type PlanOptions, type RackServer, type TypeEstimate } from './policy.js';

export interface MonitorRead {
  count: number[];                // per wire type: replies since the last read (the switch resets it)
  ewmaNs: (number | null)[];      // per wire type: EWMA of execution time, null before any reply
}

export interface AdaptOptions {
  deltaCores: number;   // δ
  minSamples: number;   // replies an estimate needs; intervals accumulate until then
  plan: PlanOptions;
}

export interface Adaptation {
  atNs: number;
  drift: number;
  overloaded: number[];  // groups (of the plan replaced) whose load exceeded their cores
  estimate: TypeEstimate[];
  plan: Plan;
  moved: number[];      // servers that change role (their set of types)
  changed: number[];    // servers whose policy changes at all
  candidates: CandidateReport[];
}

export type EvaluatorFor = (estimate: TypeEstimate[], load: number) => Evaluator;

export class Adapter {
  plan: Plan;
  readonly history: Adaptation[] = [];
  private acc: number[];
  private accNs = 0;
  private readonly totalCores: number;

  constructor(private readonly types: { type: number; name: string }[], private readonly rack: RackServer[], plan: Plan,
              private readonly opts: AdaptOptions, private readonly evaluatorFor: EvaluatorFor) {
    this.plan = plan;
    this.acc = types.map(() => 0);
    this.totalCores = rack.reduce((a, s) => a + s.cores, 0);
  }

  /** The estimate from the accumulated counts and the latest EWMAs; null until minSamples replies. */
  private estimate(read: MonitorRead): { est: TypeEstimate[]; rate: number } | null {
    const n = this.acc.reduce((a, b) => a + b, 0);
    if (n < this.opts.minSamples || this.accNs <= 0) return null;
    const est: TypeEstimate[] = [];
    for (const [i, t] of this.types.entries()) {
      const m = read.ewmaNs[t.type];
      if (m === null || m === undefined || !(m > 0)) continue;
      est.push({ type: t.type, name: t.name, meanNs: m, share: this.acc[i]! / n });
    }
    if (!est.some((t) => t.share > 0)) return null;
    return { est, rate: n / (this.accNs * 1e-9) };
  }

  /** One monitor read covering `intervalNs`. Resolves to an adaptation to install, or null. */
  async onMonitor(read: MonitorRead, intervalNs: number, nowNs: number): Promise<Adaptation | null> {
    for (const [i, t] of this.types.entries()) this.acc[i]! += read.count[t.type] ?? 0;
    this.accNs += intervalNs;
    const e = this.estimate(read);
    if (!e) return null;
    this.acc = this.types.map(() => 0);
    this.accNs = 0;
    const d = drift(this.plan, e.est);
    const over = overloadedGroups(this.plan, e.est, e.rate);
    if (d <= this.opts.deltaCores && over.length === 0) return null;
    const meanNs = e.est.reduce((a, t) => a + t.meanNs * t.share, 0);
    const load = (e.rate * meanNs * 1e-9) / this.totalCores;
    const gen = await generate(e.est, this.rack, this.evaluatorFor(e.est, load), this.opts.plan, this.plan);
    const a: Adaptation = {
      atNs: nowNs, drift: d, overloaded: over, estimate: e.est, plan: gen.plan,
      moved: movedServers(this.plan, gen.plan), changed: changedServers(this.plan, gen.plan), candidates: gen.candidates,
    };
    this.plan = gen.plan;
    this.history.push(a);
    return a;
  }
}
