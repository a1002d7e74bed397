// The Tofino driver (lib/switch/tofino.ts) against a MOCK BFRuntime server (test/helpers/bfrt-mock.ts)
// that serves and enforces the bf-rt.json bf-p4c produced for p4/pallas.p4 in this test: a plan, an
// adaptation driven by the switch's monitor registers, a refused update (the old tables stay), the
// switch lost and restarted (the driver reconnects and writes the last good tables back), and
// servers wired. No switch and no SDE here: the mock stands for bf_switchd.
import { execFile, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { promisify } from 'node:util';

import { Adapter, MonitorDiff } from '../../lib/control/adapt.js';
import { sendSigned } from '../../lib/control/channel.js';
import { ControlPlane } from '../../lib/control/plane.js';
import { logger } from '../../lib/util/log.js';
import { Type } from '../../lib/wire/gen.js';
import { buildPlan, type Plan, type RackServer, type TypeEstimate } from '../../lib/control/policy.js';
import { packageRoot } from '../../lib/native.js';
import { p4Entries, type P4Entry } from '../../lib/switch/p4-entries.js';
import { TofinoSwitch } from '../../lib/switch/tofino.js';
import { MockBfrt, type MockEntry } from '../helpers/bfrt-mock.js';
import { checkPrereqs, need } from '../helpers/prereq.js';
import { waitFor } from '../helpers/wait.js';

// A plain ES module without types: the cast below says what it gives.
const build = (await import(join(packageRoot, 'scripts', 'build-p4.mjs'))) as {
  findCompiler: () => { path: string } | null;
  buildP4: (o: { out: string }) => Promise<{ ok: boolean; text: string }>;
};

const ok = checkPrereqs('tofino driver', [
  need(build.findCompiler() !== null, 'the Tofino compiler bf-p4c (for the bf-rt.json the mock serves)'),
]);
const out = mkdtempSync(join(tmpdir(), 'pallas-tofino-'));
afterAll(() => rmSync(out, { recursive: true, force: true }));

const rack: RackServer[] = Array.from({ length: 4 }, (_, id) => ({ id, cores: 4 }));
const est = (short: number): TypeEstimate[] => [
  { type: 1, name: 'short', meanNs: 10_000, share: short },
  { type: 3, name: 'long', meanNs: 100_000, share: 1 - short },
];
const VIP = '10.0.0.1';
const setup = { vip: 0x0a000001, cloneSession: 1 };

/** The mock's state of the plan-dependent tables, in p4Entries' form, for comparison. */
function state(mock: MockBfrt): Map<string, string> {
  const m = new Map<string, string>();
  for (const table of [
    'PallasIngress.shaper.type_to_group',
    'PallasIngress.group_config.group_cfg',
    'PallasIngress.wrr_pick.wrr',
    'PallasIngress.po2_pick.po2_pick_a',
    'PallasIngress.po2_pick.po2_pick_b',
    'PallasIngress.burst_window.burst_window',
    'PallasIngress.switch_config.switch_cfg',
  ]) {
    for (const e of mock.entries(table))
      m.set(
        `pipe.${table}|${JSON.stringify(Object.fromEntries(Object.entries(e.key).sort((a, b) => a[0].localeCompare(b[0]))))}`,
        JSON.stringify([e.action, e.data]),
      );
  }
  return m;
}
function expected(entries: P4Entry[]): Map<string, string> {
  const m = new Map<string, string>();
  for (const e of entries) {
    if (e.action === null) continue;
    const key: MockEntry['key'] = {};
    for (const [k, v] of Object.entries(e.key).sort((a, b) => a[0].localeCompare(b[0])))
      key[k] = typeof v === 'number' ? v : [v.low, v.high];
    m.set(`pipe.${e.table}|${JSON.stringify(e.isDefault ? {} : key)}`, JSON.stringify([e.action, e.data]));
  }
  return m;
}

describe.skipIf(!ok)('Tofino driver over BFRuntime (mock server)', () => {
  let rt: Buffer;
  beforeAll(async () => {
    const r = await build.buildP4({ out });
    if (!r.ok) throw new Error(r.text.slice(-2000));
    rt = readFileSync(join(out, 'bf-rt.json'));
  }, 300_000);

  it('installs a plan, adapts from the monitor registers, keeps its tables when refused, and survives the switch restarting', async () => {
    let mock = new MockBfrt(rt);
    const port = await mock.listen(0);
    const log: string[] = [];
    const sw = new TofinoSwitch({
      grpc: `127.0.0.1:${port}`,
      vip: VIP,
      ports: [1, 2, 3, 4, 5, 6],
      recircPort: 68,
      cloneSession: 1,
      clients: [{ ip: '10.0.0.100', port: 0, mac: '00:00:00:00:00:64' }],
      backoffMs: [50, 400],
      rpcTimeoutMs: 2000,
      log: (m) => log.push(m),
      portSetup: { speed: 'BF_SPEED_100G', fec: 'BF_FEC_TYP_REED_SOLOMON' },
    });
    try {
      await sw.start();
      // The fixed setup: recirculation port, mirror session, the client's route, seq = 1.
      expect(mock.entries('PallasIngressParser.recirc_ports')).toHaveLength(1);
      expect(mock.entries('$mirror.cfg')[0]).toMatchObject({
        key: { $sid: 1 },
        data: { $direction: 'INGRESS', $ucast_egress_port: 68, $session_enable: true },
      });
      expect(mock.entries('PallasIngress.forward.ipv4_host')).toHaveLength(1);
      expect(mock.registers.get('pipe.PallasIngress.seq')?.get(0)?.get('f1')).toEqual([1, 1]);
      // Ports up: the six server slots' and the client's.
      expect(mock.entries('$PORT').map((e) => e.key.$DEV_PORT)).toEqual([0, 1, 2, 3, 4, 5, 6]);
      expect(mock.entries('$PORT')[0]!.data).toEqual({ $SPEED: 'BF_SPEED_100G', $FEC: 'BF_FEC_TYP_REED_SOLOMON', $PORT_ENABLE: true });

      // Servers: their ports and addresses.
      for (let i = 0; i < 4; i++) await sw.setServer(i, { ip: `10.0.1.${i + 1}`, port: 9011, mac: `00:00:00:00:01:0${i}` });
      expect(mock.entries('PallasIngress.forward.servers').map((e) => e.data.port)).toEqual([1, 2, 3, 4]);
      await expect(sw.setServer(5, { ip: '10.0.1.9', port: 9011 })).rejects.toMatchObject({ code: 'BAD_CONFIG' });

      // A plan: two groups, the short one on po2.
      const p1 = buildPlan(est(0.5), [[1], [3]], rack, { balance: ['po2', 'wrr'], load: 0.5 })!;
      await sw.writeTables(p1.tables);
      expect(state(mock)).toEqual(expected(p4Entries(p1.tables, setup)));
      expect(sw.tables()).toEqual(p1.tables);

      // The monitor registers feed the adapter: the mix shifts to 90 % short.
      const diff = new MonitorDiff(await sw.readMonitor());
      const adapter = new Adapter(
        [
          { type: 1, name: 'short' },
          { type: 3, name: 'long' },
        ],
        rack,
        p1,
        { deltaCores: 1, minSamples: 100, plan: { load: 0.5 } },
        () => async () => ({ p99Us: 100, saturated: false }),
      );
      // 900 short replies of 10 µs and 100 long of 100 µs, split over the two pipes.
      mock.setRegister('PallasIngress.monitor_requests.mon_requests', 1, 'f1', 500, 0);
      mock.setRegister('PallasIngress.monitor_requests.mon_requests', 1, 'f1', 400, 1);
      mock.setRegister('PallasIngress.monitor_requests.mon_requests', 3, 'f1', 100, 0);
      mock.setRegister('PallasEgress.monitor_replies.mon', 1, 'lo', 900, 0);
      mock.setRegister('PallasEgress.monitor_replies.mon', 1, 'hi', 900 * 625, 0);
      mock.setRegister('PallasEgress.monitor_replies.mon', 3, 'lo', 100, 1);
      mock.setRegister('PallasEgress.monitor_replies.mon', 3, 'hi', 100 * 6250, 1);
      const sample = diff.next(await sw.readMonitor());
      expect(sample.requests[1]).toBe(900);
      expect(sample.timeNs[3]).toBe(100 * 100_000);
      const a = await adapter.onMonitor(sample, 10_000_000, 10_000_000);
      expect(a, 'the shift is an adaptation').not.toBeNull();
      expect(a!.estimate.find((t) => t.type === 1)!.meanNs).toBe(10_000);
      const shortCores = (p: Plan) => p.groups.find((g) => g.types.includes(1))!.cores;
      expect(shortCores(a!.plan)).toBeGreaterThan(shortCores(p1));
      const writesBefore = mock.writes.length;
      const ops = await sw.writeTables(a!.plan.tables);
      expect(ops.length).toBeGreaterThan(0);
      expect(mock.writes.length).toBe(writesBefore + 1); // one batch
      expect(state(mock)).toEqual(expected(p4Entries(a!.plan.tables, setup)));
      const p2 = a!.plan;
      // Switch counters: one Read of every n_* counter.
      mock.counters.set('PallasIngress.n_requests', 12345);
      expect(await sw.counters()).toMatchObject({ n_requests: 12345, n_cloned: 0, n_replies: 0, reconnects: 0 });

      // A refused update leaves the old tables in force, on the switch and in the driver.
      const p3 = buildPlan(est(0.2), [[1], [3]], rack, { load: 0.5 })!;
      mock.refuseNextWrite('table full');
      await expect(sw.writeTables(p3.tables)).rejects.toMatchObject({ code: 'BAD_POLICY' });
      expect(state(mock)).toEqual(expected(p4Entries(p2.tables, setup)));
      expect(sw.tables()).toEqual(p2.tables);
      // A malformed one is refused before anything is sent.
      await expect(sw.writeTables({ ...p2.tables, tauShift: 30 })).rejects.toMatchObject({ code: 'BAD_POLICY' });
      // The switch enforces its schema: an entry naming a server past 8 bits is refused by it (the driver checks slots first).
      await expect(
        sw.writeTables({
          ...p2.tables,
          groups: [{ ...p2.tables.groups[0]!, wrr: [{ server: 9, weight: 1 }] }, ...p2.tables.groups.slice(1)],
        }),
      ).rejects.toMatchObject({ code: 'BAD_POLICY' });

      // The switch dies and comes back empty: writes fail meanwhile; once back, the last good tables
      // and the servers are written whole, and the monitor view continues (no jump).
      const before = await sw.readMonitor();
      mock.kill();
      await waitFor(() => !sw.connected, 'the driver to notice', 5000, 10);
      await expect(sw.writeTables(p3.tables)).rejects.toMatchObject({ code: 'UNREACHABLE' });
      await expect(sw.readMonitor()).rejects.toMatchObject({ code: 'UNREACHABLE' });
      mock = new MockBfrt(rt);
      await mock.listen(port);
      await waitFor(() => sw.connected, 'the driver to reconnect', 10_000, 20);
      expect(sw.reconnects).toBe(1);
      expect(state(mock)).toEqual(expected(p4Entries(p2.tables, setup)));
      expect(mock.entries('PallasIngress.forward.servers')).toHaveLength(4);
      expect(mock.entries('$mirror.cfg')).toHaveLength(1);
      const after = await sw.readMonitor();
      expect(after).toEqual(before);
      mock.setRegister('PallasIngress.monitor_requests.mon_requests', 1, 'f1', 7);
      expect((await sw.readMonitor()).requests[1]).toBe(before.requests[1]! + 7);
      // And it takes new tables again.
      await sw.writeTables(p3.tables);
      expect(state(mock)).toEqual(expected(p4Entries(p3.tables, setup)));
      expect((await sw.readRegisters()).wrrCounter).toHaveLength(32);
      expect(log.some((l) => l.includes('lost'))).toBe(true);
    } finally {
      sw.stop();
      mock.kill();
    }
  }, 60_000);

  it('carries the real control plane: a plan, an adaptation from the registers, a refusal, a restart', async () => {
    let mock = new MockBfrt(rt);
    const port = await mock.listen(0);
    const SECRET = 'tofino-driver-secret-0123';
    const pushes: number[] = [];
    const agent = createServer((req, res) => {
      let body = '';
      req.on('data', (d: Buffer) => {
        body += d;
      });
      req.on('end', () => {
        pushes.push((JSON.parse(body) as { epoch: number }).epoch);
        res.end('{}');
      });
    });
    await new Promise<void>((r) => agent.listen(0, '127.0.0.1', () => r()));
    const agentUrl = `http://127.0.0.1:${(agent.address() as AddressInfo).port}`;
    const sw = new TofinoSwitch({
      grpc: `127.0.0.1:${port}`,
      vip: VIP,
      ports: [1, 2, 3, 4, 5, 6, 7, 8],
      backoffMs: [50, 400],
      rpcTimeoutMs: 2000,
    });
    await sw.start();
    const errors: string[] = [];
    const control = await new ControlPlane(
      sw,
      {
        secret: SECRET,
        listen: { port: 0 },
        monitorMs: 60_000,
        deadAfterMs: 600_000,
        minSamples: 200,
        deltaCores: 1,
        groups: 2,
        evaluate: 'first',
        workload: [
          { type: 'short', meanUs: 10, share: 0.5 },
          { type: 'long', meanUs: 100, share: 0.5 },
        ],
      },
      logger('test', (l) => {
        const o = JSON.parse(l) as { level: string; msg: string; error?: string };
        if (o.level === 'error') errors.push(`${o.msg}: ${o.error}`);
      }),
    ).start();
    // What the data plane counts: cumulative, per type (short = 1, long = 3), one pipe.
    const regs: Record<'req' | 'rep' | 'units', [number, number]> = { req: [0, 0], rep: [0, 0], units: [0, 0] };
    const count = (short: number, long: number) => {
      for (const [i, n, meanNs] of [
        [0, short, 10_000],
        [1, long, 100_000],
      ] as const) {
        regs.req[i] += n;
        regs.rep[i] += n;
        regs.units[i] = (regs.units[i]! + (n * meanNs) / 16) >>> 0;
        const t = i === 0 ? Type.SHORT : Type.LONG;
        mock.setRegister('PallasIngress.monitor_requests.mon_requests', t, 'f1', regs.req[i]!);
        mock.setRegister('PallasEgress.monitor_replies.mon', t, 'lo', regs.rep[i]!);
        mock.setRegister('PallasEgress.monitor_replies.mon', t, 'hi', regs.units[i]!);
      }
    };
    const onSwitch = () => state(mock);
    const inForce = () => expected(p4Entries(sw.tables()!, setup));
    const shortCores = () => control.status().plan!.groups.find((g) => g.types.includes('short'))!.cores;
    try {
      for (let i = 0; i < 4; i++)
        await sendSigned(
          control.url,
          '/v1/register',
          { agent: agentUrl, addr: { ip: '127.0.0.1', port: 30000 + i, mac: `00:00:00:00:02:0${i}` }, cores: 1, name: `s${i}` },
          SECRET,
        );
      await control.tick(); // the joins: a plan from the declared mix
      expect(control.alive()).toEqual([0, 1, 2, 3]);
      expect(mock.entries('PallasIngress.forward.servers')).toHaveLength(4);
      expect(onSwitch()).toEqual(inForce());
      // Port mix for four intervals: the first measured estimate (same plan).
      for (let i = 0; i < 4; i++) {
        count(25, 25);
        await control.tick();
      }
      expect(control.status().adaptations).toBe(1);
      expect(shortCores()).toBe(1);
      // Normal mix: a new plan, written to the switch.
      const before = mock.writes.length;
      let n = 0;
      while (control.status().adaptations === 1 && n++ < 20) {
        count(45, 5);
        await control.tick();
      }
      expect(shortCores()).toBe(2);
      expect(mock.writes.length).toBe(before + 1);
      expect(onSwitch()).toEqual(inForce());
      const good = sw.tables();
      // Back to the port mix, but the switch refuses the tables: the plan in force stays everywhere.
      mock.refuseNextWrite('table full');
      n = 0;
      while (errors.length === 0 && n++ < 20) {
        count(25, 25);
        await control.tick();
      }
      expect(errors.some((e) => e.includes('monitor interval failed'))).toBe(true);
      expect(sw.tables()).toEqual(good);
      expect(control.status().adaptations).toBe(2);
      expect(shortCores()).toBe(2);
      expect(onSwitch()).toEqual(inForce());
      // The switch restarts (empty registers, no tables): the driver writes the plan back, the monitor
      // view continues, and the control plane adapts again (the port mix is still on).
      mock.kill();
      await waitFor(() => !sw.connected, 'the driver to notice', 5000, 10);
      await control.tick(); // fails: unreachable
      mock = new MockBfrt(rt);
      await mock.listen(port);
      regs.req = [0, 0];
      regs.rep = [0, 0];
      regs.units = [0, 0];
      await waitFor(() => sw.connected, 'the driver to reconnect', 10_000, 20);
      expect(onSwitch()).toEqual(inForce());
      n = 0;
      while (control.status().adaptations === 2 && n++ < 20) {
        count(25, 25);
        await control.tick();
      }
      expect(control.status().adaptations).toBe(3);
      expect(shortCores()).toBe(1);
      expect(onSwitch()).toEqual(inForce());
    } finally {
      await control.stop();
      sw.stop();
      mock.kill();
      agent.closeAllConnections();
      await new Promise((r) => agent.close(r));
    }
  }, 60_000);

  it('pallas control runs on a Tofino given switch: { kind: tofino, … }', async () => {
    const mock = new MockBfrt(rt);
    const port = await mock.listen(0);
    const cli = join(packageRoot, 'dist', 'lib', 'cli', 'main.js');
    const cfg = join(out, 'control.yaml');
    writeFileSync(
      cfg,
      [
        'secret: tofino-cli-secret-0123456',
        'listen: { host: 127.0.0.1, port: 0 }',
        `switch: { kind: tofino, grpc: "127.0.0.1:${port}", vip: 10.0.0.1, ports: [1, 2, 3],`,
        '  clients: [ { ip: 10.0.0.100, port: 0, mac: "00:00:00:00:00:64" } ] }',
        '',
      ].join('\n'),
    );
    const p = spawn(process.execPath, [cli, 'control', '--config', cfg, '--json'], { stdio: ['ignore', 'pipe', 'pipe'] });
    try {
      const line = await new Promise<Record<string, unknown>>((resolve, reject) => {
        let buf = '',
          err = '';
        const t = setTimeout(() => reject(new Error(`no ready line: ${err.slice(-800)}`)), 30_000);
        p.stderr.on('data', (d: Buffer) => {
          err += d;
        });
        p.stdout.on('data', (d: Buffer) => {
          buf += d;
          const nl = buf.indexOf('\n');
          if (nl >= 0) {
            clearTimeout(t);
            resolve(JSON.parse(buf.slice(0, nl)) as Record<string, unknown>);
          }
        });
        p.on('exit', (c) => reject(new Error(`exited ${c}: ${err.slice(-800)}`)));
      });
      expect(line).toMatchObject({ ready: true, switch: { kind: 'tofino', policy: 'pallas' } });
      // pallas doctor on a switch host: BFRuntime there runs the program.
      // (Not spawnSync: the mock answers from this process's event loop.)
      const doc = JSON.parse(
        (
          await promisify(execFile)(process.execPath, [cli, 'doctor', '--json', '--switch', `127.0.0.1:${port}`], {
            encoding: 'utf8',
            timeout: 30_000,
          })
        ).stdout,
      ) as { tofino: { grpc: { ok: boolean; programs: string[] } } };
      expect(doc.tofino.grpc, JSON.stringify(doc.tofino)).toMatchObject({ ok: true, programs: ['pallas'] });
      expect(mock.entries('PallasIngress.burst_window.burst_window')).toHaveLength(1);
      expect(mock.entries('PallasIngress.forward.ipv4_host')).toHaveLength(1);
      let err = '';
      p.stderr.on('data', (d: Buffer) => {
        err += d;
      });
      p.kill('SIGINT');
      const [code, signal] = await new Promise<[number | null, string | null]>((r) => p.once('exit', (c, sg) => r([c, sg])));
      expect({ code, signal }, err.slice(-1500)).toEqual({ code: 0, signal: null });
    } finally {
      if (p.exitCode === null) p.kill('SIGKILL');
      mock.kill();
    }
    // A malformed Tofino config is refused naming the field, before anything connects.
    writeFileSync(
      cfg,
      ['secret: tofino-cli-secret-0123456', 'switch: { kind: tofino, grpc: "127.0.0.1:1", vip: 10.0.0.1, ports: [1, 999] }', ''].join('\n'),
    );
    const bad = spawnSync(process.execPath, [cli, 'control', '--config', cfg], { encoding: 'utf8', timeout: 30_000 });
    expect(bad.status).not.toBe(0);
    expect(bad.stderr).toMatch(/switch\.ports\[1\]/);
  }, 60_000);

  it('refuses a switch that does not run the program, and a bad config, with clear errors', async () => {
    const mock = new MockBfrt(rt, 'other');
    const port = await mock.listen(0);
    try {
      const sw = new TofinoSwitch({ grpc: `127.0.0.1:${port}`, vip: VIP, ports: [1], rpcTimeoutMs: 2000 });
      await expect(sw.start()).rejects.toThrow(/pallas/);
      sw.stop();
    } finally {
      mock.kill();
    }
    expect(() => new TofinoSwitch({ grpc: 'nowhere', vip: VIP, ports: [1] })).toThrow(/HOST:PORT/);
    expect(() => new TofinoSwitch({ grpc: 'h:1', vip: '1.2.3', ports: [1] })).toThrow(/IPv4/);
    expect(() => new TofinoSwitch({ grpc: 'h:1', vip: VIP, ports: [] })).toThrow(/ports/);
    // Nobody listening: start fails within its deadline, naming the endpoint.
    const lone = new TofinoSwitch({ grpc: '127.0.0.1:1', vip: VIP, ports: [1], rpcTimeoutMs: 1000 });
    await expect(lone.start()).rejects.toMatchObject({ code: 'UNREACHABLE' });
    lone.stop();
  }, 30_000);
});
