// The pump's three modes over an in-memory link, its CPU pinning, and (with DPDK) tx-only and
// rx-only on net_null: what bench io measures, checked for what it counts rather than how fast.
import { execFileSync } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

import { pump, type PumpResult } from '../../lib/io/pump.js';
import { MemLink } from '../../lib/io/transport.js';
import { loadNative } from '../../lib/native.js';
import { decode } from '../../lib/wire/codec.js';

const DST = { ip: '127.0.0.2', port: 2 };
const child = join(__dirname, '..', '..', 'dist', 'bench', 'io', 'dpdk-child.js');

describe('pump', () => {
  it('rx-only takes exactly what tx-only put on the link, pinned to a CPU', async () => {
    const link = new MemLink(1024);
    const tx = await pump({ transport: { kind: 'mem', link, side: 0 }, dst: DST, mode: 'tx-only', durationMs: 50, core: 0 });
    expect(tx.pinned).toBe(true);
    expect(tx.sent).toBe(1024); // the link holds 1024, the rest is refused
    const rx = await pump({ transport: { kind: 'mem', link, side: 1 }, dst: DST, mode: 'rx-only', durationMs: 50 });
    expect(rx.pinned).toBe(false);
    expect(rx.sent).toBe(0);
    expect(rx.received).toBe(1024);
    expect(rx.rxDropped).toBe(0);
    expect(rx.pps).toBeCloseTo(1024 / (rx.elapsedNs / 1e9), 0);
  });

  it('sends valid requests of its type, numbered from 0 up', async () => {
    const sock = createSocket('udp4');
    await new Promise<void>((r) => sock.bind(0, '127.0.0.1', () => r()));
    const got: Uint8Array[] = [];
    sock.on('message', (m) => {
      if (got.length < 200) got.push(new Uint8Array(m));
    });
    try {
      await pump({
        transport: { kind: 'udp', port: 0 },
        dst: { ip: '127.0.0.1', port: sock.address().port },
        mode: 'tx-only',
        durationMs: 50,
        type: 2,
      });
      await new Promise((r) => setTimeout(r, 100));
    } finally {
      sock.close();
    }
    expect(got.length).toBeGreaterThan(50);
    const ids = got.map((d) => {
      const h = decode(d);
      expect(h.reason).toBe('ok');
      if (h.reason !== 'ok') return -1;
      expect(h.header.type).toBe(2);
      expect(h.header.flags).toBe(0);
      return h.header.reqId;
    });
    expect(ids[0]).toBe(0);
    for (let i = 1; i < ids.length; i++) expect(ids[i]!).toBeGreaterThan(ids[i - 1]!); // the kernel may drop some, never reorder
  });

  it('rejects an unknown mode and a bad core', async () => {
    const link = new MemLink(16);
    await expect(pump({ transport: { kind: 'mem', link, side: 0 }, dst: DST, mode: 'sideways' as never })).rejects.toThrow(/mode/);
    await expect(pump({ transport: { kind: 'mem', link, side: 0 }, dst: DST, core: -1 })).rejects.toThrow(/core/);
  });

  const dpdk = loadNative().buildInfo().features.dpdk && existsSync(child);
  it.skipIf(!dpdk)('tx-only and rx-only on net_null count what the port took', () => {
    const run = (mode: string): PumpResult =>
      JSON.parse(
        execFileSync(
          process.execPath,
          [child, JSON.stringify({ vdev: 'net_null0', durationMs: 200, dstIp: '198.18.0.2', dstMac: '02:00:00:00:00:02', mode })],
          {
            encoding: 'utf8',
            timeout: 60_000,
          },
        )
          .trim()
          .split('\n')
          .pop()!,
      ) as PumpResult;
    const tx = run('tx-only');
    expect(tx.pinned).toBe(true);
    expect(tx.sent).toBeGreaterThan(100_000);
    // net_null's frames are zeros: not IPv4, so every one is taken and dropped by the parser.
    const rx = run('rx-only');
    expect(rx.received).toBe(0);
    expect(rx.rxDropped).toBeGreaterThan(100_000);
    expect(rx.pps).toBeGreaterThan(0);
  });
});
