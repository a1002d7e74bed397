// `npm run bench -- never-loses`: does Pallas (the learned headline system) ever lose to RackSched?
// For every static paper scenario (or random mixes that are in no file), at every load up to
// 0.95, over several seeds, the rack simulator runs pallas, rs-darc, rs-cfcfs and central-cfcfs
// and checks the never-loses criteria (docs/results.md):
//   overall  Pallas's p99 ≤ 1.05 × the better of RS-DARC and RS-cFCFS
//   per type each type's p99 ≤ 1.25 × that type's p99 under RS-DARC (loads ≥ 0.5)
//   ideal    Pallas's p99 ≤ 1.3 × the rack-wide central cFCFS queue's (loads ≤ 0.9)
// The worst ratio over the seeds is reported per point, with the misses marked. Results (every
// run's figures, the ratios) go to results/sim/never-loses/.
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { packageRoot } from '../../lib/native.js';
import { runScenario, type RunResult } from '../../lib/sim/run.js';
import { loadScenario, normaliseScenario, type Scenario } from '../../lib/sim/scenario.js';
import { mdRow } from '../../lib/util/table.js';

export const CRITERIA = { overall: 1.05, perType: 1.25, ideal: 1.3 } as const;
const SYSTEMS = ['pallas', 'rs-darc', 'rs-cfcfs', 'central-cfcfs'] as const;
/** The static scenarios of the paper (the shift scenarios have timelines, not a p99 per load). */
const STATIC = [
  'fig8a-bimodal',
  'fig8b-port-bimodal',
  'fig8c-trimodal',
  'fig8d-tpcc',
  'fig9a-rocksdb',
  'fig9b-port-rocksdb',
  'fig13b-bursty',
  'fig14-others',
  'd1-exponential',
  'd2-scale-2',
  'd2-scale-4',
  'd2-scale-8',
];

export interface CheckPoint {
  scenario: string;
  load: number;
  overall: number;
  perType: number | null;
  worstType: string | null;
  ideal: number | null;
  pallasSaturated: boolean;
  miss: string[];
}

/** A random mix (for checks on workloads no file has): 2–5 types, log-uniform means 2–1000 µs, random shares and shapes. */
export function randomMix(seed: number): Scenario {
  let x = (seed * 2654435761) % 2 ** 32 || 1;
  const r = () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x / 2 ** 32;
  };
  const n = 2 + Math.floor(r() * 4);
  const dists = ['fixed', 'exp', 'lognormal'] as const;
  const types = Array.from({ length: n }, (_, i) => {
    const dist = dists[Math.floor(r() * 3)]!;
    return {
      name: `T${i}`,
      service: { dist, meanUs: Math.round(2 * 500 ** r() * 10) / 10, ...(dist === 'lognormal' ? { sigma: 0.5 } : {}) },
      share: Math.round((0.05 + r()) * 100) / 100,
    };
  });
  const servers = [4, 6, 8][Math.floor(r() * 3)]!;
  return normaliseScenario({
    name: `random-${seed}`,
    rack: { servers, workers: 10 },
    network: { oneWayUs: 2.5 },
    workload: { types },
    systems: [...SYSTEMS],
    loads: [0.3, 0.5, 0.7, 0.8, 0.9, 0.95],
    requests: 300_000,
  });
}

export async function runCheck(o: {
  out: string;
  log: (s: string) => void;
  seeds: number[];
  scenarios?: string[];
  random?: number;
  requests?: number;
  loads?: number[];
}): Promise<CheckPoint[]> {
  const dir = join(o.out, 'sim', 'never-loses');
  mkdirSync(dir, { recursive: true });
  const paper = join(packageRoot, 'bench/scenarios/paper');
  const files = readdirSync(paper)
    .filter((f) => f.endsWith('.yaml'))
    .map((f) => f.replace(/\.yaml$/, ''));
  const names = o.scenarios ?? (o.random ? [] : STATIC);
  for (const n of names) if (!files.includes(n)) throw new Error(`no scenario ${n} in bench/scenarios/paper`);
  const scenarios: Scenario[] = names.map((n) => loadScenario(join(paper, `${n}.yaml`)));
  for (let i = 1; i <= (o.random ?? 0); i++) scenarios.push(randomMix(i));
  const points: CheckPoint[] = [];
  const all: Record<string, RunResult[]> = {};
  for (const base of scenarios) {
    const sc: Scenario = normaliseScenario({
      name: base.name,
      rack: base.rack,
      network: base.network,
      workload: {
        types: base.workload.types.map((t) => ({
          name: t.name,
          service: {
            dist: t.service.dist,
            meanUs: t.service.meanUs,
            ...(t.service.dist === 'lognormal' ? { sigma: t.service.sigma } : {}),
          },
          share: t.share,
          ...(t.arrivals ? { arrivals: { dist: t.arrivals.dist, ...(t.arrivals.dist === 'gamma' ? { cv: t.arrivals.cv } : {}) } } : {}),
        })),
        arrivals: {
          dist: base.workload.arrivals.dist,
          ...(base.workload.arrivals.dist === 'gamma' ? { cv: base.workload.arrivals.cv } : {}),
        },
      },
      systems: [...SYSTEMS],
      loads: (o.loads ?? base.loads).filter((l) => l <= 0.95),
      requests: o.requests ?? base.requests,
      warmup: base.warmup,
    });
    const t0 = Date.now();
    const docs = await Promise.all(o.seeds.map((seed) => runScenario({ ...sc, seed })));
    all[sc.name] = docs.flatMap((d) => d.runs);
    for (const load of sc.loads) {
      const pt: CheckPoint = {
        scenario: sc.name,
        load,
        overall: 0,
        perType: null,
        worstType: null,
        ideal: null,
        pallasSaturated: false,
        miss: [],
      };
      for (const d of docs) {
        const at = (s: string) => d.runs.find((r) => r.system.name === s && r.load === load)!;
        const p = at('pallas'),
          darc = at('rs-darc'),
          cf = at('rs-cfcfs'),
          central = at('central-cfcfs');
        pt.pallasSaturated ||= p.saturated;
        pt.overall = Math.max(pt.overall, p.latencyUs.p99 / Math.min(darc.latencyUs.p99, cf.latencyUs.p99));
        if (load >= 0.5) {
          for (const [name, v] of Object.entries(p.perType)) {
            const b = darc.perType[name];
            if (!b || v.measured === 0 || b.measured === 0) continue;
            const r = v.latencyUs.p99 / b.latencyUs.p99;
            if (pt.perType === null || r > pt.perType) {
              pt.perType = r;
              pt.worstType = name;
            }
          }
        }
        if (load <= 0.9) pt.ideal = Math.max(pt.ideal ?? 0, p.latencyUs.p99 / central.latencyUs.p99);
      }
      if (pt.overall > CRITERIA.overall) pt.miss.push('overall');
      if (pt.perType !== null && pt.perType > CRITERIA.perType) pt.miss.push(`type ${pt.worstType}`);
      if (pt.ideal !== null && pt.ideal > CRITERIA.ideal) pt.miss.push('ideal');
      points.push(pt);
    }
    o.log(
      `${sc.name}: ${docs.length} seeds × ${sc.loads.length} loads × ${SYSTEMS.length} systems in ${((Date.now() - t0) / 1000).toFixed(1)} s`,
    );
  }
  o.log(formatCheck(points, o.seeds.length));
  writeFileSync(join(dir, 'result.json'), `${JSON.stringify({ criteria: CRITERIA, seeds: o.seeds, points, runs: all }, null, 2)}\n`);
  o.log(`results: ${dir}`);
  return points;
}

export function formatCheck(points: CheckPoint[], seeds: number): string {
  const L = [
    `worst over ${seeds} seed(s); limits: overall ≤ ${CRITERIA.overall}, ` +
      `per type ≤ ${CRITERIA.perType} (loads ≥ 0.5), ideal ≤ ${CRITERIA.ideal} (loads ≤ 0.9)`,
    '| scenario | load | pallas / best RS | worst type / RS-DARC | pallas / central-cfcfs | |',
    '|---|---|---|---|---|---|',
  ];
  const f = (x: number | null) => (x === null ? '—' : x.toFixed(2));
  for (const p of points) {
    L.push(
      mdRow([
        p.scenario,
        p.load,
        f(p.overall),
        p.perType === null ? '—' : `${f(p.perType)} (${p.worstType})`,
        f(p.ideal),
        `${p.miss.length ? `MISS ${p.miss.join(', ')}` : 'ok'}${p.pallasSaturated ? ' SAT' : ''}`,
      ]),
    );
  }
  const misses = points.filter((p) => p.miss.length);
  L.push('', misses.length ? `${misses.length} of ${points.length} points miss` : `all ${points.length} points hold`);
  return L.join('\n');
}
