// A live rack in one process: the software switch, the control plane and agents with their server
// runtimes, talking over real sockets on loopback (UDP for requests, the signed HTTP channel for
// control). Membership, faults, policy pushes and the channel's authentication.
import { afterEach, describe, expect, it } from 'vitest';

import { Agent } from '../../lib/agent/agent.js';
import { sendSigned } from '../../lib/control/channel.js';
import { ControlPlane, type ControlConfig } from '../../lib/control/plane.js';
import { SoftSwitch } from '../../lib/switch/soft.js';
import { logger } from '../../lib/util/log.js';
import { Type, UdpClient } from '../helpers/udp-client.js';
import { waitFor } from '../helpers/wait.js';

const SECRET = 'test-secret-0123456789';
const quiet = logger('test', () => {});
let cleanup: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanup.reverse()) await c();
  cleanup = [];
});

async function liveRack(n: number, opts: Partial<ControlConfig> = {}, policy: 'pallas' | 'po2' = 'pallas') {
  const slots = policy === 'pallas' ? n + 1 : n;
  const sw = new SoftSwitch({ policy, servers: Array.from({ length: slots }, () => null), transport: { kind: 'udp', port: 0 } }).start();
  cleanup.push(() => sw.stop());
  const control = await new ControlPlane(sw, { secret: SECRET, listen: { port: 0 }, evaluate: 'first', ...opts }, quiet).start();
  cleanup.push(() => control.stop());
  const agent = async (port = 0) => {
    const a = await new Agent(
      { server: { workers: 1, transport: { kind: 'udp', port } }, control: control.url, secret: SECRET, heartbeatMs: 30 },
      quiet,
    ).start();
    cleanup.push(() => a.stop());
    return a;
  };
  const agents = [];
  for (let i = 0; i < n; i++) agents.push(await agent());
  const client = await UdpClient.open('127.0.0.1', sw.local().port);
  cleanup.push(() => client.close());
  return { sw, control, agents, agent, client };
}

describe('live rack on loopback', () => {
  it('agents register, get their policies, and the rack serves through the switch', async () => {
    const { sw, control, agents, client } = await liveRack(2);
    await waitFor(() => control.alive().length === 2 && agents.every((a) => a.epoch > 0), 'two servers with a policy');
    expect(
      sw
        .tables()!
        .groups[0]!.wrr.map((e) => e.server)
        .sort(),
    ).toEqual([0, 1]);
    for (let i = 0; i < 20; i++) await client.spin(Type.SHORT, 1000);
    await client.until((g) => g.length === 20);
    expect(new Set(client.replies().map((r) => r.header.server)).size).toBe(1); // both runtimes have server id 0 …
    expect(
      sw
        .stats()
        .servers.slice(0, 2)
        .map((s) => s.sent),
    ).toEqual([10, 10]); // … but WRR split them evenly
    const st = control.status();
    expect(st.servers.map((s) => [s.index, s.alive])).toEqual([
      [0, true],
      [1, true],
    ]);
    expect(st.plan!.groups).toHaveLength(1);
    expect(control.metrics()).toMatch(/^pallas_servers_alive 2$/m);
    expect(agents[0]!.metrics()).toMatch(/^pallas_agent_policy_epoch\{server="\d"\} [1-9]/m);
  });

  it("exports metrics by the Prometheus conventions: one name per meaning, units, histograms, build info, the switch's counters", async () => {
    const { control, agents, client } = await liveRack(2);
    await waitFor(() => control.alive().length === 2 && agents.every((a) => a.epoch > 0), 'two servers with a policy');
    for (let i = 0; i < 40; i++) await client.spin(Type.SHORT, 20_000);
    await client.until((g) => g.length === 40);
    // The switch's counters reach the control plane within a second or so.
    await waitFor(() => (control.status().switch.counters?.n_requests ?? 0) >= 40, 'the switch counters', 5000, 50);
    const cm = control.metrics();
    const am = agents.map((a) => a.metrics());
    const names = (text: string) =>
      new Set(
        text
          .split('\n')
          .filter((l) => l.startsWith('# TYPE '))
          .map((l) => l.split(' ')[2]!),
      );
    // No series name means two things: the agents' and the control plane's share only build info.
    const shared = [...names(cm)].filter((n) => names(am[0]!).has(n));
    expect(shared).toEqual(['pallas_build_info']);
    expect(cm).toMatch(/^pallas_build_info\{version="[^"]+",node="[^"]+",dpdk="[^"]+",rocksdb="[^"]+",role="control"\} 1$/m);
    expect(am[0]).toMatch(/^pallas_build_info\{.*role="agent"\} 1$/m);
    expect(Number(/^pallas_switch_requests_total (\d+)$/m.exec(cm)![1])).toBeGreaterThanOrEqual(40);
    expect(cm).toMatch(/^pallas_switch_busy_seconds_total [\d.e-]+$/m);
    expect(cm).toMatch(/^pallas_group_cores\{group="0"\} \d+$/m);
    expect(cm).toMatch(/^pallas_group_type\{group="0",type="short"\} 1$/m);
    expect(cm).not.toMatch(/types="/); // no label that packs a list
    expect(cm).toMatch(/^pallas_rack_server_received_total\{server="0"\} \d+$/m);
    // Each counter's # TYPE is counter and its name ends in _total; each gauge does not.
    for (const text of [cm, ...am]) {
      for (const m of text.matchAll(/^# TYPE (\S+) (\S+)$/gm)) {
        if (m[2] === 'counter') expect(m[1]).toMatch(/_total$/);
        else expect(m[1]).not.toMatch(/_total$/);
      }
    }
    // The agents' latency histograms: cumulative, +Inf = _count = the completed requests.
    const completed = am.reduce((a, t) => a + Number(/^pallas_server_completed_total\{server="\d",type="short"\} (\d+)$/m.exec(t)![1]), 0);
    expect(completed).toBe(40);
    let counted = 0;
    for (const t of am) {
      const buckets = [...t.matchAll(/^pallas_server_sojourn_seconds_bucket\{server="\d",type="short",le="([^"]+)"\} (\d+)$/gm)].map(
        (m) => [m[1]!, Number(m[2])] as const,
      );
      expect(buckets.length).toBe(26);
      for (let i = 1; i < buckets.length; i++) expect(buckets[i]![1]).toBeGreaterThanOrEqual(buckets[i - 1]![1]);
      const n = Number(/^pallas_server_sojourn_seconds_count\{server="\d",type="short"\} (\d+)$/m.exec(t)![1]);
      expect(buckets[buckets.length - 1]).toEqual(['+Inf', n]);
      // 20 µs of spin each: none done within 10 µs, all within 1 s.
      expect(buckets.find(([le]) => le === '0.00001')![1]).toBe(0);
      expect(buckets.find(([le]) => le === '1')![1]).toBe(n);
      expect(Number(/^pallas_server_exec_seconds_sum\{server="\d",type="short"\} ([\d.e-]+)$/m.exec(t)![1])).toBeGreaterThan(n * 15e-6);
      counted += n;
    }
    expect(counted).toBe(40);
    // Health on the control plane too.
    const h = (await (await fetch(`${control.url}/v1/health`)).json()) as { ok: boolean; serversAlive: number };
    expect(h).toMatchObject({ ok: true, serversAlive: 2 });
  });

  it('adapts to a shift from port to normal bimodal within a few monitor intervals, and loses no request across it', async () => {
    const { control, agents, client } = await liveRack(4, {
      minSamples: 200,
      deltaCores: 1,
      evaluate: 'sim',
      evalRequests: 5000,
      groups: 2,
      workload: [
        { type: 'short', meanUs: 10, share: 0.5 },
        { type: 'long', meanUs: 100, share: 0.5 },
      ],
    });
    await waitFor(() => control.alive().length === 4 && agents.every((a) => a.epoch > 0), 'four servers with a policy');
    const shortCores = () => control.status().plan!.groups.find((g) => g.types.includes('short'))!.cores;
    const sent: number[] = [];
    /** Sends `n` requests, `shortShare` of them short, in batches of 8 every 2 ms (~4000/s). */
    const phase = async (n: number, shortShare: number) => {
      for (let i = 0; i < n; i++) {
        const isShort = (i * 37) % 100 < shortShare * 100;
        sent.push(await client.spin(isShort ? Type.SHORT : Type.LONG, isShort ? 10_000 : 100_000));
        if (i % 8 === 7) await new Promise((r) => setTimeout(r, 2));
      }
    };
    // Port bimodal: the first measured estimate confirms the declared one (short on one core).
    await phase(600, 0.5);
    await waitFor(() => control.status().adaptations >= 1, 'the first measured plan');
    await client.until((g) => g.length === sent.length, 20_000);
    expect(shortCores()).toBe(1);
    const base = control.status().adaptations;
    const epochBefore = control.epoch;
    // Normal bimodal: short needs about 1.9 cores. Counted in monitor intervals (the control loop's
    // own clock, which a loaded machine slows down with everything else) from the moment the monitor
    // can have seen a full estimate's worth of the new mix.
    const before = client.got.length;
    let measurableAt = -1;
    let adaptedAt = -1;
    const watch = setInterval(() => {
      const st = control.status();
      if (measurableAt < 0 && client.got.length - before >= 200) measurableAt = st.monitorReads;
      if (adaptedAt < 0 && st.adaptations > base && shortCores() === 2) adaptedAt = st.monitorReads;
    }, 1);
    try {
      await phase(1500, 0.9);
      await waitFor(() => adaptedAt >= 0, 'a new plan after the shift', 20_000);
    } finally {
      clearInterval(watch);
    }
    expect(control.epoch).toBeGreaterThan(epochBefore);
    // How many intervals it took is logged, not asserted: on a loaded 2-vCPU machine the measured
    // execution times and shares are noisy (test/unit/control-loop.test.ts checks the loop's timing
    // on scripted monitor reads).
    const intervals = adaptedAt - Math.max(0, measurableAt);
    // The servers of the short group run a policy that serves short only, with bouncing armed.
    const servedOf = (i: number) => (agents.find((a) => a.index === i)!.health() as { policy: { served?: number[] } }).policy.served;
    await waitFor(
      () =>
        control
          .status()
          .plan!.groups.find((g) => g.types.includes('short'))!
          .servers.every((s) => JSON.stringify(servedOf(s.index)) === JSON.stringify([Type.SHORT])),
      'short-group servers serving short only',
    );
    // Nothing lost: one answer per request (replies, or drop notices for what a full queue refused).
    await client.until((g) => g.length >= sent.length, 20_000);
    const ids = client.got.map((g) => g.header.reqId);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids.length).toBe(sent.length);
    const bounced = agents.reduce((a, x) => a + (x.server.stats().types.long?.bounced ?? 0), 0);
    console.log(
      `adaptation ${intervals} monitor interval(s) after the shift was measurable; ${bounced} long request(s) bounced and re-scheduled`,
    );
  });

  it('a server that stops answering leaves WRR within a bounded time; the rest keeps serving; it comes back on restart', async () => {
    const { sw, control, agents, agent, client } = await liveRack(2, { deadAfterMs: 500 });
    await waitFor(() => control.alive().length === 2 && agents.every((a) => a.epoch > 0), 'two servers');
    const port = agents[1]!.addr().port;
    const t0 = performance.now();
    await agents[1]!.stop();
    await waitFor(() => sw.tables()!.groups[0]!.wrr.every((e) => e.server !== 1), 'server 1 out of WRR', 5000);
    expect(performance.now() - t0).toBeLessThan(500 + 2000); // deadAfterMs plus slack for a loaded machine
    expect(control.status().servers[1]!.alive).toBe(false);
    for (let i = 0; i < 10; i++) await client.spin(Type.SHORT, 1000);
    await client.until((g) => g.length === 10);
    expect(client.replies()).toHaveLength(10);
    // Restarted on the same address: the same slot, back in WRR, a policy again.
    const again = await agent(port);
    await waitFor(() => control.alive().length === 2 && again.epoch > 0, 'server 1 back');
    expect(again.index).toBe(1);
    expect(
      sw
        .tables()!
        .groups[0]!.wrr.map((e) => e.server)
        .sort(),
    ).toEqual([0, 1]);
  });

  it('behind a baseline switch (RackSched po2) every server runs RS-DARC, DARC with its own profiling', async () => {
    const { sw, control, agents, client } = await liveRack(2, {}, 'po2');
    await waitFor(() => control.alive().length === 2 && agents.every((a) => a.epoch > 0), 'two servers with a policy');
    for (const a of agents) expect(a.server.stats().policy).toBe('darc');
    expect(control.status().plan).toBeNull();
    for (let i = 0; i < 30; i++) await client.spin(Type.SHORT, 1000);
    await client.until((g) => g.length === 30);
    expect(client.replies()).toHaveLength(30);
    expect(sw.stats().switch.n_drop_not_wired).toBe(0);
    expect(agents.every((a) => a.server.stats().reservation === null)).toBe(true); // still profiling (50 000 samples)
  });

  it('rejects policies from a sender without the secret, and malformed ones; neither changes anything', async () => {
    const { control, agents } = await liveRack(1);
    await waitFor(() => agents[0]!.epoch > 0, 'a policy');
    const a = agents[0]!;
    const before = a.epoch;
    await expect(
      sendSigned(a.url, '/v1/policy', { epoch: before + 1, policy: { kind: 'cfcfs' } }, 'wrong-secret-0123456789'),
    ).rejects.toMatchObject({ code: 'AUTH' });
    await expect(sendSigned(a.url, '/v1/policy', { epoch: before + 1, policy: { kind: 'fifo' } }, SECRET)).rejects.toMatchObject({
      code: 'BAD_CONFIG',
    });
    await expect(sendSigned(a.url, '/v1/policy', { epoch: 'x' }, SECRET)).rejects.toMatchObject({ code: 'BAD_CONFIG' });
    await expect(sendSigned(a.url, '/v1/policy', { epoch: before, policy: { kind: 'cfcfs' } }, SECRET)).rejects.toMatchObject({
      code: 'BAD_POLICY',
    });
    // Unsigned, by hand.
    const res = await fetch(`${a.url}/v1/policy`, {
      method: 'POST',
      body: JSON.stringify({ epoch: before + 5, policy: { kind: 'cfcfs' } }),
    });
    expect(res.status).toBe(401);
    expect(a.epoch).toBe(before);
    expect(a.server.stats().epoch).toBe(before);
    const h = a.health() as { channel: Record<string, number>; refused: number };
    expect(h.channel.unauthenticated).toBe(2);
    expect(h.channel.malformed).toBe(1);
    expect(h.refused).toBe(2);
    // The control plane refuses forged registrations too.
    await expect(
      sendSigned(
        control.url,
        '/v1/register',
        { agent: 'http://127.0.0.1:1', addr: { ip: '127.0.0.1', port: 1 }, cores: 1, name: 'x' },
        'wrong-secret-0123456789',
      ),
    ).rejects.toMatchObject({ code: 'AUTH' });
    expect(control.alive()).toEqual([0]);
  });
});
