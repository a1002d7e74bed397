// SVG line charts for simulation results, written without a plotting dependency: the figure a
// person opens is generated from the run, never pasted. A chart is a list of series (one line per
// system), a linear x axis and a linear or log10 y axis; open markers flag points that are not
// what they seem (a saturated load point), and an optional band shades a span of x (a new phase).

export interface PlotPoint {
  x: number;
  y: number;
  open?: boolean;
}
export interface PlotSeries {
  name: string;
  points: PlotPoint[];
}
export interface Chart {
  title: string;
  xLabel: string;
  yLabel: string;
  yLog?: boolean;
  series: PlotSeries[];
  /** Shade x in [from, to) with a label (for example, the period of a new workload). */
  band?: { from: number; to: number; label: string };
  /** A line under the plot (for example, what an open marker means). */
  note?: string;
}

const W = 720,
  H = 440;
const M = { left: 72, right: 170, top: 40, bottom: 64 };
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

function tickLabel(t: number): string {
  if (t !== 0 && (Math.abs(t) >= 1e6 || Math.abs(t) < 1e-3)) return t.toExponential(0);
  return Number(t.toPrecision(6)).toLocaleString('en-US');
}

/** The chart as a standalone SVG document. Points with a non-finite or (log axis) non-positive y are left out. */
export function renderChart(c: Chart): string {
  const ok = (p: PlotPoint) => Number.isFinite(p.x) && Number.isFinite(p.y) && (!c.yLog || p.y > 0);
  const pts = c.series.flatMap((s) => s.points.filter(ok));
  const pw = W - M.left - M.right,
    ph = H - M.top - M.bottom;
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="Helvetica, Arial, sans-serif" font-size="12">`,
    `<title>${esc(c.title)}</title>`,
    `<rect width="${W}" height="${H}" fill="#fff"/>`,
    `<text x="${M.left + pw / 2}" y="22" text-anchor="middle" font-size="14" font-weight="bold">${esc(c.title)}</text>`,
  ];
  if (pts.length === 0) {
    out.push(`<text x="${M.left + pw / 2}" y="${M.top + ph / 2}" text-anchor="middle">no data</text>`, '</svg>');
    return out.join('\n') + '\n';
  }
  let x0 = Math.min(...pts.map((p) => p.x)),
    x1 = Math.max(...pts.map((p) => p.x));
  if (c.band) {
    x0 = Math.min(x0, c.band.from);
    x1 = Math.max(x1, c.band.to);
  }
  if (x0 > 0) x0 = 0; // loads and times read from zero, as the paper draws them
  if (x1 === x0) {
    x0 -= 0.5;
    x1 += 0.5;
  }
  let y0 = Math.min(...pts.map((p) => p.y)),
    y1 = Math.max(...pts.map((p) => p.y));
  if (c.yLog) {
    y0 = 10 ** Math.floor(Math.log10(y0));
    y1 = 10 ** Math.ceil(Math.log10(y1));
    if (y1 === y0) y1 = y0 * 10;
  } else {
    const t = linearTicks(Math.min(0, y0), y1);
    y0 = Math.min(0, y0);
    y1 = Math.max(t[t.length - 1]!, y1);
    if (y1 === y0) y1 = y0 + 1;
  }
  const xTicks = linearTicks(x0, x1);
  const X = (x: number) => M.left + ((x - x0) / (x1 - x0)) * pw;
  const Y = c.yLog
    ? (y: number) => M.top + ph - ((Math.log10(y) - Math.log10(y0)) / (Math.log10(y1) - Math.log10(y0))) * ph
    : (y: number) => M.top + ph - ((y - y0) / (y1 - y0)) * ph;

  if (c.band) {
    const bx0 = X(Math.max(x0, c.band.from)),
      bx1 = X(Math.min(x1, c.band.to));
    out.push(
      `<rect x="${num(bx0)}" y="${M.top}" width="${num(bx1 - bx0)}" height="${ph}" fill="#999" fill-opacity="0.15"/>`,
      `<text x="${num(bx0 + 4)}" y="${M.top + 14}" fill="#555">${esc(c.band.label)}</text>`,
    );
  }
  // Grid and ticks.
  for (const t of c.yLog ? logTicks(y0, y1) : linearTicks(y0, y1)) {
    const y = num(Y(t));
    const major = !c.yLog || Math.abs(Math.log10(t) - Math.round(Math.log10(t))) < 1e-9;
    out.push(
      `<line x1="${M.left}" x2="${M.left + pw}" y1="${y}" y2="${y}" stroke="#ddd"${major ? '' : ' stroke-dasharray="2 3"'}/>`,
      `<text x="${M.left - 6}" y="${y}" text-anchor="end" dominant-baseline="middle">${tickLabel(t)}</text>`,
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
    `<rect x="${M.left}" y="${M.top}" width="${pw}" height="${ph}" fill="none" stroke="#333"/>`,
    `<text x="${M.left + pw / 2}" y="${M.top + ph + 40}" text-anchor="middle">${esc(c.xLabel)}</text>`,
    `<text transform="translate(18 ${M.top + ph / 2}) rotate(-90)" text-anchor="middle">${esc(c.yLabel)}${c.yLog ? ' (log scale)' : ''}</text>`,
  );
  // Series: a polyline and a marker per point, then the legend.
  c.series.forEach((s, i) => {
    const colour = COLOURS[i % COLOURS.length]!,
      dash = DASHES[i % DASHES.length]!;
    const sp = s.points.filter(ok).sort((a, b) => a.x - b.x);
    out.push(`<g class="series" data-name="${esc(s.name)}">`);
    if (sp.length > 1)
      out.push(
        `<polyline fill="none" stroke="${colour}" stroke-width="2"${dash ? ` stroke-dasharray="${dash}"` : ''} points="${sp.map((p) => `${num(X(p.x))},${num(Y(p.y))}`).join(' ')}"/>`,
      );
    for (const p of sp)
      out.push(
        `<circle cx="${num(X(p.x))}" cy="${num(Y(p.y))}" r="3.5" stroke="${colour}" stroke-width="1.5" fill="${p.open ? '#fff' : colour}"/>`,
      );
    out.push('</g>');
    const ly = M.top + 10 + i * 20,
      lx = M.left + pw + 14;
    out.push(
      `<line x1="${lx}" x2="${lx + 26}" y1="${ly}" y2="${ly}" stroke="${colour}" stroke-width="2"${dash ? ` stroke-dasharray="${dash}"` : ''}/>`,
      `<circle cx="${lx + 13}" cy="${ly}" r="3.5" fill="${colour}"/>`,
      `<text x="${lx + 32}" y="${ly}" dominant-baseline="middle">${esc(s.name)}</text>`,
    );
  });
  if (c.note) out.push(`<text x="${M.left}" y="${H - 8}" fill="#555" font-size="11">${esc(c.note)}</text>`);
  out.push('</svg>');
  return out.join('\n') + '\n';
}
