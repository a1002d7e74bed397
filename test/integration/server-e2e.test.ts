// `pallas server` end to end, as a real process: requests of every handler (spin, TPC-C, RocksDB
// GET and SCAN on a database the server builds on /dev/shm) get correct replies with plausible
// execution times, over kernel UDP on loopback and over DPDK (af_packet and af_xdp) on a veth pair
// between two network namespaces. SIGTERM stops the server cleanly with its statistics.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

import { loadNative } from '../../lib/native.js';
import { decodeKvReply, fnv1a } from '../../lib/runtime/kv.js';
import { createVethPair, type VethPair } from '../../lib/util/netns.js';
import { decode, encode, kvPayload, spinPayload, type Header } from '../../lib/wire/codec.js';
import { Flag, Type } from '../../lib/wire/gen.js';
import { checkPrereqs, dpdkNetnsPrereqs, need } from '../helpers/prereq.js';
import { exchange } from '../helpers/udp-peer.js';

const root = join(__dirname, '..', '..');
const cli = join(root, 'dist', 'lib', 'cli', 'main.js');
const KEYS = 5000;
const VALUE_BYTES = 48;
const kvPath = `/dev/shm/pallas-e2e-${process.pid}`;
const tmp = mkdtempSync(join(tmpdir(), 'pallas-e2e-'));
const config = join(tmp, 'server.yaml');
writeFileSync(
  config,
  [
    'serverId: 7',
    'workers: 2',
    `kv: { path: ${kvPath}, keys: ${KEYS}, valueBytes: ${VALUE_BYTES} }`,
    'policy: { kind: darc, darc: { groups: [ { types: [short, medium, long, exp, payment, order_status, new_order, get], workers: 1 },',
    '  { types: [delivery, stock_level, scan], workers: 1 } ] } }',
    '',
  ].join('\n'),
);

const features = loadNative().buildInfo().features;
const ready = checkPrereqs('pallas server end to end', [
  need(features.rocksdb, 'an addon built with RocksDB (apt-get install librocksdb-dev)'),
  need(existsSync(cli), 'the compiled CLI (npm run build)'),
]);

afterAll(() => {
  rmSync(kvPath, { recursive: true, force: true });
  rmSync(tmp, { recursive: true, force: true });
});

/** The loader's value for key i (the rule in native/runtime/kv.cpp, restated as the test's oracle). */
function expectedValue(i: number): Buffer {
  const head = `v${i}:`;
  return Buffer.from((head + String.fromCharCode(97 + (i % 26)).repeat(Math.max(0, VALUE_BYTES - head.length))).slice(0, VALUE_BYTES));
}

interface Req {
  reqId: number;
  type: number;
  bytes: Uint8Array;
  check(h: Header, payload: Uint8Array): void;
}

const TPCC_NS: Record<number, number> = {
  [Type.PAYMENT]: 5000,
  [Type.ORDER_STATUS]: 6000,
  [Type.NEW_ORDER]: 16000,
  [Type.DELIVERY]: 62000,
  [Type.STOCK_LEVEL]: 74000,
};
// Plausible: at least the work asked for, and not absurdly more (a descheduled vCPU adds ms).
const SLACK_NS = 50_000_000;

function requests(): Req[] {
  const out: Req[] = [];
  let id = 1;
  const add = (type: number, payload: Uint8Array, check: Req['check']) => {
    const reqId = id++;
    out.push({ reqId, type, bytes: encode({ type, reqId, index: reqId }, payload), check });
  };
  for (const type of [Type.SHORT, Type.MEDIUM, Type.LONG, Type.EXP]) {
    for (const ns of [1000, 20_000, 200_000]) {
      add(type, spinPayload(ns), (h, p) => {
        expect(h.timeNs).toBeGreaterThanOrEqual(ns);
        expect(h.timeNs).toBeLessThan(ns + SLACK_NS);
        expect(Buffer.from(p)).toEqual(Buffer.from(spinPayload(ns)));
      });
    }
  }
  for (const [type, ns] of Object.entries(TPCC_NS)) {
    for (let i = 0; i < 3; i++) {
      add(Number(type), spinPayload(0), (h) => {
        expect(h.timeNs).toBeGreaterThanOrEqual(ns);
        expect(h.timeNs).toBeLessThan(ns + SLACK_NS);
      });
    }
  }
  for (const [key, count] of [
    [0, 1],
    [7, 10],
    [4995, 10],
    [123, 30],
    [10_007, 3],
  ] as const) {
    add(Type.GET, kvPayload(key, count), (h, p) => {
      const r = decodeKvReply(p);
      const want = Array.from({ length: count }, (_, i) => expectedValue((key + i) % KEYS));
      expect(r.count).toBe(count);
      expect(r.bytes).toBe(count * VALUE_BYTES);
      expect(r.hash).toBe(fnv1a(want));
      expect(r.values.length).toBeGreaterThan(0);
      r.values.forEach((v, i) => expect(v.toString()).toBe(want[i]!.toString()));
      expect(h.timeNs).toBeGreaterThan(0);
      expect(h.timeNs).toBeLessThan(SLACK_NS);
    });
  }
  for (const [key, count] of [
    [0, 100],
    [4990, 20],
    [17, 5000],
  ] as const) {
    add(Type.SCAN, kvPayload(key, count), (h, p) => {
      const r = decodeKvReply(p);
      expect(r.count).toBe(count);
      expect(r.bytes).toBe(count * VALUE_BYTES);
      expect(r.hash).toBe(fnv1a(Array.from({ length: count }, (_, i) => expectedValue((key + i) % KEYS))));
      expect(r.values).toHaveLength(0);
      expect(h.timeNs).toBeGreaterThan(0);
      expect(h.timeNs).toBeLessThan(SLACK_NS * 4);
    });
  }
  return out;
}

function checkReplies(reqs: Req[], replies: { header: Header; payload: Uint8Array }[]): void {
  const byId = new Map(replies.map((r) => [r.header.reqId, r]));
  expect(byId.size).toBe(reqs.length);
  for (const q of reqs) {
    const r = byId.get(q.reqId);
    expect(r, `reply to ${q.reqId}`).toBeDefined();
    expect(r!.header.type).toBe(q.type);
    expect(r!.header.flags & (Flag.RESPONSE | Flag.DROP_NOTICE)).toBe(Flag.RESPONSE);
    expect(r!.header.server).toBe(7);
    expect(r!.header.index).toBe(q.reqId);
    q.check(r!.header, r!.payload);
  }
}

interface Proc {
  child: ChildProcess;
  lines: string[];
  exited: Promise<number | null>;
  ready: Record<string, unknown>;
}

function startServer(prefix: string[], args: string[]): Promise<Proc> {
  const cmd = [...prefix, process.execPath, cli, 'server', '--config', config, '--json', ...args];
  const child = spawn(cmd[0]!, cmd.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: string[] = [];
  let stderr = '';
  child.stderr!.on('data', (d) => {
    stderr += d;
  });
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start: ${stderr}`)), 60_000);
    child.stdout!.on('data', (d: Buffer) => {
      lines.push(...d.toString().split('\n').filter(Boolean));
      const r = lines.find((l) => l.includes('"ready"'));
      if (r) {
        clearTimeout(timer);
        resolve({ child, lines, exited, ready: JSON.parse(r) as Record<string, unknown> });
      }
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`server exited (${code}) before ready: ${stderr}`));
    });
  });
}

async function stopServer(p: Proc): Promise<{ server: Record<string, number>; types: Record<string, { completed: number }> }> {
  p.child.kill('SIGTERM');
  expect(await p.exited).toBe(0);
  const line = p.lines.find((l) => l.includes('"stats"'));
  expect(line).toBeDefined();
  return (JSON.parse(line!) as { stats: { server: Record<string, number>; types: Record<string, { completed: number }> } }).stats;
}

describe.runIf(ready)('pallas server over kernel UDP on loopback', () => {
  let proc: Proc | undefined;
  afterAll(async () => {
    if (proc && proc.child.exitCode === null) {
      proc.child.kill('SIGKILL');
      await proc.exited;
    }
  });

  it('answers every handler correctly, then stops cleanly on SIGTERM', async () => {
    proc = await startServer([], ['--port', '0']);
    expect(proc.ready.kv).toMatchObject({ keys: KEYS, valueBytes: VALUE_BYTES });
    const reqs = requests();
    const { replies } = await exchange(
      '127.0.0.1',
      proc.ready.port as number,
      reqs.map((r) => r.bytes),
      [],
      30_000,
    );
    checkReplies(reqs, [...replies.values()]);
    const st = await stopServer(proc);
    expect(st.server.n_replies).toBe(reqs.length);
    expect(st.types.scan!.completed).toBe(3);
  });
});

const dpdkReady = ready && checkPrereqs('pallas server over DPDK', [...dpdkNetnsPrereqs()]);

describe.runIf(dpdkReady).each([
  ['net_af_packet', (ifA: string) => `net_af_packet0,iface=${ifA},framecnt=8192`],
  ['net_af_xdp', (ifA: string) => `net_af_xdp0,iface=${ifA}`],
])('pallas server over DPDK %s on a veth pair between namespaces', (name, vdev) => {
  let pair: VethPair | undefined;
  let proc: Proc | undefined;
  afterAll(async () => {
    if (proc && proc.child.exitCode === null) {
      proc.child.kill('SIGKILL');
      await proc.exited;
    }
    pair?.remove();
  });

  it('answers every handler correctly', async () => {
    pair = createVethPair(name === 'net_af_xdp' ? 'sx' : 'sp');
    proc = await startServer(
      ['ip', 'netns', 'exec', pair.nsA],
      ['--transport', 'dpdk', '--device', vdev(pair.ifA), '--ip', pair.ipA, '--port', '9011'],
    );
    const reqs = requests();
    const input = JSON.stringify({
      host: pair.ipA,
      port: 9011,
      datagrams: reqs.map((r) => Buffer.from(r.bytes).toString('hex')),
      expect: reqs.length,
      timeoutMs: 30_000,
    });
    const out = execFileSync('ip', ['netns', 'exec', pair.nsB, process.execPath, join(__dirname, '..', 'helpers', 'netns-sender.mjs')], {
      input,
      encoding: 'utf8',
      timeout: 90_000,
    });
    const replies = (JSON.parse(out) as { replies: string[] }).replies.map((h) => {
      const d = decode(Uint8Array.from(Buffer.from(h, 'hex')));
      if (d.reason !== 'ok') throw new Error(`invalid reply: ${d.reason}`);
      return { header: d.header, payload: d.payload };
    });
    checkReplies(reqs, replies);
    const st = await stopServer(proc);
    expect(st.server.n_replies).toBe(reqs.length);
  });
});
