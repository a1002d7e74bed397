// Results as a reader gets them: SVG charts (axes, one line per system, open markers, bands), the
// Pallas-vs-baseline comparison and the throughput under a p99 objective.
import { describe, expect, it } from 'vitest';

import { linearTicks, logTicks, renderChart, renderPng } from '../../lib/sim/plot.js';
import { figures, formatSummary, summarize, throughputAtSlo } from '../../lib/sim/report.js';
import type { RunResult, SimDocument } from '../../lib/sim/run.js';
import { normaliseScenario } from '../../lib/sim/scenario.js';

const s = (p99: number) => ({ mean: p99 / 2, p50: p99 / 3, p99, p999: p99 * 1.2 });

/** A run result with only the fields the report reads. */
function run(
  name: string,
  system: string,
  load: number,
  offeredRps: number,
  p99: number,
  saturated = false,
  extra: Partial<RunResult> = {},
): RunResult {
  return {
    system: { name, system, switch: 'po2', server: 'cfcfs', queueCapacity: 4096 } as RunResult['system'],
    load,
    offeredRps,
    achievedRps: saturated ? offeredRps * 0.9 : offeredRps,
    saturated,
    seed: 1,
    latencyUs: s(p99),
    waitUs: s(p99 / 2),
    slowdown: s(p99 / 10),
    perType: {
      S: { generated: 1, measured: 1, latencyUs: s(p99 / 4), waitUs: s(1), slowdown: s(1) },
      L: { generated: 1, measured: 1, latencyUs: s(p99), waitUs: s(1), slowdown: s(1) },
    },
    ...extra,
  } as RunResult;
}

const scenario = (over: Record<string, unknown> = {}) =>
  normaliseScenario({
    name: 't',
    rack: { servers: 2, workers: 4 },
    workload: {
      types: [
        { name: 'S', service: { dist: 'fixed', meanUs: 10 }, share: 0.9 },
        { name: 'L', service: { dist: 'fixed', meanUs: 100 }, share: 0.1 },
      ],
    },
    systems: ['pallas', 'rs-darc'],
    loads: [0.5, 0.8, 0.9],
    sloUs: 200,
    ...over,
  });

describe('charts', () => {
  it('ticks: round linear steps covering the range; decades with 2 and 5 over a short log range', () => {
    expect(linearTicks(0, 1)).toEqual([0, 0.2, 0.4, 0.6, 0.8, 1]);
    expect(linearTicks(0, 1380)).toEqual([0, 500, 1000]);
    expect(logTicks(100, 1000)).toEqual([100, 200, 500, 1000]);
    expect(logTicks(10, 1e6)).toEqual([10, 100, 1000, 1e4, 1e5, 1e6]);
  });

  it('draws one series per system, in order, with open markers where asked and higher values higher up', () => {
    const svg = renderChart({
      title: 'p99 <log>',
      xLabel: 'load',
      yLabel: 'µs',
      yLog: true,
      series: [
        {
          name: 'pallas',
          points: [
            { x: 0.5, y: 100 },
            { x: 0.9, y: 1000, open: true },
          ],
        },
        {
          name: 'a&b',
          points: [
            { x: 0.5, y: 200 },
            { x: 0.7, y: 0 },
            { x: 0.9, y: Number.NaN },
          ],
        },
      ],
    });
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    expect(svg.trimEnd().endsWith('</svg>')).toBe(true);
    expect(svg.match(/<g class="series"/g)).toHaveLength(2);
    expect(svg).toContain('data-name="a&amp;b"');
    expect(svg).toContain('<title>p99 &lt;log&gt;</title>');
    // The data markers (inside each series' group; the legend draws its own).
    const groups = [...svg.matchAll(/<g class="series"[^>]*>([\s\S]*?)<\/g>/g)].map((m) => m[1]!).join('');
    const circles = [...groups.matchAll(/<circle cx="([\d.]+)" cy="([\d.]+)" r="3.5" stroke="[^"]+" stroke-width="1.5" fill="([^"]+)"/g)];
    expect(circles).toHaveLength(3); // y = 0 and NaN are left out of a log chart
    const [p100, p1000, q200] = circles.map((c) => ({ x: Number(c[1]), y: Number(c[2]), fill: c[3] }));
    expect(p1000!.y).toBeLessThan(q200!.y);
    expect(q200!.y).toBeLessThan(p100!.y);
    expect(p1000!.x).toBeGreaterThan(p100!.x);
    expect(p100!.x).toBe(q200!.x);
    expect(p1000!.fill).toBe('#fff');
    expect(p100!.fill).not.toBe('#fff');
    // On a log axis from 100 to 1000, 200 sits log10(2) of the way up.
    expect((p100!.y - q200!.y) / (p100!.y - p1000!.y)).toBeCloseTo(Math.log10(2), 2);
  });

  it('shades a band and says so when there is nothing to draw', () => {
    const svg = renderChart({
      title: 't',
      xLabel: 'ms',
      yLabel: 'µs',
      yLog: true,
      band: { from: 200, to: 400, label: 'new workload' },
      series: [
        {
          name: 'a',
          points: [
            { x: 100, y: 20 },
            { x: 300, y: 4000 },
          ],
        },
      ],
    });
    expect(svg).toMatch(/<rect x="[\d.]+" y="\d+" width="[\d.]+" height="\d+" fill="#999" fill-opacity="0.15"\/>/);
    expect(svg).toContain('new workload');
    expect(renderChart({ title: 't', xLabel: 'x', yLabel: 'y', series: [] })).toContain('no data');
  });
});

describe('summary', () => {
  it('throughput under an objective: interpolated in log p99 at the first failing load; a saturated point fails', () => {
    const pts = [run('p', 'pallas', 0.3, 100, 50), run('p', 'pallas', 0.6, 200, 80), run('p', 'pallas', 0.9, 300, 400)];
    const t = throughputAtSlo(pts, 200);
    expect(t.bound).toBe('exact');
    expect(t.rps).toBeCloseTo(200 + 100 * (Math.log(2.5) / Math.log(5)), 6);
    expect(throughputAtSlo(pts, 1000)).toEqual({ rps: 300, bound: 'atLeast' });
    expect(throughputAtSlo(pts, 10)).toEqual({ rps: 0, bound: 'none' });
    const sat = [run('p', 'pallas', 0.3, 100, 50), run('p', 'pallas', 0.6, 200, 60, true), run('p', 'pallas', 0.9, 300, 70)];
    expect(throughputAtSlo(sat, 200).rps).toBe(100); // saturated at 200 even though its p99 is low
  });

  it('compares pallas with rs-darc at every load, with the ratio and the throughput ratio under the objective', () => {
    const sc = scenario();
    const doc: SimDocument = {
      scenario: 't',
      runs: [
        run('pallas', 'pallas', 0.5, 100, 100),
        run('pallas', 'pallas', 0.8, 160, 120),
        run('pallas', 'pallas', 0.9, 180, 150),
        run('rs-darc', 'rs-darc', 0.5, 100, 110),
        run('rs-darc', 'rs-darc', 0.8, 160, 400),
        run('rs-darc', 'rs-darc', 0.9, 180, 9000, true),
      ],
    };
    const sum = summarize(doc, sc)!;
    expect(sum.pallas).toBe('pallas');
    expect(sum.baseline).toBe('rs-darc');
    expect(sum.rows.map((r) => r.ratio)).toEqual([1.1, 400 / 120, 60]);
    expect(sum.rows[2]!.baseSat).toBe(true);
    expect(sum.slo!.pallas).toEqual({ rps: 180, bound: 'atLeast' });
    expect(sum.slo!.baseline.bound).toBe('exact');
    expect(sum.slo!.ratio).toBeCloseTo(180 / sum.slo!.baseline.rps, 9);
    const md = formatSummary([sum]);
    expect(md).toContain('| t | 0.9 | 0 | 150 | 9000 SAT | 60× |');
    expect(md).toContain('| t | 200 µs | ≥ 0 k/s |');
  });

  it('falls back to a Pallas variant and a RackSched variant; nothing to compare without both or with a sweep', () => {
    const doc: SimDocument = { scenario: 't', runs: [run('mine', 'pallas-static', 0.5, 100, 100), run('rs', 'rs-cfcfs', 0.5, 100, 300)] };
    const sc = scenario({
      systems: [
        { system: 'pallas-static', name: 'mine' },
        { system: 'rs-cfcfs', name: 'rs' },
      ],
      loads: [0.5],
    });
    expect(summarize(doc, sc)).toMatchObject({ pallas: 'mine', baseline: 'rs', rows: [{ ratio: 3 }] });
    expect(summarize({ scenario: 't', runs: [doc.runs[0]!] }, sc)).toBeUndefined();
    expect(summarize(doc, scenario({ sweep: { shareOf: 'S', values: [0.5] } }))).toBeUndefined();
  });
});

describe('figures', () => {
  it('a load curve per metric and type; a timeline per type with the new phase shaded', () => {
    const sc = scenario();
    const doc: SimDocument = { scenario: 't', runs: [run('pallas', 'pallas', 0.5, 100, 100), run('pallas', 'pallas', 0.8, 160, 120)] };
    expect(figures(doc, sc).map((f) => f.file)).toEqual(['p99.svg', 'p99-S.svg', 'p99-L.svg']);
    const shift = scenario({
      loads: [0.8],
      timelineMs: 10,
      workload: {
        types: [
          { name: 'S', service: { dist: 'fixed', meanUs: 10 }, share: 0.5 },
          { name: 'L', service: { dist: 'fixed', meanUs: 100 }, share: 0.5 },
        ],
        phases: [{ durationMs: 20, shares: { S: 0.5, L: 0.5 } }, { shares: { S: 0.9, L: 0.1 } }],
      },
    });
    const timeline = [0, 10, 20, 30].map((tMs) => ({ tMs, count: [5, tMs === 30 ? 0 : 3], p99Us: [20 + tMs, 100] }));
    const sdoc: SimDocument = { scenario: 'shift', runs: [run('pallas', 'pallas', 0.8, 100, 100, false, { timeline })] };
    const figs = figures(sdoc, shift);
    expect(figs.map((f) => f.file)).toEqual(['timeline-S.svg', 'timeline-L.svg']);
    const [tS, tL] = figs.map((f) => f.chart);
    expect(tS!.band).toEqual({ from: 20, to: 40, label: 'new workload' });
    expect(tS!.series[0]!.points).toEqual([
      { x: 5, y: 20 },
      { x: 15, y: 30 },
      { x: 25, y: 40 },
      { x: 35, y: 50 },
    ]);
    expect(tL!.series[0]!.points).toHaveLength(3); // a bucket without an L reply has no point
  });

  it('fits the axes to the data, labels ticks in one style, picks the time unit, draws the objective, pairs simulated with measured', () => {
    const svg = renderChart({
      title: 't',
      xLabel: 'load',
      yLabel: 'p99 latency',
      yUnit: 'µs',
      yLog: true,
      hlines: [{ y: 250_000, label: 'p99 objective 250 ms' }],
      series: [
        {
          name: 'pallas',
          points: [
            { x: 0.2, y: 120_000 },
            { x: 1.38, y: 1_900_000 },
          ],
        },
        {
          name: 'pallas (sim)',
          pairOf: 'pallas',
          points: [
            { x: 0.2, y: 110_000 },
            { x: 1.38, y: 1_500_000 },
          ],
        },
        {
          name: 'rs-darc',
          points: [
            { x: 0.2, y: 150_000 },
            { x: 1.38, y: 1_200_000 },
          ],
        },
      ],
    });
    // Seconds for data up to 1.9 s, in the y title; tick labels plain (no 1e+6 next to 100,000).
    expect(svg).toMatch(/>p99 latency \(s\), log scale</);
    const yLabels = [...svg.matchAll(/text-anchor="end" dominant-baseline="middle">([^<]+)</g)].map((m) => m[1]!);
    expect(yLabels.length).toBeGreaterThanOrEqual(2);
    for (const l of yLabels) expect(l).toMatch(/^\d+(\.\d+)?[kM]?$/);
    // x reaches a tick at or past the data's 1.38.
    const xLabels = [...svg.matchAll(/<text x="[\d.]+" y="[\d.]+" text-anchor="middle">([\d.]+)</g)].map((m) => Number(m[1]));
    expect(Math.max(...xLabels)).toBeGreaterThanOrEqual(1.38);
    // The data fill the frame: the lowest and highest markers sit within 10 % of the plot's height from its edges.
    const frame = /<rect x="([\d.]+)" y="([\d.]+)" width="([\d.]+)" height="([\d.]+)" fill="none"/.exec(svg)!.slice(1).map(Number);
    const [fx, fy, , fh] = frame as [number, number, number, number];
    const groups = [...svg.matchAll(/<g class="series"[^>]*>([\s\S]*?)<\/g>/g)].map((m) => m[1]!).join('');
    const ys = [...groups.matchAll(/<circle cx="[\d.]+" cy="([\d.]+)"/g)].map((m) => Number(m[1]));
    expect(Math.min(...ys) - fy).toBeLessThan(0.1 * fh);
    expect(fy + fh - Math.max(...ys)).toBeLessThan(0.1 * fh);
    // The y title is left of every tick label.
    const titleX = Number(/<text transform="translate\(([\d.]+) /.exec(svg)![1]);
    expect(titleX + 8).toBeLessThan(fx - 6 - Math.max(...yLabels.map((l) => l.length)) * 7);
    // The objective is a dashed red line with its label.
    expect(svg).toMatch(/stroke="#B00" stroke-width="1.5" stroke-dasharray="8 4"/);
    expect(svg).toContain('p99 objective 250 ms');
    // The simulation shares its system's colour, dashed and hollow.
    const colour = (name: string) =>
      new RegExp(`data-name="${name.replace(/[()]/g, '\\$&')}">\\s*<polyline fill="none" stroke="([^"]+)"`).exec(svg)![1];
    expect(colour('pallas (sim)')).toBe(colour('pallas'));
    expect(colour('rs-darc')).not.toBe(colour('pallas'));
  });

  it('renders PNG with a library, no external tool', () => {
    const png = renderPng(
      renderChart({
        title: 't',
        xLabel: 'x',
        yLabel: 'y',
        series: [
          {
            name: 'a',
            points: [
              { x: 1, y: 2 },
              { x: 2, y: 3 },
            ],
          },
        ],
      }),
      1,
    );
    expect([...png.subarray(0, 8)]).toEqual([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
    expect(png.readUInt32BE(16)).toBe(720); // width from the IHDR chunk
  });
});
