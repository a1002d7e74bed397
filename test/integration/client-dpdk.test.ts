// The load generator over DPDK (net_af_packet on a veth pair): `pallas client` in one namespace on
// DPDK, a `pallas server` in the other on kernel UDP. Every scheduled request is sent and answered,
// the books balance, and the latency includes the server's real spin.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

import type { EncodedReport } from '../../lib/client/merge.js';
import { createVethPair, type VethPair } from '../../lib/util/netns.js';
import { checkPrereqs, dpdkNetnsPrereqs, need } from '../helpers/prereq.js';

const root = join(__dirname, '..', '..');
const cli = join(root, 'dist', 'lib', 'cli', 'main.js');
const ready = checkPrereqs('load generator over DPDK', [need(existsSync(cli), 'the compiled CLI (npm run build)'), ...dpdkNetnsPrereqs()]);

const procs: ChildProcess[] = [];
let pair: VethPair | undefined;
const tmp = mkdtempSync(join(tmpdir(), 'pallas-clidpdk-'));
afterAll(() => {
  for (const p of procs) if (p.exitCode === null) p.kill('SIGKILL');
  pair?.remove();
  rmSync(tmp, { recursive: true, force: true });
});

/** Runs a command to its end; its stdout lines. */
function run(args: string[], ms: number): Promise<{ code: number | null; lines: string[]; err: string }> {
  const child = spawn(args[0]!, args.slice(1), { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, PALLAS_LOG: 'warn' } });
  procs.push(child);
  let out = '',
    err = '';
  child.stdout!.on('data', (d) => {
    out += d;
  });
  child.stderr!.on('data', (d) => {
    err += d;
  });
  const t = setTimeout(() => child.kill('SIGKILL'), ms);
  return new Promise((resolve) =>
    child.on('exit', (code) => {
      clearTimeout(t);
      resolve({ code, lines: out.split('\n').filter(Boolean), err });
    }),
  );
}

describe.runIf(ready)('load generator over DPDK', () => {
  it('sends every request on its schedule through DPDK and gets every answer from a kernel-UDP server', async () => {
    pair = createVethPair('cl');
    const p = pair;
    const server = spawn(
      'ip',
      ['netns', 'exec', p.nsB, process.execPath, cli, 'server', '--bind', p.ipB, '--port', '9101', '--workers', '1', '--json'],
      { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, PALLAS_LOG: 'warn' } },
    );
    procs.push(server);
    let serverOut = '';
    server.stdout!.on('data', (d) => {
      serverOut += d;
    });
    await new Promise<void>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error('no ready line from the server')), 30_000);
      server.stdout!.on('data', () => {
        if (serverOut.includes('"ready"')) {
          clearTimeout(t);
          resolve();
        }
      });
    });
    const cfg = join(tmp, 'client.json');
    writeFileSync(
      cfg,
      JSON.stringify({
        transport: { kind: 'dpdk', device: `net_af_packet0,iface=${p.ifA},framecnt=8192`, ip: p.ipA, udpPort: 9000, peerMac: p.macB },
        dst: `${p.ipB}:9101@${p.macB}`,
        types: [
          { type: 'short', share: 9, service: { meanUs: 20 } },
          { type: 'long', share: 1, service: { meanUs: 200 } },
        ],
        phases: [{ durationMs: 2000, rateRps: 1000 }],
        warmupMs: 200,
        timeoutMs: 2000,
        seed: 7,
        // af_packet needs a moment after the port starts before frames flow: the schedule starts later.
        startAt: Date.now() + 3000,
      }),
    );
    const r = await run(['ip', 'netns', 'exec', p.nsA, process.execPath, cli, 'client', '--config', cfg, '--json'], 90_000);
    expect(r.code, r.err).toBe(0);
    const rep = JSON.parse(r.lines[r.lines.length - 1]!) as EncodedReport;
    expect(rep.scheduled).toBeGreaterThan(1800);
    expect(rep.sent).toBe(rep.scheduled);
    expect(rep.replies).toBe(rep.sent);
    expect(rep.timeouts + rep.drops + rep.neverSent + rep.invalid + rep.unexpected + rep.duplicates).toBe(0);
    // The server's spin is in the replies and in the latency.
    expect(rep.perType.long!.execMeanUs).toBeGreaterThan(150);
    expect(rep.perType.short!.execMeanUs).toBeGreaterThan(15);
    expect(rep.perType.long!.p50Us).toBeGreaterThan(rep.perType.long!.execMeanUs);
    server.kill('SIGINT');
    await new Promise((res) => server.once('exit', res));
    // The server counted what the client sent.
    const stats = JSON.parse(
      serverOut
        .split('\n')
        .filter((l) => l.includes('"stats"'))
        .pop()!,
    ) as { stats: { types: Record<string, { received: number }> } };
    expect(stats.stats.types.short!.received + stats.stats.types.long!.received).toBe(rep.sent);
    expect(stats.stats.types.short!.received).toBe(rep.perType.short!.sent);
  });
});
