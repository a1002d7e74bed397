// bench/io: packets per second of Pallas's transports, and of dpdk-testpmd on the same DPDK vdevs
// in the same run, as a ratio.
//   mem:        round trip through an in-memory link (pump -> echo thread -> pump)
//   udp:        round trip over kernel UDP on loopback (pump -> echo -> pump)
//   net_null:   tx-only on DPDK's null PMD (the cost of our TX path alone), vs testpmd txonly
//   veth:       tx-only on net_af_xdp / net_af_packet over a veth pair between two network
//               namespaces (needs root), vs testpmd txonly on the same vdev
// Frames are the same size for both (68 bytes: a spin request). Results: a table on stdout and
// JSON in the results folder.
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { EchoServer } from '../../lib/io/echo.js';
import { pump, type PumpResult } from '../../lib/io/pump.js';
import { MemLink } from '../../lib/io/transport.js';
import { packageRoot } from '../../lib/native.js';
import { createVethPair } from '../../lib/util/netns.js';
import { HEADER_SIZE, PAYLOADS } from '../../lib/wire/gen.js';
import { textTable } from '../../lib/util/table.js';

export interface IoRow {
  path: string;
  pallasPps: number;
  testpmdPps?: number;
  ratio?: number;
  note?: string;
}

const FRAME = 14 + 20 + 8 + HEADER_SIZE + PAYLOADS.spin.size;
const TESTPMD_EAL = [
  '--lcores=0@0,1@1',
  '--no-huge',
  '-m',
  '256',
  '--no-pci',
  '--no-shconf',
  '--no-telemetry',
  '--log-level=lib.eal:error',
];

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

function ourDpdk(prefix: string[], vdev: string, ms: number, dstMac: string): PumpResult {
  const child = join(packageRoot, 'dist', 'bench', 'io', 'dpdk-child.js');
  const cmd = [...prefix, process.execPath, child, vdev, String(ms), '198.18.0.2', dstMac];
  const out = execFileSync(cmd[0]!, cmd.slice(1), { encoding: 'utf8', timeout: ms + 60_000 });
  return JSON.parse(out.trim().split('\n').pop()!) as PumpResult;
}

/** Runs testpmd txonly for `ms` and returns the median of its per-second Tx-pps samples. */
async function testpmd(prefix: string[], vdev: string, ms: number): Promise<number> {
  const args = [
    ...TESTPMD_EAL,
    `--vdev=${vdev}`,
    '--',
    '--forward-mode=txonly',
    '--stats-period=1',
    '--nb-cores=1',
    '--total-num-mbufs=8192',
    `--txpkts=${FRAME}`,
  ];
  const cmd = [...prefix, 'dpdk-testpmd', ...args];
  const p = spawn(cmd[0]!, cmd.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  p.stdout.on('data', (d) => {
    out += d;
  });
  p.stderr.on('data', (d) => {
    out += d;
  });
  const exited = new Promise<void>((r) => p.on('exit', () => r()));
  // At least 3 s: testpmd reports once a second and its first samples read 0.
  await new Promise((r) => setTimeout(r, Math.max(ms, 3000) + 1500));
  p.kill('SIGINT');
  const timer = setTimeout(() => p.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
  const samples = [...out.matchAll(/Tx-pps:\s+(\d+)/g)]
    .map((m) => Number(m[1]))
    .filter((x) => x > 0)
    .sort((a, b) => a - b);
  if (samples.length === 0) throw new Error(`testpmd gave no Tx-pps samples:\n${out.slice(-1500)}`);
  return samples[Math.floor(samples.length / 2)]!;
}

export async function runIo(opts: { durationMs: number; out: string; log: (s: string) => void }): Promise<IoRow[]> {
  const ms = opts.durationMs;
  const rows: IoRow[] = [];
  opts.log(`bench io: ${ms} ms per measurement, ${FRAME}-byte frames`);
  rows.push({ path: 'mem round trip', pallasPps: (await memPath(ms)).pps });
  rows.push({ path: 'udp loopback round trip', pallasPps: (await udpPath(ms)).pps });
  const nul = ourDpdk([], 'net_null0', ms, '02:00:00:00:00:02');
  const nulRef = await testpmd([], 'net_null0', ms);
  rows.push({ path: 'dpdk net_null tx-only', pallasPps: nul.pps, testpmdPps: nulRef, ratio: nul.pps / nulRef });
  if (process.getuid?.() !== 0) {
    rows.push({ path: 'dpdk veth', pallasPps: 0, note: 'skipped: needs root for network namespaces' });
  } else {
    for (const [name, spec] of [
      ['net_af_xdp', (i: string) => `net_af_xdp0,iface=${i}`],
      ['net_af_packet', (i: string) => `net_af_packet0,iface=${i},framecnt=8192`],
    ] as const) {
      const pair = createVethPair('bench');
      try {
        const ns = ['ip', 'netns', 'exec', pair.nsA];
        const ours = ourDpdk(ns, spec(pair.ifA), ms, pair.macB);
        const ref = await testpmd(ns, spec(pair.ifA), ms);
        rows.push({ path: `dpdk veth ${name} tx-only`, pallasPps: ours.pps, testpmdPps: ref, ratio: ours.pps / ref });
      } finally {
        pair.remove();
      }
    }
  }
  mkdirSync(opts.out, { recursive: true });
  const file = join(opts.out, `io-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  writeFileSync(file, JSON.stringify({ frameBytes: FRAME, durationMs: ms, rows }, null, 2));
  const fmt = (x?: number) => (x === undefined ? '-' : x >= 1e6 ? `${(x / 1e6).toFixed(2)} M` : `${(x / 1e3).toFixed(1)} k`);
  opts.log(
    [
      '',
      textTable([
        ['path', 'pallas pps', 'testpmd pps', 'ratio'],
        ...rows.map((r) => ({
          cells: [r.path, fmt(r.pallasPps), fmt(r.testpmdPps), r.ratio?.toFixed(2) ?? '-'],
          trailer: r.note ? `  ${r.note}` : '',
        })),
      ]),
      '',
      `results: ${file}`,
    ].join('\n'),
  );
  return rows;
}
