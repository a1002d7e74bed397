// The software switch over DPDK (net_af_packet on a veth pair): `pallas switch` in one namespace
// on DPDK, two `pallas server` processes and the client in the other on kernel UDP. Requests are
// shaped onto their groups and every one is answered through the switch.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

import { createVethPair, type VethPair } from '../../lib/util/netns.js';
import { decode, encode, spinPayload, type Header } from '../../lib/wire/codec.js';
import { Flag, Type } from '../../lib/wire/gen.js';
import { checkPrereqs, dpdkNetnsPrereqs, need } from '../helpers/prereq.js';

const root = join(__dirname, '..', '..');
const cli = join(root, 'dist', 'lib', 'cli', 'main.js');
const ready = checkPrereqs('software switch over DPDK', [need(existsSync(cli), 'the compiled CLI (npm run build)'), ...dpdkNetnsPrereqs()]);

const procs: ChildProcess[] = [];
let pair: VethPair | undefined;
const tmp = mkdtempSync(join(tmpdir(), 'pallas-swdpdk-'));
afterAll(() => {
  for (const p of procs) if (p.exitCode === null) p.kill('SIGKILL');
  pair?.remove();
  rmSync(tmp, { recursive: true, force: true });
});

function start(args: string[]): Promise<{ child: ChildProcess; lines: string[] }> {
  const child = spawn(args[0]!, args.slice(1), { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, PALLAS_LOG: 'warn' } });
  procs.push(child);
  const lines: string[] = [];
  let err = '';
  child.stderr!.on('data', (d) => {
    err += d;
  });
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`no ready line: ${err.slice(-800)}`)), 60_000);
    child.stdout!.on('data', (d: Buffer) => {
      lines.push(...d.toString().split('\n').filter(Boolean));
      if (lines.some((l) => l.includes('"ready"'))) {
        clearTimeout(t);
        resolve({ child, lines });
      }
    });
    child.on('exit', (code) => {
      clearTimeout(t);
      reject(new Error(`exited ${code}: ${err.slice(-800)}`));
    });
  });
}

describe.runIf(ready)('software switch over DPDK', () => {
  it('shapes requests onto their groups and answers every one through the switch', async () => {
    pair = createVethPair('sw');
    const p = pair;
    for (const [i, port] of [
      [0, 9101],
      [1, 9102],
    ] as const) {
      await start([
        'ip',
        'netns',
        'exec',
        p.nsB,
        process.execPath,
        cli,
        'server',
        '--bind',
        p.ipB,
        '--port',
        String(port),
        '--server-id',
        String(i),
        '--workers',
        '1',
        '--json',
      ]);
    }
    const cfg = join(tmp, 'switch.json');
    writeFileSync(
      cfg,
      JSON.stringify({
        policy: 'pallas',
        transport: { kind: 'dpdk', device: `net_af_packet0,iface=${p.ifA},framecnt=8192`, ip: p.ipA, udpPort: 9010 },
        servers: [`${p.ipB}:9101@${p.macB}`, { ip: p.ipB, port: 9102, mac: p.macB }],
        tables: {
          typeToGroup: { short: 0, long: 1 },
          clone: false,
          groups: [{ wrr: [{ server: 0, weight: 1 }] }, { cloneTarget: null, wrr: [{ server: 1, weight: 1 }] }],
        },
      }),
    );
    const sw = await start(['ip', 'netns', 'exec', p.nsA, process.execPath, cli, 'switch', '--config', cfg, '--json']);
    // af_packet needs a moment after the port starts before frames flow.
    await new Promise((r) => setTimeout(r, 1000));
    const reqs = Array.from({ length: 40 }, (_, i) =>
      encode({ type: i % 4 === 0 ? Type.LONG : Type.SHORT, reqId: i + 1 }, spinPayload(2000)),
    );
    const input = JSON.stringify({
      host: p.ipA,
      port: 9010,
      datagrams: reqs.map((r) => Buffer.from(r).toString('hex')),
      timeoutMs: 30_000,
    });
    const out = execFileSync('ip', ['netns', 'exec', p.nsB, process.execPath, join(__dirname, '..', 'helpers', 'netns-sender.mjs')], {
      input,
      encoding: 'utf8',
      timeout: 90_000,
    });
    const replies = (JSON.parse(out) as { replies: string[] }).replies.map(
      (h) => (decode(Uint8Array.from(Buffer.from(h, 'hex'))) as { header: Header }).header,
    );
    expect(replies).toHaveLength(40);
    expect(new Set(replies.map((r) => r.reqId)).size).toBe(40);
    for (const r of replies) {
      expect(r.flags & (Flag.RESPONSE | Flag.DROP_NOTICE)).toBe(Flag.RESPONSE);
      expect(r.server).toBe(r.type === Type.LONG ? 1 : 0);
      expect(r.group).toBe(r.type === Type.LONG ? 1 : 0);
    }
    sw.child.kill('SIGTERM');
    await new Promise((r) => sw.child.once('exit', r));
    const stats = JSON.parse(sw.lines.find((l) => l.includes('"stats"'))!) as {
      stats: { switch: Record<string, number>; transport: Record<string, number> };
    };
    expect(stats.stats.switch.n_fwd_replies).toBe(40);
    expect(stats.stats.switch.n_reply_no_client).toBe(0);
  });
});
