// Workload-change adaptation (paper §4.4): every monitor interval the control plane reads the
// switch's cumulative monitor registers (replies, execution time, drop notices per type), takes
// the differences, estimates the demand per group from the accumulated intervals, and when the summed drift
// against the allocation exceeds δ cores, or a group is overloaded and short of its share, it
// re-runs the generator incrementally against the plan in force. The caller (the simulator front end, or the live control plane) installs the result:
// the switch tables, and the new intra-server policies of the servers whose policy changed.
import { SWITCH } from '../wire/gen.js';
import {
  changedServers,
  drift,
  generate,
  movedServers,
  overloadedGroups,
  type CandidateReport,
  type Evaluator,
  type Plan,
  type PlanOptions,
  type RackServer,
  type TypeEstimate,
} from './policy.js';
import type { MonitorRead } from '../switch/contract.js';

// The monitor registers' read is the switch contract's (lib/switch/contract.ts).
export type { MonitorRead } from '../switch/contract.js';

/** One monitor interval, per wire type: the differences between two reads. */
export interface MonitorSample {
  requests: number[];
  replies: number[];
  timeNs: number[];
  notices: number[];
}

const UNIT_NS = 2 ** SWITCH.monTimeShift;

/**
 * Turns successive register reads into per-interval samples: differences modulo 2^32, so a counter
 * that wrapped between two reads still gives the right count (it must not wrap twice: the switch's
 * contract bounds the interval). Without a baseline the first read is taken against zero (a switch
 * that started with the control plane).
 */
export class MonitorDiff {
  #prev: MonitorRead | null;
  constructor(baseline: MonitorRead | null = null) {
    this.#prev = baseline;
  }
  next(read: MonitorRead): MonitorSample {
    const prev = this.#prev;
    const d = (cur: number[], old: number[] | undefined) => cur.map((v, t) => (v - (old?.[t] ?? 0)) >>> 0);
    const units = d(read.timeUnits, prev?.timeUnits);
    this.#prev = {
      requests: read.requests.slice(),
      replies: read.replies.slice(),
      timeUnits: read.timeUnits.slice(),
      notices: read.notices.slice(),
    };
    return {
      requests: d(read.requests, prev?.requests),
      replies: d(read.replies, prev?.replies),
      timeNs: units.map((u) => u * UNIT_NS),
      notices: d(read.notices, prev?.notices),
    };
  }
}

export interface AdaptOptions {
  deltaCores: number; // δ
  minSamples: number; // replies an estimate needs; intervals accumulate until then
  plan: PlanOptions;
}

export interface Adaptation {
  atNs: number;
  drift: number;
  overloaded: number[]; // groups (of the plan replaced) whose load exceeded their cores
  estimate: TypeEstimate[];
  plan: Plan;
  moved: number[]; // servers that change role (their set of types)
  changed: number[]; // servers whose policy changes at all
  candidates: CandidateReport[];
  chosen: number; // index of the plan in `candidates`
}

export type EvaluatorFor = (estimate: TypeEstimate[], load: number) => Evaluator;

export class Adapter {
  plan: Plan;
  readonly history: Adaptation[] = [];
  private acc: MonitorSample;
  private accNs = 0;
  private readonly lastMean: (number | undefined)[];
  private overloaded: number[] = []; // the previous estimate's overloaded groups
  private readonly totalCores: number;

  constructor(
    private readonly types: { type: number; name: string }[],
    private readonly rack: RackServer[],
    plan: Plan,
    private readonly opts: AdaptOptions,
    private readonly evaluatorFor: EvaluatorFor,
  ) {
    this.plan = plan;
    this.acc = this.#zero();
    this.lastMean = types.map(() => undefined);
    this.totalCores = rack.reduce((a, s) => a + s.cores, 0);
  }

  /**
   * The estimate from the accumulated intervals; null until minSamples requests. A type's mean is
   * its execution time over the window divided by its replies (the exact window mean the
   * cumulative registers give, where the paper kept an EWMA in the switch); a type that had no
   * reply in the window (all dropped) keeps its last mean. Shares and the rate come from the
   * requests the switch received, so an overloaded type shows its demand, not its throughput.
   */
  private estimate(): { est: TypeEstimate[]; rate: number } | null {
    const n = this.types.reduce((a, _, i) => a + this.acc.requests[i]!, 0);
    if (n < this.opts.minSamples || this.accNs <= 0) return null;
    const est: TypeEstimate[] = [];
    for (const [i, t] of this.types.entries()) {
      const r = this.acc.replies[i]!;
      if (r > 0) this.lastMean[i] = this.acc.timeNs[i]! / r;
      const m = this.lastMean[i];
      if (m === undefined || !(m > 0)) continue;
      est.push({ type: t.type, name: t.name, meanNs: m, share: this.acc.requests[i]! / n });
    }
    if (!est.some((t) => t.share > 0)) return null;
    return { est, rate: n / (this.accNs * 1e-9) };
  }

  #zero(): MonitorSample {
    return {
      requests: this.types.map(() => 0),
      replies: this.types.map(() => 0),
      timeNs: this.types.map(() => 0),
      notices: this.types.map(() => 0),
    };
  }

  /** One monitor interval of `intervalNs`. Resolves to an adaptation to install, or null. */
  async onMonitor(sample: MonitorSample, intervalNs: number, nowNs: number): Promise<Adaptation | null> {
    for (const [i, t] of this.types.entries()) {
      this.acc.requests[i]! += sample.requests[t.type] ?? 0;
      this.acc.replies[i]! += sample.replies[t.type] ?? 0;
      this.acc.timeNs[i]! += sample.timeNs[t.type] ?? 0;
      this.acc.notices[i]! += sample.notices[t.type] ?? 0;
    }
    this.accNs += intervalNs;
    const e = this.estimate();
    if (!e) return null;
    this.acc = this.#zero();
    this.accNs = 0;
    const meanNs = e.est.reduce((a, t) => a + t.meanNs * t.share, 0);
    const load = (e.rate * meanNs * 1e-9) / this.totalCores;
    const d = drift(this.plan, e.est, load);
    // A group counts as overloaded when two estimates in a row say so: one window's shares are
    // noisy (±3 % on a 1000-request type), and a plan at high load runs its largest group close to full.
    const now = overloadedGroups(this.plan, e.est, e.rate);
    const over = now.filter((g) => this.overloaded.includes(g));
    this.overloaded = now;
    if (d <= this.opts.deltaCores && over.length === 0) return null;
    const gen = await generate(e.est, this.rack, this.evaluatorFor(e.est, load), { ...this.opts.plan, load }, this.plan);
    const a: Adaptation = {
      atNs: nowNs,
      drift: d,
      overloaded: over,
      estimate: e.est,
      plan: gen.plan,
      moved: movedServers(this.plan, gen.plan),
      changed: changedServers(this.plan, gen.plan),
      candidates: gen.candidates,
      chosen: gen.chosen,
    };
    this.plan = gen.plan;
    this.history.push(a);
    return a;
  }
}
