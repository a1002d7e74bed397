// Echo over kernel UDP on loopback: every request of every type comes back as its reply, and
// malformed datagrams are counted by reason.
import { afterAll, describe, expect, it } from 'vitest';

import { EchoServer } from '../../lib/io/echo.js';
import { Flag } from '../../lib/wire/gen.js';
import { exchange } from '../helpers/udp-peer.js';
import { malformed, requestsOfEveryType } from '../helpers/requests.js';

const PER_TYPE = 500;

describe('echo over kernel UDP (loopback)', () => {
  const echo = new EchoServer({ transport: { kind: 'udp', bindIp: '127.0.0.1', port: 0 }, serverId: 9 }).start();
  afterAll(() => echo.stop());

  it(`answers ${PER_TYPE} requests of every type and counts malformed datagrams by reason`, async () => {
    const reqs = requestsOfEveryType(PER_TYPE);
    const bad = malformed();
    const { port } = echo.local();
    const res = await exchange(
      '127.0.0.1',
      port,
      reqs.map((r) => r.bytes),
      bad.map((b) => b.bytes),
    );
    expect(res.replies.size, JSON.stringify(echo.counters())).toBe(reqs.length);
    for (const r of reqs) {
      const reply = res.replies.get(r.reqId)!;
      expect(reply.header.type).toBe(r.type);
      expect(reply.header.flags & Flag.RESPONSE).toBe(Flag.RESPONSE);
      expect(reply.header.server).toBe(9);
      expect(reply.header.index).toBe(r.reqId * 7);
      expect(reply.header.sendTs).toBe(r.reqId * 13);
      expect(reply.payload).toEqual(r.bytes.subarray(22));
    }
    const c = echo.counters();
    expect(c.n_replied).toBe(reqs.length);
    expect(c.n_rx).toBe(reqs.length + bad.length);
    for (const b of bad) expect(c[b.counter], b.counter).toBe(1);
    expect(res.invalid).toBe(0);
  });

  it('stop() is idempotent and joins the thread', () => {
    const e = new EchoServer({ transport: { kind: 'udp', port: 0 } }).start();
    e.stop();
    e.stop();
    expect(e.running).toBe(false);
  });
});
