// `npm run bench -- sim`: the simulator's speed.
// - mm16: events/s on one core, M/M/16 at 80 % and 10^7 requests, next to Erlang C; three runs,
//   their median and best (a run is single-threaded: the machine's other work only slows it).
// - fig2b: the Fig. 2b scenario.
// - paper: `pallas sim paper` on one CPU and on two (taskset), side by side: the speed-up of
//   running independent points at once, and whether both give the same results (they must: every
//   run is deterministic for its seed).
// Tables on stdout; JSON and CSV under results/sim/.
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { packageRoot } from '../../lib/native.js';
import { formatTable, writeCsv } from '../../lib/sim/format.js';
import { runScenario, type SimDocument } from '../../lib/sim/run.js';
import { loadScenario } from '../../lib/sim/scenario.js';
import { allowedCpus } from '../../lib/util/cpus.js';

const MAIN = join(packageRoot, 'dist', 'lib', 'cli', 'main.js');

export interface PaperScaling {
  requests: number | null; // null: each scenario's own count
  cpus: { one: number; two: number[] };
  wallS: { one: number; two: number };
  speedup: number;
  identical: boolean;
  differing: string[];
}

/** `pallas sim paper` pinned to `cpus`: its documents (one per scenario) and wall time. */
async function paperOn(cpus: number[], requests: number | undefined): Promise<{ docs: SimDocument[]; wallS: number }> {
  const args = ['-c', cpus.join(','), process.execPath, MAIN, 'sim', 'paper', '--json', '--no-write', '--quiet'];
  if (requests !== undefined) args.push('--requests', String(requests));
  const t0 = process.hrtime.bigint();
  const p = spawn('taskset', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '',
    err = '';
  p.stdout.on('data', (d) => (out += d));
  p.stderr.on('data', (d) => (err += d));
  const code = await new Promise<number | null>((resolve, reject) => {
    p.on('error', reject); // no taskset
    p.on('close', resolve);
  });
  const wallS = Number(process.hrtime.bigint() - t0) / 1e9;
  if (code !== 0)
    throw new Error(`taskset -c ${cpus.join(',')} pallas sim paper failed (${code}): ${err.trim().split('\n').slice(-3).join(' | ')}`);
  // One pretty-printed document per scenario, one after the other.
  const docs = out
    .split(/\n(?=\{\n {2}"scenario")/)
    .filter((s) => s.trim())
    .map((s) => JSON.parse(s) as SimDocument);
  return { docs, wallS };
}

/** A document without what may differ between two runs of the same seeds: how long they took. */
const timeless = (d: SimDocument) => JSON.stringify(d, (k, v: unknown) => (k === 'wallS' || k === 'eventsPerSec' ? undefined : v));

export async function paperScaling(requests: number | undefined, log: (s: string) => void): Promise<PaperScaling | undefined> {
  const cpus = allowedCpus();
  if (cpus.length < 2) {
    log('paper: skipped (one CPU here: nothing to compare)');
    return undefined;
  }
  log(`paper: pallas sim paper${requests ? ` --requests ${requests}` : ''} on CPU ${cpus[0]}, then on CPUs ${cpus[0]},${cpus[1]} ...`);
  let one, two;
  try {
    one = await paperOn([cpus[0]!], requests);
    two = await paperOn([cpus[0]!, cpus[1]!], requests);
  } catch (e) {
    log(`paper: skipped (${(e as Error).message})`);
    return undefined;
  }
  const differing = one.docs.filter((d, i) => !two.docs[i] || timeless(d) !== timeless(two.docs[i]!)).map((d) => d.scenario);
  if (one.docs.length !== two.docs.length) differing.push(`(${one.docs.length} scenarios against ${two.docs.length})`);
  const r: PaperScaling = {
    requests: requests ?? null,
    cpus: { one: cpus[0]!, two: [cpus[0]!, cpus[1]!] },
    wallS: { one: one.wallS, two: two.wallS },
    speedup: one.wallS / two.wallS,
    identical: differing.length === 0,
    differing,
  };
  log(
    `paper: ${one.docs.length} scenarios, ${one.docs.reduce((a, d) => a + d.runs.length, 0)} runs: ` +
      `${r.wallS.one.toFixed(1)} s on one CPU, ${r.wallS.two.toFixed(1)} s on two = ${r.speedup.toFixed(2)}× faster; ` +
      (r.identical ? 'the same results (every run but its timing)' : `DIFFERENT results in ${differing.join(', ')}`),
  );
  return r;
}

export async function runSimBench(o: {
  out: string;
  log: (s: string) => void;
  requests?: number;
  paperRequests?: number;
  paper?: boolean;
}): Promise<void> {
  const dir = join(o.out, 'sim');
  mkdirSync(dir, { recursive: true });
  const summary: Record<string, unknown> = {};
  for (const name of ['mm16', 'fig2b']) {
    const sc = loadScenario(join(packageRoot, 'bench/scenarios', `${name}.yaml`));
    if (o.requests) sc.requests = o.requests;
    const doc = await runScenario(sc);
    o.log(formatTable(doc));
    if (name === 'mm16') {
      // Two more runs of the same point: a run's speed is what the machine let it have.
      const rates = [doc.runs[0]!.eventsPerSec];
      for (let i = 0; i < 2; i++) rates.push((await runScenario(sc)).runs[0]!.eventsPerSec);
      const sorted = [...rates].sort((a, b) => a - b);
      const r = doc.runs[0]!;
      summary.mm16 = { events: r.events, eventsPerSec: rates, median: sorted[1], best: sorted[2] };
      // Erlang C for k = 16, a = 12.8: P(wait) = 0.304884, E[W] = 0.095276 (service = 1 µs).
      o.log(
        `mm16: ${(r.events / 1e6).toFixed(1)} M events a run; ${rates.map((x) => (x / 1e6).toFixed(2)).join(', ')} M events/s on one core ` +
          `(median ${(sorted[1]! / 1e6).toFixed(2)}, best ${(sorted[2]! / 1e6).toFixed(2)}); ` +
          `P(wait) ${r.waitedFraction.toFixed(4)} (Erlang C 0.3049), E[W] ${r.waitUs.mean.toFixed(4)} µs (0.0953)\n`,
      );
    }
    writeFileSync(join(dir, `${name}.json`), `${JSON.stringify(doc, null, 2)}\n`);
    writeCsv(doc, join(dir, name));
  }
  if (o.paper !== false) summary.paper = await paperScaling(o.paperRequests, o.log);
  writeFileSync(join(dir, 'speed.json'), `${JSON.stringify(summary, null, 2)}\n`);
  o.log(`results: ${dir}`);
}
