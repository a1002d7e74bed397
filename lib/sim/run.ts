// Runs a scenario: every system × load (× sweep value) as one native simulation, one after the
// other on a libuv worker (a run is single-threaded; events/s is per core). Progress is read from
// a shared 2-word array the native run writes; abort() asks the current run to stop generating.
import { loadNative, type NativeSimResult } from '../native.js';
import { runPallas, type PallasReport } from './pallas.js';
import { nativeConfig, type Scenario, type SystemSpec } from './scenario.js';

/** A system as results describe it: only the options its server policy uses. */
export type SystemSummary = Pick<SystemSpec, 'name' | 'switch' | 'server' | 'queueCapacity'> &
  Partial<Pick<SystemSpec, 'system' | 'push' | 'sliceUs' | 'switchCostUs' | 'darc' | 'jbsqDepth' | 'pallas'>>;

export function summarizeSystem(s: SystemSpec): SystemSummary {
  const base: SystemSummary = { name: s.name, ...(s.system ? { system: s.system } : {}), switch: s.switch, server: s.server, queueCapacity: s.queueCapacity };
  if (s.switch === 'pallas') return { ...base, pallas: s.pallas! };
  if (s.switch === 'jbsq') base.jbsqDepth = s.jbsqDepth;
  switch (s.server) {
    case 'dfcfs': return { ...base, push: s.push };
    case 'ts': return { ...base, sliceUs: s.sliceUs, switchCostUs: s.switchCostUs };
    case 'darc': return { ...base, darc: s.darc };
    default: return base;
  }
}

export interface RunResult extends NativeSimResult {
  system: SystemSummary;
  load: number;
  sweep?: { shareOf: string; value: number };
  seed: number;
  saturated: boolean;  // achieved < 0.99 × offered (FACTS §5): report as saturated, not as a latency
  pallas?: PallasReport;
}
export interface SimDocument { scenario: string; runs: RunResult[] }

export interface RunOptions {
  /** Called about every 200 ms with the fraction of all requests generated so far. */
  onProgress?: (fraction: number, runIndex: number, runCount: number) => void;
  signal?: AbortSignal;
}

interface Point { system: SystemSpec; load: number; sweep?: number }

export function runPoints(sc: Scenario): Point[] {
  const pts: Point[] = [];
  const sweeps = sc.sweep ? sc.sweep.values : [undefined];
  for (const sweep of sweeps)
    for (const system of sc.systems)
      for (const load of sc.loads) pts.push({ system, load, ...(sweep !== undefined ? { sweep } : {}) });
  return pts;
}

export async function runScenario(sc: Scenario, opts: RunOptions = {}): Promise<SimDocument> {
  const native = loadNative();
  const pts = runPoints(sc);
  const runs: RunResult[] = [];
  const control = new BigUint64Array(2);
  const onAbort = () => { control[1] = 1n; };
  opts.signal?.addEventListener('abort', onAbort);
  try {
    for (const [i, p] of pts.entries()) {
      if (opts.signal?.aborted) break;
      control[0] = 0n;
      const report = () => opts.onProgress?.((i * sc.requests + Number(control[0])) / (pts.length * sc.requests), i, pts.length);
      const timer = opts.onProgress ? setInterval(report, 200) : undefined;
      try {
        const r = p.system.switch === 'pallas'
          ? await runPallas(native, sc, p.system, p.load, p.sweep, control)
          : await native.runSim(nativeConfig(sc, p.system, p.load, p.sweep), control);
        runs.push({
          system: summarizeSystem(p.system), load: p.load,
          ...(p.sweep !== undefined && sc.sweep ? { sweep: { shareOf: sc.sweep.shareOf, value: p.sweep } } : {}),
          seed: sc.seed,
          ...r,
          saturated: r.achievedRps < 0.99 * r.offeredRps,
        });
      } finally {
        if (timer) clearInterval(timer);
      }
      report();
    }
  } finally {
    opts.signal?.removeEventListener('abort', onAbort);
  }
  return { scenario: sc.name, runs };
}
