// bench/io: packets per second of Pallas's transports, and of dpdk-testpmd on the same DPDK vdevs
// in the same run, as a ratio.
//   mem:        round trip through an in-memory link (pump -> echo thread -> pump)
//   udp:        round trip over kernel UDP on loopback (pump -> echo -> pump)
//   net_null:   tx-only and rx-only on DPDK's null PMD (our TX path alone; our RX path alone, on
//               the frames the PMD makes up), vs testpmd txonly / rxonly
//   veth:       tx-only and rx-only on net_af_xdp / net_af_packet over a veth pair between two
//               network namespaces (needs root), vs testpmd txonly / rxonly on the same vdev; for
//               rx-only a testpmd txonly in the other namespace sends (the same sender for both)
// Same vdev arguments, frame size (68 bytes: a spin request), burst (32), mbuf count (8192) and
// pinned CPUs for both sides: testpmd runs --lcores=0@0,1@1 with one forwarding lcore on CPU 1; our
// pump runs pinned to CPU 1 with EAL's main lcore on CPU 0. The DPDK rows alternate ours and
// testpmd `rounds` times and keep each side's best round (on a shared VM, neighbours only ever take
// time away). Results: a table on stdout and JSON in the results folder.
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { EchoServer } from '../../lib/io/echo.js';
import { pump, type PumpResult } from '../../lib/io/pump.js';
import { MemLink } from '../../lib/io/transport.js';
import { packageRoot } from '../../lib/native.js';
import { createVethPair, type VethPair } from '../../lib/util/netns.js';
import { HEADER_SIZE, PAYLOADS } from '../../lib/wire/gen.js';
import { textTable } from '../../lib/util/table.js';
import type { ChildArgs } from './dpdk-child.js';

export interface IoRow {
  path: string;
  pallasPps: number;
  testpmdPps?: number;
  ratio?: number;
  /** rx-only over veth: what the sender in the other namespace offered (testpmd txonly's Tx-pps). */
  offeredPps?: number;
  note?: string;
}

const FRAME = 14 + 20 + 8 + HEADER_SIZE + PAYLOADS.spin.size;
const MEASURED_LCORES = '--lcores=0@0,1@1'; // main lcore on CPU 0, the forwarding lcore on CPU 1
const SENDER_LCORES = '--lcores=0@0,1@0'; // the rx-only sender: both on CPU 0, off the measured CPU
const EAL = ['--no-huge', '-m', '256', '--no-pci', '--no-shconf', '--no-telemetry', '--log-level=lib.eal:error'];
const ROUNDS = 2;

async function memPath(ms: number): Promise<PumpResult> {
  const link = new MemLink(4096);
  const echo = new EchoServer({ transport: { kind: 'mem', link, side: 1 } }).start();
  try {
    return await pump({ transport: { kind: 'mem', link, side: 0 }, dst: { ip: '127.0.0.2', port: 2 }, durationMs: ms, window: 1024 });
  } finally {
    echo.stop();
  }
}

async function udpPath(ms: number): Promise<PumpResult> {
  const echo = new EchoServer({ transport: { kind: 'udp', port: 0 } }).start();
  try {
    return await pump({
      transport: { kind: 'udp', port: 0 },
      dst: { ip: '127.0.0.1', port: echo.local().port },
      durationMs: ms,
      window: 256,
    });
  } finally {
    echo.stop();
  }
}

function ourDpdk(prefix: string[], args: ChildArgs): PumpResult {
  const child = join(packageRoot, 'dist', 'bench', 'io', 'dpdk-child.js');
  const cmd = [...prefix, process.execPath, child, JSON.stringify(args)];
  const out = execFileSync(cmd[0]!, cmd.slice(1), { encoding: 'utf8', timeout: args.durationMs + 60_000 });
  const r = JSON.parse(out.trim().split('\n').pop()!) as PumpResult;
  if (!r.pinned) throw new Error('bench io: the pump could not pin its thread to CPU 1');
  return r;
}

interface Testpmd {
  /** Stops it (SIGINT) and returns everything it printed. */
  stop(): Promise<string>;
  started: Promise<void>;
}

function startTestpmd(prefix: string[], lcores: string, vdev: string, fwd: 'txonly' | 'rxonly', extra: string[] = []): Testpmd {
  // --stats-period keeps testpmd forwarding without a terminal (otherwise it exits at stdin's EOF).
  const args = [
    lcores,
    ...EAL,
    `--vdev=${vdev}`,
    '--',
    `--forward-mode=${fwd}`,
    '--stats-period=1',
    '--nb-cores=1',
    '--burst=32',
    '--total-num-mbufs=8192',
    `--txpkts=${FRAME}`,
    ...extra,
  ];
  const cmd = [...prefix, 'dpdk-testpmd', ...args];
  const p = spawn(cmd[0]!, cmd.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let onStart: () => void = () => {};
  const started = new Promise<void>((r) => (onStart = r));
  const on = (d: Buffer) => {
    out += d;
    if (/Tx-pps|Rx-pps/.test(out)) onStart();
  };
  p.stdout.on('data', on);
  p.stderr.on('data', on);
  const exited = new Promise<void>((r) => p.on('exit', () => r()));
  void exited.then(() => onStart());
  return {
    started,
    async stop() {
      p.kill('SIGINT');
      const timer = setTimeout(() => p.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
      return out;
    },
  };
}

/** The median of testpmd's non-zero per-second `key` samples (its first samples read 0). */
function medianPps(out: string, key: 'Tx-pps' | 'Rx-pps'): number {
  const samples = [...out.matchAll(new RegExp(`${key}:\\s+(\\d+)`, 'g'))]
    .map((m) => Number(m[1]))
    .filter((x) => x > 0)
    .sort((a, b) => a - b);
  if (samples.length === 0) throw new Error(`testpmd gave no ${key} samples:\n${out.slice(-1500)}`);
  return samples[Math.floor(samples.length / 2)]!;
}

/** Runs testpmd txonly or rxonly for `ms` (at least 3 s) on CPU 1 and returns its median pps. */
async function testpmd(prefix: string[], vdev: string, ms: number, fwd: 'txonly' | 'rxonly', extra: string[] = []): Promise<number> {
  const t = startTestpmd(prefix, MEASURED_LCORES, vdev, fwd, extra);
  await new Promise((r) => setTimeout(r, Math.max(ms, 3000) + 1500));
  return medianPps(await t.stop(), fwd === 'txonly' ? 'Tx-pps' : 'Rx-pps');
}

/** Alternates ours and testpmd `ROUNDS` times; each side's best round. */
async function sideBySide(ours: () => Promise<number>, ref: () => Promise<number>): Promise<{ ours: number; ref: number }> {
  let a = 0,
    b = 0;
  for (let i = 0; i < ROUNDS; i++) {
    a = Math.max(a, await ours());
    b = Math.max(b, await ref());
  }
  return { ours: a, ref: b };
}

/**
 * rx-only over veth: a testpmd txonly in namespace B (on CPU 0) sends 68-byte UDP datagrams to
 * our address and port in namespace A, where ours or testpmd rxonly takes them (on CPU 1). The
 * sender's rate is what either side can at most receive: the row shows it.
 */
async function vethRx(pair: VethPair, kind: string, spec: (i: string, n: number) => string, ms: number): Promise<IoRow> {
  let offered = 0;
  const withSender = async (measure: () => Promise<number>): Promise<number> => {
    const sender = startTestpmd(['ip', 'netns', 'exec', pair.nsB], SENDER_LCORES, spec(pair.ifB, 1), 'txonly', [
      `--tx-ip=${pair.ipB},${pair.ipA}`,
      '--tx-udp=9011,9011',
      `--eth-peer=0,${pair.macA}`,
    ]);
    try {
      await sender.started;
      await new Promise((r) => setTimeout(r, 1000));
      return await measure();
    } finally {
      offered = Math.max(offered, medianPps(await sender.stop(), 'Tx-pps'));
    }
  };
  const ns = ['ip', 'netns', 'exec', pair.nsA];
  const vdev = spec(pair.ifA, 0);
  const r = await sideBySide(
    () => withSender(async () => ourDpdk(ns, { vdev, durationMs: ms, dstIp: pair.ipB, dstMac: pair.macB, mode: 'rx-only' }).pps),
    () => withSender(() => testpmd(ns, vdev, ms, 'rxonly')),
  );
  return { path: `dpdk veth ${kind} rx-only`, pallasPps: r.ours, testpmdPps: r.ref, ratio: r.ours / r.ref, offeredPps: offered };
}

export async function runIo(opts: { durationMs: number; out: string; log: (s: string) => void }): Promise<IoRow[]> {
  const ms = opts.durationMs;
  const rows: IoRow[] = [];
  opts.log(`bench io: ${ms} ms per measurement, ${FRAME}-byte frames, DPDK rows best of ${ROUNDS} alternating rounds`);
  rows.push({ path: 'mem round trip', pallasPps: (await memPath(ms)).pps });
  rows.push({ path: 'udp loopback round trip', pallasPps: (await udpPath(ms)).pps });
  const mac = '02:00:00:00:00:02';
  const tx = await sideBySide(
    async () => ourDpdk([], { vdev: 'net_null0', durationMs: ms, dstIp: '198.18.0.2', dstMac: mac }).pps,
    () => testpmd([], 'net_null0', ms, 'txonly'),
  );
  rows.push({ path: 'dpdk net_null tx-only', pallasPps: tx.ours, testpmdPps: tx.ref, ratio: tx.ours / tx.ref });
  const rx = await sideBySide(
    async () => ourDpdk([], { vdev: 'net_null0', durationMs: ms, dstIp: '198.18.0.2', dstMac: mac, mode: 'rx-only' }).pps,
    () => testpmd([], 'net_null0', ms, 'rxonly'),
  );
  rows.push({
    path: 'dpdk net_null rx-only',
    pallasPps: rx.ours,
    testpmdPps: rx.ref,
    ratio: rx.ours / rx.ref,
    note: 'null PMD frames are zeros: ours parses each to its ethertype and drops it (counted)',
  });
  if (process.getuid?.() !== 0) {
    rows.push({ path: 'dpdk veth', pallasPps: 0, note: 'skipped: needs root for network namespaces' });
  } else {
    for (const [kind, spec] of [
      ['net_af_xdp', (i: string, n: number) => `net_af_xdp${n},iface=${i}`],
      ['net_af_packet', (i: string, n: number) => `net_af_packet${n},iface=${i},framecnt=8192`],
    ] as const) {
      const pair = createVethPair('bench');
      try {
        const ns = ['ip', 'netns', 'exec', pair.nsA];
        const vdev = spec(pair.ifA, 0);
        // testpmd sends the frames ours sends (MACs, addresses, ports): namespace B's kernel then
        // does the same work for both (by default testpmd's frames go to a MAC nobody has, which
        // the kernel drops at once, while ours reach its UDP layer).
        const same = [`--eth-peer=0,${pair.macB}`, `--tx-ip=${pair.ipA},${pair.ipB}`, '--tx-udp=9011,9011'];
        const r = await sideBySide(
          async () => ourDpdk(ns, { vdev, durationMs: ms, dstIp: pair.ipB, dstMac: pair.macB }).pps,
          () => testpmd(ns, vdev, ms, 'txonly', same),
        );
        rows.push({ path: `dpdk veth ${kind} tx-only`, pallasPps: r.ours, testpmdPps: r.ref, ratio: r.ours / r.ref });
        rows.push(await vethRx(pair, kind, spec, ms));
      } finally {
        pair.remove();
      }
    }
  }
  mkdirSync(opts.out, { recursive: true });
  const file = join(opts.out, `io-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  writeFileSync(file, JSON.stringify({ frameBytes: FRAME, durationMs: ms, rounds: ROUNDS, rows }, null, 2));
  const fmt = (x?: number) => (x === undefined ? '-' : x >= 1e6 ? `${(x / 1e6).toFixed(2)} M` : `${(x / 1e3).toFixed(1)} k`);
  opts.log(
    [
      '',
      textTable([
        ['path', 'pallas pps', 'testpmd pps', 'ratio', 'offered'],
        ...rows.map((r) => ({
          cells: [r.path, fmt(r.pallasPps), fmt(r.testpmdPps), r.ratio?.toFixed(2) ?? '-', r.offeredPps ? fmt(r.offeredPps) : ''],
          trailer: r.note ? `  ${r.note}` : '',
        })),
      ]),
      '',
      "offered: the sender's rate in the other namespace (testpmd txonly on CPU 0), the most either side can receive",
      `results: ${file}`,
    ].join('\n'),
  );
  return rows;
}
