// `npm run bench -- path`: what a request costs each role of the rack's path, and what the software
// switch carries on one core.
//
// - roles: the generator, the software switch and a server (its dispatcher and one worker with the
//   zero handler) over kernel UDP on this machine, in this process, at a few open-loop rates, with
//   the threads waiting as the CPU budget has them here (lib/budget.ts: blocking on shared cores,
//   busy-polling on dedicated ones). Each thread's CPU time over the run, per request: the costs
//   the budget of `npm run bench -- <workload>` measures on the full rack, without its agents.
// - switch: the switch's thread pinned to one CPU and busy-polling, a closed-window pump and an echo
//   server on another, over UDP and over DPDK (net_af_xdp on a veth pair between two network
//   namespaces: root only): requests/s through the switch, how busy its core was, and so what one
//   core carries (requests over the switch's busy time).
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { planRack, type RackPlan } from '../../lib/budget.js';
import { runClient } from '../../lib/client/client.js';
import { EchoServer } from '../../lib/io/echo.js';
import { pump } from '../../lib/io/pump.js';
import { packageRoot } from '../../lib/native.js';
import { Server } from '../../lib/runtime/server.js';
import { SoftSwitch } from '../../lib/switch/soft.js';
import { allowedCpus } from '../../lib/util/cpus.js';
import { textTable } from '../../lib/util/table.js';

export interface RoleRow {
  rateRps: number;
  achievedRps: number;
  p50Us: number;
  p99Us: number;
  /** CPU µs per request. */
  generator: number;
  switch: number;
  dispatcher: number;
  worker: number;
}

export interface SwitchRow {
  transport: string;
  rps: number;
  /** The switch's busy time over the run (its loops that moved something). */
  busy: number;
  /** Requests per second of the switch's busy time: what its core carries. */
  perCoreRps: number;
  note?: string;
}

/** One open-loop run through switch and server at `rateRps`, each thread's CPU per request. */
async function roles(plan: RackPlan, rateRps: number, ms: number): Promise<RoleRow> {
  const server = await new Server({
    workers: 1,
    wait: plan.wait,
    handlers: { short: 'zero' },
    transport: { kind: 'udp', bindIp: '127.0.0.1', port: 0 },
  }).start();
  const sw = new SoftSwitch({ policy: 'random', transport: { kind: 'udp', port: 0 }, wait: plan.wait, servers: [server.local()] }).start();
  try {
    const run = (d: number, rate: number) =>
      runClient({
        dst: { ip: '127.0.0.1', port: sw.local().port },
        types: [{ type: 'short', share: 1, service: { dist: 'fixed', meanUs: 1 } }],
        phases: [{ durationMs: d, rateRps: rate }],
        warmupMs: d / 10,
        sendSpinUs: plan.sendSpinUs, // at normal priority: a saturating rate must not keep a CPU from the rest
        seed: 7,
      });
    await run(300, rateRps); // warm-up
    const s0 = sw.threadCpuS(),
      t0 = server.threadCpu();
    const rep = await run(ms, rateRps);
    const s1 = sw.threadCpuS(),
      t1 = server.threadCpu();
    const n = Math.max(1, rep.sent);
    const us = (a: number, b: number) => ((b - a) * 1e6) / n;
    return {
      rateRps,
      achievedRps: rep.achievedRps,
      p50Us: rep.all.p50Us,
      p99Us: rep.all.p99Us,
      generator: (rep.cpuS * 1e6) / n,
      switch: us(s0, s1),
      dispatcher: us(t0.dispatcherS, t1.dispatcherS),
      worker: us(t0.workersS[0]!, t1.workersS[0]!),
    };
  } finally {
    sw.stop();
    server.stop();
  }
}

/** The switch pinned to `core` and busy-polling, between a pump and an echo server on `other`. */
async function switchOnCore(core: number, other: number, ms: number): Promise<SwitchRow> {
  const echo = new EchoServer({ transport: { kind: 'udp', port: 0 } }).start();
  const sw = new SoftSwitch({ policy: 'random', transport: { kind: 'udp', port: 0 }, wait: 'poll', core, servers: [echo.local()] }).start();
  try {
    const before = sw.stats().switch;
    const r = await pump({
      transport: { kind: 'udp', port: 0 },
      dst: { ip: '127.0.0.1', port: sw.local().port },
      durationMs: ms,
      window: 256,
      core: other,
    });
    const after = sw.stats().switch;
    const busy = (after.busy_ns! - before.busy_ns!) / r.elapsedNs;
    return { transport: 'udp (loopback)', rps: r.pps, busy, perCoreRps: busy > 0 ? r.pps / busy : 0 };
  } finally {
    sw.stop();
    echo.stop();
  }
}

/** The same over DPDK: the switch on net_af_xdp in one namespace, pump and echo over kernel UDP in the other. */
function switchOnDpdk(core: number, other: number, ms: number): SwitchRow {
  const child = join(packageRoot, 'dist', 'bench', 'path', 'dpdk-child.js');
  const out = execFileSync(process.execPath, [child, JSON.stringify({ core, other, ms })], { encoding: 'utf8', timeout: ms + 120_000 });
  return JSON.parse(out.trim().split('\n').pop()!) as SwitchRow;
}

export async function runPathBench(o: {
  durationMs: number;
  out: string;
  log: (s: string) => void;
}): Promise<{ roles: RoleRow[]; switch: SwitchRow[] }> {
  const plan = planRack();
  const cpus = allowedCpus();
  o.log(`bench path: ${o.durationMs} ms per point; threads wait as the CPU budget has them here: ${plan.mode} cores, ${plan.wait}`);
  const rows: RoleRow[] = [];
  for (const rate of [2000, 10_000, 30_000]) rows.push(await roles(plan, rate, o.durationMs));
  const f = (x: number) => x.toFixed(1);
  o.log(
    [
      '',
      'CPU per request by role (µs): generator → switch → dispatcher → worker (zero work) and back, kernel UDP',
      textTable([
        ['rate', 'achieved', 'p50', 'p99', 'generator', 'switch', 'dispatcher', 'worker', 'path'],
        ...rows.map((r) => [
          `${r.rateRps / 1000}k/s`,
          `${(r.achievedRps / 1000).toFixed(1)}k/s`,
          `${f(r.p50Us)} µs`,
          `${f(r.p99Us)} µs`,
          f(r.generator),
          f(r.switch),
          f(r.dispatcher),
          f(r.worker),
          f(r.generator + r.switch + r.dispatcher),
        ]),
      ]),
    ].join('\n'),
  );
  const sw: SwitchRow[] = [];
  if (cpus.length < 2) {
    o.log('\nswitch on one core: skipped (one CPU here: the switch and its load would share it)');
  } else {
    const [other, core] = [cpus[0]!, cpus[1]!];
    sw.push(await switchOnCore(core, other, o.durationMs));
    if (process.getuid?.() === 0) {
      try {
        sw.push(switchOnDpdk(core, other, o.durationMs));
      } catch (e) {
        sw.push({
          transport: 'dpdk net_af_xdp (veth)',
          rps: 0,
          busy: 0,
          perCoreRps: 0,
          note: `failed: ${(e as Error).message.split('\n')[0]}`,
        });
      }
    } else {
      sw.push({ transport: 'dpdk net_af_xdp (veth)', rps: 0, busy: 0, perCoreRps: 0, note: 'skipped: needs root for network namespaces' });
    }
    const k = (x: number) => (x ? `${(x / 1000).toFixed(1)}k` : '-');
    o.log(
      [
        '',
        `The software switch busy-polling on CPU ${core}; pump (window 256) and echo on CPU ${other}:`,
        textTable([
          ['transport', 'req/s', 'switch busy', 'req/s per core'],
          ...sw.map((r) => ({
            cells: [r.transport, k(r.rps), r.rps ? `${Math.round(r.busy * 100)} %` : '-', k(r.perCoreRps)],
            trailer: r.note ? `  ${r.note}` : '',
          })),
        ]),
        "req/s per core: the requests over the switch core's busy time; below 100 % busy, the load side is what stops it",
      ].join('\n'),
    );
  }
  mkdirSync(o.out, { recursive: true });
  const file = join(o.out, `path-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  writeFileSync(file, JSON.stringify({ plan, durationMs: o.durationMs, roles: rows, switch: sw }, null, 2));
  o.log(`\nresults: ${file}`);
  return { roles: rows, switch: sw };
}
