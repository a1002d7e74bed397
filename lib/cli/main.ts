#!/usr/bin/env node
// The `pallas` command line. Each subcommand validates its flags, runs, and exits non-zero with a
// one-line message (the PallasError code and what to do) on failure.
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

import { doctor, formatDoctor } from '../doctor.js';
import { PallasError, toPallasError } from '../errors.js';
import { EchoServer } from '../io/echo.js';
import { DEFAULT_EAL_ARGS, type TransportConfig } from '../io/transport.js';
import { DEFAULT_KV_PATH, loadServerConfig, normaliseServer, typeName, type ServerConfig } from '../runtime/config.js';
import { kvBench, loadKv } from '../runtime/kv.js';
import { Server } from '../runtime/server.js';
import { formatTable } from '../sim/format.js';
import { formatSummary, summarize, writeIndex, writeResults } from '../sim/report.js';
import { runPoints, runScenario, type SimDocument } from '../sim/run.js';
import { loadScenario, type Scenario } from '../sim/scenario.js';
import { readConfigFile } from '../config.js';
import { isRetiredInventory, loadInventory, normaliseInventory, toAnsible } from '../testbed/inventory.js';
import { VERSION } from '../version.js';
import { stringify } from 'yaml';
import { runAgent, runClientCmd, runClock, runControl, runStatus, runSwitch, runUp } from './rack.js';
import { armSignals, untilSignal } from './signal.js';
import { DEFAULT_UDP_PORT } from '../wire/gen.js';

const HELP = `pallas ${VERSION}: rack-scale µs-level CPU scheduling through in-network workload shaping

Usage: pallas <command> [options]

Commands:
  doctor [--json] [--switch HOST:PORT] [--require LIST]
                         what this machine offers (addon, DPDK, RocksDB, hugepages, cores, TSC, the
                         Tofino SDE and program; with --switch, the programs BFRuntime there runs;
                         with --require, exit 3 naming each listed check that is missing)
                         and what each missing piece disables
  echo [options]         answer every valid Pallas request with a reply (transport test server);
                         runs until SIGINT/SIGTERM, then prints its counters
      --transport udp|dpdk   (default udp)
      --bind IP --port N     udp: address to bind (default 127.0.0.1:${DEFAULT_UDP_PORT})
      --device SPEC          dpdk: a vdev ("net_af_xdp0,iface=veth0") or a probed device name
      --ip IP --port N       dpdk: our address and UDP port
      --eal "ARGS"           dpdk: EAL arguments (default "${DEFAULT_EAL_ARGS.join(' ')}")
      --server-id N          id written into replies (default 0)
      --json                 print counters as JSON (and the ready line as JSON)
  server [options]       run a Pallas server: a dispatcher and pinned workers running the real
                         handlers (spin, TPC-C, RocksDB) under cfcfs or darc; runs until
                         SIGINT/SIGTERM, then prints its statistics
      --config FILE          server config (YAML or JSON; see docs/runtime.md)
      --workers N            override the config's worker count
      --server-id N          override the config's server id
      --transport udp|dpdk   override the transport (flags as for echo: --bind --port --device --ip --eal)
      --json                 print the ready line and the statistics as JSON
  kv-load [options]      build the RocksDB database the GET/SCAN handlers read
      --path DIR             (default /dev/shm/pallas-kv)
      --keys N --value-bytes N   (default 5000 keys of 64 bytes)
      --time get:10,scan:5000    then time these store calls directly (mean µs; what the bench
                                 uses on a testbed's server) --json
  up [options]           start a whole rack on this machine: the control plane with the software
                         switch, and N servers with their agents (child processes); runs until
                         SIGINT/SIGTERM, then stops them all
      --servers N --workers N   rack size (default: sized to this machine, said on screen)
      --policy NAME          switch policy: pallas (default), po2, rr, random, jbsq, draconis, netclone
      --switch-port N        the switch's UDP port, where clients send (default 9010)
      --control-port N       the control plane's HTTP port (default 9020)
      --server-port N        first server's UDP port (default 9101)
      --config FILE          control-plane config (workload, δ, monitor interval; docs/live-rack.md)
      --json                 print the ready line as JSON
  status [--control URL] [--json]
                         the rack's groups, servers, WRR weights and epoch (default control
                         http://127.0.0.1:9020)
  control [options]      the control plane and the software switch it hosts
      --config FILE --listen IP:PORT --switch-port N --slots N --policy NAME --json
  agent [options]        a server runtime and its agent, which registers with the control plane
      --control URL --config FILE --port N (the server's UDP port) --workers N --server-id N
      --listen IP:PORT (the agent's HTTP) --name NAME --json
                         the shared secret comes from the config or PALLAS_SECRET
  switch --config FILE [--port N] [--json]
                         a software switch with static tables and no control plane
  client --config FILE [--dst IP:PORT] [--rate RPS] [--duration MS] [--json]
                         the open-loop load generator: sends on a precomputed schedule, measures
                         latency from the scheduled time, prints per-type percentiles and every
                         request's fate (--json: counts and HdrHistogram encodings, for merging)
  inventory check FILE   validate a testbed's ansible inventory as the bench reads it, and print the
                         hosts and roles it describes
  inventory convert FILE [--out FILE]
                         turn an inventory of the retired testbed format into the ansible
                         inventory (docs/deploy.md) that --testbed and deploy/ansible read
  clock                  answers each line of standard input with this host's wall clock, CPU count and
                         Pallas version (JSON): how the bench checks a testbed's hosts
  control, agent and client also take --stdin: the config is the first line of standard input
  (JSON), and the command stops when standard input closes; that is how the bench drives a
  testbed's hosts over ssh (docs/testbed.md)
  sim <scenario.yaml|json|name|paper> [options]
                         simulate every system × load of a scenario on the shared policy code;
                         prints a table and the Pallas-vs-baseline summary (a progress bar on
                         stderr while it runs); writes CSV, JSON, SVG plots and summary.md to
                         DIR/<scenario>/ (and, for several, DIR/summary.md and DIR/index.html)
      --out DIR              where results go (default results/sim)
      --no-write             write no files
      --json                 print the result document instead ({ scenario, runs: [...] })
      --per-type             add a line per request type to the table
      --requests N           override the scenario's request count (per run)
      --seed N               override the scenario's seed
      --quiet                no progress bar

Options:
  --version              print the version
  --help                 print this help

Docs: README.md and docs/ in the package.`;

function fail(e: unknown): never {
  const err = toPallasError(e);
  process.stderr.write(`pallas: ${err.code}: ${err.message}\n`);
  process.exit(1);
}

async function runEcho(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv, strict: true,
    options: {
      transport: { type: 'string', default: 'udp' }, bind: { type: 'string', default: '127.0.0.1' },
      port: { type: 'string', default: String(DEFAULT_UDP_PORT) }, device: { type: 'string' }, ip: { type: 'string' },
      eal: { type: 'string' }, 'server-id': { type: 'string', default: '0' }, json: { type: 'boolean', default: false },
    },
  });
  const port = Number(values.port);
  let transport: TransportConfig;
  if (values.transport === 'dpdk') {
    transport = { kind: 'dpdk', device: values.device ?? '', ip: values.ip ?? '', udpPort: port,
      ...(values.eal ? { eal: values.eal.split(/\s+/).filter(Boolean) } : {}) };
  } else if (values.transport === 'udp') {
    transport = { kind: 'udp', bindIp: values.bind, port };
  } else {
    throw toPallasError(Object.assign(new Error(`--transport must be udp or dpdk, not '${values.transport}'`), { code: 'BAD_CONFIG' }));
  }
  const echo = new EchoServer({ transport, serverId: Number(values['server-id']) }).start();
  const local = echo.local();
  armSignals();  // before the ready line: a signal sent as soon as it is read stops us cleanly
  process.stdout.write(values.json ? `${JSON.stringify({ ready: true, ...local })}\n` : `pallas echo: listening on ${local.ip}:${local.port} (${values.transport}, mac ${local.mac})\n`);
  await untilSignal();
  echo.stop();
  const c = echo.counters();
  process.stdout.write(values.json ? `${JSON.stringify({ counters: c })}\n` : `${Object.entries(c).map(([k, v]) => `${k}=${v}`).join(' ')}\n`);
}

async function runServer(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv, strict: true,
    options: {
      config: { type: 'string' }, workers: { type: 'string' }, 'server-id': { type: 'string' }, transport: { type: 'string' },
      bind: { type: 'string' }, port: { type: 'string' }, device: { type: 'string' }, ip: { type: 'string' }, eal: { type: 'string' },
      json: { type: 'boolean', default: false },
    },
  });
  const cfg: ServerConfig = values.config ? loadServerConfig(values.config) : {};
  const count = (flag: string, v: string | undefined, max: number): number | undefined => {
    if (v === undefined) return undefined;
    const n = Number(v);
    if (!Number.isInteger(n) || n < 0 || n > max) throw new PallasError('BAD_CONFIG', `--${flag} must be an integer in [0, ${max}]`);
    return n;
  };
  const workers = count('workers', values.workers, 1024);
  if (workers !== undefined) cfg.workers = workers;
  const id = count('server-id', values['server-id'], 255);
  if (id !== undefined) cfg.serverId = id;
  const port = count('port', values.port, 65535);
  const kind = values.transport ?? (values.device ? 'dpdk' : undefined);
  if (kind === 'dpdk') {
    cfg.transport = { kind: 'dpdk', device: values.device ?? '', ip: values.ip ?? '', ...(port !== undefined ? { udpPort: port } : {}),
      ...(values.eal ? { eal: values.eal.split(/\s+/).filter(Boolean) } : {}) };
  } else if (kind === 'udp' || values.bind !== undefined || port !== undefined) {
    const base = cfg.transport?.kind === 'udp' ? cfg.transport : { kind: 'udp' as const };
    cfg.transport = { ...base, kind: 'udp', ...(values.bind ? { bindIp: values.bind } : {}), ...(port !== undefined ? { port } : {}) };
  } else if (kind !== undefined) {
    throw new PallasError('BAD_CONFIG', `--transport must be udp or dpdk, not '${kind}'`);
  }
  const server = new Server(cfg);
  await server.start();
  const local = server.local();
  const c = server.config;
  const handlers = c.handlers.map((h) => `${typeName(h.type)}=${h.kind}`).join(' ');
  armSignals();  // before the ready line: a signal sent as soon as it is read stops us cleanly
  process.stdout.write(values.json
    ? `${JSON.stringify({ ready: true, ...local, workers: c.workers, policy: c.policy.kind, handlers: c.handlers, kv: server.kv ?? null })}\n`
    : `pallas server ${c.serverId}: listening on ${local.ip}:${local.port} (${c.transport.kind}), ${c.workers} worker(s), `
      + `${c.policy.kind}, ${c.busyPoll ? 'busy-poll' : 'hybrid wait'}\n  handlers: ${handlers}\n`
      + (server.kv ? `  kv: ${c.kv!.path} (${server.kv.keys} keys × ${server.kv.valueBytes} B, ${server.kv.built ? 'built now' : 'already there'})\n` : ''));
  await untilSignal();
  server.stop();
  const st = server.stats();
  if (values.json) {
    process.stdout.write(`${JSON.stringify({ stats: st })}\n`);
    return;
  }
  const sv = st.server;
  process.stdout.write(`pallas server: stopped. received ${sv.n_rx}, replies ${sv.n_replies}, notices ${sv.n_notices}, `
    + `bounced ${sv.n_bounced}, dropped full ${sv.n_drop_full} clone ${sv.n_drop_clone} no-buffer ${sv.n_drop_no_buffer} `
    + `shutdown ${sv.n_drop_shutdown}, no handler ${sv.n_no_handler}, invalid ${Object.values(st.invalid).reduce((a, b) => a + b, 0)}\n`);
  for (const [name, t] of Object.entries(st.types)) {
    if (t.received === 0) continue;
    process.stdout.write(`  ${name.padEnd(12)} ${String(t.completed).padStart(9)} done  exec p50 ${(t.execNs.p50 / 1000).toFixed(1)} µs `
      + `p99 ${(t.execNs.p99 / 1000).toFixed(1)} µs  sojourn p99 ${(t.sojournNs.p99 / 1000).toFixed(1)} µs\n`);
  }
}

async function runKvLoad(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv, strict: true,
    options: { path: { type: 'string', default: DEFAULT_KV_PATH }, keys: { type: 'string', default: '5000' }, 'value-bytes': { type: 'string', default: '64' },
      time: { type: 'string' }, json: { type: 'boolean', default: false } },
  });
  const c = normaliseServer({ kv: { path: values.path, keys: Number(values.keys), valueBytes: Number(values['value-bytes']) } }).kv!;
  const ops = (values.time?.split(',') ?? []).map((s) => {
    const m = /^(get|scan):(\d+)$/.exec(s);
    if (!m || Number(m[2]) < 1 || Number(m[2]) > 65535) throw new PallasError('BAD_CONFIG', `--time takes get:N,scan:N (N in [1, 65535]), not '${s}'`);
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
  process.stdout.write(`${c.path}: ${r.keys} keys × ${r.valueBytes} B ${r.built ? `built in ${buildMs} ms` : 'already there'}\n`
    + Object.entries(timedUs).map(([k, v]) => `  ${k}: ${v.toFixed(1)} µs per call\n`).join(''));
}

function progressBar(fraction: number, runsDone: number, runs: number, started: number): string {
  const width = 30;
  const done = Math.min(width, Math.round(fraction * width));
  const secs = (Date.now() - started) / 1000;
  const eta = fraction > 0.01 ? ` ~${Math.round(secs / fraction - secs)} s left` : '';
  return `\r[${'#'.repeat(done)}${'.'.repeat(width - done)}] ${(fraction * 100).toFixed(0).padStart(3)}%  ${runsDone}/${runs} runs done${eta}   `;
}

async function runSim(argv: string[]): Promise<void> {
  const { values, positionals } = parseArgs({
    args: argv, strict: true, allowPositionals: true,
    options: {
      json: { type: 'boolean', default: false }, out: { type: 'string', default: 'results/sim' }, 'no-write': { type: 'boolean', default: false },
      'per-type': { type: 'boolean', default: false },
      requests: { type: 'string' }, seed: { type: 'string' }, quiet: { type: 'boolean', default: false },
    },
  });
  if (positionals.length !== 1) throw new PallasError('BAD_CONFIG', 'pallas sim takes one scenario file or name (see pallas --help)');
  const files = scenarioFiles(positionals[0]!);
  const done: { doc: SimDocument; sc: Scenario; files: string[] }[] = [];
  // Status lines go to stderr under --json, so that stdout stays one JSON document per scenario.
  const say = (s: string) => (values.json ? process.stderr : process.stdout).write(s);
  for (const [i, file] of files.entries()) {
    if (files.length > 1) say(`${i ? '\n' : ''}== ${file}\n`);
    done.push(await simOne(file, values, say));
    if (process.exitCode === 130) return;
  }
  if (files.length > 1) {
    const sums = done.map((d) => summarize(d.doc, d.sc)).filter((s) => s !== undefined);
    say(`\n== summary: Pallas against the baseline\n${formatSummary(sums)}`);
    if (!values['no-write']) say(`results: ${writeIndex(values.out, done, sums).join(', ')}\n`);
  }
}

const PAPER_DIR = fileURLToPath(new URL('../../../bench/scenarios/paper/', import.meta.url));

/** A scenario file; a bare name of the paper's scenarios (bench/scenarios/paper); or `paper` for all. */
function scenarioFiles(arg: string): string[] {
  if (existsSync(arg) || /[./]/.test(arg)) return [arg];
  const all = existsSync(PAPER_DIR) ? readdirSync(PAPER_DIR).filter((f) => f.endsWith('.yaml')).sort() : [];
  if (arg === 'paper') return all.map((f) => join(PAPER_DIR, f));
  if (all.includes(`${arg}.yaml`)) return [join(PAPER_DIR, `${arg}.yaml`)];
  throw new PallasError('BAD_CONFIG', `no scenario file or paper scenario named '${arg}' (paper scenarios: ${all.map((f) => f.replace(/\.yaml$/, '')).join(', ')}, or paper for all)`);
}

interface SimFlags { json?: boolean; out: string; 'no-write'?: boolean; 'per-type'?: boolean; requests?: string; seed?: string; quiet?: boolean }

async function simOne(file: string, values: SimFlags, say: (s: string) => void): Promise<{ doc: SimDocument; sc: Scenario; files: string[] }> {
  const sc = loadScenario(file);
  const count = (flag: string, v: string | undefined, min: number): number | undefined => {
    if (v === undefined) return undefined;
    const n = Number(v);
    if (!Number.isSafeInteger(n) || n < min) throw new PallasError('BAD_CONFIG', `--${flag} must be an integer >= ${min}`);
    return n;
  };
  sc.requests = count('requests', values.requests, 10) ?? sc.requests;
  sc.seed = count('seed', values.seed, 0) ?? sc.seed;
  const showBar = !values.quiet && process.stderr.isTTY === true;
  const started = Date.now();
  const ac = new AbortController();
  const onSignal = () => ac.abort();
  process.once('SIGINT', onSignal);
  const doc = await runScenario(sc, {
    signal: ac.signal,
    ...(showBar ? { onProgress: (fr: number, i: number, n: number) => process.stderr.write(progressBar(fr, i, n, started)) } : {}),
  });
  process.removeListener('SIGINT', onSignal);
  if (showBar) process.stderr.write('\n');
  if (values.json) process.stdout.write(`${JSON.stringify(doc, null, 2)}\n`);
  else {
    process.stdout.write(formatTable(doc, values['per-type']));
    const s = summarize(doc, sc);
    if (s) process.stdout.write(`\n${s.pallas} against ${s.baseline}:\n${formatSummary([s])}`);
  }
  const partial = ac.signal.aborted || doc.runs.length < runPoints(sc).length || doc.runs.some((r) => r.aborted);
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

async function runInventory(argv: string[]): Promise<void> {
  const [sub, ...rest] = argv;
  const { values, positionals } = parseArgs({ args: rest, strict: true, allowPositionals: true, options: { out: { type: 'string' } } });
  if ((sub !== 'check' && sub !== 'convert') || positionals.length !== 1) {
    throw new PallasError('BAD_CONFIG', 'usage: pallas inventory check FILE | pallas inventory convert FILE [--out FILE]');
  }
  const file = positionals[0]!;
  if (sub === 'check') {
    if (values.out !== undefined) throw new PallasError('BAD_CONFIG', '--out is for convert');
    const inv = loadInventory(file);
    const h = (x: { host: string; address: string; nic?: { device: string } }) => `${x.host} (${x.address}, ${x.nic ? `DPDK ${x.nic.device}` : 'kernel UDP'})`;
    process.stdout.write([`${file}: a testbed over ${inv.connection}, Pallas at ${inv.pallas} on every host`,
      `  switch   ${h(inv.switch)}: ${inv.switch.kind} switch on port ${inv.switch.port}, control plane ${inv.switch.manage}:${inv.switch.controlPort}`,
      ...inv.servers.map((s, i) => `  server ${i} ${h(s)}: port ${s.port}, ${s.workers} worker(s)${s.cores ? ` on CPUs ${s.cores.join(',')}` : ''}`),
      ...inv.clients.map((c) => `  client   ${h(c)}`), ''].join('\n'));
    return;
  }
  const v = readConfigFile(file, 'inventory');
  if (!isRetiredInventory(v)) throw new PallasError('BAD_CONFIG', `${file} is not in the retired testbed format (nothing to convert)`);
  const text = `# Converted from ${file} by pallas inventory convert (docs/deploy.md).\n${stringify(toAnsible(normaliseInventory(v, file)))}`;
  if (values.out !== undefined) writeFileSync(values.out, text);
  else process.stdout.write(text);
}

async function main(argv: string[]): Promise<void> {
  const [cmd, ...rest] = argv;
  if (cmd === undefined || cmd === '--help' || cmd === '-h' || cmd === 'help') {
    process.stdout.write(`${HELP}\n`);
    return;
  }
  if (cmd === '--version' || cmd === '-v') {
    process.stdout.write(`${VERSION}\n`);
    return;
  }
  if (cmd === 'doctor') {
    const { values } = parseArgs({ args: rest, strict: true, options: { json: { type: 'boolean', default: false }, switch: { type: 'string' }, require: { type: 'string' } } });
    if (values.switch !== undefined && !/^[^:\s]+:\d{1,5}$/.test(values.switch)) throw new PallasError('BAD_CONFIG', `--switch must be HOST:PORT (BFRuntime's gRPC endpoint), not '${values.switch}'`);
    const r = await doctor(VERSION, values.switch ? { switchGrpc: values.switch } : {});
    process.stdout.write(values.json ? `${JSON.stringify(r, null, 2)}\n` : `${formatDoctor(r)}\n`);
    if (values.require !== undefined) {
      // A gate for deployment (deploy/ansible): every named check must pass, or exit 3 with their reasons.
      const want = values.require.split(',').map((x) => x.trim()).filter(Boolean);
      const unknown = want.filter((n) => !r.checks.some((c) => c.name === n));
      if (unknown.length) throw new PallasError('BAD_CONFIG', `--require: no check named ${unknown.join(', ')} (checks: ${r.checks.map((c) => c.name).join(', ')})`);
      const missing = r.checks.filter((c) => want.includes(c.name) && !c.ok);
      for (const c of missing) process.stderr.write(`pallas doctor: required ${c.name} is missing: ${c.detail}; without it: ${c.disables}\n`);
      if (missing.length) process.exitCode = 3;
    }
    return;
  }
  if (cmd === 'echo') return runEcho(rest);
  if (cmd === 'sim') return runSim(rest);
  if (cmd === 'server') return runServer(rest);
  if (cmd === 'kv-load') return runKvLoad(rest);
  if (cmd === 'switch') return runSwitch(rest);
  if (cmd === 'control') return runControl(rest);
  if (cmd === 'agent') return runAgent(rest);
  if (cmd === 'up') return runUp(rest);
  if (cmd === 'status') return runStatus(rest);
  if (cmd === 'client') return runClientCmd(rest);
  if (cmd === 'clock') return runClock(rest);
  if (cmd === 'inventory') return runInventory(rest);
  process.stderr.write(`pallas: unknown command '${cmd}' (see pallas --help)\n`);
  process.exit(2);
}

main(process.argv.slice(2)).catch(fail);
