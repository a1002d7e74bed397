// Before a testbed run: every host answers `pallas clock` over its own ssh session, which tells
// (1) that it runs the same Pallas as the bench, and (2) its wall clock's offset from the bench's.
// The clients start on a shared wall-clock time, so each gets that time in its own clock; with
// the offsets known, a skewed clock does not skew the start. Offsets are estimated NTP-style: of
// several pings, the one with the shortest round trip, assuming the answer was taken half-way.
import { PallasError } from '../errors.js';
import { VERSION } from '../version.js';
import type { HostSpec, Inventory } from './inventory.js';
import { RemoteProcess } from './remote.js';

export interface HostProbe {
  host: string;
  hostname: string;
  version: string;
  /** The CPUs the host offers this process (undefined from a Pallas that does not say). */
  cpus?: number;
  /** The host's clock minus this machine's, ms; uncertain by ±rttMs/2. */
  offsetMs: number;
  rttMs: number;
}

const wallNow = () => performance.timeOrigin + performance.now();

async function probe(inv: Inventory, h: HostSpec, pings: number): Promise<HostProbe> {
  const p = new RemoteProcess(inv, h, ['clock'], {}, 'pallas clock');
  try {
    await p.next<{ nowMs: number }>(30_000); // the answer to the config line: the session is up
    let best: HostProbe | undefined;
    for (let i = 0; i < pings; i++) {
      const t0 = wallNow();
      p.send('ping');
      const a = await p.next<{ nowMs: number; host: string; version: string; cpus?: number }>(10_000);
      const t1 = wallNow();
      if (!best || t1 - t0 < best.rttMs) {
        best = {
          host: h.host,
          hostname: a.host,
          version: a.version,
          ...(typeof a.cpus === 'number' ? { cpus: a.cpus } : {}),
          offsetMs: a.nowMs - (t0 + t1) / 2,
          rttMs: t1 - t0,
        };
      }
    }
    return best!;
  } finally {
    await p.stop(2000);
  }
}

/**
 * Probes every distinct host of the inventory (by its ssh destination) and checks that each runs
 * this bench's Pallas version and has the CPUs its server's workers are pinned to. Returns the
 * probes by host.
 */
export async function probeHosts(inv: Inventory, pings = 8): Promise<Map<string, HostProbe>> {
  const hosts = new Map<string, HostSpec>();
  for (const h of [inv.switch, ...inv.servers, ...inv.clients]) if (!hosts.has(h.host)) hosts.set(h.host, h);
  const probes = await Promise.all([...hosts.values()].map((h) => probe(inv, h, pings)));
  const wrong = probes.filter((p) => p.version !== VERSION);
  if (wrong.length) {
    throw new PallasError(
      'BAD_CONFIG',
      `the testbed's hosts must run this bench's Pallas (${VERSION}): ` +
        `${wrong.map((p) => `${p.host} runs ${p.version}`).join(', ')} (at ${inv.pallas})`,
    );
  }
  const byHost = new Map(probes.map((p) => [p.host, p]));
  const short = inv.servers.flatMap((s, i) => {
    const cpus = byHost.get(s.host)?.cpus;
    const missing = cpus === undefined ? [] : (s.cores ?? []).filter((c) => c >= cpus);
    return missing.length
      ? [`server ${i} on ${s.host} pins workers to CPU ${missing.join(', ')}, but the host has ${cpus} CPUs (0-${cpus! - 1})`]
      : [];
  });
  if (short.length) throw new PallasError('BAD_CONFIG', `${short.join('; ')}: fix pallas_worker_cores in ${inv.file}`);
  return byHost;
}
