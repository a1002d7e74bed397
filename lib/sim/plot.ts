// SVG line charts for simulation and benchmark results, and their PNG (rendered by resvg): the
// figure a person opens is generated from the run, never pasted. A chart is a list of series (one line per
// system), a linear x axis and a linear or log10 y axis; open markers flag points that are not
// what they seem (a saturated load point), and an optional band shades a span of x (a new phase).

import { createRequire } from 'node:module';

export interface PlotPoint {
  x: number;
  y: number;
  open?: boolean;
}
export interface PlotSeries {
  name: string;
  points: PlotPoint[];
  /** The measured series this one shadows (its simulation): same colour, dashed, hollow markers. */
  pairOf?: string;
}
export interface Chart {
  title: string;
  xLabel: string;
  /** The y axis's quantity, without its unit when `yUnit` is given (the unit is chosen for the data). */
  yLabel: string;
  /** y values are µs: the axis shows µs, ms or s, whichever reads best for the data's range. */
  yUnit?: 'µs';
  yLog?: boolean;
  series: PlotSeries[];
  /** Shade x in [from, to) with a label (for example, the period of a new workload). */
  band?: { from: number; to: number; label: string };
  /** Horizontal reference lines, in the data's unit (for example, the p99 objective). */
  hlines?: { y: number; label: string }[];
  /** A line under the plot (for example, what an open marker means). */
  note?: string;
}

const W = 720,
  H = 440;
const M = { left: 72, right: 190, top: 40, bottom: 64 };
// Colour-blind-safe (Okabe–Ito), in the order systems are listed; dashes tell lines apart in grey.
const COLOURS = ['#0072B2', '#D55E00', '#009E73', '#CC79A7', '#E69F00', '#56B4E9', '#000000', '#F0E442'];
const DASHES = ['', '6 3', '2 3', '8 3 2 3', '4 4', '1 2', '10 4', ''];

/** Text for XML and HTML, in content and in quoted attributes. */
export const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
const num = (x: number) => Number(x.toFixed(2)).toString();

/** Round tick positions covering [lo, hi]: steps of 1, 2 or 5 × 10^k, about `target` of them. */
export function linearTicks(lo: number, hi: number, target = 6): number[] {
  if (!(hi > lo)) return [lo];
  const raw = (hi - lo) / target;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? 10 * mag;
  const ticks: number[] = [];
  for (let t = Math.ceil(lo / step - 1e-9) * step; t <= hi + step * 1e-9; t += step) ticks.push(Number(t.toPrecision(12)));
  return ticks;
}

/** Decades (and 2×, 5× when the range spans few decades) covering [lo, hi], lo > 0. */
export function logTicks(lo: number, hi: number): number[] {
  const d0 = Math.floor(Math.log10(lo)),
    d1 = Math.ceil(Math.log10(hi));
  const mults = d1 - d0 <= 3 ? [1, 2, 5] : [1];
  const ticks: number[] = [];
  for (let d = d0; d <= d1; d++)
    for (const m of mults) {
      const t = Number((m * 10 ** d).toPrecision(12));
      if (t >= lo * (1 - 1e-9) && t <= hi * (1 + 1e-9)) ticks.push(t);
    }
  return ticks;
}

/** A tick label in one style for the whole axis: plain digits, with k and M for thousands and millions. */
function tickLabel(t: number): string {
  const a = Math.abs(t);
  const trim = (x: number) => Number(x.toPrecision(3)).toString();
  if (a >= 1e6) return `${trim(t / 1e6)}M`;
  if (a >= 1e4) return `${trim(t / 1e3)}k`;
  return trim(t);
}

/** The unit a µs axis reads best in, for its largest value: µs, ms or s. */
function timeUnit(maxUs: number): { unit: string; div: number } {
  if (maxUs >= 1e6) return { unit: 's', div: 1e6 };
  if (maxUs >= 1e3) return { unit: 'ms', div: 1e3 };
  return { unit: 'µs', div: 1 };
}

/** The chart as a standalone SVG document. Points with a non-finite or (log axis) non-positive y are left out. */
export function renderChart(chart: Chart): string {
  // Time axes in the unit that reads best: the data (and reference lines) scaled once, up front.
  const allY = chart.series.flatMap((s) => s.points.map((p) => p.y)).filter((y) => Number.isFinite(y) && (!chart.yLog || y > 0));
  const tu = chart.yUnit ? timeUnit(Math.max(0, ...allY)) : null;
  const c: Chart = tu
    ? {
        ...chart,
        yLabel: `${chart.yLabel} (${tu.unit})`,
        series: chart.series.map((s) => ({ ...s, points: s.points.map((p) => ({ ...p, y: p.y / tu.div })) })),
        ...(chart.hlines ? { hlines: chart.hlines.map((h) => ({ ...h, y: h.y / tu.div })) } : {}),
      }
    : chart;
  const ok = (p: PlotPoint) => Number.isFinite(p.x) && Number.isFinite(p.y) && (!c.yLog || p.y > 0);
  const pts = c.series.flatMap((s) => s.points.filter(ok));
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" ` +
      'font-family="Helvetica, Arial, DejaVu Sans, sans-serif" font-size="12">',
    `<title>${esc(c.title)}</title>`,
    `<rect width="${W}" height="${H}" fill="#fff"/>`,
    `<text x="${(W - M.right + M.left) / 2}" y="22" text-anchor="middle" font-size="14" font-weight="bold">${esc(c.title)}</text>`,
  ];
  if (pts.length === 0) {
    out.push(`<text x="${W / 2}" y="${H / 2}" text-anchor="middle">no data</text>`, '</svg>');
    return out.join('\n') + '\n';
  }
  // x: from 0 (loads and times read from zero, as the paper draws them) to the tick at or past the data.
  let x0 = Math.min(...pts.map((p) => p.x)),
    x1 = Math.max(...pts.map((p) => p.x));
  if (c.band) {
    x0 = Math.min(x0, c.band.from);
    x1 = Math.max(x1, c.band.to);
  }
  if (x0 > 0) x0 = 0;
  if (x1 === x0) {
    x0 -= 0.5;
    x1 += 0.5;
  }
  const xt = linearTicks(x0, x1);
  x1 = Math.max(x1, xt[xt.length - 1]!);
  if (xt[xt.length - 1]! < x1 - 1e-9) x1 = xt[xt.length - 1]! + (xt[1]! - xt[0]!);
  const xTicks = linearTicks(x0, x1);
  // y: fitted to the data (and reference lines), a little room either way; log axes in log space.
  const ys = [...pts.map((p) => p.y), ...(c.hlines ?? []).map((h) => h.y).filter((y) => !c.yLog || y > 0)];
  let y0 = Math.min(...ys),
    y1 = Math.max(...ys);
  let yTicks: number[];
  if (c.yLog) {
    const l0 = Math.log10(y0),
      l1 = Math.log10(y1);
    const pad = Math.max(0.05 * (l1 - l0), 0.05);
    y0 = 10 ** (l0 - pad);
    y1 = 10 ** (l1 + pad);
    yTicks = logTicks(y0, y1);
    if (yTicks.length < 2) yTicks = linearTicks(y0, y1, 4).filter((t) => t > 0);
  } else {
    y0 = Math.min(0, y0);
    const t = linearTicks(y0, y1);
    y1 = Math.max(y1, t[t.length - 1]!);
    if (y1 === y0) y1 = y0 + 1;
    yTicks = linearTicks(y0, y1);
  }
  // The y title sits left of the widest tick label, never over it.
  const labelW = Math.max(...yTicks.map((t) => tickLabel(t).length)) * 7;
  const left = Math.max(M.left, labelW + 36);
  const pw = W - left - M.right,
    ph = H - M.top - M.bottom;
  const X = (x: number) => left + ((x - x0) / (x1 - x0)) * pw;
  const Y = c.yLog
    ? (y: number) => M.top + ph - ((Math.log10(y) - Math.log10(y0)) / (Math.log10(y1) - Math.log10(y0))) * ph
    : (y: number) => M.top + ph - ((y - y0) / (y1 - y0)) * ph;

  if (c.band) {
    const bx0 = X(Math.max(x0, c.band.from)),
      bx1 = X(Math.min(x1, c.band.to));
    out.push(
      `<rect x="${num(bx0)}" y="${M.top}" width="${num(Math.max(0, bx1 - bx0))}" height="${ph}" fill="#999" fill-opacity="0.15"/>`,
      // The label at the band's foot, where the curves (latencies) are least likely to be.
      `<text x="${num(bx0 + 4)}" y="${M.top + ph - 6}" fill="#555">${esc(c.band.label)}</text>`,
    );
  }
  // Grid and ticks.
  for (const t of yTicks) {
    const y = num(Y(t));
    const major = !c.yLog || Math.abs(Math.log10(t) - Math.round(Math.log10(t))) < 1e-9;
    out.push(
      `<line x1="${left}" x2="${left + pw}" y1="${y}" y2="${y}" stroke="#ddd"${major ? '' : ' stroke-dasharray="2 3"'}/>`,
      `<text x="${left - 6}" y="${y}" text-anchor="end" dominant-baseline="middle">${tickLabel(t)}</text>`,
    );
  }
  for (const t of xTicks) {
    if (t < x0 - 1e-9 || t > x1 + 1e-9) continue;
    const x = num(X(t));
    out.push(
      `<line x1="${x}" x2="${x}" y1="${M.top}" y2="${M.top + ph}" stroke="#eee"/>`,
      `<text x="${x}" y="${M.top + ph + 18}" text-anchor="middle">${tickLabel(t)}</text>`,
    );
  }
  out.push(
    `<rect x="${left}" y="${M.top}" width="${pw}" height="${ph}" fill="none" stroke="#333"/>`,
    `<text x="${left + pw / 2}" y="${M.top + ph + 40}" text-anchor="middle">${esc(c.xLabel)}</text>`,
    `<text transform="translate(${left - labelW - 18} ${M.top + ph / 2}) rotate(-90)" text-anchor="middle">` +
      `${esc(c.yLabel)}${c.yLog ? ', log scale' : ''}</text>`,
  );
  for (const h of c.hlines ?? []) {
    if (!(h.y >= y0 && h.y <= y1)) continue;
    const y = num(Y(h.y));
    out.push(
      `<line x1="${left}" x2="${left + pw}" y1="${y}" y2="${y}" stroke="#B00" stroke-width="1.5" stroke-dasharray="8 4"/>`,
      `<text x="${left + 6}" y="${num(Y(h.y) - 5)}" fill="#B00">${esc(h.label)}</text>`,
    );
  }
  // Series: a polyline and a marker per point, then the legend. A simulated series takes the colour
  // of the measured one it shadows, dashed, with hollow markers.
  const measured = c.series.filter((s) => !s.pairOf);
  // With pairs, dashes mean "simulated": every measured line is solid.
  const anyPairs = measured.length < c.series.length;
  const colourOf = (s: PlotSeries) => {
    const i = measured.findIndex((m) => m.name === (s.pairOf ?? s.name));
    return COLOURS[(i < 0 ? c.series.indexOf(s) : i) % COLOURS.length]!;
  };
  c.series.forEach((s, i) => {
    const colour = colourOf(s),
      paired = s.pairOf !== undefined,
      dash = paired ? '5 4' : anyPairs ? '' : DASHES[measured.indexOf(s) % DASHES.length]!;
    const sp = s.points.filter(ok).sort((a, b) => a.x - b.x);
    out.push(`<g class="series" data-name="${esc(s.name)}">`);
    if (sp.length > 1) {
      const points = sp.map((p) => `${num(X(p.x))},${num(Y(p.y))}`).join(' ');
      const dashed = dash ? ` stroke-dasharray="${dash}"` : '';
      out.push(`<polyline fill="none" stroke="${colour}" stroke-width="${paired ? 1.5 : 2}"${dashed} points="${points}"/>`);
    }
    for (const p of sp)
      out.push(
        `<circle cx="${num(X(p.x))}" cy="${num(Y(p.y))}" r="3.5" ` +
          `stroke="${colour}" stroke-width="1.5" fill="${p.open || paired ? '#fff' : colour}"/>`,
      );
    out.push('</g>');
    const ly = M.top + 10 + i * 20,
      lx = left + pw + 14;
    out.push(
      `<line x1="${lx}" x2="${lx + 26}" y1="${ly}" y2="${ly}" stroke="${colour}" stroke-width="2"${dash ? ` stroke-dasharray="${dash}"` : ''}/>`,
      `<circle cx="${lx + 13}" cy="${ly}" r="3.5" stroke="${colour}" stroke-width="1.5" fill="${paired ? '#fff' : colour}"/>`,
      `<text x="${lx + 32}" y="${ly}" dominant-baseline="middle">${esc(s.name)}</text>`,
    );
  });
  if (c.note) out.push(`<text x="${left}" y="${H - 8}" fill="#555" font-size="11">${esc(c.note)}</text>`);
  out.push('</svg>');
  return out.join('\n') + '\n';
}

/** The chart as PNG (resvg, with the system's fonts), `scale` × its SVG size. */
export function renderPng(svg: string, scale = 2): Buffer {
  const { Resvg } = createRequire(import.meta.url)('@resvg/resvg-js') as typeof import('@resvg/resvg-js');
  return new Resvg(svg, { fitTo: { mode: 'zoom', value: scale }, font: { loadSystemFonts: true, defaultFontFamily: 'DejaVu Sans' } })
    .render()
    .asPng();
}
