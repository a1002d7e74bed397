// Runs a scenario: every system × load (× sweep value) as one native simulation on a libuv worker,
// as many at once as the machine has cores (a run is single-threaded and deterministic for its
// seed, so the results are those of a serial run, in the same order); or several scenarios from
// one queue of runs. Progress is read from a 2-word array per run that the native run writes;
// abort() asks every running run to stop generating.
import { availableParallelism } from 'node:os';

import { loadNative, type NativeSimResult } from '../native.js';
import { runPallas, type PallasReport } from './pallas.js';
import { nativeConfig, type Scenario, type SystemSpec } from './scenario.js';

/** A system as results describe it: only the options its server policy uses. */
export type SystemSummary = Pick<SystemSpec, 'name' | 'switch' | 'server' | 'queueCapacity'> &
  Partial<Pick<SystemSpec, 'system' | 'push' | 'sliceUs' | 'switchCostUs' | 'darc' | 'jbsqDepth' | 'pallas'>>;

export function summarizeSystem(s: SystemSpec): SystemSummary {
  const base: SystemSummary = {
    name: s.name,
    ...(s.system ? { system: s.system } : {}),
    switch: s.switch,
    server: s.server,
    queueCapacity: s.queueCapacity,
  };
  if (s.switch === 'pallas') return { ...base, pallas: s.pallas! };
  if (s.switch === 'jbsq') base.jbsqDepth = s.jbsqDepth;
  switch (s.server) {
    case 'dfcfs':
      return { ...base, push: s.push };
    case 'ts':
      return { ...base, sliceUs: s.sliceUs, switchCostUs: s.switchCostUs };
    case 'darc':
      return { ...base, darc: s.darc };
    default:
      return base;
  }
}

export interface RunResult extends NativeSimResult {
  system: SystemSummary;
  load: number;
  sweep?: { shareOf: string; value: number };
  seed: number;
  saturated: boolean; // achieved < 0.99 × offered: report as saturated, not as a latency
  pallas?: PallasReport;
}
export interface SimDocument {
  scenario: string;
  runs: RunResult[];
}

export interface RunOptions {
  /** Called about every 200 ms with the fraction of all requests generated so far, and how many runs have finished. */
  onProgress?: (fraction: number, runsDone: number, runCount: number) => void;
  signal?: AbortSignal;
  /** Runs at once (default: the machine's cores, at most 8). */
  concurrency?: number;
}

export interface ScenariosOptions extends RunOptions {
  /**
   * Called with each scenario's document as soon as it and every scenario before it are done, in
   * order (so that a caller can print and write one while the runs of later ones go on).
   */
  onScenario?: (doc: SimDocument, index: number) => void | Promise<void>;
}

interface Point {
  system: SystemSpec;
  load: number;
  sweep?: number;
}

export function runPoints(sc: Scenario): Point[] {
  const pts: Point[] = [];
  const sweeps = sc.sweep ? sc.sweep.values : [undefined];
  for (const sweep of sweeps)
    for (const system of sc.systems) for (const load of sc.loads) pts.push({ system, load, ...(sweep !== undefined ? { sweep } : {}) });
  return pts;
}

export async function runScenario(sc: Scenario, opts: RunOptions = {}): Promise<SimDocument> {
  return (await runScenarios([sc], opts))[0]!;
}

/**
 * Runs the points of several scenarios from one queue, so that every core stays busy across the
 * scenarios' boundaries (a scenario's last, slowest run no longer holds the others back). Each
 * run is deterministic for its seed, so the documents are those of serial runs.
 */
export async function runScenarios(scs: Scenario[], opts: ScenariosOptions = {}): Promise<SimDocument[]> {
  const native = loadNative();
  const jobs = scs.flatMap((sc, k) => runPoints(sc).map((p) => ({ sc, k, p })));
  const results: (RunResult | undefined)[] = jobs.map(() => undefined);
  const controls = jobs.map(() => new BigUint64Array(2));
  const left = scs.map((sc) => runPoints(sc).length);
  const onAbort = () => {
    for (const c of controls) c[1] = 1n;
  };
  opts.signal?.addEventListener('abort', onAbort);
  let done = 0;
  const total = jobs.reduce((a, j) => a + j.sc.requests, 0);
  const report = () => {
    const generated = controls.reduce(
      (a, c, i) => a + (results[i] ? jobs[i]!.sc.requests : Math.min(jobs[i]!.sc.requests, Number(c[0]))),
      0,
    );
    opts.onProgress?.(total > 0 ? generated / total : 1, done, jobs.length);
  };
  const timer = opts.onProgress ? setInterval(report, 200) : undefined;
  // An aborted scenario reports the runs that finished, in order.
  const docOf = (k: number): SimDocument => ({
    scenario: scs[k]!.name,
    runs: results.filter((r, i): r is RunResult => r !== undefined && jobs[i]!.k === k),
  });
  let emitted = 0;
  let emitting = Promise.resolve();
  let failed: { error: unknown } | undefined; // the first onScenario that threw; no more are called
  const emit = () => {
    while (emitted < scs.length && left[emitted] === 0) {
      const k = emitted++;
      if (opts.onScenario)
        emitting = emitting
          .then(() => (failed ? undefined : opts.onScenario!(docOf(k), k)))
          .catch((error: unknown) => {
            failed ??= { error };
            onAbort(); // nothing more will be reported: stop the runs
          });
    }
  };
  emit();
  let next = 0;
  const worker = async () => {
    while (next < jobs.length && !opts.signal?.aborted && !failed) {
      const i = next++;
      const { sc, k, p } = jobs[i]!;
      const control = controls[i]!;
      const r =
        p.system.switch === 'pallas'
          ? await runPallas(native, sc, p.system, p.load, p.sweep, control)
          : await native.runSim(nativeConfig(sc, p.system, p.load, p.sweep), control);
      results[i] = {
        system: summarizeSystem(p.system),
        load: p.load,
        ...(p.sweep !== undefined && sc.sweep ? { sweep: { shareOf: sc.sweep.shareOf, value: p.sweep } } : {}),
        seed: sc.seed,
        ...r,
        saturated: r.achievedRps < 0.99 * r.offeredRps,
      };
      done++;
      left[k]!--;
      emit();
    }
  };
  try {
    const n = Math.max(1, Math.min(opts.concurrency ?? Math.min(8, availableParallelism()), jobs.length));
    await Promise.all(Array.from({ length: n }, worker));
  } finally {
    if (timer) clearInterval(timer);
    opts.signal?.removeEventListener('abort', onAbort);
  }
  report();
  // After an abort, the scenarios not yet reported go out with what they have.
  for (let k = emitted; k < scs.length; k++) left[k] = 0;
  emit();
  await emitting;
  if (failed) throw failed.error;
  return scs.map((_, k) => docOf(k));
}
