// Echo over DPDK on a veth pair between two network namespaces made by this test: the echo runs
// in namespace A on a DPDK vdev over its veth end; a kernel-UDP peer in namespace B sends every
// kind of request and malformed datagrams. Namespaces are removed even when the test fails.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

import { decode } from '../../lib/wire/codec.js';
import { Flag } from '../../lib/wire/gen.js';
import { checkPrereqs, dpdkNetnsPrereqs, need } from '../helpers/prereq.js';
import { createVethPair, type VethPair } from '../../lib/util/netns.js';
import { malformed, requestsOfEveryType } from '../helpers/requests.js';

const root = join(__dirname, '..', '..');
const cli = join(root, 'dist', 'lib', 'cli', 'main.js');
const PER_TYPE = 200;

const ready = checkPrereqs('DPDK over veth', [...dpdkNetnsPrereqs(), need(existsSync(cli), 'the compiled CLI (npm run build)')]);

interface EchoProc {
  child: ChildProcess;
  stdout: string[];
  exited: Promise<number | null>;
}

function startEcho(pair: VethPair, vdev: string): Promise<EchoProc> {
  const child = spawn(
    'ip',
    [
      'netns',
      'exec',
      pair.nsA,
      process.execPath,
      cli,
      'echo',
      '--transport',
      'dpdk',
      '--device',
      vdev,
      '--ip',
      pair.ipA,
      '--port',
      '9011',
      '--server-id',
      '5',
      '--json',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const stdout: string[] = [];
  let stderr = '';
  child.stderr!.on('data', (d) => {
    stderr += d;
  });
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`echo did not start: ${stderr}`)), 30_000);
    child.stdout!.on('data', (d: Buffer) => {
      stdout.push(...d.toString().split('\n').filter(Boolean));
      if (stdout.some((l) => l.includes('"ready"'))) {
        clearTimeout(timer);
        resolve({ child, stdout, exited });
      }
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`echo exited (${code}) before ready: ${stderr}`));
    });
  });
}

function sendFrom(pair: VethPair, datagrams: Uint8Array[], expect: number): string[] {
  const input = JSON.stringify({
    host: pair.ipA,
    port: 9011,
    datagrams: datagrams.map((d) => Buffer.from(d).toString('hex')),
    expect,
    timeoutMs: 15_000,
  });
  const out = execFileSync('ip', ['netns', 'exec', pair.nsB, process.execPath, join(__dirname, '..', 'helpers', 'netns-sender.mjs')], {
    input,
    encoding: 'utf8',
    timeout: 60_000,
  });
  return (JSON.parse(out) as { replies: string[] }).replies;
}

describe.runIf(ready).each([
  ['net_af_packet', (ifA: string) => `net_af_packet0,iface=${ifA},framecnt=8192`],
  ['net_af_xdp', (ifA: string) => `net_af_xdp0,iface=${ifA}`],
])('echo over DPDK %s on a veth pair between namespaces', (name, vdev) => {
  let pair: VethPair | undefined;
  let echo: EchoProc | undefined;
  afterAll(async () => {
    if (echo && echo.child.exitCode === null) {
      echo.child.kill('SIGKILL');
      await echo.exited;
    }
    pair?.remove();
  });

  it(`answers ${PER_TYPE} requests of every type and counts malformed datagrams`, async () => {
    pair = createVethPair(name === 'net_af_xdp' ? 'x' : 'p');
    echo = await startEcho(pair, vdev(pair.ifA));
    const reqs = requestsOfEveryType(PER_TYPE);
    const bad = malformed();
    const replies = sendFrom(pair, [...bad.map((b) => b.bytes), ...reqs.map((r) => r.bytes)], reqs.length);
    const byId = new Map<number, ReturnType<typeof decode>>();
    for (const h of replies) {
      const d = decode(Uint8Array.from(Buffer.from(h, 'hex')));
      expect(d.reason).toBe('ok');
      if (d.reason === 'ok') byId.set(d.header.reqId, d);
    }
    expect(byId.size).toBe(reqs.length);
    for (const r of reqs) {
      const d = byId.get(r.reqId)!;
      if (d.reason !== 'ok') throw new Error('unreachable');
      expect(d.header.type).toBe(r.type);
      expect(d.header.flags & Flag.RESPONSE).toBe(Flag.RESPONSE);
      expect(d.header.server).toBe(5);
      expect(Buffer.from(d.payload)).toEqual(Buffer.from(r.bytes.subarray(22)));
    }
    echo.child.kill('SIGTERM');
    expect(await echo.exited).toBe(0);
    const counters = (JSON.parse(echo.stdout.find((l) => l.includes('"counters"'))!) as { counters: Record<string, number> }).counters;
    expect(counters.n_replied).toBe(reqs.length);
    for (const b of bad) expect(counters[b.counter], b.counter).toBe(1);
  });
});
