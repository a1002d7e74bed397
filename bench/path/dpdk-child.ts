// bench path's DPDK case, in processes of their own (EAL initialises once per process, and each
// side runs in a network namespace of its own):
//   node dist/bench/path/dpdk-child.js '{"core":1,"other":0,"ms":2000}'   (root) prints a SwitchRow
// It makes a veth pair between two namespaces; in A the software switch runs on net_af_xdp, pinned
// to `core` and busy-polling; in B an echo server and a closed-window pump, both on kernel UDP, the
// pump's thread pinned to `other`. Roles inside: `switch` and `load` (the same file, called again).
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

import { EchoServer } from '../../lib/io/echo.js';
import { pump } from '../../lib/io/pump.js';
import { DEFAULT_EAL_ARGS } from '../../lib/io/transport.js';
import { SoftSwitch } from '../../lib/switch/soft.js';
import { createVethPair } from '../../lib/util/netns.js';

const SELF = fileURLToPath(import.meta.url);
const ECHO_PORT = 9301;

interface Args {
  core: number;
  other: number;
  ms: number;
  role?: 'switch' | 'load';
  iface?: string;
  echo?: { ip: string; mac: string };
  switchIp?: string;
}

const a = JSON.parse(process.argv[2]!) as Args;

/** Runs `args` in a namespace; resolves with its stdout lines once `until` holds for them (or at exit). */
function inNs(ns: string, args: Args, until: (lines: string[]) => boolean) {
  const p = spawn('ip', ['netns', 'exec', ns, process.execPath, SELF, JSON.stringify(args)], { stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: string[] = [];
  let err = '';
  p.stderr.on('data', (d) => (err += d));
  const exited = new Promise<number | null>((r) => p.on('close', r));
  const ready = new Promise<string[]>((resolve, reject) => {
    p.stdout.on('data', (d: Buffer) => {
      lines.push(...d.toString().split('\n').filter(Boolean));
      if (until(lines)) resolve(lines);
    });
    void exited.then((code) =>
      until(lines) ? resolve(lines) : reject(new Error(`${args.role} exited ${code}: ${err.trim().slice(-600)}`)),
    );
  });
  return { p, ready, exited, lines };
}

if (a.role === 'switch') {
  // Namespace A: the switch on DPDK; prints ready, and on SIGTERM its busy time and request count.
  const eal = ['--lcores=0@0', ...DEFAULT_EAL_ARGS.filter((x) => !x.startsWith('--lcores'))];
  const sw = new SoftSwitch({
    policy: 'random',
    transport: { kind: 'dpdk', device: `net_af_xdp0,iface=${a.iface}`, ip: a.switchIp!, udpPort: 9011, eal },
    wait: 'poll',
    core: a.core,
    servers: [{ ip: a.echo!.ip, port: ECHO_PORT, mac: a.echo!.mac }],
  }).start();
  process.stdout.write(`${JSON.stringify({ ready: true })}\n`);
  const before = sw.stats().switch;
  process.once('SIGTERM', () => {
    const after = sw.stats().switch;
    process.stdout.write(
      `${JSON.stringify({ busyNs: after.busy_ns! - before.busy_ns!, requests: after.n_fwd_requests! - before.n_fwd_requests! })}\n`,
    );
    sw.stop();
    process.exit(0);
  });
  setInterval(() => {}, 1 << 30);
} else if (a.role === 'load') {
  // Namespace B: echo and pump over kernel UDP, through the switch.
  const echo = new EchoServer({ transport: { kind: 'udp', bindIp: a.echo!.ip, port: ECHO_PORT } }).start();
  const r = await pump({
    transport: { kind: 'udp', bindIp: a.echo!.ip, port: 0 },
    dst: { ip: a.switchIp!, port: 9011 },
    durationMs: a.ms,
    window: 256,
    core: a.other,
  });
  echo.stop();
  process.stdout.write(`${JSON.stringify(r)}\n`);
} else {
  const pair = createVethPair('path');
  try {
    const common = { core: a.core, other: a.other, ms: a.ms, echo: { ip: pair.ipB, mac: pair.macB }, switchIp: pair.ipA };
    const sw = inNs(pair.nsA, { ...common, role: 'switch', iface: pair.ifA }, (l) => l.some((x) => x.includes('"ready"')));
    await sw.ready;
    const load = inNs(pair.nsB, { ...common, role: 'load' }, () => false);
    load.ready.catch(() => undefined); // only its exit and last line matter
    if ((await load.exited) !== 0) throw new Error('the load side failed');
    const r = JSON.parse(load.lines.pop()!) as { pps: number; elapsedNs: number };
    sw.p.kill('SIGTERM');
    await sw.exited;
    const s = JSON.parse(sw.lines.pop()!) as { busyNs: number };
    const busy = s.busyNs / r.elapsedNs;
    process.stdout.write(
      `${JSON.stringify({ transport: 'dpdk net_af_xdp (veth)', rps: r.pps, busy, perCoreRps: busy > 0 ? r.pps / busy : 0 })}\n`,
    );
  } finally {
    pair.remove();
  }
}
