// The server runtime with real threads over kernel UDP on loopback: the scheduling behaviours the
// paper relies on (DARC reservations, clone drops, bouncing at a policy epoch), bad input, overload
// and the Server lifecycle. Timing margins are wide (tens of ms against µs of work), and every
// assertion is about order or counts, never about how fast this machine is.
import { afterEach, describe, expect, it } from 'vitest';

import { PallasError } from '../../lib/errors.js';
import { Server } from '../../lib/runtime/server.js';
import type { ServerConfig } from '../../lib/runtime/config.js';
import type { RuntimeStats } from '../../lib/runtime/stats.js';
import { encode, spinPayload } from '../../lib/wire/codec.js';
import { DROP_CAUSES } from '../../lib/wire/gen.js';
import { Clone, Flag, Type, UdpClient } from '../helpers/udp-client.js';
import { waitFor } from '../helpers/wait.js';

const MS = 1_000_000;
let open: { server?: Server; client?: UdpClient }[] = [];

async function rig(cfg: ServerConfig): Promise<{ server: Server; client: UdpClient }> {
  const server = await new Server({ transport: { kind: 'udp', port: 0 }, ...cfg }).start();
  const client = await UdpClient.open('127.0.0.1', server.local().port);
  open.push({ server, client });
  return { server, client };
}

afterEach(() => {
  for (const o of open) {
    o.client?.close();
    o.server?.stop();
  }
  open = [];
});

/** Quiescent (nothing running): every valid request the server took ended as exactly one outcome. */
function accounted(st: RuntimeStats): void {
  expect(st.server.in_service).toBe(0);
  for (const [name, t] of Object.entries(st.types)) {
    expect(t.received, name).toBe(t.completed + t.dropFull + t.dropClone + t.dropOther + t.bounced + t.queued);
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('runtime over UDP loopback', () => {
  it('DARC: a short request never waits behind a long one on a reserved core; cFCFS makes it wait', async () => {
    const run = async (policy: ServerConfig['policy']) => {
      const { server, client } = await rig({ workers: 2, policy });
      const longs = [];
      for (let i = 0; i < 3; i++) longs.push(await client.spin(Type.LONG, 100 * MS));
      await sleep(5);
      const shorts = [];
      for (let i = 0; i < 20; i++) shorts.push(await client.spin(Type.SHORT, 10_000));
      await client.until((g) => g.length === 23, 15_000);
      const st = server.stats();
      server.stop();
      const at = (id: number) => client.byId(id)!.atMs;
      return { st, lastShort: Math.max(...shorts.map(at)), longDone: longs.map(at).sort((a, b) => a - b) };
    };
    const darc = await run({
      kind: 'darc',
      darc: {
        groups: [
          { types: ['SHORT'], workers: 1 },
          { types: ['LONG'], workers: 1 },
        ],
      },
    });
    // The short core is never given a long request, so the shorts are all done long before the
    // second long request (queued behind the first on the long core) finishes.
    expect(darc.lastShort).toBeLessThan(darc.longDone[1]!);
    // Worker 0 is reserved for SHORT: it never ran a LONG (each would have kept it busy for
    // 100 ms), while worker 1 ran all three. (Worker 1 may also run shorts when it frees up while
    // shorts are queued: DARC lets short requests steal, never the reverse.)
    expect(darc.st.workers[0]!.busyNs).toBeLessThan(100 * MS);
    expect(darc.st.workers[1]!.busyNs).toBeGreaterThanOrEqual(300 * MS);
    expect(darc.st.types.long!.waitNsMax).toBeGreaterThan(90 * MS);
    expect(darc.st.reservation).toEqual({
      groups: [
        { types: ['short'], workers: [0], demand: 0 },
        { types: ['long'], workers: [1], demand: 0 },
      ],
    });
    expect(darc.st.types.short!.group).toBe(0);
    accounted(darc.st);
    const fcfs = await run({ kind: 'cfcfs' });
    expect(fcfs.st.reservation).toBeNull();
    // Under cFCFS the third long request takes the first free core and the shorts wait for one.
    expect(fcfs.st.types.short!.waitNsMax).toBeGreaterThan(90 * MS);
  });

  it('DARC with its own profiling (RS-DARC): runs as cFCFS until it has the samples, then reserves and keeps shorts off the long core', async () => {
    const { server, client } = await rig({ workers: 2, policy: { kind: 'darc', darc: { profileSamples: 40 } } });
    // Profile: 30 shorts of 10 µs and 10 longs of 2 ms, one at a time.
    for (let i = 0; i < 40; i++) {
      const id = await client.spin(i % 4 === 3 ? Type.LONG : Type.SHORT, i % 4 === 3 ? 2 * MS : 10_000);
      if (i === 0) {
        await client.until((g) => g.some((x) => x.header.reqId === id));
        expect(server.stats().reservation).toBeNull();
      }
    }
    await client.until((g) => g.length === 40);
    await waitFor(() => server.stats().reservation !== null, 'a reservation');
    const st0 = server.stats();
    // Demand (mean x share): short 10 µs x 0.75 against long 2 ms x 0.25, on 2 workers: the short
    // group gets the 1 core a group under one core's demand gets, and the long group the rest.
    expect(st0.reservation!.groups.map((g) => [g.types, g.workers])).toEqual([
      [['short'], [0]],
      [['long'], [1]],
    ]);
    expect(st0.types.short!.demand).toBeGreaterThan(0);
    expect(st0.types.short!.demand).toBeLessThan(0.1);
    expect(st0.types.long!.demand).toBeGreaterThan(1.9);
    // Reserved: a burst of long requests stays on worker 1; the shorts behind it never wait for it.
    const busy0 = st0.workers[0]!.busyNs;
    const longs = [];
    for (let i = 0; i < 3; i++) longs.push(await client.spin(Type.LONG, 100 * MS));
    await sleep(5);
    const shorts = [];
    for (let i = 0; i < 10; i++) shorts.push(await client.spin(Type.SHORT, 10_000));
    await client.until((g) => g.length === 53, 15_000);
    const st = server.stats();
    expect(st.workers[0]!.busyNs - busy0).toBeLessThan(100 * MS);
    const at = (id: number) => client.byId(id)!.atMs;
    expect(Math.max(...shorts.map(at))).toBeLessThan(longs.map(at).sort((a, b) => a - b)[1]!);
    accounted(st);
  });

  it('drops a clone when no worker is idle (notice CLONE_BUSY) and serves it when one is', async () => {
    const { server, client } = await rig({ workers: 1 });
    const long = await client.spin(Type.LONG, 100 * MS);
    await waitFor(() => server.stats().server.in_service === 1, 'the long request running');
    const busyClone = await client.spin(Type.SHORT, 1000, Clone.CLONE);
    const plain = await client.spin(Type.SHORT, 1000); // not a clone: queued, served later
    await client.until((g) => g.some((x) => x.header.reqId === busyClone));
    const n = client.byId(busyClone)!;
    expect(n.header.flags & Flag.DROP_NOTICE).toBe(Flag.DROP_NOTICE);
    expect(n.payload[0]).toBe(DROP_CAUSES.CLONE_BUSY);
    await client.until((g) => g.some((x) => x.header.reqId === plain));
    expect(client.byId(long)!.header.flags & Flag.DROP_NOTICE).toBe(0);
    const idleClone = await client.spin(Type.SHORT, 1000, Clone.CLONE);
    await client.until((g) => g.some((x) => x.header.reqId === idleClone));
    const r = client.byId(idleClone)!;
    expect(r.header.flags & (Flag.RESPONSE | Flag.DROP_NOTICE)).toBe(Flag.RESPONSE);
    expect(r.header.flags & 3).toBe(Clone.CLONE); // the switch's reply filter needs the clone state
    const st = server.stats();
    expect(st.server.n_drop_clone).toBe(1);
    expect(st.types.short!.dropClone).toBe(1);
    expect(st.types.short!.completed).toBe(2);
    accounted(st);
  });

  it('a policy epoch bounces exactly the queued requests of the longer types, once', async () => {
    const { server, client } = await rig({ workers: 2 });
    const running = [await client.spin(Type.LONG, 200 * MS), await client.spin(Type.LONG, 200 * MS)];
    await waitFor(() => server.stats().server.in_service === 2, 'two running requests');
    const longer = [];
    const shorter = [];
    for (let i = 0; i < 5; i++) {
      longer.push(await client.spin(Type.LONG, 1000));
      if (i % 2 === 0) shorter.push(await client.spin(Type.SHORT, 1000));
    }
    longer.push(await client.spin(Type.MEDIUM, 1000));
    await waitFor(() => server.stats().server.queued === 9, '9 queued requests');
    expect(server.stats().server.in_service).toBe(2);
    // From this epoch the server serves SHORT only: queued requests of the longer types go back to
    // the switch, but only once a shorter request arrives (epoch.hpp); queued SHORTs stay.
    const epoch = server.applyPolicy({ kind: 'cfcfs', served: ['SHORT'], meanNs: { SHORT: 1000, MEDIUM: 10_000, LONG: 60 * MS } });
    expect(server.stats().epoch).toBe(epoch);
    await sleep(10);
    expect(client.bounced()).toHaveLength(0);
    expect(server.stats().server.queued).toBe(9);
    const trigger = await client.spin(Type.SHORT, 1000);
    await client.until((g) => g.filter((x) => x.header.flags & Flag.BOUNCED).length === 6, 5000, 'bounces');
    const b = client.bounced();
    expect(b.map((x) => x.header.reqId).sort((x, y) => x - y)).toEqual(longer);
    for (const x of b) expect(x.header.flags & Flag.RESPONSE).toBe(0);
    // A bounced request that comes back (re-scheduled by the switch onto this server) is never
    // bounced again, even by a later shorter arrival.
    await client.raw(encode({ type: Type.LONG, reqId: 999, index: 999, flags: Flag.BOUNCED }, spinPayload(1000)));
    const later = await client.spin(Type.SHORT, 1000);
    const answered = [...running, ...shorter, trigger, 999, later];
    await client.until((g) => answered.every((id) => g.some((x) => x.header.reqId === id && x.header.flags & Flag.RESPONSE)), 10_000);
    await sleep(20);
    const st = server.stats();
    expect(st.server.n_bounced).toBe(6);
    expect(client.bounced()).toHaveLength(6);
    for (const id of answered) expect(client.byId(id)!.header.flags & Flag.DROP_NOTICE).toBe(0);
    accounted(st);
  });

  it('counts malformed datagrams, replies and unknown types without crashing, and refuses types it has no handler for', async () => {
    const { server, client } = await rig({ workers: 1, handlers: { EXP: 'none' } });
    const bad: [Uint8Array, string][] = [
      [new Uint8Array(3), 'too_short'],
      [encode({ type: 1 }, spinPayload(1)).map((x, i) => (i === 0 ? 0x51 : x)), 'bad_magic'],
      [encode({ type: 1, flags: 3 }, spinPayload(1)), 'bad_flags'],
      [encode({ type: 200 }), 'unknown_type'],
      [encode({ type: Type.GET }, new Uint8Array(2)), 'bad_payload'],
    ];
    for (const [b] of bad) await client.raw(b);
    // Over the datagram limit (1472 bytes), by one byte and by more than the transport's buffer:
    // received and counted too long alike.
    for (const n of [1473, 1500, 9000]) await client.raw(new Uint8Array(n).fill(0xa1));
    await client.raw(encode({ type: 1, flags: Flag.RESPONSE }, spinPayload(1)));
    // Random junk: whatever it is, it is counted.
    let seed = 7;
    const rnd = () => ((seed = (seed * 1103515245 + 12345) >>> 0) >>> 16) & 0xff;
    for (let i = 0; i < 500; i++) await client.raw(Uint8Array.from({ length: 1 + (rnd() % 60) }, rnd));
    const noHandler = await client.spin(Type.EXP, 1000);
    const ok = await client.spin(Type.SHORT, 1000);
    await client.until((g) => g.some((x) => x.header.reqId === ok) && g.some((x) => x.header.reqId === noHandler));
    await sleep(50);
    const st = server.stats();
    for (const [, why] of bad) expect(st.invalid[why], why).toBeGreaterThanOrEqual(1);
    expect(st.server.n_unexpected_reply).toBeGreaterThanOrEqual(1);
    expect(st.invalid.too_long).toBe(3);
    expect(st.transport.n_rx_drop_bad_length).toBe(0);
    const invalid = Object.values(st.invalid).reduce((a, b) => a + b, 0);
    expect(st.server.n_rx).toBe(bad.length + 3 + 1 + 500 + 2);
    expect(invalid + st.server.n_unexpected_reply! + st.server.n_no_handler! + st.types.short!.received).toBe(st.server.n_rx);
    expect(client.byId(noHandler)!.payload[0]).toBe(DROP_CAUSES.NO_HANDLER);
    expect(st.types.exp).toBeUndefined();
    expect(server.running).toBe(true);
  });

  it('at 2x capacity stays up, keeps queues bounded, and answers or counts every request', async () => {
    const cap = 32;
    const { server, client } = await rig({ workers: 1, policy: { kind: 'cfcfs', queueCapacity: cap } });
    // One worker at 200 µs per request serves 5000/s; offer 10 000/s for 300 ms.
    const sent: number[] = [];
    let maxQueued = 0;
    const t0 = performance.now();
    for (let k = 0; k < 60; k++) {
      for (let i = 0; i < 50; i++) sent.push(await client.spin(Type.SHORT, 200_000));
      maxQueued = Math.max(maxQueued, server.stats().server.queued!);
      const next = t0 + (k + 1) * 5;
      if (performance.now() < next) await sleep(next - performance.now());
    }
    await client.until((g) => g.length >= sent.length, 20_000);
    const st = server.stats();
    expect(server.running).toBe(true);
    expect(maxQueued).toBeLessThanOrEqual(cap);
    const t = st.types.short!;
    expect(t.received).toBe(sent.length);
    expect(t.dropFull).toBeGreaterThan(0);
    expect(t.completed + t.dropFull).toBe(sent.length);
    expect(client.replies().length).toBe(t.completed);
    expect(client.notices().length).toBe(t.dropFull);
    expect(new Set(client.got.map((g) => g.header.reqId)).size).toBe(sent.length);
    for (const n of client.notices()) expect(n.payload[0]).toBe(DROP_CAUSES.QUEUE_FULL);
    expect(st.server.n_tx_failed).toBe(0);
  });
});

describe('Server lifecycle and bad input', () => {
  it('start and stop are idempotent; a stopped server cannot restart; stats stay readable', async () => {
    const s = new Server({ transport: { kind: 'udp', port: 0 } });
    expect(() => s.stats()).toThrow(PallasError);
    await s.start();
    await s.start();
    expect(s.running).toBe(true);
    s.stop();
    s.stop();
    expect(s.stats().server.n_rx).toBe(0);
    await expect(s.start()).rejects.toMatchObject({ code: 'STOPPED' });
  });

  it('stop answers the running and the queued requests with SHUTDOWN notices', async () => {
    const { server, client } = await rig({ workers: 1 });
    const ids = [await client.spin(Type.LONG, 2000 * MS), await client.spin(Type.SHORT, 1000), await client.spin(Type.SHORT, 1000)];
    await waitFor(() => server.stats().server.queued === 2, 'two queued requests');
    const t0 = Date.now();
    server.stop();
    expect(Date.now() - t0).toBeLessThan(1500); // the 2 s spin was cut short
    await client.until((g) => ids.every((id) => g.some((x) => x.header.reqId === id)), 5000);
    for (const id of ids) expect(client.byId(id)!.payload[0]).toBe(DROP_CAUSES.SHUTDOWN);
    const st = server.stats();
    expect(st.server.n_drop_shutdown).toBe(3);
    expect(st.server.queued! + st.server.in_service!).toBe(0);
    accounted(st);
  });

  it('rejects bad configs with the field named, and a bad policy changes nothing', async () => {
    const bad = (cfg: unknown, re: RegExp) => expect(() => new Server(cfg as ServerConfig)).toThrow(re);
    bad({ workers: 0 }, /server.workers: must be an integer/);
    bad({ wait: 'spin' }, /server.wait: must be one of/);
    bad({ handlers: { NOPE: 'spin' } }, /not a request type/);
    bad({ handlers: { GET: 'rocksdb' } }, /rocksdb needs `kv`/);
    bad({ handlers: { GET: 'spin' } }, /spin needs a spin_ns payload/);
    bad({ workers: 2, cores: [0] }, /one CPU per worker/);
    bad(
      { workers: 2, policy: { kind: 'darc', darc: { groups: [{ types: ['SHORT'], workers: 1 }] } } },
      /reserve 1 workers in all; the server has 2/,
    );
    bad({ policy: { kind: 'ps' } }, /policy.kind: must be one of: cfcfs, darc/);
    bad({ surprise: 1 }, /server.surprise: unknown field/);
    const { server } = await rig({ workers: 2 });
    expect(() => server.applyPolicy({ kind: 'darc', darc: { groups: [{ types: ['SHORT', 'SHORT'], workers: 2 }] } })).toThrow(
      /in two groups/,
    );
    expect(() => server.applyPolicy({ kind: 'cfcfs', served: ['SHORT'] })).toThrow(/served and meanNs go together/);
    expect(() => server.applyPolicy({ kind: 'cfcfs', nonsense: true } as never)).toThrow(/unknown field/);
    const st = server.stats();
    expect(st.epoch).toBe(0);
    expect(st.server.n_policies).toBe(0);
    expect(st.policy).toBe('cfcfs');
    server.applyPolicy({
      kind: 'darc',
      darc: {
        groups: [
          { types: ['SHORT'], workers: 1 },
          { types: ['LONG'], workers: 1 },
        ],
      },
    });
    expect(server.stats().policy).toBe('darc');
    expect(server.stats().epoch).toBe(1);
  });

  it('pinning to a CPU that does not exist is a PIN error, and nothing keeps running', async () => {
    const s = new Server({ transport: { kind: 'udp', port: 0 }, workers: 1, cores: [4000] });
    await expect(s.start()).rejects.toMatchObject({ code: 'PIN' });
    expect(s.running).toBe(false);
  });
});
