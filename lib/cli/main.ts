#!/usr/bin/env node
// The `pallas` command line. Each subcommand validates its flags, runs, and exits non-zero with a
// one-line message (the PallasError code and what to do) on failure.
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { doctor, formatDoctor } from '../doctor.js';
import { PallasError } from '../errors.js';
import { EchoServer } from '../io/echo.js';
import type { TransportConfig } from '../io/transport.js';
import { loadServerConfig, normaliseServer, typeName, type ServerConfig } from '../runtime/config.js';
import { kvBench, loadKv } from '../runtime/kv.js';
import { Server } from '../runtime/server.js';
import { formatTable } from '../sim/format.js';
import { formatSummary, summarize, writeIndex, writeResults } from '../sim/report.js';
import { runPoints, runScenarios, type SimDocument } from '../sim/run.js';
import { loadScenario, scenarioJsonSchema, type Scenario } from '../sim/scenario.js';
import { readConfigFile } from '../config.js';
import { inventoryJsonSchema, isRetiredInventory, loadInventory, normaliseInventory, toAnsible } from '../testbed/inventory.js';
import { VERSION } from '../version.js';
import { stringify } from 'yaml';
import { closest } from '../util/similar.js';
import { intFlag, type Opts } from './opts.js';
import { exitFor, main as runProgram, type Commands } from './program.js';
import { runAgent, runClientCmd, runClock, runControl, runStatus, runSwitch, runUp } from './rack.js';
import { armSignals, untilSignal } from './signal.js';
import { textTable } from '../util/table.js';

async function runEcho(values: Opts): Promise<void> {
  const port = Number(values.port);
  let transport: TransportConfig;
  if (values.transport === 'dpdk') {
    transport = {
      kind: 'dpdk',
      device: values.device ?? '',
      ip: values.ip ?? '',
      udpPort: port,
      ...(values.eal ? { eal: values.eal.split(/\s+/).filter(Boolean) } : {}),
    };
  } else if (values.transport === 'udp') {
    transport = { kind: 'udp', bindIp: values.bind, port };
  } else {
    throw new PallasError('USAGE', `--transport must be udp or dpdk, not '${values.transport}'`);
  }
  const echo = new EchoServer({ transport, serverId: Number(values['server-id']) }).start();
  const local = echo.local();
  armSignals(); // before the ready line: a signal sent as soon as it is read stops us cleanly
  process.stdout.write(
    values.json
      ? `${JSON.stringify({ ready: true, ...local })}\n`
      : `pallas echo: listening on ${local.ip}:${local.port} (${values.transport}, mac ${local.mac})\n`,
  );
  await untilSignal();
  echo.stop();
  const c = echo.counters();
  process.stdout.write(
    values.json
      ? `${JSON.stringify({ counters: c })}\n`
      : `${Object.entries(c)
          .map(([k, v]) => `${k}=${v}`)
          .join(' ')}\n`,
  );
}

async function runServer(values: Opts): Promise<void> {
  const cfg: ServerConfig = values.config ? loadServerConfig(values.config) : {};
  const workers = intFlag('workers', values.workers, 0, 1024);
  if (workers !== undefined) cfg.workers = workers;
  const id = intFlag('server-id', values['server-id'], 0, 255);
  if (id !== undefined) cfg.serverId = id;
  const port = intFlag('port', values.port, 0, 65535);
  const kind = values.transport ?? (values.device ? 'dpdk' : undefined);
  if (kind === 'dpdk') {
    cfg.transport = {
      kind: 'dpdk',
      device: values.device ?? '',
      ip: values.ip ?? '',
      ...(port !== undefined ? { udpPort: port } : {}),
      ...(values.eal ? { eal: values.eal.split(/\s+/).filter(Boolean) } : {}),
    };
  } else if (kind === 'udp' || values.bind !== undefined || port !== undefined) {
    const base = cfg.transport?.kind === 'udp' ? cfg.transport : { kind: 'udp' as const };
    cfg.transport = { ...base, kind: 'udp', ...(values.bind ? { bindIp: values.bind } : {}), ...(port !== undefined ? { port } : {}) };
  } else if (kind !== undefined) {
    throw new PallasError('USAGE', `--transport must be udp or dpdk, not '${kind}'`);
  }
  const server = new Server(cfg);
  await server.start();
  const local = server.local();
  const c = server.config;
  const handlers = c.handlers.map((h) => `${typeName(h.type)}=${h.kind}`).join(' ');
  armSignals(); // before the ready line: a signal sent as soon as it is read stops us cleanly
  process.stdout.write(
    values.json
      ? `${JSON.stringify({ ready: true, ...local, workers: c.workers, policy: c.policy.kind, handlers: c.handlers, kv: server.kv ?? null })}\n`
      : `pallas server ${c.serverId}: listening on ${local.ip}:${local.port} (${c.transport.kind}), ${c.workers} worker(s), ` +
          `${c.policy.kind}, ${c.busyPoll ? 'busy-poll' : 'hybrid wait'}\n  handlers: ${handlers}\n` +
          (server.kv
            ? `  kv: ${c.kv!.path} (${server.kv.keys} keys × ${server.kv.valueBytes} B, ${server.kv.built ? 'built now' : 'already there'})\n`
            : ''),
  );
  await untilSignal();
  server.stop();
  const st = server.stats();
  if (values.json) {
    process.stdout.write(`${JSON.stringify({ stats: st })}\n`);
    return;
  }
  const sv = st.server;
  process.stdout.write(
    `pallas server: stopped. received ${sv.n_rx}, replies ${sv.n_replies}, notices ${sv.n_notices}, ` +
      `bounced ${sv.n_bounced}, dropped full ${sv.n_drop_full} clone ${sv.n_drop_clone} no-buffer ${sv.n_drop_no_buffer} ` +
      `shutdown ${sv.n_drop_shutdown}, no handler ${sv.n_no_handler}, invalid ${Object.values(st.invalid).reduce((a, b) => a + b, 0)}\n`,
  );
  const us = (ns: number) => `${(ns / 1000).toFixed(1)} µs`;
  const served = Object.entries(st.types).filter(([, t]) => t.received > 0);
  if (served.length) {
    const rows = served.map(([name, t]) => [name, String(t.completed), us(t.execNs.p50), us(t.execNs.p99), us(t.sojournNs.p99)]);
    process.stdout.write(`${textTable([['type', 'done', 'exec p50', 'exec p99', 'sojourn p99'], ...rows])}\n`);
  }
}

async function runKvLoad(values: Opts): Promise<void> {
  const c = normaliseServer({ kv: { path: values.path, keys: Number(values.keys), valueBytes: Number(values['value-bytes']) } }).kv!;
  const ops = ((values.time as string | undefined)?.split(',') ?? []).map((s) => {
    const m = /^(get|scan):(\d+)$/.exec(s);
    if (!m || Number(m[2]) < 1 || Number(m[2]) > 65535)
      throw new PallasError('USAGE', `--time takes get:N,scan:N (N in [1, 65535]), not '${s}'`);
    return { op: m[1] as 'get' | 'scan', count: Number(m[2]) };
  });
  const t0 = Date.now();
  const r = await loadKv(c);
  const buildMs = Date.now() - t0;
  const timedUs: Record<string, number> = {};
  for (const { op, count } of ops) {
    // As many calls as take about 50 ms on the paper's times (GET(10) 12 µs, SCAN(5000) 650 µs), 20 at least.
    const iterations = Math.max(20, Math.min(2000, Math.round(50_000 / (op === 'get' ? 1.2 * count : 0.13 * count))));
    const b = await kvBench({ path: c.path, op, count, iterations });
    timedUs[`${op}:${count}`] = Array.from(b.ns).reduce((a, x) => a + x, 0) / b.ns.length / 1000;
  }
  if (values.json) {
    process.stdout.write(`${JSON.stringify({ path: c.path, keys: r.keys, valueBytes: r.valueBytes, built: r.built, buildMs, timedUs })}\n`);
    return;
  }
  process.stdout.write(
    `${c.path}: ${r.keys} keys × ${r.valueBytes} B ${r.built ? `built in ${buildMs} ms` : 'already there'}\n` +
      Object.entries(timedUs)
        .map(([k, v]) => `  ${k}: ${v.toFixed(1)} µs per call\n`)
        .join(''),
  );
}

function progressBar(fraction: number, runsDone: number, runs: number, started: number): string {
  const width = 30;
  const done = Math.min(width, Math.round(fraction * width));
  const secs = (Date.now() - started) / 1000;
  const eta = fraction > 0.01 ? ` ~${Math.round(secs / fraction - secs)} s left` : '';
  return `\r[${'#'.repeat(done)}${'.'.repeat(width - done)}] ${(fraction * 100).toFixed(0).padStart(3)}%  ${runsDone}/${runs} runs done${eta}   `;
}

async function runSim(scenario: string, values: Opts): Promise<void> {
  const flags = values as SimFlags;
  const files = scenarioFiles(scenario);
  // Every file is read and checked before anything runs.
  const loaded = files.map((file) => loadSim(file, flags));
  const jobs = intFlag('jobs', flags.jobs, 1, 256);
  const done: { doc: SimDocument; sc: Scenario; files: string[] }[] = [];
  // Status lines go to stderr under --json, so that stdout stays one JSON document per scenario.
  const say = (s: string) => (values.json ? process.stderr : process.stdout).write(s);
  const showBar = !flags.quiet && process.stderr.isTTY === true;
  let bar = false;
  const clearBar = () => {
    if (bar) process.stderr.write('\r\x1b[K');
    bar = false;
  };
  const started = Date.now();
  const ac = new AbortController();
  const onSignal = () => ac.abort();
  process.once('SIGINT', onSignal);
  try {
    // The runs of all the scenarios share one queue; each scenario is reported, in order, once its runs are done.
    await runScenarios(
      loaded.map((l) => l.sc),
      {
        signal: ac.signal,
        ...(jobs !== undefined ? { concurrency: jobs } : {}),
        ...(showBar
          ? {
              onProgress: (fr: number, i: number, n: number) => {
                process.stderr.write(progressBar(fr, i, n, started));
                bar = true;
              },
            }
          : {}),
        onScenario: (doc, k) => {
          // Interrupted: the first partial scenario is the last one reported, and one that never
          // started is not reported at all (its folder keeps what an earlier run wrote).
          if (process.exitCode === 130 || (ac.signal.aborted && doc.runs.length === 0)) return;
          clearBar();
          if (files.length > 1) say(`${k ? '\n' : ''}== ${files[k]}\n`);
          done.push(reportSim(doc, loaded[k]!, flags, ac.signal.aborted, say));
        },
      },
    );
  } finally {
    process.removeListener('SIGINT', onSignal);
    clearBar();
  }
  if (ac.signal.aborted && process.exitCode !== 130) {
    process.stderr.write('pallas sim: interrupted; the results above are partial\n');
    process.exitCode = 130;
  }
  if (process.exitCode === 130) return;
  if (files.length > 1) {
    const sums = done.map((d) => summarize(d.doc, d.sc)).filter((s) => s !== undefined);
    say(`\n== summary: Pallas against the baseline\n${formatSummary(sums)}`);
    if (!values['no-write']) say(`results: ${writeIndex(values.out, done, sums).join(', ')}\n`);
  }
}

const SCENARIO_DIR = fileURLToPath(new URL('../../../bench/scenarios/', import.meta.url));
const PAPER_DIR = join(SCENARIO_DIR, 'paper');

/**
 * A scenario file; a bare name from bench/scenarios (`fig2b`) or bench/scenarios/paper
 * (`fig2b-rack`), the former first; or `paper` for all of the paper's.
 */
function scenarioFiles(arg: string): string[] {
  if (existsSync(arg) || /[./]/.test(arg)) return [arg];
  const names = (dir: string) =>
    existsSync(dir)
      ? readdirSync(dir)
          .filter((f) => f.endsWith('.yaml'))
          .map((f) => f.slice(0, -5))
          .sort()
      : [];
  const own = names(SCENARIO_DIR),
    paper = names(PAPER_DIR);
  if (arg === 'paper') return paper.map((n) => join(PAPER_DIR, `${n}.yaml`));
  if (own.includes(arg)) return [join(SCENARIO_DIR, `${arg}.yaml`)];
  if (paper.includes(arg)) return [join(PAPER_DIR, `${arg}.yaml`)];
  const near = closest(arg, [...own, ...paper]);
  throw new PallasError(
    'USAGE',
    `no scenario file or scenario named '${arg}'${near.length ? ` (did you mean ${near.join(' or ')}?)` : ''}; ` +
      `names: ${own.join(', ')}; the paper's: ${paper.join(', ')}; or paper for all of them`,
  );
}

interface SimFlags {
  json?: boolean;
  out: string;
  'no-write'?: boolean;
  'per-type'?: boolean;
  requests?: string;
  seed?: string;
  quiet?: boolean;
  jobs?: string;
}

interface LoadedSim {
  sc: Scenario;
  ownRequests: number; // the scenario's own count, before --requests
}

function loadSim(file: string, values: SimFlags): LoadedSim {
  const sc = loadScenario(file);
  const ownRequests = sc.requests;
  sc.requests = intFlag('requests', values.requests, 10) ?? sc.requests;
  sc.seed = intFlag('seed', values.seed, 0) ?? sc.seed;
  return { sc, ownRequests };
}

/** Prints a scenario's table (or JSON) and warnings, and writes its results. */
function reportSim(
  doc: SimDocument,
  { sc, ownRequests }: LoadedSim,
  values: SimFlags,
  aborted: boolean,
  say: (s: string) => void,
): { doc: SimDocument; sc: Scenario; files: string[] } {
  if (values.json) process.stdout.write(`${JSON.stringify(doc, null, 2)}\n`);
  else {
    process.stdout.write(formatTable(doc, values['per-type']));
    const s = summarize(doc, sc);
    if (s) process.stdout.write(`\n${s.pallas} against ${s.baseline}:\n${formatSummary([s])}`);
  }
  const partial = aborted || doc.runs.length < runPoints(sc).length || doc.runs.some((r) => r.aborted);
  // A run that ends before, or just after, its workload's change misses what the scenario is
  // about: say so when it shows less than half as much time after the change as before it.
  if (sc.workload.phases.length > 1 && doc.runs.length > 0) {
    const shiftMs = sc.workload.phases[0]!.durationMs;
    const endedMs = Math.min(...doc.runs.map((r) => r.simTimeS * 1000));
    if (endedMs - shiftMs < shiftMs / 2) {
      process.stderr.write(
        `pallas sim: warning: ${sc.name}'s runs end at ${endedMs.toFixed(0)} ms of simulated time and the workload changes at ${shiftMs} ms: ` +
          `the timeline shows too little of the change; raise --requests (now ${sc.requests}` +
          `${ownRequests > sc.requests ? `; the scenario's own count is ${ownRequests}` : ''})\n`,
      );
    }
  }
  let files: string[] = [];
  if (!values['no-write']) {
    // A partial run still writes what it has, into the same place, so that nothing computed is lost.
    const dir = join(values.out, sc.name);
    files = writeResults(doc, sc, dir);
    say(`results${partial ? ' (partial)' : ''}: ${dir}/ (${files.map((f) => f.slice(dir.length + 1)).join(', ')})\n`);
  }
  if (partial) {
    process.stderr.write('pallas sim: interrupted; the results above are partial\n');
    process.exitCode = 130;
  }
  return { doc, sc, files };
}

// ---- pallas inventory ------------------------------------------------------------------------------

async function runSchema(format: 'scenario' | 'inventory', values: Opts): Promise<void> {
  const text = `${JSON.stringify(format === 'scenario' ? scenarioJsonSchema() : inventoryJsonSchema(), null, 2)}\n`;
  if (values.out !== undefined) writeFileSync(values.out, text);
  else process.stdout.write(text);
}

async function runInventory(sub: 'check' | 'convert', file: string, values: Opts): Promise<void> {
  if (sub === 'check') {
    const inv = loadInventory(file);
    const h = (x: { host: string; address: string; nic?: { device: string } }) =>
      `${x.host} (${x.address}, ${x.nic ? `DPDK ${x.nic.device}` : 'kernel UDP'})`;
    process.stdout.write(
      [
        `${file}: a testbed over ${inv.connection}, Pallas at ${inv.pallas} on every host`,
        `  switch   ${h(inv.switch)}: ${inv.switch.kind} switch on port ${inv.switch.port}, ` +
          `control plane ${inv.switch.manage}:${inv.switch.controlPort}`,
        ...inv.servers.map(
          (s, i) => `  server ${i} ${h(s)}: port ${s.port}, ${s.workers} worker(s)${s.cores ? ` on CPUs ${s.cores.join(',')}` : ''}`,
        ),
        ...inv.clients.map((c) => `  client   ${h(c)}`),
        '',
      ].join('\n'),
    );
    return;
  }
  const v = readConfigFile(file, 'inventory');
  if (!isRetiredInventory(v)) throw new PallasError('BAD_CONFIG', `${file} is not in the retired testbed format (nothing to convert)`);
  const text = `# Converted from ${file} by pallas inventory convert (docs/deploy.md).\n${stringify(toAnsible(normaliseInventory(v, file)))}`;
  if (values.out !== undefined) writeFileSync(values.out, text);
  else process.stdout.write(text);
}

async function runDoctor(values: Opts): Promise<void> {
  if (values.switch !== undefined && !/^[^:\s]+:\d{1,5}$/.test(values.switch))
    throw new PallasError('USAGE', `--switch must be HOST:PORT (BFRuntime's gRPC endpoint), not '${values.switch}'`);
  const r = await doctor(VERSION, values.switch ? { switchGrpc: values.switch } : {});
  process.stdout.write(values.json ? `${JSON.stringify(r, null, 2)}\n` : `${formatDoctor(r)}\n`);
  if (values.require !== undefined) {
    // A gate for deployment (deploy/ansible): every named check must pass, or exit 3 with their reasons.
    const want = (values.require as string)
      .split(',')
      .map((x) => x.trim())
      .filter(Boolean);
    const unknown = want.filter((n) => !r.checks.some((c) => c.name === n));
    if (unknown.length)
      throw new PallasError(
        'USAGE',
        `--require: no check named ${unknown
          .map((u) => {
            const c = closest(
              u,
              r.checks.map((k) => k.name),
            );
            return c.length ? `${u} (did you mean ${c.join(' or ')}?)` : u;
          })
          .join(', ')} (checks: ${r.checks.map((c) => c.name).join(', ')})`,
      );
    const missing = r.checks.filter((c) => want.includes(c.name) && !c.ok);
    for (const c of missing) process.stderr.write(`pallas doctor: required ${c.name} is missing: ${c.detail}; without it: ${c.disables}\n`);
    if (missing.length) process.exitCode = 3;
  }
}

const COMMANDS: Commands = {
  doctor: runDoctor,
  echo: runEcho,
  server: runServer,
  kvLoad: runKvLoad,
  up: runUp,
  status: runStatus,
  control: runControl,
  agent: runAgent,
  switch: runSwitch,
  client: runClientCmd,
  clock: runClock,
  inventory: runInventory,
  schema: runSchema,
  sim: runSim,
};

// On failure, exit now: a command that failed half-way may still hold handles (its --stdin lifeline, a socket).
runProgram(COMMANDS, process.argv.slice(2)).then(
  () => {},
  (e) => {
    exitFor(e, process.argv.slice(2));
    process.exit();
  },
);
