// `npm run bench -- <name> [options]`: the benchmark harness. Each benchmark prints its figures and
// writes its results under results/ (git-ignored). The paper's workloads run on a live rack
// (bench/live); io, runtime and sim measure the parts.
import { parseArgs } from 'node:util';
import { join } from 'node:path';

import { PallasError } from '../lib/errors.js';
import { packageRoot } from '../lib/native.js';
import { loadInventory } from '../lib/testbed/inventory.js';
import { runIo } from './io/index.js';
import { DEFAULT_SYSTEMS, formatLive, LIVE_SYSTEMS, runLiveBench, type LiveSystem } from './live/index.js';
import { WORKLOADS } from './live/workloads.js';
import { runRuntimeBench } from './runtime/index.js';
import { runCheck } from './sim/check.js';
import { runSimBench } from './sim/index.js';

const { positionals, values } = parseArgs({
  allowPositionals: true, strict: true,
  options: {
    duration: { type: 'string' }, out: { type: 'string' }, requests: { type: 'string' }, help: { type: 'boolean', default: false },
    quick: { type: 'boolean', default: false }, loads: { type: 'string' }, systems: { type: 'string' }, json: { type: 'boolean', default: false },
    servers: { type: 'string' }, workers: { type: 'string' }, scale: { type: 'string' }, testbed: { type: 'string' },
    seeds: { type: 'string' }, scenarios: { type: 'string' }, random: { type: 'string' },
  },
});
const name = positionals[0];
const fail = (msg: string, code = 2): never => {
  process.stderr.write(`bench: ${msg}\n`);
  process.exit(code);
};
if (values.help || !name) {
  process.stdout.write(`usage: npm run bench -- <name> [options]
  paper workloads on a live rack (pallas against rs-darc, p99 against load):
    ${Object.keys(WORKLOADS).join(', ')}
      --quick              3 loads, 2 s each (default: 6 loads, 5 s each)
      --loads 0.2,0.5,0.8  loads as fractions of the rack's capacity
      --systems LIST       among ${LIVE_SYSTEMS.join(', ')} (default ${DEFAULT_SYSTEMS.join(',')})
      --duration MS        per load point
      --testbed FILE       drive the hosts of this inventory instead of this machine: docs/testbed.md's
                           format, or an ansible inventory (deploy/ansible, docs/deploy.md)
      --servers N --workers N   rack size on this machine (default: sized to it)
      --scale K            multiply spin service times by K (default: enough for this machine's software path; 1 on a testbed)
      --json               print the result document
      --out DIR            where results go (default results/)
  parts:
    io       transport packets/s, next to dpdk-testpmd (--duration per point)
    runtime  the server runtime: dispatcher req/s, added latency, RocksDB through it vs direct, DPDK echo vs testpmd
    sim      simulator events/s (M/M/16, 10^7 requests) and the Fig. 2b scenario (--requests per run)
    never-loses  Pallas (learned) against RS-DARC, RS-cFCFS and the central queue on every static paper
             scenario at every load: --seeds 1,2,3 --scenarios LIST --random N (N random mixes instead)
             --loads LIST --requests N
`);
  process.exit(name || values.help ? 0 : 2);
}
const out = values.out ?? join(packageRoot, 'results');
const durationMs = values.duration === undefined ? undefined : Number(values.duration);
if (durationMs !== undefined && (!Number.isInteger(durationMs) || durationMs < 100)) fail('--duration must be an integer >= 100 (ms)');
const log = (s: string) => process.stdout.write(`${s}\n`);
if (name === 'io') {
  await runIo({ durationMs: durationMs ?? 2000, out, log });
} else if (name === 'runtime') {
  await runRuntimeBench({ durationMs: durationMs ?? 2000, out, log });
} else if (name === 'sim') {
  const requests = values.requests === undefined ? undefined : Number(values.requests);
  if (requests !== undefined && (!Number.isSafeInteger(requests) || requests < 10)) fail('--requests must be an integer >= 10');
  await runSimBench({ out, log, ...(requests ? { requests } : {}) });
} else if (name === 'never-loses') {
  const list = (v: string | undefined) => v?.split(',').map((x) => x.trim()).filter(Boolean);
  const seeds = (list(values.seeds) ?? ['1', '2', '3']).map(Number);
  if (seeds.some((s) => !Number.isSafeInteger(s) || s < 0)) fail('--seeds must be non-negative integers, comma-separated');
  const random = values.random === undefined ? undefined : Number(values.random);
  if (random !== undefined && !(Number.isInteger(random) && random >= 1 && random <= 1000)) fail('--random must be an integer in [1, 1000]');
  const requests = values.requests === undefined ? undefined : Number(values.requests);
  if (requests !== undefined && (!Number.isSafeInteger(requests) || requests < 1000)) fail('--requests must be an integer >= 1000');
  const loads = list(values.loads)?.map(Number);
  if (loads && loads.some((l) => !(l > 0 && l <= 0.95))) fail('--loads must be numbers in (0, 0.95], comma-separated');
  try {
    const points = await runCheck({ out, log, seeds, ...(list(values.scenarios) ? { scenarios: list(values.scenarios)! } : {}),
      ...(random ? { random } : {}), ...(requests ? { requests } : {}), ...(loads ? { loads } : {}) });
    if (points.some((p) => p.miss.length)) process.exitCode = 1;
  } catch (e) {
    fail((e as Error).message, 1);
  }
} else if (WORKLOADS[name]) {
  const loads = values.loads?.split(',').map(Number);
  if (loads && loads.some((l) => !(l > 0 && l < 2))) fail('--loads must be numbers in (0, 2), comma-separated');
  const systems = values.systems?.split(',') as LiveSystem[] | undefined;
  if (systems && systems.some((s) => !(LIVE_SYSTEMS as readonly string[]).includes(s))) fail(`--systems must be among ${LIVE_SYSTEMS.join(', ')}`);
  if (systems && new Set(systems).size !== systems.length) fail('--systems lists a system twice');
  const count = (flag: string, v: string | undefined) => {
    if (v === undefined) return undefined;
    const n = Number(v);
    if (!Number.isInteger(n) || n < 1 || n > 64) fail(`--${flag} must be an integer in [1, 64]`);
    return n;
  };
  const scale = values.scale === undefined ? undefined : Number(values.scale);
  if (scale !== undefined && !(scale >= 1 && scale <= 10_000)) fail('--scale must be a number in [1, 10000]');
  const servers = count('servers', values.servers);
  const workers = count('workers', values.workers);
  if (values.testbed && (servers || workers)) fail('--servers and --workers size a rack on this machine; a testbed\'s size is its inventory');
  let testbed;
  try {
    testbed = values.testbed ? loadInventory(values.testbed) : undefined;
  } catch (e) {
    fail((e as Error).message);
  }
  const tty = process.stderr.isTTY;
  const run = await runLiveBench({
    workload: name, quick: values.quick, out, log: values.json ? () => {} : log,
    ...(loads ? { loads } : {}), ...(systems ? { systems } : {}), ...(durationMs ? { durationMs } : {}),
    ...(servers ? { servers } : {}), ...(workers ? { workers } : {}), ...(scale ? { scale } : {}), ...(testbed ? { testbed } : {}),
    progress: (s) => process.stderr.write(tty ? `\r\x1b[K${s}` : s ? `${s}\n` : ''),
  }).catch((e: unknown) => {
    // A rack that would not start, a host that failed, books that did not balance: say what, not where in the code.
    if (tty) process.stderr.write('\n');
    if (e instanceof PallasError) fail(`${e.code}: ${e.message}`, 1);
    throw e;
  });
  const { doc, dir, files } = run;
  if (values.json) process.stdout.write(`${JSON.stringify(doc, null, 2)}\n`);
  else log(`\n${formatLive(doc)}\n\nresults: ${dir}\n${files.map((f) => `  ${f}`).join('\n')}`);
} else {
  fail(`unknown benchmark '${name}' (workloads: ${Object.keys(WORKLOADS).join(', ')}; parts: io, runtime, sim, never-loses)`);
}
