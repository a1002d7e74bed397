// The software switch with real server runtimes, over kernel UDP on loopback: shaping by the
// generated policy and WRR shares, baselines' switches, bad input. Every assertion is about where
// requests went and what was counted, never about speed.
import { afterEach, describe, expect, it } from 'vitest';

import { generate, type Plan, type SwitchTables } from '../../lib/control/policy.js';
import { Server } from '../../lib/runtime/server.js';
import { SoftSwitch, type SoftSwitchConfig } from '../../lib/switch/soft.js';
import { diffTables } from '../../lib/switch/tables.js';
import { encode, spinPayload } from '../../lib/wire/codec.js';
import { Flag, Type, UdpClient } from '../helpers/udp-client.js';
import { waitFor } from '../helpers/wait.js';

let cleanup: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanup.reverse()) c();
  cleanup = [];
});

async function servers(n: number, workers: (i: number) => number): Promise<Server[]> {
  const out: Server[] = [];
  for (let i = 0; i < n; i++) {
    const s = await new Server({ serverId: i, workers: workers(i), transport: { kind: 'udp', port: 0 } }).start();
    cleanup.push(() => s.stop());
    out.push(s);
  }
  return out;
}

async function rack(cfg: Omit<SoftSwitchConfig, 'servers' | 'transport'>, srv: Server[]): Promise<{ sw: SoftSwitch; client: UdpClient }> {
  const sw = new SoftSwitch({
    ...cfg,
    transport: { kind: 'udp', port: 0 },
    servers: srv.map((s) => ({ ip: '127.0.0.1', port: s.local().port })),
  }).start();
  cleanup.push(() => sw.stop());
  const client = await UdpClient.open('127.0.0.1', sw.local().port);
  cleanup.push(() => client.close());
  return { sw, client };
}

const CORES = [3, 2, 2, 1];

/**
 * The bimodal workload's plan for 4 servers of 3, 2, 2 and 1 cores, from the policy generator (2
 * groups): short on servers 0 (weight 3) and 1 (1), long on 1 (1), 2 (2) and 3 (1), so server 1
 * serves both groups under DARC.
 */
async function bimodalPlan(): Promise<Plan> {
  const types = [
    { type: Type.SHORT, name: 'short', meanNs: 10_000, share: 0.9 },
    { type: Type.LONG, name: 'long', meanNs: 100_000, share: 0.1 },
  ];
  const rackServers = CORES.map((cores, id) => ({ id, cores }));
  const { plan } = await generate(types, rackServers, async () => ({ p99Us: 1, saturated: false }), { groups: 2, clone: false });
  return plan;
}

describe('software switch over UDP loopback', () => {
  it('shapes the bimodal workload onto its groups per the generated policy, with WRR shares equal to the weights', async () => {
    const plan = await bimodalPlan();
    expect(plan.groups.map((g) => g.types)).toEqual([[Type.SHORT], [Type.LONG]]);
    expect(plan.servers.find((s) => s.server === 1)!.policy.kind).toBe('darc');
    const srv = await servers(4, (i) => CORES[i]!);
    for (const sp of plan.servers) srv[sp.server]!.applyPolicy(sp.policy);
    const { sw, client } = await rack({ policy: 'pallas', tables: plan.tables }, srv);
    const weights = plan.tables.groups.map((g) => new Map(g.wrr.map((e) => [e.server, e.weight])));
    const sum = (m: Map<number, number>) => [...m.values()].reduce((a, b) => a + b, 0);
    // Whole WRR rounds of each group, so that every server's share is exactly its weight.
    const nShort = sum(weights[0]!) * 6;
    const nLong = sum(weights[1]!) * 3;
    for (let i = 0; i < nShort + nLong; i++) await client.spin(i % 3 === 2 && i / 3 < nLong ? Type.LONG : Type.SHORT, 2_000);
    await client.until((g) => g.length === nShort + nLong, 15_000);
    expect(client.replies().length).toBe(nShort + nLong);
    for (const r of client.replies()) {
      const group = r.header.type === Type.SHORT ? 0 : 1;
      expect(r.header.group).toBe(group);
      expect(weights[group]!.has(r.header.server), `type ${r.header.type} served by ${r.header.server}`).toBe(true);
    }
    for (const [g, type, n] of [
      [0, 'short', nShort],
      [1, 'long', nLong],
    ] as const) {
      const rounds = n / sum(weights[g]!);
      for (const [server, w] of weights[g]!)
        expect(srv[server]!.stats().types[type]!.received, `server ${server} ${type}`).toBe(w * rounds);
    }
    const st = sw.stats();
    expect(st.switch.n_requests).toBe(nShort + nLong);
    expect(st.switch.n_fwd_replies).toBe(nShort + nLong);
    expect(st.switch.n_reply_no_client).toBe(0);
    // The monitor saw every request and every reply, once, with the servers' execution times
    // (cumulative registers: a read resets nothing).
    const mon = await sw.readMonitor();
    expect([mon.requests[Type.SHORT], mon.replies[Type.SHORT]]).toEqual([nShort, nShort]);
    expect([mon.requests[Type.LONG], mon.replies[Type.LONG]]).toEqual([nLong, nLong]);
    expect((mon.timeUnits[Type.SHORT]! * 16) / nShort).toBeGreaterThanOrEqual(2_000); // the mean execution time
    expect((await sw.readMonitor()).replies[Type.SHORT]).toBe(nShort);
    expect(sw.stats().types.short!.monMeanNs).toBeGreaterThanOrEqual(2_000);
    // The other registers: seq counted every request; each group's WRR counter is back at 0 after whole rounds.
    const reg = (await sw.readRegisters())!;
    expect(reg.seq).toBe(1 + nShort + nLong);
    expect(reg.wrrCounter.slice(0, 2)).toEqual([0, 0]);
    expect(reg.burstCount[0]).toBeGreaterThan(0);
    expect([reg.burstWindow[5], reg.burstCount[5]]).toEqual([0, 0]); // a group never used
  });

  it('writes tables as entry operations and swaps them between bursts; bad tables change nothing', async () => {
    const srv = await servers(2, () => 1);
    const { sw, client } = await rack({ policy: 'pallas' }, srv);
    const t1 = {
      typeToGroup: { [Type.SHORT]: 0, [Type.LONG]: 1 },
      defaultGroup: 0,
      tauShift: 14,
      clone: false,
      groups: [
        { cThres: 0, cloneTarget: null, balance: 'wrr' as const, wrr: [{ server: 0, weight: 1 }] },
        { cThres: 0, cloneTarget: null, balance: 'wrr' as const, wrr: [{ server: 1, weight: 1 }] },
      ],
    };
    const ops = await sw.writeTables(t1);
    expect(ops).toContainEqual({ op: 'add', table: 'type_to_group', type: Type.LONG, group: 1 });
    expect(ops).toContainEqual({ op: 'delete', table: 'wrr', group: 0, server: 1 });
    for (let i = 0; i < 4; i++) await client.spin(Type.LONG, 1000);
    await client.until((g) => g.length === 4);
    expect(client.replies().every((r) => r.header.server === 1)).toBe(true);
    // Long moves to server 0: one entry changes.
    const t2 = { ...t1, groups: [t1.groups[0]!, { ...t1.groups[1]!, wrr: [{ server: 0, weight: 1 }] }] };
    expect(diffTables(t1, t2)).toEqual([
      { op: 'add', table: 'wrr', group: 1, server: 0, weight: 1 },
      { op: 'delete', table: 'wrr', group: 1, server: 1 },
    ]);
    await sw.writeTables(t2);
    for (let i = 0; i < 4; i++) await client.spin(Type.LONG, 1000);
    await client.until((g) => g.length === 8);
    expect(
      client
        .replies()
        .slice(4)
        .every((r) => r.header.server === 0),
    ).toBe(true);
    // A WRR row naming a server the switch does not have, and a group that does not exist.
    await expect(
      sw.writeTables({ ...t2, groups: [{ cThres: 0, cloneTarget: null, balance: 'wrr', wrr: [{ server: 7, weight: 1 }] }] }),
    ).rejects.toMatchObject({ code: 'BAD_CONFIG' });
    await expect(sw.writeTables({ ...t2, typeToGroup: { [Type.SHORT]: 5 } })).rejects.toMatchObject({ code: 'BAD_CONFIG' });
    // The paper's ideal rules are simulator-only ablations: a switch refuses them.
    await expect(sw.writeTables({ ...t2, ablation: { argminTarget: true } })).rejects.toThrow(/simulator-only/);
    expect(sw.tables()).toEqual(t2);
    expect(sw.stats().switch.n_tables_loaded).toBe(2); // t1 and t2 (the defaults came with the switch)
  });

  it('re-schedules the requests a server bounces at a policy epoch with the new tables; each is answered once', async () => {
    const srv = await servers(2, () => 1);
    const t1 = {
      typeToGroup: { [Type.SHORT]: 0, [Type.LONG]: 1 },
      defaultGroup: 1,
      tauShift: 14,
      clone: false,
      groups: [
        { cThres: 0, cloneTarget: null, balance: 'wrr' as const, wrr: [{ server: 0, weight: 1 }] },
        { cThres: 0, cloneTarget: null, balance: 'wrr' as const, wrr: [{ server: 1, weight: 1 }] },
      ],
    };
    const { sw, client } = await rack({ policy: 'pallas', tables: t1 }, srv);
    // Server 1 runs a long request and has five more queued.
    const longs = [await client.spin(Type.LONG, 150_000_000)];
    for (let i = 0; i < 5; i++) longs.push(await client.spin(Type.LONG, 1000));
    await waitFor(() => srv[1]!.stats().server.queued === 5, 'five queued longs');
    // The plan changes: long moves to server 0, server 1 now serves short only (tables first, then the server).
    await sw.writeTables({
      ...t1,
      groups: [
        { ...t1.groups[0]!, wrr: [{ server: 1, weight: 1 }] },
        { ...t1.groups[1]!, wrr: [{ server: 0, weight: 1 }] },
      ],
    });
    srv[1]!.applyPolicy({ kind: 'cfcfs', served: ['short'], meanNs: { short: 1000, long: 1_000_000 } });
    const short = await client.spin(Type.SHORT, 1000); // its arrival at server 1 purges the longer queue
    // The five bounced longs, the running one, and the short (queued behind the running one).
    await client.until((g) => g.length === 7, 10_000);
    expect(client.byId(short)!.header.server).toBe(1);
    expect(client.byId(longs[0]!)!.header.server).toBe(1);
    for (const id of longs.slice(1)) {
      const r = client.byId(id)!;
      expect(r.header.flags & (Flag.RESPONSE | Flag.DROP_NOTICE)).toBe(Flag.RESPONSE);
      expect(r.header.server).toBe(0); // re-scheduled by the switch onto the long group's new server
    }
    expect(srv[1]!.stats().types.long!.bounced).toBe(5);
    expect(sw.stats().switch.n_bounced).toBe(5);
    expect(new Set(client.got.map((g) => g.header.reqId)).size).toBe(client.got.length); // one answer per request
  });

  it('clones a burst of the short group to the long group; a busy server drops its clone; the client gets one reply per request', async () => {
    const srv = await servers(3, () => 1);
    // Group 0 (short): server 0. Group 1 (long): servers 1 and 2. Bursts: more than 2 shorts per
    // window of 2^24 ns (16.8 ms, the widest the contract offers); group 0's excess goes to group 1.
    const tables = {
      typeToGroup: { [Type.SHORT]: 0, [Type.LONG]: 1 },
      defaultGroup: 1,
      tauShift: 24,
      clone: true,
      groups: [
        { cThres: 2, cloneTarget: 1, balance: 'wrr' as const, wrr: [{ server: 0, weight: 1 }] },
        {
          cThres: 1000,
          cloneTarget: null,
          balance: 'wrr' as const,
          wrr: [
            { server: 1, weight: 1 },
            { server: 2, weight: 1 },
          ],
        },
      ],
    };
    const { sw, client } = await rack({ policy: 'pallas', tables }, srv);
    await client.spin(Type.LONG, 300_000_000); // server 1 busy for the whole burst
    await waitFor(() => srv[1]!.stats().server.in_service === 1, 'server 1 busy');
    const shorts: number[] = [];
    for (let i = 0; i < 10; i++) shorts.push(await client.spin(Type.SHORT, 20_000));
    await client.until((g) => shorts.every((id) => g.some((x) => x.header.reqId === id)), 10_000);
    await new Promise((r) => setTimeout(r, 100)); // any late second reply would arrive by now
    const st = sw.stats().switch;
    expect(st.n_cloned).toBeGreaterThan(0);
    const cloneDrops = srv[1]!.stats().types.short?.dropClone ?? 0;
    expect(cloneDrops).toBeGreaterThan(0); // the busy server dropped the clones WRR gave it
    expect(st.n_clone_drop_notices).toBe(cloneDrops + (srv[2]!.stats().types.short?.dropClone ?? 0));
    const served = srv[2]!.stats().types.short?.completed ?? 0;
    expect(st.n_replies_filtered).toBeLessThanOrEqual(served);
    // Exactly one answer per short, and every one a reply (the clones' drop notices stop at the switch).
    const answers = client.got.filter((g) => shorts.includes(g.header.reqId));
    expect(answers).toHaveLength(10);
    expect(answers.every((g) => (g.header.flags & (Flag.RESPONSE | Flag.DROP_NOTICE)) === Flag.RESPONSE)).toBe(true);
  });

  it("runs a baseline's switch (RackSched power-of-two) and answers every request", async () => {
    const srv = await servers(3, () => 1);
    const { sw, client } = await rack({ policy: 'po2', seed: 7 }, srv);
    for (let i = 0; i < 60; i++) await client.spin(Type.SHORT, 1000);
    await client.until((g) => g.length === 60);
    expect(client.replies().length).toBe(60);
    expect(new Set(client.replies().map((r) => r.header.index)).size).toBe(60); // the switch indexed each one
    const st = sw.stats();
    expect(st.policy).toBe('po2');
    expect(st.servers.reduce((a, s) => a + s.sent, 0)).toBe(60);
    expect(st.servers.filter((s) => s.sent > 0).length).toBeGreaterThan(1);
    await expect(
      sw.writeTables(sw.tables() ?? { typeToGroup: {}, defaultGroup: 0, tauShift: 14, clone: false, groups: [] }),
    ).rejects.toMatchObject({ code: 'BAD_POLICY' });
  });

  // Junk, oversized datagrams, replies and bounces from non-servers are counted and dropped.
  it('counts bad input and never forwards it; an unknown type goes to the default group and the server refuses it', async () => {
    const srv = await servers(1, () => 1);
    // SHORT has an entry; type 99 has none and goes to the default group.
    const tables: SwitchTables = {
      typeToGroup: { [Type.SHORT]: 0 },
      defaultGroup: 0,
      tauShift: 14,
      clone: false,
      groups: [{ cThres: 0, cloneTarget: null, balance: 'wrr', wrr: [{ server: 0, weight: 1 }] }],
    };
    const { sw, client } = await rack({ policy: 'pallas', tables }, srv);
    await client.raw(new Uint8Array([1, 2, 3]));
    await client.raw(encode({ type: 99 }, spinPayload(1)));
    await client.raw(encode({ type: Type.SHORT, flags: Flag.RESPONSE, index: 5 }, spinPayload(1)));
    await client.raw(encode({ type: Type.SHORT, flags: Flag.BOUNCED, index: 5 }, spinPayload(1)));
    for (const n of [1473, 4000]) await client.raw(new Uint8Array(n).fill(0xa1));
    const ok = await client.spin(Type.SHORT, 1000);
    await client.until((g) => g.some((x) => x.header.reqId === ok));
    await waitFor(() => srv[0]!.stats().server.n_rx === 2, 'the server to see both requests');
    const st = sw.stats();
    expect(st.invalid.too_short).toBe(1);
    expect(st.invalid.too_long).toBe(2);
    expect(st.invalid.unknown_type ?? 0).toBe(0);
    expect(st.switch.n_reply_not_server).toBe(1);
    expect(st.switch.n_bad_bounce).toBe(1);
    expect(st.switch.n_requests).toBe(2);
    expect(st.switch.n_unmapped).toBe(1);
    // Every datagram is counted received, the oversized ones too: 7 from the client, the server's reply.
    expect(st.switch.n_rx).toBe(8);
    expect(srv[0]!.stats().invalid.unknown_type).toBe(1);
    expect(client.got.length).toBe(1);
  });

  it('refuses bad configs with the field named', () => {
    expect(() => new SoftSwitch({ servers: [] })).toThrow(/switch.servers/);
    expect(() => new SoftSwitch({ servers: ['127.0.0.1'] })).toThrow(/switch.servers\[0\]/);
    expect(() => new SoftSwitch({ servers: ['127.0.0.1:1'], policy: 'nope' as 'pallas' })).toThrow(/switch.policy/);
    expect(() => new SoftSwitch({ servers: ['127.0.0.1:1'], policy: 'po2', tables: {} })).toThrow(/switch.tables/);
    expect(() => new SoftSwitch({ servers: ['127.0.0.1:1'], clientSlots: 1000 })).toThrow(/clientSlots/);
  });
});
