// What a scenario's results become for a reader: figures drawn as the paper draws them (p99
// against offered load on a log latency axis, one line per system; per-type p99 over time for the
// workload shifts), a Pallas-against-baseline comparison per load with the ratio, and each
// system's throughput under the scenario's p99 objective. The files go to one folder per scenario.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';

import { writeCsv } from './format.js';
import { esc, renderChart, type Chart, type PlotSeries } from './plot.js';
import type { RunResult, SimDocument } from './run.js';
import type { Scenario } from './scenario.js';
import { mdRow as row, toCsv } from '../util/table.js';

const SAT_NOTE = 'open marker: saturated (achieved < 0.99 × offered); its latency describes an overloaded system';

function bySystem(runs: RunResult[]): Map<string, RunResult[]> {
  const m = new Map<string, RunResult[]>();
  for (const r of runs) m.set(r.system.name, [...(m.get(r.system.name) ?? []), r]);
  return m;
}

/** The figures of one scenario, by file name. */
export function figures(doc: SimDocument, sc: Scenario): { file: string; chart: Chart }[] {
  const out: { file: string; chart: Chart }[] = [];
  const systems = bySystem(doc.runs);
  const names = sc.workload.types.map((t) => t.name);
  const rack = `${sc.rack.servers} × ${sc.rack.workers} cores`;
  if (sc.sweep) {
    // Fig. 2b's form: p99 slowdown against the share of one type, one line per system and load.
    const series: PlotSeries[] = [];
    for (const load of sc.loads)
      for (const [name, runs] of systems) {
        const pts = runs.filter((r) => r.load === load && r.sweep);
        series.push({
          name: sc.loads.length > 1 ? `${name} @${load}` : name,
          points: pts.map((r) => ({ x: r.sweep!.value, y: r.slowdown.p99, open: r.saturated })),
        });
      }
    out.push({
      file: 'p99-slowdown.svg',
      chart: {
        title: `${doc.scenario}: p99 slowdown (${rack}, load ${sc.loads.join('/')})`,
        xLabel: `share of ${sc.sweep.shareOf}`,
        yLabel: 'p99 slowdown',
        yLog: true,
        series,
        note: SAT_NOTE,
      },
    });
    return out;
  }
  if (sc.loads.length > 1) {
    const curve = (pick: (r: RunResult) => number, title: string, yLabel: string): Chart => ({
      title,
      xLabel: 'offered load (Mrps)',
      yLabel,
      yUnit: 'µs',
      yLog: true,
      note: SAT_NOTE,
      ...(sc.sloUs !== undefined ? { hlines: [{ y: sc.sloUs, label: `p99 objective ${sc.sloUs} µs` }] } : {}),
      series: [...systems].map(([name, runs]) => ({
        name,
        points: runs.map((r) => ({ x: r.offeredRps / 1e6, y: pick(r), open: r.saturated })),
      })),
    });
    out.push({ file: 'p99.svg', chart: curve((r) => r.latencyUs.p99, `${doc.scenario}: p99 latency (${rack})`, 'p99 latency') });
    if (names.length > 1)
      for (const t of names)
        out.push({
          file: `p99-${fileSafe(t)}.svg`,
          chart: curve((r) => r.perType[t]?.latencyUs.p99 ?? NaN, `${doc.scenario}: p99 latency of ${t}`, `${t} p99 latency`),
        });
  }
  const withTimeline = doc.runs.filter((r) => r.timeline?.length);
  if (withTimeline.length > 0 && sc.timelineMs) {
    const half = sc.timelineMs / 2;
    const last = Math.max(...withTimeline.map((r) => r.timeline![r.timeline!.length - 1]!.tMs + sc.timelineMs!));
    const shift = sc.workload.phases.length > 1 ? sc.workload.phases[0]!.durationMs : undefined;
    names.forEach((t, ti) => {
      out.push({
        file: `timeline-${fileSafe(t)}.svg`,
        chart: {
          title: `${doc.scenario}: p99 of ${t} over time (load ${withTimeline[0]!.load})`,
          xLabel: `time (ms; ${sc.timelineMs} ms buckets by send time)`,
          yLabel: `${t} p99 latency`,
          yUnit: 'µs',
          yLog: true,
          ...(shift !== undefined ? { band: { from: shift, to: last, label: 'new workload' } } : {}),
          series: withTimeline.map((r) => ({
            name: sc.loads.length > 1 ? `${r.system.name} @${r.load}` : r.system.name,
            points: r.timeline!.filter((b) => (b.count[ti] ?? 0) > 0).map((b) => ({ x: b.tMs + half, y: b.p99Us[ti]! })),
          })),
        },
      });
    });
  }
  return out;
}

const fileSafe = (s: string) => s.replace(/[^A-Za-z0-9._-]+/g, '_');

/** Throughput under a p99 objective: where the p99 curve crosses it. */
export interface SloThroughput {
  rps: number;
  /** exact: interpolated between the last load that met the objective and the first that did not;
   *  atLeast: every load met it (rps is the highest offered); none: the lowest load already missed it. */
  bound: 'exact' | 'atLeast' | 'none';
}

/**
 * A system's sustainable throughput under `sloUs`: walking up the offered loads, the last point
 * whose p99 meets the objective and is not saturated, before the first that fails; between the
 * two, the crossing is interpolated linearly in log p99 (the figures' axis).
 */
export function throughputAtSlo(runs: RunResult[], sloUs: number): SloThroughput {
  const pts = [...runs].sort((a, b) => a.offeredRps - b.offeredRps);
  const meets = (r: RunResult) => !r.saturated && r.latencyUs.p99 <= sloUs;
  const fail = pts.findIndex((r) => !meets(r));
  if (fail === 0 || pts.length === 0) return { rps: 0, bound: 'none' };
  if (fail < 0) return { rps: pts[pts.length - 1]!.offeredRps, bound: 'atLeast' };
  const a = pts[fail - 1]!,
    b = pts[fail]!;
  // A point that fails by saturation alone gives no crossing to interpolate: stop at the last good one.
  if (b.latencyUs.p99 <= sloUs) return { rps: a.offeredRps, bound: 'exact' };
  const la = Math.log(a.latencyUs.p99),
    lb = Math.log(b.latencyUs.p99);
  const f = lb > la ? (Math.log(sloUs) - la) / (lb - la) : 0;
  return { rps: a.offeredRps + Math.min(1, Math.max(0, f)) * (b.offeredRps - a.offeredRps), bound: 'exact' };
}

export interface ComparisonRow {
  load: number;
  offeredRps: number;
  pallasP99: number;
  baseP99: number;
  pallasSat: boolean;
  baseSat: boolean;
  /** baseline p99 / Pallas p99: above 1, Pallas has the lower tail. */
  ratio: number;
}
export interface ScenarioSummary {
  scenario: string;
  pallas: string;
  baseline: string;
  rows: ComparisonRow[];
  slo?: { us: number; pallas: SloThroughput; baseline: SloThroughput; ratio: number };
}

/**
 * Pallas (the system named `pallas`, else the first Pallas variant) against the baseline (`rs-darc`,
 * else the first RackSched variant) at every load both ran. Undefined when the scenario lacks either
 * or sweeps a share instead of the load.
 */
export function summarize(doc: SimDocument, sc: Scenario): ScenarioSummary | undefined {
  if (sc.sweep) return undefined;
  const systems = bySystem(doc.runs);
  const names = [...systems.keys()];
  const pick = (exact: string, prefix: string) =>
    names.includes(exact) ? exact : names.find((n) => systems.get(n)![0]!.system.system?.startsWith(prefix));
  const p = pick('pallas', 'pallas'),
    b = pick('rs-darc', 'rs-');
  if (!p || !b) return undefined;
  const pr = systems.get(p)!,
    br = systems.get(b)!;
  const rows: ComparisonRow[] = [];
  for (const x of pr) {
    const y = br.find((r) => r.load === x.load);
    if (!y) continue;
    rows.push({
      load: x.load,
      offeredRps: x.offeredRps,
      pallasP99: x.latencyUs.p99,
      baseP99: y.latencyUs.p99,
      pallasSat: x.saturated,
      baseSat: y.saturated,
      ratio: y.latencyUs.p99 / x.latencyUs.p99,
    });
  }
  rows.sort((a, c) => a.load - c.load);
  const s: ScenarioSummary = { scenario: doc.scenario, pallas: p, baseline: b, rows };
  if (sc.sloUs !== undefined) {
    const tp = throughputAtSlo(pr, sc.sloUs),
      tb = throughputAtSlo(br, sc.sloUs);
    s.slo = { us: sc.sloUs, pallas: tp, baseline: tb, ratio: tb.rps > 0 ? tp.rps / tb.rps : Infinity };
  }
  return s;
}

const f = (x: number, d = 0) => (Number.isFinite(x) ? x.toFixed(d) : '-');
const us = (x: number, sat: boolean) => `${f(x)}${sat ? ' SAT' : ''}`;
const ratio = (x: number) => (Number.isFinite(x) ? `${x >= 10 ? f(x) : x.toFixed(2)}×` : '-');
const bound = (t: SloThroughput) => (t.bound === 'none' ? '< lowest load' : `${t.bound === 'atLeast' ? '≥ ' : ''}${f(t.rps / 1e3)} k/s`);

/** The summaries as Markdown: one table of every load, then the throughput under each objective. */
export function formatSummary(sums: ScenarioSummary[]): string {
  if (sums.length === 0) return '';
  const lines = ['| scenario | load | offered k/s | Pallas p99 µs | baseline p99 µs | baseline / Pallas |', '|---|---|---|---|---|---|'];
  for (const s of sums)
    for (const r of s.rows)
      lines.push(
        row([
          `${s.scenario}${s.pallas !== 'pallas' || s.baseline !== 'rs-darc' ? ` (${s.pallas} vs ${s.baseline})` : ''}`,
          r.load,
          f(r.offeredRps / 1e3),
          us(r.pallasP99, r.pallasSat),
          us(r.baseP99, r.baseSat),
          ratio(r.ratio),
        ]),
      );
  const slo = sums.filter((s) => s.slo);
  if (slo.length) {
    lines.push('', '| scenario | p99 objective | Pallas throughput | baseline throughput | Pallas / baseline |', '|---|---|---|---|---|');
    for (const s of slo)
      lines.push(
        row([
          s.scenario,
          `${s.slo!.us} µs`,
          bound(s.slo!.pallas),
          bound(s.slo!.baseline),
          s.slo!.baseline.bound === 'none' ? 'baseline never meets it' : ratio(s.slo!.ratio),
        ]),
      );
  }
  return (
    lines.join('\n') +
    '\n\nSAT: saturated (achieved < 0.99 × offered). Throughput under an objective is interpolated in log p99 between the loads that bracket it.\n'
  );
}

export function summaryCsv(sums: ScenarioSummary[]): string {
  const head = [
    'scenario',
    'pallas',
    'baseline',
    'load',
    'offered_rps',
    'pallas_p99_us',
    'baseline_p99_us',
    'pallas_saturated',
    'baseline_saturated',
    'ratio',
  ];
  return toCsv([
    head,
    ...sums.flatMap((s) =>
      s.rows.map((r) => [
        s.scenario,
        s.pallas,
        s.baseline,
        r.load,
        r.offeredRps,
        r.pallasP99,
        r.baseP99,
        r.pallasSat ? 1 : 0,
        r.baseSat ? 1 : 0,
        r.ratio,
      ]),
    ),
  ]);
}

/** Writes a scenario's CSV, JSON, figures and summary into dir; returns the files written. */
export function writeResults(doc: SimDocument, sc: Scenario, dir: string): string[] {
  mkdirSync(dir, { recursive: true });
  const files = writeCsv(doc, dir);
  const json = join(dir, 'result.json');
  writeFileSync(json, `${JSON.stringify(doc, null, 2)}\n`);
  files.push(json);
  for (const { file, chart } of figures(doc, sc)) {
    const p = join(dir, file);
    writeFileSync(p, renderChart(chart));
    files.push(p);
  }
  const s = summarize(doc, sc);
  if (s) {
    const p = join(dir, 'summary.md');
    writeFileSync(p, `# ${doc.scenario}: ${s.pallas} against ${s.baseline}\n\n${formatSummary([s])}`);
    files.push(p);
  }
  return files;
}

/** The summaries of several scenarios (from summarize) and a page that shows every figure, at the root of a run. */
export function writeIndex(
  root: string,
  entries: { doc: SimDocument; sc: Scenario; files: string[] }[],
  sums: ScenarioSummary[],
): string[] {
  mkdirSync(root, { recursive: true });
  const md = join(root, 'summary.md'),
    csvFile = join(root, 'summary.csv'),
    html = join(root, 'index.html');
  writeFileSync(md, `# Pallas against the baseline, per scenario and load\n\n${formatSummary(sums)}`);
  writeFileSync(csvFile, summaryCsv(sums));
  const body = entries.map((e) => {
    const rel = e.files.map((file) => esc(relative(root, file)));
    const svgs = rel.filter((p) => p.endsWith('.svg')).map((p) => `<img src="${p}" alt="${p}">`);
    const links = rel.filter((p) => !p.endsWith('.svg')).map((p) => `<a href="${p}">${p}</a>`);
    return `<h2>${esc(e.doc.scenario)}</h2>\n<p>${links.join(' · ')}</p>\n${svgs.join('\n')}`;
  });
  writeFileSync(
    html,
    [
      '<!doctype html>',
      '<meta charset="utf-8">',
      '<title>Pallas simulation results</title>',
      '<style>body{font-family:sans-serif;margin:2em}img{max-width:48%;margin:4px;border:1px solid #ddd}</style>',
      '<h1>Pallas simulation results</h1>',
      '<p><a href="summary.md">summary.md</a> · <a href="summary.csv">summary.csv</a></p>',
      ...body,
      '',
    ].join('\n'),
  );
  return [md, csvFile, html];
}
