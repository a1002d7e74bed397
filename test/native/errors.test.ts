// Bad configs and unavailable resources give typed PallasErrors with stable codes, never crashes.
import { createSocket } from 'node:dgram';
import { describe, expect, it } from 'vitest';

import { PallasError } from '../../lib/errors.js';
import { EchoServer } from '../../lib/io/echo.js';
import { pump } from '../../lib/io/pump.js';
import { MemLink } from '../../lib/io/transport.js';

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(PallasError);
    return (e as PallasError).code;
  }
  return undefined;
}

describe('typed errors', () => {
  it.each([
    [{ transport: { kind: 'tcp' } }, /transport.kind: must be one of/],
    [{ transport: { kind: 'udp', bindIp: '300.1.1.1' } }, /bindIp: '300.1.1.1' is not an IPv4/],
    [{ transport: { kind: 'udp', port: 70000 } }, /port: must be an integer/],
    [{ transport: { kind: 'udp', prot: 1 } }, /prot: unknown field/],
    [{ transport: { kind: 'dpdk', device: 'net_null0', ip: '1.2.3.4', peerMac: 'zz' } }, /peerMac: 'zz' is not a MAC/],
    [{ transport: { kind: 'mem', link: {}, side: 0 } }, /link: must be a MemLink/],
    [{ transport: { kind: 'udp' }, serverId: 256 }, /serverId: must be an integer/],
  ])('rejects a bad config with BAD_CONFIG: %j', (cfg, msg) => {
    expect(() => new EchoServer(cfg as never)).toThrow(msg);
    expect(codeOf(() => new EchoServer(cfg as never))).toBe('BAD_CONFIG');
  });

  it('a port in use is SOCKET, naming the port', async () => {
    const s = createSocket('udp4');
    await new Promise<void>((r) => s.bind(0, '127.0.0.1', () => r()));
    const port = s.address().port;
    expect(() => new EchoServer({ transport: { kind: 'udp', port } })).toThrow(new RegExp(`127.0.0.1:${port}.*in use`, 's'));
    expect(codeOf(() => new EchoServer({ transport: { kind: 'udp', port } }))).toBe('SOCKET');
    s.close();
  });

  it('each side of a MemLink is used once', () => {
    const link = new MemLink(16);
    new EchoServer({ transport: { kind: 'mem', link, side: 1 } });
    expect(codeOf(() => new EchoServer({ transport: { kind: 'mem', link, side: 1 } }))).toBe('BAD_CONFIG');
  });

  it('a pump over a MemLink moves replies from an echo on the other side', async () => {
    const link = new MemLink(256);
    const echo = new EchoServer({ transport: { kind: 'mem', link, side: 1 } }).start();
    const r = await pump({ transport: { kind: 'mem', link, side: 0 }, dst: { ip: '127.0.0.2', port: 2 }, durationMs: 100 });
    echo.stop();
    expect(r.received).toBeGreaterThan(1000);
    expect(echo.counters().n_replied).toBeGreaterThanOrEqual(r.received);
  });
});
