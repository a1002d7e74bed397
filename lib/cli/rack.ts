// The live rack's commands: `pallas switch` (a software switch with static tables), `pallas
// control` (the control plane, hosting the software switch as a Tofino's control plane runs on
// the switch's CPU), `pallas agent` (a server runtime and its agent), `pallas up` (all of them on
// this machine) and `pallas status`.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

import { Agent, type AgentConfig } from '../agent/agent.js';
import { obj, only, readConfigFile } from '../config.js';
import { ControlPlane, DEFAULT_CONTROL_PORT, type ControlConfig, type RackStatus } from '../control/plane.js';
import { PallasError } from '../errors.js';
import type { TransportConfig } from '../io/transport.js';
import type { ServerConfig } from '../runtime/config.js';
import { DEFAULT_SWITCH_PORT, SoftSwitch, SWITCH_POLICIES, type SoftSwitchConfig, type SwitchPolicy } from '../switch/soft.js';
import { logger } from '../util/log.js';
import { untilSignal } from './signal.js';

let stopping = false;  // pallas up: children exiting now is expected
const MAIN = join(fileURLToPath(new URL('.', import.meta.url)), 'main.js');

function count(flag: string, v: string | undefined, min: number, max: number): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < min || n > max) throw new PallasError('BAD_CONFIG', `--${flag} must be an integer in [${min}, ${max}]`);
  return n;
}

function hostPort(flag: string, v: string | undefined): { host: string; port: number } | undefined {
  if (v === undefined) return undefined;
  const m = /^([\d.]+):(\d+)$/.exec(v);
  if (!m || Number(m[2]) > 65535) throw new PallasError('BAD_CONFIG', `--${flag} must be IP:PORT, not '${v}'`);
  return { host: m[1]!, port: Number(m[2]) };
}

function say(json: boolean, obj: object, text: string): void {
  process.stdout.write(json ? `${JSON.stringify(obj)}\n` : `${text}\n`);
}

// ---- pallas switch ---------------------------------------------------------------------------------

export async function runSwitch(argv: string[]): Promise<void> {
  const { values } = parseArgs({ args: argv, strict: true, options: {
    config: { type: 'string' }, port: { type: 'string' }, bind: { type: 'string' }, json: { type: 'boolean', default: false } } });
  if (!values.config) throw new PallasError('BAD_CONFIG', 'pallas switch needs --config FILE (policy, servers, tables; see docs/live-rack.md)');
  const cfg = readConfigFile(values.config, 'switch') as SoftSwitchConfig;
  const port = count('port', values.port, 0, 65535);
  if (port !== undefined || values.bind) {
    const base = (cfg.transport?.kind === 'udp' ? cfg.transport : { kind: 'udp' }) as TransportConfig & { kind: 'udp' };
    cfg.transport = { ...base, ...(values.bind ? { bindIp: values.bind } : {}), ...(port !== undefined ? { port } : {}) };
  }
  const sw = new SoftSwitch({ transport: { kind: 'udp', port: DEFAULT_SWITCH_PORT }, ...cfg }).start();
  const l = sw.local();
  say(values.json, { ready: true, ...l, policy: sw.policy }, `pallas switch: ${sw.policy} on ${l.ip}:${l.port}, ${sw.capacity} server(s)`);
  await untilSignal();
  sw.stop();
  const st = sw.stats();
  say(values.json, { stats: st }, `pallas switch: stopped. ${Object.entries(st.switch).filter(([, v]) => v > 0).map(([k, v]) => `${k}=${v}`).join(' ')}`);
}

// ---- pallas control --------------------------------------------------------------------------------

interface ControlFile extends ControlConfig { switch?: Partial<SoftSwitchConfig> & { slots?: number; servers?: never } ; serverSlots?: number }

function switchFor(cfg: Partial<SoftSwitchConfig>, slots: number, port: number | undefined): SoftSwitch {
  const t = (cfg.transport ?? { kind: 'udp', port: DEFAULT_SWITCH_PORT }) as TransportConfig;
  const transport = port !== undefined && t.kind === 'udp' ? { ...t, port } : t;
  return new SoftSwitch({ ...cfg, transport, servers: Array.from({ length: slots }, () => null) });
}

export async function runControl(argv: string[]): Promise<void> {
  const { values } = parseArgs({ args: argv, strict: true, options: {
    config: { type: 'string' }, listen: { type: 'string' }, 'switch-port': { type: 'string' }, slots: { type: 'string' },
    policy: { type: 'string' }, json: { type: 'boolean', default: false } } });
  const file = (values.config ? readConfigFile(values.config, 'control') : {}) as ControlFile;
  const o = obj(file, 'control');
  const { switch: swCfg = {}, serverSlots, ...controlCfg } = o as ControlFile;
  const listen = hostPort('listen', values.listen);
  if (listen) controlCfg.listen = listen;
  const slots = count('slots', values.slots, 1, 256) ?? serverSlots ?? 16;
  if (values.policy) {
    if (!(SWITCH_POLICIES as readonly string[]).includes(values.policy)) throw new PallasError('BAD_CONFIG', `--policy must be one of ${SWITCH_POLICIES.join(', ')}`);
    swCfg.policy = values.policy as SwitchPolicy;
  }
  const sw = switchFor(swCfg, slots, count('switch-port', values['switch-port'], 0, 65535)).start();
  let control: ControlPlane;
  try {
    control = await new ControlPlane(sw, controlCfg).start();
  } catch (e) {
    sw.stop();
    throw e;
  }
  const l = sw.local();
  say(values.json, { ready: true, switch: { ...l, policy: sw.policy }, control: control.url },
    `pallas control: ${control.url} (status /v1/status, metrics /metrics); software switch ${sw.policy} on ${l.ip}:${l.port}, ${slots} server slots`);
  await untilSignal();
  await control.stop();
  sw.stop();
}

// ---- pallas agent ----------------------------------------------------------------------------------

export async function runAgent(argv: string[]): Promise<void> {
  const { values } = parseArgs({ args: argv, strict: true, options: {
    config: { type: 'string' }, control: { type: 'string' }, listen: { type: 'string' }, port: { type: 'string' },
    workers: { type: 'string' }, 'server-id': { type: 'string' }, name: { type: 'string' }, json: { type: 'boolean', default: false } } });
  const file = values.config ? obj(readConfigFile(values.config, 'agent'), 'agent') : {};
  only(file, 'agent', ['control', 'secret', 'listen', 'advertise', 'heartbeatMs', 'name', 'server']);
  const server = { ...(file.server === undefined ? {} : obj(file.server, 'agent.server')) } as ServerConfig;
  const workers = count('workers', values.workers, 1, 1024);
  if (workers !== undefined) server.workers = workers;
  const id = count('server-id', values['server-id'], 0, 255);
  if (id !== undefined) server.serverId = id;
  const port = count('port', values.port, 0, 65535);
  if (port !== undefined) server.transport = { ...(server.transport?.kind === 'udp' ? server.transport : {}), kind: 'udp', port };
  server.transport ??= { kind: 'udp', port: 0 };
  const listen = hostPort('listen', values.listen);
  const cfg = { ...file, server, control: values.control ?? file.control ?? `http://127.0.0.1:${DEFAULT_CONTROL_PORT}`,
    ...(listen ? { listen } : {}), ...(values.name ? { name: values.name } : {}) } as AgentConfig;
  const agent = await new Agent(cfg).start();
  const a = agent.addr();
  say(values.json, { ready: true, server: a, agent: agent.url, workers: agent.server.config.workers },
    `pallas agent: server on ${a.ip}:${a.port} (${agent.server.config.workers} worker(s)), agent ${agent.url}, control ${cfg.control}`);
  await untilSignal();
  await agent.stop();
}

// ---- pallas up -------------------------------------------------------------------------------------

/** How many servers and workers a rack on this machine gets by default, and why. */
export function rackSize(cores = availableParallelism()): { servers: number; workers: number; why: string } {
  const servers = Math.max(2, Math.min(8, cores));
  return { servers, workers: 1,
    why: `${cores} CPU(s) here: ${servers} servers of 1 worker, the switch and the control plane share them (hybrid waiting: idle threads sleep)` };
}

export async function runUp(argv: string[]): Promise<void> {
  const { values } = parseArgs({ args: argv, strict: true, options: {
    servers: { type: 'string' }, workers: { type: 'string' }, policy: { type: 'string' }, 'switch-port': { type: 'string' },
    'control-port': { type: 'string' }, 'server-port': { type: 'string' }, config: { type: 'string' }, json: { type: 'boolean', default: false } } });
  const size = rackSize();
  const n = count('servers', values.servers, 1, 64) ?? size.servers;
  const workers = count('workers', values.workers, 1, 64) ?? size.workers;
  const serverPort = count('server-port', values['server-port'], 1, 65535 - 64) ?? 9101;
  const file = (values.config ? obj(readConfigFile(values.config, 'control'), 'control') : {}) as ControlFile;
  const { switch: swCfg = {}, serverSlots: _slots, ...controlCfg } = file;
  if (values.policy) {
    if (!(SWITCH_POLICIES as readonly string[]).includes(values.policy)) throw new PallasError('BAD_CONFIG', `--policy must be one of ${SWITCH_POLICIES.join(', ')}`);
    swCfg.policy = values.policy as SwitchPolicy;
  }
  const secret = controlCfg.secret ?? process.env.PALLAS_SECRET ?? randomBytes(24).toString('hex');
  const log = logger('up');
  // A baseline's switch spreads over every slot, so it gets exactly the rack's servers; the
  // Pallas switch gets two spare slots for servers that come back on another address.
  const sw = switchFor(swCfg, (swCfg.policy ?? 'pallas') === 'pallas' ? n + 2 : n, count('switch-port', values['switch-port'], 0, 65535)).start();
  const children: ChildProcess[] = [];
  let control: ControlPlane | undefined;
  const stopAll = async () => {
    for (const c of children) if (c.exitCode === null) c.kill('SIGTERM');
    await Promise.all(children.map((c) => new Promise<void>((r) => {
      if (c.exitCode !== null || c.signalCode !== null) return r();
      const t = setTimeout(() => c.kill('SIGKILL'), 5000);
      c.once('exit', () => { clearTimeout(t); r(); });
    })));
    await control?.stop();
    sw.stop();
  };
  try {
    control = await new ControlPlane(sw, { ...controlCfg, secret, listen: { port: count('control-port', values['control-port'], 0, 65535) ?? DEFAULT_CONTROL_PORT } }).start();
    for (let i = 0; i < n; i++) {
      const c = spawn(process.execPath, [MAIN, 'agent', '--control', control.url, '--port', String(serverPort + i), '--workers', String(workers),
        '--server-id', String(i), '--name', `server${i}`], { stdio: ['ignore', 'ignore', 'inherit'], env: { ...process.env, PALLAS_SECRET: secret } });
      c.on('exit', (code, sig) => { if (!stopping) log.warn('agent exited', { server: i, code, signal: sig }); });
      children.push(c);
    }
    const deadline = Date.now() + 60_000;
    while (control.alive().length < n || control.status().servers.some((s) => s.alive && s.epoch === 0)) {
      if (Date.now() > deadline) throw new PallasError('TIMEOUT', `only ${control.alive().length} of ${n} servers registered within 60 s`);
      if (children.some((c) => c.exitCode !== null)) throw new PallasError('UNREACHABLE', 'an agent exited while the rack was starting (see its log above)');
      await new Promise((r) => setTimeout(r, 50));
    }
  } catch (e) {
    stopping = true;
    await stopAll();
    throw e;
  }
  const l = sw.local();
  say(values.json, { ready: true, switch: { ...l, policy: sw.policy }, control: control.url, servers: n, workers, secretFromEnv: !!process.env.PALLAS_SECRET },
    [`pallas up: a rack of ${n} server(s) × ${workers} worker(s) on this machine${values.servers ? '' : ` (${size.why})`}`,
      `  clients send requests to ${l.ip}:${l.port} (software switch, ${sw.policy})`,
      `  control plane ${control.url}  (pallas status --control ${control.url}; metrics ${control.url}/metrics)`,
      `  servers on UDP ${serverPort}…${serverPort + n - 1}; stop with Ctrl-C`].join('\n'));
  await untilSignal();
  stopping = true;
  await stopAll();
  say(values.json, { stopped: true }, 'pallas up: stopped the rack');
}

// ---- pallas status ---------------------------------------------------------------------------------

export function formatStatus(st: RackStatus): string {
  const lines = [`epoch ${st.epoch}, switch ${st.switch.kind} (${st.switch.policy}), ${st.servers.filter((s) => s.alive).length} server(s) alive, `
    + `${st.adaptations} adaptation(s)`];
  if (st.plan) {
    lines.push('groups:');
    st.plan.groups.forEach((g, i) => lines.push(`  ${i}: ${g.types.join(', ')} — ${g.cores} core(s); WRR ${g.servers.map((s) => `server ${s.index}×${s.weight}`).join(', ') || '(none)'}`));
  }
  lines.push('servers:');
  for (const s of st.servers) {
    lines.push(`  ${String(s.index).padStart(2)} ${s.name.padEnd(10)} ${s.addr.padEnd(21)} ${s.alive ? 'alive' : 'LOST '} ${s.cores} core(s) epoch ${s.epoch}`
      + `  received ${s.stats.received ?? 0} done ${s.stats.completed ?? 0} dropped ${s.stats.dropped ?? 0} bounced ${s.stats.bounced ?? 0}`);
  }
  if (st.estimate) lines.push(`estimate: ${st.estimate.map((t) => `${t.name} ${(t.meanNs / 1000).toFixed(1)} µs × ${(t.share * 100).toFixed(0)} %`).join(', ')}`);
  return lines.join('\n');
}

export async function runStatus(argv: string[]): Promise<void> {
  const { values } = parseArgs({ args: argv, strict: true, options: { control: { type: 'string' }, json: { type: 'boolean', default: false } } });
  const url = values.control ?? `http://127.0.0.1:${DEFAULT_CONTROL_PORT}`;
  let st: RackStatus;
  try {
    const res = await fetch(new URL('/v1/status', url), { signal: AbortSignal.timeout(3000) });
    st = (await res.json()) as RackStatus;
  } catch (e) {
    throw new PallasError('UNREACHABLE', `no control plane answered at ${url} (${(e as Error).message}); is the rack up (pallas up)?`);
  }
  process.stdout.write(values.json ? `${JSON.stringify(st, null, 2)}\n` : `${formatStatus(st)}\n`);
}
