// A rack on the hosts of an inventory: the control plane with its software switch on the switch
// host, an agent with its server runtime on every server host, and the load generator on every
// client host, each a Pallas command started over ssh (or locally, `connection: local`). The same
// commands as `pallas up` runs on one machine; here every process is on its own host.
import { randomBytes } from 'node:crypto';

import type { ClientConfig, ClientReport } from '../client/client.js';
import { decodeReport, mergeReports } from '../client/merge.js';
import type { ControlConfig, RackStatus } from '../control/plane.js';
import { PallasError } from '../errors.js';
import type { ServerConfig } from '../runtime/config.js';
import type { SwitchPolicy } from '../switch/soft.js';
import type { Logger } from '../util/log.js';
import { transportFor, type Inventory } from './inventory.js';
import { RemoteProcess } from './remote.js';

export interface TestbedRackOptions {
  policy: SwitchPolicy;
  control?: ControlConfig;
  /** Every server's runtime config besides workers, cores, id and transport (handlers, kv, …). */
  server?: ServerConfig;
  log: Logger;
  /** How long the rack may take to come up (every agent registered and running a policy). */
  startMs?: number;
  /** Each host's clock minus this machine's (ms, by ssh destination; probeHosts): the clients' shared start time is given in their own clocks. */
  clockOffsetsMs?: Map<string, number>;
}

export interface TestbedRack {
  /** Where clients send requests. */
  switchAddr: { ip: string; port: number };
  controlUrl: string;
  status(): Promise<RackStatus>;
  /** Requests each server of the inventory has completed (from its heartbeats; inventory order). */
  completed(): Promise<number[]>;
  /**
   * Runs `cfg` on every client host at once (each at 1/n of every phase's rate, its own seed, one
   * shared start time) and merges their reports. `spreadMs`: how far apart the clients started,
   * on this machine's clock.
   */
  runClients(cfg: ClientConfig): Promise<{ report: ClientReport; spreadMs: number; clients: number }>;
  stop(): Promise<void>;
}

export async function startTestbedRack(inv: Inventory, o: TestbedRackOptions): Promise<TestbedRack> {
  const secret = inv.secret ?? process.env.PALLAS_SECRET ?? randomBytes(24).toString('hex');
  const sw = inv.switch;
  const procs: RemoteProcess[] = [];
  const stop = async () => {
    // Agents first, so that the control plane does not see them die one by one.
    await Promise.all(procs.slice(1).map((p) => p.stop()));
    await procs[0]?.stop();
  };
  const startMs = o.startMs ?? 60_000;
  try {
    // A baseline's switch spreads over every slot, so it gets exactly the inventory's servers; the
    // Pallas switch gets two spare slots for servers that come back on another address.
    const slots = inv.servers.length + (o.policy === 'pallas' ? 2 : 0);
    const control = new RemoteProcess(
      inv,
      sw,
      ['control'],
      {
        ...o.control,
        secret,
        listen: { host: sw.manage, port: sw.controlPort },
        serverSlots: slots,
        switch: { policy: o.policy, transport: transportFor(sw, sw.port) },
      },
      'pallas control',
    );
    procs.push(control);
    const ready = await control.next<{ ready?: boolean; control: string; switch: { ip: string; port: number } }>(startMs);
    if (!ready.ready) throw new PallasError('UNREACHABLE', `${control.what} did not start: ${JSON.stringify(ready)}`);
    o.log.info('control plane up', { host: sw.host, url: ready.control, switch: ready.switch });
    const agents = inv.servers.map(
      (s, i) =>
        new RemoteProcess(
          inv,
          s,
          ['agent'],
          {
            secret,
            control: ready.control,
            listen: { host: s.manage, port: 0 },
            name: `server${i}`,
            server: {
              ...o.server,
              serverId: i,
              workers: s.workers,
              ...(s.cores ? { cores: s.cores } : {}),
              transport: transportFor(s, s.port),
            },
          },
          `pallas agent ${i}`,
        ),
    );
    procs.push(...agents);
    await Promise.all(agents.map((a) => a.next(startMs)));
    const url = ready.control;
    const status = async (): Promise<RackStatus> => {
      try {
        const res = await fetch(new URL('/v1/status', url), { signal: AbortSignal.timeout(5000) });
        return (await res.json()) as RackStatus;
      } catch (e) {
        throw new PallasError(
          'UNREACHABLE',
          `the control plane at ${url} did not answer (${(e as Error).message}); the bench must reach the switch host's manage address`,
        );
      }
    };
    const deadline = Date.now() + startMs;
    for (;;) {
      if (control.exited) await control.next(0); // throws with its stderr
      const st = await status();
      const up = st.servers.filter((s) => s.alive && s.epoch > 0).length;
      if (up >= inv.servers.length) break;
      const gone = agents.find((a) => a.exited);
      if (gone) await gone.next(0); // throws with its stderr
      if (Date.now() > deadline)
        throw new PallasError(
          'TIMEOUT',
          `only ${up} of ${inv.servers.length} servers registered and running a policy within ${startMs / 1000} s`,
        );
      await new Promise((r) => setTimeout(r, 100));
    }
    const byAddr = (st: RackStatus) => new Map(st.servers.map((s) => [s.addr, s.stats.completed ?? 0]));
    const dst = { ip: ready.switch.ip === '0.0.0.0' ? sw.address : ready.switch.ip, port: ready.switch.port };
    return {
      switchAddr: dst,
      controlUrl: url,
      status,
      stop,
      async completed() {
        const m = byAddr(await status());
        return inv.servers.map((s) => m.get(`${s.address}:${s.port}`) ?? 0);
      },
      async runClients(cfg) {
        const n = inv.clients.length;
        // One start time for all: far enough ahead for every ssh connection to be made.
        const startAt = Date.now() + (inv.connection === 'ssh' ? 3000 : 1500);
        const offset = (k: number) => o.clockOffsetsMs?.get(inv.clients[k]!.host) ?? 0;
        const runs = inv.clients.map(
          (c, k) =>
            new RemoteProcess(
              inv,
              c,
              ['client'],
              {
                ...cfg,
                dst,
                startAt: startAt + offset(k),
                seed: (cfg.seed ?? 1) * 1000 + k,
                transport: transportFor(c, 0),
                phases: cfg.phases.map((p) => ({ ...p, rateRps: p.rateRps / n })),
              },
              `pallas client ${k}`,
            ),
        );
        try {
          const lengthMs = cfg.phases.reduce((a, p) => a + p.durationMs, 0) + (cfg.timeoutMs ?? 1000);
          const reps = await Promise.all(
            runs.map((r, k) => r.next(startAt - Date.now() + lengthMs + 60_000).then((v) => decodeReport(v, `client ${k}'s report`))),
          );
          const starts = reps.map((r, k) => r.startedAtMs - offset(k));
          return { report: mergeReports(reps), spreadMs: Math.max(...starts) - Math.min(...starts), clients: n };
        } finally {
          await Promise.all(runs.map((r) => r.stop(2000)));
        }
      },
    };
  } catch (e) {
    await stop();
    throw e;
  }
}
