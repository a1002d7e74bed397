// `npm run bench -- <name> [options]`: the benchmark harness. Each benchmark prints its figures and
// writes its results under results/ (git-ignored). The paper's workloads run on a live rack
// (bench/live); io, runtime and sim measure the parts. The options go through the same commander
// program style as `pallas` (lib/cli/program.ts): help per benchmark, usage errors with a hint
// and exit 2, failures in one line with their code.
import { join } from 'node:path';

import { Command, Option } from 'commander';

import { exitFor } from '../lib/cli/program.js';
import { PallasError } from '../lib/errors.js';
import { packageRoot } from '../lib/native.js';
import { loadInventory } from '../lib/testbed/inventory.js';
import { runIo } from './io/index.js';
import { runPathBench } from './path/index.js';
import { DEFAULT_SYSTEMS, formatLive, LIVE_SYSTEMS, runLiveBench, type LiveSystem } from './live/index.js';
import { WORKLOADS } from './live/workloads.js';
import { runRuntimeBench } from './runtime/index.js';
import { runCheck } from './sim/check.js';
import { runSimBench } from './sim/index.js';

const usage = (msg: string): never => {
  throw new PallasError('USAGE', msg);
};
const log = (s: string) => process.stdout.write(`${s}\n`);
const outOf = (o: { out?: string }) => o.out ?? join(packageRoot, 'results');
function durationOf(v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const d = Number(v);
  if (!Number.isInteger(d) || d < 100) usage('--duration must be an integer >= 100 (ms)');
  return d;
}
const list = (v: string | undefined) =>
  v
    ?.split(',')
    .map((x) => x.trim())
    .filter(Boolean);

interface LiveFlags {
  quick?: boolean;
  loads?: string;
  systems?: string;
  duration?: string;
  testbed?: string;
  servers?: string;
  workers?: string;
  scale?: string;
  json?: boolean;
  out?: string;
}

async function runWorkload(name: string, o: LiveFlags): Promise<void> {
  const durationMs = durationOf(o.duration);
  const loads = list(o.loads)?.map(Number);
  if (loads && loads.some((l) => !(l > 0 && l < 2))) usage('--loads must be numbers in (0, 2), comma-separated');
  const systems = list(o.systems) as LiveSystem[] | undefined;
  if (systems && systems.some((s) => !(LIVE_SYSTEMS as readonly string[]).includes(s)))
    usage(`--systems must be among ${LIVE_SYSTEMS.join(', ')}`);
  if (systems && new Set(systems).size !== systems.length) usage('--systems lists a system twice');
  const count = (flag: string, v: string | undefined) => {
    if (v === undefined) return undefined;
    const n = Number(v);
    if (!Number.isInteger(n) || n < 1 || n > 64) usage(`--${flag} must be an integer in [1, 64]`);
    return n;
  };
  const scale = o.scale === undefined ? undefined : Number(o.scale);
  if (scale !== undefined && !(Number.isInteger(scale) && scale >= 1 && scale <= 10_000)) usage('--scale must be an integer in [1, 10000]');
  const servers = count('servers', o.servers);
  const workers = count('workers', o.workers);
  if (o.testbed && (servers || workers)) usage("--servers and --workers size a rack on this machine; a testbed's size is its inventory");
  const testbed = o.testbed ? loadInventory(o.testbed) : undefined;
  const tty = process.stderr.isTTY;
  const run = await runLiveBench({
    workload: name,
    quick: o.quick ?? false,
    out: outOf(o),
    log: o.json ? () => {} : log,
    ...(loads ? { loads } : {}),
    ...(systems ? { systems } : {}),
    ...(durationMs ? { durationMs } : {}),
    ...(servers ? { servers } : {}),
    ...(workers ? { workers } : {}),
    ...(scale ? { scale } : {}),
    ...(testbed ? { testbed } : {}),
    progress: (s) => process.stderr.write(tty ? `\r\x1b[K${s}` : s ? `${s}\n` : ''),
  }).catch((e: unknown) => {
    if (tty) process.stderr.write('\n');
    throw e;
  });
  const { doc, dir, files } = run;
  if (o.json) process.stdout.write(`${JSON.stringify(doc, null, 2)}\n`);
  else log(`\n${formatLive(doc)}\n\nresults: ${dir}\n${files.map((f) => `  ${f}`).join('\n')}`);
}

function buildBench(): Command {
  const program = new Command('npm run bench --')
    .usage('<benchmark> [options]')
    .description("Pallas's benchmarks: the paper's workloads on a live rack (this machine, or a testbed), and the parts measured alone")
    .showSuggestionAfterError(true)
    .allowExcessArguments(false)
    .exitOverride()
    .configureOutput({ outputError: () => {} })
    .addHelpText('after', '\nEach benchmark prints its figures and writes results/ (--out). Docs: docs/bench.md.');
  const workloads = Object.keys(WORKLOADS);
  for (const name of workloads) {
    program
      .command(name)
      .allowExcessArguments(false)
      .description(
        `the paper's ${name} workload on a live rack: ${DEFAULT_SYSTEMS.join(' against ')} (or --systems), p99 against load, the simulator beside`,
      )
      .option('--quick', '3 loads, 2 s each (default: 0.1 to 0.9 as far as the machine carries them, 5 s or more each)')
      .option('--loads <list>', "loads as fractions of the rack's capacity, e.g. 0.2,0.5,0.8")
      .option('--systems <list>', `among ${LIVE_SYSTEMS.join(', ')} (default ${DEFAULT_SYSTEMS.join(',')})`)
      .option('--duration <ms>', 'per load point (default: 5000, or as long as 5000 replies take, at most 30 s)')
      .option(
        '--testbed <inventory>',
        'drive the hosts of this ansible inventory instead of this machine (docs/deploy.md, docs/testbed.md)',
      )
      .option('--servers <n>', 'servers of the rack on this machine (default: sized to it)')
      .option('--workers <n>', 'workers per server on this machine')
      .option(
        '--scale <k>',
        "slow the workload by k: spin times × k, RocksDB keys a request × k (default: enough for this machine's software path; 1 on a testbed)",
      )
      .option('--json', 'print the result document')
      .option('--out <dir>', 'where results go (default results/)')
      .addHelpText(
        'after',
        `\nExamples:\n  $ npm run bench -- ${name}\n  $ npm run bench -- ${name} --quick --systems pallas,rs-darc,r2p2\n` +
          `  $ npm run bench -- ${name} --testbed deploy/ansible/inventory/mine.yml\n`,
      )
      .action(async (o: LiveFlags) => runWorkload(name, o));
  }
  program
    .command('io')
    .allowExcessArguments(false)
    .description('transport packets/s of the mem, UDP and DPDK paths, next to dpdk-testpmd')
    .option('--duration <ms>', 'per point', '2000')
    .option('--out <dir>', 'where results go')
    .action(async (o: { duration: string; out?: string }) => {
      await runIo({ durationMs: durationOf(o.duration)!, out: outOf(o), log });
    });
  program
    .command('path')
    .allowExcessArguments(false)
    .description(
      "CPU per request of each role of the rack's path (generator, switch, dispatcher, worker), and the switch's req/s on one core over UDP and DPDK",
    )
    .option('--duration <ms>', 'per point', '3000')
    .option('--out <dir>', 'where results go')
    .action(async (o: { duration: string; out?: string }) => {
      await runPathBench({ durationMs: durationOf(o.duration)!, out: outOf(o), log });
    });
  program
    .command('runtime')
    .allowExcessArguments(false)
    .description('the server runtime: dispatcher req/s, added latency, RocksDB through it against direct, DPDK echo against testpmd')
    .option('--duration <ms>', 'per point', '2000')
    .option('--out <dir>', 'where results go')
    .action(async (o: { duration: string; out?: string }) => {
      await runRuntimeBench({ durationMs: durationOf(o.duration)!, out: outOf(o), log });
    });
  program
    .command('sim')
    .allowExcessArguments(false)
    .description(
      'simulator events/s (M/M/16, 10^7 requests), the Fig. 2b scenario, and `pallas sim paper` on one CPU against two (same results?)',
    )
    .option('--requests <n>', 'requests per run of M/M/16 and Fig. 2b')
    .option('--paper-requests <n>', "requests per run of the paper's scenarios (default: each scenario's own)")
    .addOption(new Option('--no-paper', 'leave out the one-CPU-against-two run of the paper scenarios'))
    .option('--out <dir>', 'where results go')
    .action(async (o: { requests?: string; paperRequests?: string; paper?: boolean; out?: string }) => {
      const count = (flag: string, v: string | undefined) => {
        if (v === undefined) return undefined;
        const n = Number(v);
        if (!Number.isSafeInteger(n) || n < 10) usage(`--${flag} must be an integer >= 10`);
        return n;
      };
      const requests = count('requests', o.requests);
      const paperRequests = count('paper-requests', o.paperRequests);
      await runSimBench({
        out: outOf(o),
        log,
        ...(requests ? { requests } : {}),
        ...(paperRequests ? { paperRequests } : {}),
        paper: o.paper !== false,
      });
    });
  program
    .command('never-loses')
    .allowExcessArguments(false)
    .description(
      'Pallas (learned) against RS-DARC, RS-cFCFS and the central queue on every static paper scenario at every load; exits 1 on a miss',
    )
    .option('--seeds <list>', 'seeds', '1,2,3')
    .option('--scenarios <list>', 'paper scenario names (default: all static ones)')
    .option('--random <n>', "n random mixes instead of the paper's scenarios")
    .option('--loads <list>', 'loads in (0, 0.95]')
    .option('--requests <n>', 'requests per run')
    .option('--out <dir>', 'where results go')
    .action(async (o: { seeds: string; scenarios?: string; random?: string; loads?: string; requests?: string; out?: string }) => {
      const seeds = list(o.seeds)!.map(Number);
      if (seeds.some((s) => !Number.isSafeInteger(s) || s < 0)) usage('--seeds must be non-negative integers, comma-separated');
      const random = o.random === undefined ? undefined : Number(o.random);
      if (random !== undefined && !(Number.isInteger(random) && random >= 1 && random <= 1000))
        usage('--random must be an integer in [1, 1000]');
      const requests = o.requests === undefined ? undefined : Number(o.requests);
      if (requests !== undefined && (!Number.isSafeInteger(requests) || requests < 1000)) usage('--requests must be an integer >= 1000');
      const loads = list(o.loads)?.map(Number);
      if (loads && loads.some((l) => !(l > 0 && l <= 0.95))) usage('--loads must be numbers in (0, 0.95], comma-separated');
      const scenarios = list(o.scenarios);
      const points = await runCheck({
        out: outOf(o),
        log,
        seeds,
        ...(scenarios ? { scenarios } : {}),
        ...(random ? { random } : {}),
        ...(requests ? { requests } : {}),
        ...(loads ? { loads } : {}),
      });
      if (points.some((p) => p.miss.length)) process.exitCode = 1;
    });
  return program;
}

const argv = process.argv.slice(2);
const program = buildBench();
if (argv.length === 0) {
  program.outputHelp();
  process.exitCode = 2;
} else {
  await program.parseAsync(argv, { from: 'user' }).catch((e: unknown) => {
    exitFor(e, argv, 'npm run bench --');
    process.exit();
  });
}
