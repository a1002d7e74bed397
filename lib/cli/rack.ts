// The live rack's commands: `pallas switch` (a software switch with static tables), `pallas
// control` (the control plane, hosting the software switch as a Tofino's control plane runs on
// the switch's CPU), `pallas agent` (a server runtime and its agent), `pallas up` (all of them on
// this machine), `pallas status`, and `pallas client` (the open-loop load generator).
import { cpus, hostname } from 'node:os';

import { Agent, type AgentConfig } from '../agent/agent.js';
import { runClient, type ClientConfig, type TypeReport } from '../client/client.js';
import { encodeReport } from '../client/merge.js';
import { obj, only, readConfigFile } from '../config.js';
import { ControlPlane, DEFAULT_CONTROL_PORT, type ControlConfig, type RackStatus } from '../control/plane.js';
import { PallasError } from '../errors.js';
import type { TransportConfig } from '../io/transport.js';
import { DEFAULT_KV_PATH, normaliseServer, type ServerConfig } from '../runtime/config.js';
import { loadKv } from '../runtime/kv.js';
import { rackSize, startRack, switchFor } from '../rack.js';
import { normaliseTofinoConfig, TofinoSwitch } from '../switch/tofino.js';
import { DEFAULT_SWITCH_PORT, SoftSwitch, SWITCH_POLICIES, type SoftSwitchConfig, type SwitchPolicy } from '../switch/soft.js';
import { VERSION } from '../version.js';
import { intFlag, type Opts } from './opts.js';
import { armSignals, stdinConfig, untilSignal } from './signal.js';
import { textTable } from '../util/table.js';

function hostPort(flag: string, v: string | undefined): { host: string; port: number } | undefined {
  if (v === undefined) return undefined;
  const m = /^([\d.]+):(\d+)$/.exec(v);
  if (!m || Number(m[2]) > 65535) throw new PallasError('USAGE', `--${flag} must be IP:PORT, not '${v}'`);
  return { host: m[1]!, port: Number(m[2]) };
}

/** The command's config: from --stdin (with its lifeline), from --config FILE, or none. */
async function configOf(
  values: { config?: string | undefined; stdin?: boolean | undefined },
  what: string,
): Promise<{ file: unknown; lifeline?: Awaited<ReturnType<typeof stdinConfig>> }> {
  if (values.stdin && values.config) throw new PallasError('USAGE', `pallas ${what}: give --config FILE or --stdin, not both`);
  if (values.stdin) {
    const lifeline = await stdinConfig(`pallas ${what}`);
    return { file: lifeline.config, lifeline };
  }
  return { file: values.config ? readConfigFile(values.config, what) : undefined };
}

function say(json: boolean, obj: object, text: string): void {
  process.stdout.write(json ? `${JSON.stringify(obj)}\n` : `${text}\n`);
}

// ---- pallas switch ---------------------------------------------------------------------------------

export async function runSwitch(values: Opts): Promise<void> {
  if (!values.config) throw new PallasError('USAGE', 'pallas switch needs --config FILE (policy, servers, tables; see docs/live-rack.md)');
  const cfg = readConfigFile(values.config, 'switch') as unknown as SoftSwitchConfig;
  const port = intFlag('port', values.port, 0, 65535);
  if (port !== undefined || values.bind) {
    const base = (cfg.transport?.kind === 'udp' ? cfg.transport : { kind: 'udp' }) as TransportConfig & { kind: 'udp' };
    cfg.transport = { ...base, ...(values.bind ? { bindIp: values.bind } : {}), ...(port !== undefined ? { port } : {}) };
  }
  const sw = new SoftSwitch({ transport: { kind: 'udp', port: DEFAULT_SWITCH_PORT }, ...cfg }).start();
  const l = sw.local();
  armSignals(); // before the ready line: a signal sent as soon as it is read stops us cleanly
  say(values.json, { ready: true, ...l, policy: sw.policy }, `pallas switch: ${sw.policy} on ${l.ip}:${l.port}, ${sw.capacity} server(s)`);
  await untilSignal();
  sw.stop();
  const st = sw.stats();
  say(
    values.json,
    { stats: st },
    `pallas switch: stopped. ${Object.entries(st.switch)
      .filter(([, v]) => v > 0)
      .map(([k, v]) => `${k}=${v}`)
      .join(' ')}`,
  );
}

// ---- pallas control --------------------------------------------------------------------------------

/** `switch`: the software switch's config, or `{ kind: tofino, … }` (lib/switch/tofino.ts). */
interface ControlFile extends ControlConfig {
  switch?: Partial<SoftSwitchConfig> & { slots?: number; servers?: never; kind?: string };
  serverSlots?: number;
}

export async function runControl(values: Opts): Promise<void> {
  const { file: given, lifeline } = await configOf(values, 'control');
  const file = (given ?? {}) as ControlFile;
  const o = obj(file, 'control');
  const { switch: swCfg = {}, serverSlots, ...controlCfg } = o as ControlFile;
  const listen = hostPort('listen', values.listen);
  if (listen) controlCfg.listen = listen;
  const slots = intFlag('slots', values.slots, 1, 256) ?? serverSlots ?? 16;
  if (values.policy) {
    if (!(SWITCH_POLICIES as readonly string[]).includes(values.policy))
      throw new PallasError('USAGE', `--policy must be one of ${SWITCH_POLICIES.join(', ')}`);
    swCfg.policy = values.policy as SwitchPolicy;
  }
  // A Tofino (BFRuntime over gRPC, docs/tofino.md), or the software switch in this process.
  const tofino = swCfg.kind === 'tofino';
  if (tofino && (values.policy || values['switch-port']))
    throw new PallasError('USAGE', "--policy and --switch-port are the software switch's: a Tofino runs p4/pallas.p4");
  const sw = tofino
    ? await new TofinoSwitch({
        ...normaliseTofinoConfig(swCfg),
        log: (msg, f) => process.stderr.write(`${JSON.stringify({ level: 'info', component: 'tofino', msg, ...f })}\n`),
      }).start()
    : switchFor((({ kind: _k, ...rest }) => rest)(swCfg), slots, intFlag('switch-port', values['switch-port'], 0, 65535)).start();
  let control: ControlPlane;
  try {
    control = await new ControlPlane(sw, controlCfg).start();
  } catch (e) {
    sw.stop();
    throw e;
  }
  armSignals(); // before the ready line: a signal sent as soon as it is read stops us cleanly
  if (sw instanceof TofinoSwitch) {
    say(
      values.json,
      { ready: true, switch: { kind: 'tofino', grpc: (swCfg as { grpc: string }).grpc, policy: sw.policy }, control: control.url },
      `pallas control: ${control.url} (status /v1/status, metrics /metrics); ` +
        `Tofino at ${(swCfg as { grpc: string }).grpc}, ${sw.capacity} server slots`,
    );
  } else {
    const l = sw.local();
    say(
      values.json,
      { ready: true, switch: { ...l, policy: sw.policy }, control: control.url },
      `pallas control: ${control.url} (status /v1/status, metrics /metrics); ` +
        `software switch ${sw.policy} on ${l.ip}:${l.port}, ${slots} server slots`,
    );
  }
  await untilSignal(lifeline?.closed);
  await control.stop();
  sw.stop();
  const counters = control.status().switch.counters;
  if (!values.stdin) say(values.json, { stopped: true, switch: counters }, `pallas control: stopped. switch: ${countersLine(counters)}`);
  lifeline?.release();
}

/** The non-zero switch counters, `name=value …`, for the line printed at stop. */
function countersLine(c: Record<string, number> | null): string {
  const nz = Object.entries(c ?? {}).filter(([, v]) => v > 0);
  return nz.length ? nz.map(([k, v]) => `${k}=${v}`).join(' ') : '(no counters)';
}

// ---- pallas agent ----------------------------------------------------------------------------------

export async function runAgent(values: Opts): Promise<void> {
  const { file: given, lifeline } = await configOf(values, 'agent');
  const file = given === undefined ? {} : obj(given, 'agent');
  only(file, 'agent', ['control', 'secret', 'listen', 'advertise', 'heartbeatMs', 'name', 'server']);
  const server = { ...(file.server === undefined ? {} : obj(file.server, 'agent.server')) } as ServerConfig;
  const workers = intFlag('workers', values.workers, 1, 1024);
  if (workers !== undefined) server.workers = workers;
  const id = intFlag('server-id', values['server-id'], 0, 255);
  if (id !== undefined) server.serverId = id;
  const port = intFlag('port', values.port, 0, 65535);
  if (port !== undefined) server.transport = { ...(server.transport?.kind === 'udp' ? server.transport : {}), kind: 'udp', port };
  server.transport ??= { kind: 'udp', port: 0 };
  const listen = hostPort('listen', values.listen);
  const cfg = {
    ...file,
    server,
    control: values.control ?? file.control ?? `http://127.0.0.1:${DEFAULT_CONTROL_PORT}`,
    ...(listen ? { listen } : {}),
    ...(values.name ? { name: values.name } : {}),
  } as AgentConfig;
  const agent = await new Agent(cfg).start();
  const a = agent.addr();
  armSignals(); // before the ready line: a signal sent as soon as it is read stops us cleanly
  say(
    values.json,
    { ready: true, server: a, agent: agent.url, workers: agent.server.config.workers },
    `pallas agent: server on ${a.ip}:${a.port} (${agent.server.config.workers} worker(s)), agent ${agent.url}, control ${cfg.control}`,
  );
  await untilSignal(lifeline?.closed);
  await agent.stop();
  lifeline?.release();
}

// ---- pallas up -------------------------------------------------------------------------------------

export async function runUp(values: Opts): Promise<void> {
  const size = rackSize();
  const n = intFlag('servers', values.servers, 1, 64) ?? size.servers;
  const workers = intFlag('workers', values.workers, 1, 64) ?? size.workers;
  const serverPort = intFlag('server-port', values['server-port'], 1, 65535 - 64) ?? 9101;
  const file = (values.config ? obj(readConfigFile(values.config, 'control'), 'control') : {}) as ControlFile;
  const { switch: swCfg = {}, serverSlots: _slots, ...controlCfg } = file;
  if (values.policy) {
    if (!(SWITCH_POLICIES as readonly string[]).includes(values.policy))
      throw new PallasError('USAGE', `--policy must be one of ${SWITCH_POLICIES.join(', ')}`);
    swCfg.policy = values.policy as SwitchPolicy;
  }
  const port = intFlag('switch-port', values['switch-port'], 0, 65535);
  if (port !== undefined)
    swCfg.transport = { ...((swCfg.transport ?? { kind: 'udp' }) as TransportConfig & { kind: 'udp' }), kind: 'udp', port };
  const agentPort = intFlag('agent-port', values['agent-port'], 1, 65535 - 64);
  // --kv: one RocksDB store for every server's GET/SCAN, built here first (the servers only open it).
  let kv: { path: string } | undefined;
  if (values.kv !== undefined) {
    kv = { path: typeof values.kv === 'string' ? values.kv : DEFAULT_KV_PATH };
    const r = await loadKv(normaliseServer({ kv }).kv!);
    process.stderr.write(`pallas up: RocksDB store ${kv.path}: ${r.keys} keys × ${r.valueBytes} B${r.built ? ', built now' : ''}\n`);
  }
  const rack = await startRack({
    servers: n,
    workers,
    switch: swCfg,
    control: controlCfg,
    serverPort,
    ...(agentPort !== undefined ? { agentPort } : {}),
    ...(kv ? { server: { kv } } : {}),
    controlPort: intFlag('control-port', values['control-port'], 0, 65535) ?? DEFAULT_CONTROL_PORT,
  });
  const l = rack.switchAddr;
  const url = rack.control.url;
  armSignals(); // before the ready line: a signal sent as soon as it is read stops us cleanly
  say(
    values.json,
    {
      ready: true,
      switch: { ...l, policy: rack.sw.policy },
      control: url,
      servers: n,
      workers,
      kv: kv?.path ?? null,
      secretFromEnv: !!process.env.PALLAS_SECRET,
    },
    [
      `pallas up: a rack of ${n} server(s) × ${workers} worker(s) on this machine${values.servers ? '' : ` (${size.why})`}`,
      `  clients send requests to ${l.ip}:${l.port} (software switch, ${rack.sw.policy})`,
      `  control plane ${url}  (pallas status --control ${url}; metrics ${url}/metrics)`,
      `  servers on UDP ${serverPort}…${serverPort + n - 1}${agentPort !== undefined ? `, agents on HTTP ${agentPort}…${agentPort + n - 1}` : ''}` +
        `${kv ? `; GET/SCAN on the RocksDB store ${kv.path}` : '; no RocksDB store (GET/SCAN are refused: --kv gives one)'}; stop with Ctrl-C`,
    ].join('\n'),
  );
  await untilSignal();
  await rack.stop();
  const counters = rack.control.status().switch.counters;
  say(values.json, { stopped: true, switch: counters }, `pallas up: stopped the rack. switch: ${countersLine(counters)}`);
}

// ---- pallas status ---------------------------------------------------------------------------------

export function formatStatus(st: RackStatus): string {
  const lines = [
    `epoch ${st.epoch}, switch ${st.switch.kind} (${st.switch.policy}), ${st.servers.filter((s) => s.alive).length} server(s) alive, ` +
      `${st.adaptations} adaptation(s)`,
  ];
  if (st.plan) {
    lines.push('groups:');
    st.plan.groups.forEach((g, i) =>
      lines.push(
        `  ${i}: ${g.types.join(', ')} — ${g.cores} core(s); WRR ${g.servers.map((s) => `server ${s.index}×${s.weight}`).join(', ') || '(none)'}`,
      ),
    );
  }
  lines.push('servers:');
  for (const s of st.servers) {
    lines.push(
      `  ${String(s.index).padStart(2)} ${s.name.padEnd(10)} ${s.addr.padEnd(21)} ` +
        `${s.alive ? 'alive' : 'LOST '} ${s.cores} core(s) epoch ${s.epoch}` +
        `  received ${s.stats.received ?? 0} done ${s.stats.completed ?? 0} dropped ${s.stats.dropped ?? 0} bounced ${s.stats.bounced ?? 0}` +
        (s.stats.refused ? `  refused ${s.stats.refused} (no handler for their type)` : ''),
    );
  }
  if (st.switch.counters) lines.push(`switch: ${countersLine(st.switch.counters)}`);
  if (st.estimate)
    lines.push(
      `estimate: ${st.estimate.map((t) => `${t.name} ${(t.meanNs / 1000).toFixed(1)} µs × ${(t.share * 100).toFixed(0)} %`).join(', ')}`,
    );
  return lines.join('\n');
}

export async function runStatus(values: Opts): Promise<void> {
  const url = values.control ?? `http://127.0.0.1:${DEFAULT_CONTROL_PORT}`;
  let res: Response;
  try {
    res = await fetch(new URL('/v1/status', url), { signal: AbortSignal.timeout(3000) });
  } catch (e) {
    throw new PallasError('UNREACHABLE', `no control plane answered at ${url} (${(e as Error).message}); is the rack up (pallas up)?`);
  }
  const body = await res.text().catch(() => '');
  let st: RackStatus | undefined;
  try {
    st = JSON.parse(body) as RackStatus;
  } catch {
    /* not JSON: said below */
  }
  if (
    !res.ok ||
    typeof st !== 'object' ||
    st === null ||
    !Array.isArray(st.servers) ||
    typeof st.epoch !== 'number' ||
    typeof st.switch !== 'object'
  ) {
    throw new PallasError(
      'UNREACHABLE',
      `${url} answered /v1/status with HTTP ${res.status}, but not as a Pallas control plane ` +
        `(${body.slice(0, 80).replace(/\s+/g, ' ') || 'an empty body'}); is --control the control plane's address?`,
    );
  }
  process.stdout.write(values.json ? `${JSON.stringify(st, null, 2)}\n` : `${formatStatus(st)}\n`);
}

// ---- pallas client ---------------------------------------------------------------------------------

export async function runClientCmd(values: Opts): Promise<void> {
  if (!values.config && !values.stdin)
    throw new PallasError('USAGE', 'pallas client needs --config FILE or --stdin (types, phases, arrivals; see docs/bench.md)');
  const { file, lifeline } = await configOf(values, 'client');
  const cfg = obj(file, 'client') as unknown as ClientConfig;
  if (values.dst) cfg.dst = values.dst;
  const num = (flag: string, v: string | undefined) => {
    if (v === undefined) return undefined;
    const n = Number(v);
    if (!(n > 0)) throw new PallasError('USAGE', `--${flag} must be a positive number`);
    return n;
  };
  const rate = num('rate', values.rate);
  const duration = num('duration', values.duration);
  if (rate !== undefined || duration !== undefined) {
    if (!Array.isArray(cfg.phases) || cfg.phases.length === 0) cfg.phases = [{ durationMs: 1000, rateRps: 1000 }];
    cfg.phases = cfg.phases.map((p) => ({
      ...p,
      ...(rate !== undefined ? { rateRps: rate } : {}),
      ...(duration !== undefined ? { durationMs: duration } : {}),
    }));
  }
  // With --stdin, stdin closing (the bench that started this run went away) stops the sends; the
  // rest of the schedule counts as never sent.
  const control = new BigUint64Array(2);
  void lifeline?.closed.then(() => {
    control[1] = 1n;
  });
  let r;
  try {
    r = await runClient(cfg, control);
  } finally {
    lifeline?.release();
  }
  if (values.json) {
    // Histograms travel as compressed HdrHistogram encodings, so that several clients' runs merge exactly.
    process.stdout.write(`${JSON.stringify(encodeReport(r))}\n`);
    return;
  }
  const us = (x: number) => (x >= 1000 ? `${(x / 1000).toFixed(2)} ms` : `${x.toFixed(1)} µs`);
  const table = textTable([
    ['type', 'sent', 'replies', 'drops', 'timeouts', 'p50', 'p99', 'p99.9'],
    ...[...Object.values(r.perType), r.all].map((t: TypeReport) => [
      t.name,
      String(t.sent),
      String(t.replies),
      String(t.drops),
      String(t.timeouts),
      us(t.p50Us),
      us(t.p99Us),
      us(t.p999Us),
    ]),
  ]);
  process.stdout.write(
    `pallas client: offered ${r.offeredRps.toFixed(0)} req/s, achieved ${r.achievedRps.toFixed(0)} req/s over ${r.durationS} s; ` +
      `late ${r.late} (max ${us(r.lateMaxUs)}), never sent ${r.neverSent}${r.drops ? `, drops ${JSON.stringify(r.dropsByCause)}` : ''}\n` +
      `${table}\n`,
  );
}

// ---- pallas clock ----------------------------------------------------------------------------------

/**
 * Answers every line of standard input with this host's wall clock (Unix ms, sub-ms precision),
 * its name and Pallas's version, one JSON line each, until standard input closes. The bench pings
 * it over an open ssh session to learn each testbed host's clock offset (the sample with the
 * shortest round trip bounds it best) and to check that every host runs the same Pallas.
 */
export async function runClock(_values: Opts): Promise<void> {
  const input = process.stdin.setEncoding('utf8');
  let buf = '';
  input.on('data', (d: string) => {
    buf += d;
    let nl;
    while ((nl = buf.indexOf('\n')) >= 0) {
      buf = buf.slice(nl + 1);
      process.stdout.write(
        `${JSON.stringify({ nowMs: performance.timeOrigin + performance.now(), host: hostname(), version: VERSION, cpus: cpus().length })}\n`,
      );
    }
  });
  await new Promise<void>((r) => {
    input.once('end', r);
    input.once('close', r);
  });
}
