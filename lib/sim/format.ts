// Presents simulation results: a plain-text table for people, CSV files for plots.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import type { NativeSummary } from '../native.js';
import { textTable, toCsv } from '../util/table.js';
import type { RunResult, SimDocument } from './run.js';

const f = (x: number, d = 1) => (Number.isFinite(x) ? x.toFixed(d) : '-');
const k = (x: number) => f(x / 1000, 1);

/** How far a p99's 95 % interval may stretch (either way) before the table marks it as resting on too few requests. */
export const P99_TOLERANCE = 0.1;

/**
 * Whether a summary's p99 rests on too few samples: its 95 % interval is unbounded above or wider
 * than ±P99_TOLERANCE of the p99. Returns the factor by which the samples would have to grow to
 * bring it within (≥ 1), or 0 when it is within already.
 */
export function p99Shortfall(s: Pick<NativeSummary, 'count' | 'p99' | 'p99Lo' | 'p99Hi'>): number {
  if (s.count === 0) return 0;
  // With p99Hi unbounded, fewer than ~ (1.96² / 0.01) ≈ 400 samples: ask for what a ±10 % interval takes of a fast tail.
  if (s.p99Hi === null) return Math.max(2, Math.ceil(40_000 / s.count));
  const width = Math.max(s.p99Hi - s.p99, s.p99 - s.p99Lo) / Math.max(s.p99, 1e-9);
  return width > P99_TOLERANCE ? Math.ceil((width / P99_TOLERANCE) ** 2) : 0;
}

const pad = (rows: string[][]) => textTable(rows, ['left', 'left']);

function label(r: RunResult): string {
  return r.sweep ? `${r.system.name} [${r.sweep.shareOf}=${r.sweep.value}]` : r.system.name;
}

/** One line per run (and, with perType, one indented line per type). */
export function formatTable(doc: SimDocument, perType = false): string {
  const rows: string[][] = [
    [
      'system',
      'load',
      'offered k/s',
      'achieved k/s',
      'mean µs',
      'p50 µs',
      'p99 µs',
      'p99.9 µs',
      'p99 slowdown',
      'drops',
      'clone drops',
      'Mevents/s',
    ],
  ];
  let short = 0,
    factor = 0;
  const p99Cell = (s: NativeSummary) => {
    const x = p99Shortfall(s);
    if (x > 0) {
      short++;
      factor = Math.max(factor, x);
    }
    return f(s.p99) + (x > 0 ? '~' : '');
  };
  for (const r of doc.runs) {
    const drops = r.dropped.queueFull + r.dropped.switch; // requests lost to a full queue (counted)
    rows.push([
      label(r),
      f(r.load, 2),
      k(r.offeredRps),
      k(r.achievedRps) + (r.saturated ? ' SAT' : ''),
      f(r.latencyUs.mean),
      f(r.latencyUs.p50),
      p99Cell(r.latencyUs),
      f(r.latencyUs.p999),
      f(r.slowdown.p99),
      String(drops),
      String(r.dropped.clone),
      f(r.eventsPerSec / 1e6, 2),
    ]);
    if (perType) {
      for (const [name, t] of Object.entries(r.perType)) {
        if (t.measured === 0) continue;
        rows.push([
          `  ${name}`,
          '',
          '',
          '',
          f(t.latencyUs.mean),
          f(t.latencyUs.p50),
          p99Cell(t.latencyUs),
          f(t.latencyUs.p999),
          f(t.slowdown.p99),
          '',
          '',
          '',
        ]);
      }
    }
  }
  const sat = doc.runs.some((r) => r.saturated)
    ? '\nSAT: saturated (achieved < 0.99 × offered); its latencies describe an overloaded system.'
    : '';
  const requests = doc.runs[0]?.requests ?? 0;
  const few = short
    ? `\n~: ${short} p99 value(s) rest on too few requests: the 95 % interval is wider than ±${P99_TOLERANCE * 100} % (JSON and CSV carry it);` +
      ` about --requests ${Math.ceil((requests * factor) / 1000) * 1000} would bring them within.`
    : '';
  return `${doc.scenario}\n${pad(rows)}${sat}${few}\n`;
}

const sumCols = (p: string) => ['mean', 'p50', 'p99', 'p999'].map((c) => `${p}_${c}`);
const sumVals = (s: NativeSummary) => [s.mean, s.p50, s.p99, s.p999].map((x) => String(x));
const csv = (cells: (string | number)[]) => toCsv([cells]).trimEnd();

/** Writes runs.csv (one row per run) and types.csv (one row per run and type) into dir. */
export function writeCsv(doc: SimDocument, dir: string): string[] {
  mkdirSync(dir, { recursive: true });
  const head = ['scenario', 'system', 'switch', 'server', 'load', 'sweep_type', 'sweep_value', 'seed'];
  const key = (r: RunResult) => [
    doc.scenario,
    r.system.name,
    r.system.switch,
    r.system.server,
    r.load,
    r.sweep?.shareOf ?? '',
    r.sweep?.value ?? '',
    r.seed,
  ];
  const runs = [
    csv([
      ...head,
      'offered_rps',
      'achieved_rps',
      'saturated',
      'requests',
      'measured',
      'dropped_queue_full',
      'dropped_clone',
      'events',
      'events_per_sec',
      ...sumCols('latency_us'),
      ...sumCols('wait_us'),
      ...sumCols('slowdown'),
      'waited_fraction',
      'in_system_mean',
      // Appended (columns are a contract: extend, never rename): the p99's 95 % interval; hi empty when unbounded.
      'latency_us_p99_lo',
      'latency_us_p99_hi',
    ]),
  ];
  const types = [
    csv([
      ...head,
      'type',
      'generated',
      'measured',
      ...sumCols('latency_us'),
      ...sumCols('wait_us'),
      ...sumCols('slowdown'),
      'latency_us_p99_lo',
      'latency_us_p99_hi',
    ]),
  ];
  const ci = (s: NativeSummary) => [s.p99Lo, s.p99Hi ?? ''];
  for (const r of doc.runs) {
    runs.push(
      csv([
        ...key(r),
        r.offeredRps,
        r.achievedRps,
        r.saturated ? 1 : 0,
        r.requests,
        r.measured,
        r.dropped.queueFull,
        r.dropped.clone,
        r.events,
        r.eventsPerSec,
        ...sumVals(r.latencyUs),
        ...sumVals(r.waitUs),
        ...sumVals(r.slowdown),
        r.waitedFraction,
        r.inSystemMean,
        ...ci(r.latencyUs),
      ]),
    );
    for (const [name, t] of Object.entries(r.perType))
      types.push(
        csv([
          ...key(r),
          name,
          t.generated,
          t.measured,
          ...sumVals(t.latencyUs),
          ...sumVals(t.waitUs),
          ...sumVals(t.slowdown),
          ...ci(t.latencyUs),
        ]),
      );
  }
  const runsFile = join(dir, 'runs.csv'),
    typesFile = join(dir, 'types.csv');
  writeFileSync(runsFile, runs.join('\n') + '\n');
  writeFileSync(typesFile, types.join('\n') + '\n');
  return [runsFile, typesFile];
}
