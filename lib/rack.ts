// A whole rack on this machine: the control plane hosting the software switch, in this process,
// and one agent process per server (`pallas agent`). What `pallas up` runs, and what the benchmarks
// start for the embedded default.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';

import { ControlPlane, DEFAULT_CONTROL_PORT, type ControlConfig } from './control/plane.js';
import { PallasError } from './errors.js';
import type { TransportConfig } from './io/transport.js';
import { packageRoot, type NativeEndpoint } from './native.js';
import type { ServerConfig } from './runtime/config.js';
import { DEFAULT_SWITCH_PORT, SoftSwitch, type SoftSwitchConfig } from './switch/soft.js';
import { logger, type Logger } from './util/log.js';

// The compiled CLI, also when this module runs from its TypeScript source (tests).
const MAIN = join(packageRoot, 'dist', 'lib', 'cli', 'main.js');

export interface RackOptions {
  servers: number;
  workers: number;
  /** The software switch: policy, transport (default UDP 9010). */
  switch?: Partial<SoftSwitchConfig>;
  control?: ControlConfig;
  controlPort?: number;
  /** First server's UDP port; server i listens on serverPort + i. */
  serverPort?: number;
  /** First agent's HTTP port on 127.0.0.1; agent i listens on agentPort + i (default: any free port). */
  agentPort?: number;
  /** Every server's runtime config besides workers, id and transport (handlers, kv, …). */
  server?: ServerConfig;
  /** Server i's own additions to `server` (e.g. the CPUs of its threads). */
  serverFor?: (i: number) => ServerConfig;
  /** The agents' stderr: this process's (default), or kept (its tail goes into the error if an agent dies while the rack starts). */
  agentStderr?: 'inherit' | 'capture';
  log?: Logger;
}

export interface Rack {
  /** Where clients send requests. */
  switchAddr: NativeEndpoint;
  sw: SoftSwitch;
  control: ControlPlane;
  servers: number;
  workers: number;
  /** Stops the agents (SIGTERM, then SIGKILL after 5 s), the control plane and the switch. Idempotent. */
  stop(): Promise<void>;
}

/** How many servers and workers a rack on this machine gets by default, and why. */
export function rackSize(cores = availableParallelism()): { servers: number; workers: number; why: string } {
  const servers = Math.max(2, Math.min(8, cores));
  return {
    servers,
    workers: 1,
    why: `${cores} CPU(s) here: ${servers} servers of 1 worker, the switch and the control plane share them (hybrid waiting: idle threads sleep)`,
  };
}

export function switchFor(cfg: Partial<SoftSwitchConfig>, slots: number, port: number | undefined): SoftSwitch {
  const t = (cfg.transport ?? { kind: 'udp', port: DEFAULT_SWITCH_PORT }) as TransportConfig;
  const transport = port !== undefined && t.kind === 'udp' ? { ...t, port } : t;
  return new SoftSwitch({ ...cfg, transport, servers: Array.from({ length: slots }, () => null) });
}

/** Starts a rack and resolves once every server has registered and applied a policy (60 s at most). */
export async function startRack(o: RackOptions): Promise<Rack> {
  const log = o.log ?? logger('rack');
  const n = o.servers;
  const serverPort = o.serverPort ?? 9101;
  const swCfg = o.switch ?? {};
  const secret = o.control?.secret ?? process.env.PALLAS_SECRET ?? randomBytes(24).toString('hex');
  // A baseline's switch spreads over every slot, so it gets exactly the rack's servers; the
  // Pallas switch gets two spare slots for servers that come back on another address.
  const sw = switchFor(swCfg, (swCfg.policy ?? 'pallas') === 'pallas' ? n + 2 : n, undefined).start();
  const children: ChildProcess[] = [];
  const tails: string[] = [];
  let control: ControlPlane | undefined;
  let stopping = false;
  const stop = async () => {
    if (stopping && children.every((c) => c.exitCode !== null || c.signalCode !== null)) return;
    stopping = true;
    for (const c of children) if (c.exitCode === null) c.kill('SIGTERM');
    await Promise.all(
      children.map(
        (c) =>
          new Promise<void>((r) => {
            if (c.exitCode !== null || c.signalCode !== null) return r();
            const t = setTimeout(() => c.kill('SIGKILL'), 5000);
            c.once('exit', () => {
              clearTimeout(t);
              r();
            });
          }),
      ),
    );
    await control?.stop();
    sw.stop();
  };
  try {
    control = await new ControlPlane(
      sw,
      { ...o.control, secret, listen: { port: o.controlPort ?? DEFAULT_CONTROL_PORT } },
      log.child('control'),
    ).start();
    // Each agent takes its config (with the secret) on stdin and stops when stdin closes: if this
    // process dies, even by SIGKILL, its agents go with it.
    for (let i = 0; i < n; i++) {
      const agentCfg = `${JSON.stringify({ server: { ...o.server, ...o.serverFor?.(i) }, secret })}\n`;
      const c = spawn(
        process.execPath,
        [
          MAIN,
          'agent',
          '--stdin',
          '--control',
          control.url,
          '--port',
          String(serverPort + i),
          '--workers',
          String(o.workers),
          '--server-id',
          String(i),
          '--name',
          `server${i}`,
          ...(o.agentPort !== undefined ? ['--listen', `127.0.0.1:${o.agentPort + i}`] : []),
        ],
        { stdio: ['pipe', 'ignore', o.agentStderr === 'capture' ? 'pipe' : 'inherit'] },
      );
      c.stdin!.on('error', () => {}); // it died: its exit says why
      c.stdin!.write(agentCfg);
      c.stderr?.on('data', (d: Buffer) => {
        tails[i] = ((tails[i] ?? '') + d.toString()).slice(-2000);
      });
      c.on('exit', (code, sig) => {
        if (!stopping) log.warn('agent exited', { server: i, code, signal: sig });
      });
      children.push(c);
    }
    const deadline = Date.now() + 60_000;
    while (control.alive().length < n || control.status().servers.some((s) => s.alive && s.epoch === 0)) {
      if (Date.now() > deadline) throw new PallasError('TIMEOUT', `only ${control.alive().length} of ${n} servers registered within 60 s`);
      const dead = children.findIndex((c) => c.exitCode !== null);
      if (dead >= 0) {
        throw new PallasError(
          'UNREACHABLE',
          `agent ${dead} exited while the rack was starting` +
            (o.agentStderr === 'capture'
              ? `: ${tails[dead]?.trim().split('\n').slice(-3).join(' | ') ?? 'no output'}`
              : ' (see its log above)'),
        );
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  } catch (e) {
    await stop();
    throw e;
  }
  return { switchAddr: sw.local(), sw, control, servers: n, workers: o.workers, stop };
}
