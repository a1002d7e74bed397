// `npm run bench -- <workload>`: a paper workload on a live rack. For each system it starts the
// rack (the control plane with the software switch, one agent per server, real handlers: RocksDB
// for the rocksdb workloads), sweeps the load with the open-loop generator, and stops the rack.
// The rack is this machine's by default (as `pallas up` starts it, scaled to the machine), or the
// hosts of a testbed inventory (`--testbed FILE`: the same commands over ssh, every client host
// generating its share of the load, their histograms merged). Next to each measured point it
// prints what the simulator predicts for the same rack, workload and load. Writes JSON, CSV and a
// p99-against-load plot (SVG and PNG).
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { MAX_KV_COUNT, runClient, type ClientConfig, type ClientReport } from '../../lib/client/client.js';
import type { ControlConfig } from '../../lib/control/plane.js';
import {
  carriedLoad,
  DEDICATED_HEADROOM,
  pathCost,
  planRack,
  sendSpinAt,
  SHARED_HEADROOM,
  type RackPlan,
  type RoleCosts,
} from '../../lib/budget.js';
import { startRack } from '../../lib/rack.js';
import type { ServerConfig } from '../../lib/runtime/config.js';
import { kvBench, loadKv } from '../../lib/runtime/kv.js';
import { TPCC_US } from '../../lib/runtime/config.js';
import { PallasError } from '../../lib/errors.js';
import { p99Shortfall } from '../../lib/sim/format.js';
import { renderChart, renderPng } from '../../lib/sim/plot.js';
import { runScenarios } from '../../lib/sim/run.js';
import { normaliseScenario, SYSTEM_PRESETS } from '../../lib/sim/scenario.js';
import type { SwitchPolicy } from '../../lib/switch/soft.js';
import type { Inventory } from '../../lib/testbed/inventory.js';
import { probeHosts } from '../../lib/testbed/clock.js';
import { startTestbedRack } from '../../lib/testbed/rack.js';
import { runOnce } from '../../lib/testbed/remote.js';
import { logger } from '../../lib/util/log.js';
import { textTable, toCsv } from '../../lib/util/table.js';
import { WORKLOADS, type LiveWorkload } from './workloads.js';

/**
 * The systems a live rack runs: every simulator system whose switch the software switch has and
 * whose server policy the runtime has (cFCFS, DARC). The preemptive ones (rs-ts, rs-ps) and the
 * ideal central queues exist in the simulator only.
 */
export const LIVE_SYSTEMS = ['pallas', 'rs-darc', 'rs-cfcfs', 'r2p2', 'draconis', 'netclone', 'random', 'rr'] as const;
export type LiveSystem = (typeof LIVE_SYSTEMS)[number];
export const DEFAULT_SYSTEMS: LiveSystem[] = ['pallas', 'rs-darc'];

/** A system as a rack: its switch policy, and the control plane's config (the plan's workload, or the servers' policy). */
export function systemRack(system: LiveSystem, workload: ControlConfig['workload']): { policy: SwitchPolicy; control: ControlConfig } {
  const preset = SYSTEM_PRESETS[system];
  if (system === 'pallas') return { policy: 'pallas', control: { workload } };
  return {
    policy: preset.switch as SwitchPolicy,
    // RS-DARC: DARC profiles by itself; 1000 samples instead of Perséphone's 50 000, so that it
    // reserves within the first point rather than running as cFCFS for the whole sweep.
    control: { serverPolicy: preset.server === 'darc' ? { kind: 'darc', darc: { profileSamples: 1000 } } : { kind: 'cfcfs' } },
  };
}

export interface LiveOptions {
  workload: string;
  systems?: LiveSystem[];
  loads?: number[];
  /** Per load point (default: POINT_MS, or as long as POINT_REPLIES replies take, at most MAX_POINT_MS; --quick 2 s). */
  durationMs?: number;
  quick?: boolean;
  servers?: number;
  workers?: number;
  /** Slow the workload by this: spin times ×, RocksDB keys a request × (default: enough for this machine; see scaleWorkload; 1 on a testbed). */
  scale?: number;
  /** Drive the hosts of this inventory instead of a rack on this machine. */
  testbed?: Inventory;
  out: string;
  log: (s: string) => void;
  progress?: (s: string) => void;
}

export interface LivePoint {
  system: LiveSystem;
  load: number;
  offeredRps: number;
  achievedRps: number;
  saturated: boolean;
  p50Us: number;
  p99Us: number;
  /** The p99's 95 % confidence interval (µs); hi null when too few replies bound it from above. */
  p99LoUs: number;
  p99HiUs: number | null;
  p999Us: number;
  /** Per type; `measured`: the replies after the warm-up, which the percentiles are of. */
  perType: Record<string, { replies: number; measured: number; p50Us: number; p99Us: number; p999Us: number; execMeanUs: number }>;
  sent: number;
  replies: number;
  drops: number;
  timeouts: number;
  late: number;
  lateMaxUs: number;
  /** The simulator's p99 for the same rack, workload, system and load (µs), and whether it saturates. */
  simP99Us?: number;
  simSaturated?: boolean;
  /** Requests each server completed during the point (from its agent's heartbeats). */
  serverCompleted: number[];
  /** How long the point ran, ms. */
  durationMs: number;
  /**
   * This machine's rack: the CPU each role used per request during the point (µs), the CPUs busy
   * on average, and the highest load those costs say the machine carries (lib/budget.ts).
   */
  cpu?: RoleCosts & { busyCores: number; carries: number };
  /** Its own costs put it beyond what the machine carries: reported, left out of the plot. */
  overBudget?: boolean;
  /** The generator's thread ran at SCHED_FIFO (the budget asks for it on shared cores; it needs root or CAP_SYS_NICE). */
  realtimeSend?: boolean;
  /** Testbed: how many client hosts generated the load, and how far apart (ms) their runs started. */
  clients?: number;
  clientStartSpreadMs?: number;
}

export interface LiveDocument {
  workload: string;
  about: string;
  /** Workers per server (the first server's when a testbed's differ); cores: all of them. */
  rack: { servers: number; workers: number; cores: number; why: string };
  /** Where it ran: this machine, or the testbed of an inventory. */
  where: string;
  testbed?: {
    inventory: string;
    connection: string;
    switch: string;
    servers: { host: string; address: string; workers: number }[];
    clients: string[];
    /** Every host's clock minus the bench machine's, and the round trip that bounds it (ms). */
    hosts: { host: string; hostname: string; offsetMs: number; rttMs: number }[];
  };
  /** The service times load is counted in, µs: RocksDB's as the rack's servers measured them in the first warm-up. */
  serviceUs: Record<string, number>;
  /** RocksDB's times as timed alone on the database, when the rack's own replaced them. */
  timedUs?: Record<string, number>;
  /** This machine's CPU budget: how the rack ran, and the loads it did not carry. */
  budget?: LiveBudget;
  /** The workload was slowed by this (scaleWorkload; 1: as the paper has it). */
  scale: number;
  /** Every point's duration, when one was asked for (otherwise each point has its own). */
  durationMs?: number;
  points: LivePoint[];
}

/** This machine's CPU budget (lib/budget.ts): how its rack runs, and the loads it did not carry. */
export interface LiveBudget {
  plan: RackPlan;
  /** The mean service time the rack's capacity is counted in (the busiest phase's mix), µs. */
  meanServiceUs: number;
  notRun: { system: LiveSystem; load: number; why: string }[];
}

const WARMUP_MS = 1000;
/**
 * A point runs POINT_MS, or longer at low rates, until about POINT_REPLIES replies are measured
 * (a p99 then rests on 50 of them, not on a handful), but at most MAX_POINT_MS.
 */
const POINT_MS = 5000;
/** RocksDB: the warm-up runs until this many replies of each type are measured (at most MAX_WARMUP_MS). */
const CALIBRATE_REPLIES = 30;
const MAX_WARMUP_MS = 10_000;
const POINT_REPLIES = 5000;
const MAX_POINT_MS = 30_000;

/** The mean service time of the phase that runs the most requests per second at a given load (its mix's mean is the lowest). */
function meanServiceUs(wl: LiveWorkload, svc: Record<string, number>): number {
  return Math.min(...phaseMixes(wl, svc).map((p) => p.meanUs));
}

export function formatPlan(plan: RackPlan): string {
  const limit =
    plan.mode === 'shared'
      ? `the rack may use ${Math.round(SHARED_HEADROOM * 100)} % of the CPUs`
      : `no path thread may be busier than ${Math.round(DEDICATED_HEADROOM * 100)} % of its core`;
  return (
    `  budget: ${plan.mode} cores. After each point, the CPU each role used per request says how far the machine ` +
    `carries the load (${limit}); higher loads are not run`
  );
}

const KV_PATH = '/dev/shm/pallas-bench-kv';

/**
 * Mean service time per type, µs: spin types ask for theirs; RocksDB types are timed, directly on
 * the database the servers read (on a testbed, on the first server's host, `pallas kv-load --time`).
 */
async function serviceTimes(wl: LiveWorkload, inv?: Inventory): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  const kvTypes = wl.types.filter((t) => t.type === 'get' || t.type === 'scan');
  let remote: Record<string, number> = {};
  if (inv && kvTypes.length) {
    const text = await runOnce(inv, inv.servers[0]!, [
      'kv-load',
      '--path',
      KV_PATH,
      '--keys',
      '5000',
      '--value-bytes',
      '64',
      '--json',
      '--time',
      kvTypes.map((t) => `${t.type}:${t.count ?? 10}`).join(','),
    ]);
    remote = (JSON.parse(text.trim().split('\n').pop()!) as { timedUs: Record<string, number> }).timedUs;
  }
  for (const t of wl.types) {
    if (t.type === 'get' || t.type === 'scan') {
      if (inv) {
        out[t.type] = remote[`${t.type}:${t.count ?? 10}`]!;
      } else {
        const r = await kvBench({ path: KV_PATH, op: t.type, count: t.count ?? 10, iterations: t.type === 'get' ? 500 : 60 });
        out[t.type] = Array.from(r.ns).reduce((a, b) => a + b, 0) / r.ns.length / 1000;
      }
    } else {
      out[t.type] = wl.handlers?.[t.type] === 'tpcc' ? TPCC_US[t.type]! : t.service!.meanUs;
    }
  }
  return out;
}

/** CPU time (s) of a local rack's roles so far, as a snapshot (the agents' from their heartbeats). */
interface RackCpu {
  dispatchers: number;
  workers: number;
  /** The agents' processes besides their dispatchers and workers. */
  agents: number;
  switch: number;
  /** This process (control plane, bench, generator) besides the switch's thread. */
  bench: number;
  /** When it was read (Date.now()). */
  at: number;
}

/** A rack the sweep drives: this machine's, or a testbed's. */
interface LiveRack {
  /** Runs one point's client config; a testbed splits it over its client hosts. */
  run(cfg: Omit<ClientConfig, 'dst'>): Promise<{ report: ClientReport; clients?: number; spreadMs?: number }>;
  completed(): Promise<number[]>;
  /** A local rack's CPU so far (undefined on a testbed: its hosts' CPUs are theirs). */
  cpu?(): RackCpu;
  stop(): Promise<void>;
}

async function localRack(
  plan: RackPlan,
  system: LiveSystem,
  control: ControlConfig,
  policy: SwitchPolicy,
  server: ServerConfig,
): Promise<LiveRack> {
  const pin = plan.pin;
  const r = await startRack({
    // Ports away from `pallas up`'s (9101…), so that a rack already up does not collide.
    servers: plan.servers,
    workers: plan.workers,
    serverPort: 9201,
    controlPort: 0,
    agentStderr: 'capture',
    switch: { policy, transport: { kind: 'udp', port: 0 }, wait: plan.wait, ...(pin?.switch !== undefined ? { core: pin.switch } : {}) },
    control,
    server: { ...server, wait: plan.wait },
    ...(pin
      ? {
          serverFor: (i: number) => {
            const sp = pin.servers[i]!;
            return { cores: sp.workers, ...(sp.dispatcher !== undefined ? { dispatcherCore: sp.dispatcher } : {}) };
          },
        }
      : {}),
    log: logger('bench').child(system),
  });
  return {
    run: async (cfg) => ({ report: await runClient({ ...cfg, dst: { ip: r.switchAddr.ip, port: r.switchAddr.port } }) }),
    completed: async () => r.control.status().servers.map((s) => s.stats.completed ?? 0),
    cpu: () => {
      const st = r.control.status().servers.map((s) => s.stats);
      const sum = (k: string) => st.reduce((a, x) => a + (x[k] ?? 0), 0);
      const sw = r.sw.threadCpuS();
      const me = process.cpuUsage();
      return {
        dispatchers: sum('cpuDispatcherS'),
        workers: sum('cpuWorkersS'),
        agents: sum('cpuProcessS') - sum('cpuDispatcherS') - sum('cpuWorkersS'),
        switch: sw,
        bench: (me.user + me.system) / 1e6 - sw,
        at: Date.now(),
      };
    },
    stop: () => r.stop(),
  };
}

async function testbedRack(
  inv: Inventory,
  system: LiveSystem,
  control: ControlConfig,
  policy: SwitchPolicy,
  server: ServerConfig,
  clockOffsetsMs: Map<string, number>,
): Promise<LiveRack> {
  const r = await startTestbedRack(inv, { policy, control, server, clockOffsetsMs, log: logger('bench').child(system) });
  return {
    run: async (cfg) => {
      const m = await r.runClients({ ...cfg, dst: r.switchAddr });
      return { report: m.report, clients: m.clients, spreadMs: m.spreadMs };
    },
    completed: () => r.completed(),
    stop: () => r.stop(),
  };
}

/**
 * The capacity one machine's software path carries with room to spare (requests/s): the client,
 * the switch and the servers all handle every request on this machine's CPUs. Measured on 2 vCPUs:
 * the path costs 110–320 µs of CPU a request when its threads block (docs/bench.md), so 2.5 k req/s
 * keep it within about half a CPU at full load; the whole path saturates at 14–20 k req/s.
 */
const PATH_BUDGET_RPS = 2500;
const NICE = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000];

/**
 * A workload slowed down by a round factor, keeping its shape, so that the rack's capacity stays
 * within PATH_BUDGET_RPS and the path's own cost stays small beside the work: spin types get every
 * service time × scale; RocksDB types read scale × as many keys a request (GET(10) becomes GET(10 k),
 * SCAN(5000) SCAN(5000 k)), still real calls on the database, so their times are measured again
 * after (the largest factor that keeps every count within 16 bits). The capacity is the busiest
 * phase's. `svcUs` has each type's unscaled service time (RocksDB's as measured here); `fixed`
 * forces a scale.
 */
export function scaleWorkload(
  wl: LiveWorkload,
  svcUs: Record<string, number> | undefined,
  cores: number,
  fixed?: number,
): { wl: LiveWorkload; scale: number } {
  const maxCount = Math.max(0, ...wl.types.map((t) => t.count ?? 0));
  if (fixed !== undefined && wl.kv && fixed * maxCount > MAX_KV_COUNT)
    throw new PallasError(
      'USAGE',
      `--scale ${fixed}: ${wl.name} would read ${fixed * maxCount} keys a request, and at most ${MAX_KV_COUNT} fit`,
    );
  // The capacity of the busiest phase (a shift workload's normal mix runs the most requests a second).
  const pick = (us: Record<string, number>) => {
    const capacity = (cores * 1e6) / meanServiceUs(wl, us);
    const nice = wl.kv ? NICE.filter((k) => k * maxCount <= MAX_KV_COUNT) : NICE;
    return nice.find((k) => capacity / k <= PATH_BUDGET_RPS) ?? nice[nice.length - 1]!;
  };
  if (fixed === undefined && !svcUs) throw new Error('scaleWorkload: service times are needed to choose a scale');
  const scale = fixed ?? pick(svcUs!);
  if (scale === 1) return { wl, scale };
  if (wl.kv) return { scale, wl: { ...wl, types: wl.types.map((t) => ({ ...t, count: (t.count ?? 0) * scale })) } };
  const us = (t: LiveWorkload['types'][number]) => (wl.handlers?.[t.type] === 'tpcc' ? TPCC_US[t.type]! : t.service!.meanUs);
  return {
    scale,
    wl: {
      ...wl,
      types: wl.types.map((t) => ({ ...t, service: { ...(t.service ?? {}), meanUs: us(t) * scale } })),
      // The TPC-C handler spins its profile's times: scaled, they become fixed spins of their own.
      handlers: Object.fromEntries(
        Object.entries(wl.handlers ?? {}).map(([k, h]) => [k, h === 'tpcc' ? { fixedUs: TPCC_US[k]! * scale } : h]),
      ),
    },
  };
}

/** The workload's phases (one when it has none), each with its mix's mean service time. */
function phaseMixes(wl: LiveWorkload, svc: Record<string, number>) {
  const phases = wl.phases ?? [{ fraction: 1, shares: wl.types.map((t) => t.share ?? 1) }];
  return phases.map((p) => {
    const total = p.shares.reduce((a, b) => a + b, 0);
    return { ...p, meanUs: wl.types.reduce((a, t, i) => a + (p.shares[i]! / total) * svc[t.type]!, 0) };
  });
}

/** Phases of one point: rate for `load` of the rack's capacity under each phase's own mix. */
function phasesFor(wl: LiveWorkload, svc: Record<string, number>, cores: number, load: number, durationMs: number) {
  return phaseMixes(wl, svc).map((p) => ({
    durationMs: durationMs * p.fraction,
    rateRps: (load * cores * 1e6) / p.meanUs,
    shares: p.shares,
  }));
}

/** The simulator's p99 (and whether it saturates) for one system and load of the same rack, with the given service times. */
interface SimPoint {
  system: LiveSystem;
  load: number;
  svcUs: Record<string, number>;
  /** The live point's duration (a workload's phases take their fractions of it). */
  durationMs: number;
}

async function simulate(
  wl: LiveWorkload,
  rack: { servers: number; workers: number },
  pts: SimPoint[],
  requests: number,
): Promise<{ p99: number; saturated: boolean }[]> {
  const scenario = (p: SimPoint) =>
    normaliseScenario({
      name: `live-${wl.name}`,
      rack,
      network: { oneWayUs: 10 },
      workload: {
        types: wl.types.map((t) => ({
          name: t.type,
          service: { dist: t.service?.dist === 'exp' ? 'exp' : 'fixed', meanUs: p.svcUs[t.type] },
          share: t.share ?? 1,
          ...(t.arrivals?.process === 'gamma' ? { arrivals: { dist: 'gamma', cv: t.arrivals.cv ?? 1 } } : {}),
        })),
        ...(wl.phases
          ? {
              phases: wl.phases.map((ph, i) => ({
                ...(i < wl.phases!.length - 1 ? { durationMs: p.durationMs * ph.fraction } : {}),
                shares: Object.fromEntries(wl.types.map((t, j) => [t.type, ph.shares[j]])),
              })),
            }
          : {}),
      },
      systems: [p.system],
      loads: [p.load],
      requests,
    });
  // One scenario a point (each with its own service times), from one queue of runs.
  const docs = await runScenarios(pts.map(scenario));
  return docs.map((d) => ({ p99: d.runs[0]!.latencyUs.p99, saturated: d.runs[0]!.saturated }));
}

const fmtTimes = (us: Record<string, number>) =>
  Object.entries(us)
    .map(([k, v]) => `${k} ${v.toFixed(1)} µs`)
    .join(', ');
const fmtUs = (x: number) => (x >= 10_000 ? `${(x / 1000).toFixed(1)} ms` : x >= 100 ? `${x.toFixed(0)} µs` : `${x.toFixed(1)} µs`);

export function formatLive(doc: LiveDocument): string {
  const rows: (string[] | { cells: string[]; trailer: string })[] = [
    ['system', 'load', 'offered', 'achieved', 'p50', 'p99', 'p99.9', 'sim p99', 'late', 'drops', 't/o'],
  ];
  // A p99 whose 95 % interval is unbounded or wider than ±P99_TOLERANCE rests on too few replies: marked ~ (as in pallas sim).
  const thin = (p: LivePoint) => p99Shortfall({ count: p.replies, p99: p.p99Us, p99Lo: p.p99LoUs, p99Hi: p.p99HiUs }) > 0;
  for (const p of doc.points) {
    const sat = (p.saturated ? ' saturated' : '') + (p.late > 0.05 * p.sent ? ' client-behind' : '') + (p.overBudget ? ' over-budget' : '');
    const sim = p.simP99Us === undefined ? '-' : p.simSaturated ? 'sat.' : fmtUs(p.simP99Us);
    const types = Object.entries(p.perType)
      .map(([n, t]) =>
        t.measured
          ? `${n} p99 ${fmtUs(t.p99Us)} (exec ${fmtUs(t.execMeanUs)})`
          : `${n}: no replies${t.replies ? ' after the warm-up' : ''}`,
      )
      .join(', ');
    const k = (x: number) => `${(x / 1000).toFixed(1)}k`;
    rows.push({
      cells: [
        p.system,
        p.load.toFixed(2),
        k(p.offeredRps),
        k(p.achievedRps),
        fmtUs(p.p50Us),
        fmtUs(p.p99Us) + (thin(p) ? '~' : ''),
        fmtUs(p.p999Us),
        sim,
        String(p.late),
        String(p.drops),
        String(p.timeouts),
      ],
      trailer: sat,
    });
    rows.push({ cells: [], trailer: `               ${types}` });
    if (p.cpu) {
      const c = p.cpu;
      rows.push({
        cells: [],
        trailer:
          `               CPU per request: path ${pathCost(c).toFixed(1)} µs (generator ${c.client.toFixed(1)}, ` +
          `switch ${c.switch.toFixed(1)}, dispatcher ${c.dispatcher.toFixed(1)}), worker ${c.work.toFixed(1)} µs; ` +
          `agents and control plane ${c.background.toFixed(2)} CPUs; ${c.busyCores.toFixed(2)} CPUs busy: ` +
          `the machine carries loads up to ${c.carries.toFixed(2)}`,
      });
    }
  }
  for (const n of doc.budget?.notRun ?? []) rows.push({ cells: [n.system, n.load.toFixed(2), 'not run'], trailer: `  ${n.why}` });
  const head = textTable(rows);
  const spread = Math.max(0, ...doc.points.map((p) => p.clientStartSpreadMs ?? 0));
  const where = doc.testbed
    ? [
        `testbed ${doc.testbed.inventory} (${doc.testbed.connection}): ` +
          `${doc.testbed.servers.length} servers, ${doc.testbed.clients.length} client host(s) ` +
          `whose histograms were merged; their runs started at most ${spread} ms apart`,
      ]
    : [];
  const notes = [
    ...where,
    ...(doc.budget
      ? [
          "not run, over-budget: beyond the load this machine's CPUs carry while each role gets a CPU when it needs one " +
            '(the CPU budget, docs/bench.md); an over-budget point is left out of the plot',
          ...(doc.points.some((p) => p.realtimeSend === false)
            ? ["the generator could not run at SCHED_FIFO here (it needs root or CAP_SYS_NICE): its sends waited for the rack's threads"]
            : []),
        ]
      : []),
    'saturated: achieved < 0.99 × offered (its latency is not a steady state); client-behind: more than 5 % of the sends left ' +
      'over 50 µs late (the latency counts from the scheduled time, so it includes that); sim p99: the simulator on the same rack ' +
      '(servers, workers), at the same request rate, with the execution times the servers measured at that point (exec)',
    ...(doc.points.some(thin)
      ? [
          '~: the p99 rests on too few replies (its 95 % interval, in result.json and points.csv, is wider than ±10 %): ' +
            'a longer --duration narrows it',
        ]
      : []),
  ];
  return [head, '', ...notes].join('\n');
}

function csv(doc: LiveDocument): string {
  const types = doc.points[0] ? Object.keys(doc.points[0].perType) : [];
  const head = [
    'system',
    'load',
    'offered_rps',
    'achieved_rps',
    'saturated',
    'p50_us',
    'p99_us',
    'p999_us',
    'sim_p99_us',
    'sent',
    'replies',
    'drops',
    'timeouts',
    'late',
    ...types.flatMap((t) => [`${t}_p99_us`, `${t}_exec_us`]),
    'p99_lo_us',
    'p99_hi_us',
    'cpu_path_us',
    'cpu_work_us',
    'busy_cores',
    'over_budget',
  ];
  return toCsv([
    head,
    ...doc.points.map((p) => [
      p.system,
      p.load,
      p.offeredRps.toFixed(0),
      p.achievedRps.toFixed(0),
      p.saturated,
      p.p50Us.toFixed(1),
      p.p99Us.toFixed(1),
      p.p999Us.toFixed(1),
      p.simP99Us?.toFixed(1) ?? '',
      p.sent,
      p.replies,
      p.drops,
      p.timeouts,
      p.late,
      ...types.flatMap((t) => (p.perType[t]?.measured ? [p.perType[t]!.p99Us.toFixed(1), p.perType[t]!.execMeanUs.toFixed(1)] : ['', ''])),
      p.p99LoUs.toFixed(1),
      p.p99HiUs?.toFixed(1) ?? '',
      p.cpu ? pathCost(p.cpu).toFixed(1) : '',
      p.cpu?.work.toFixed(1) ?? '',
      p.cpu?.busyCores.toFixed(2) ?? '',
      p.overBudget === true,
    ]),
  ]);
}

export async function runLiveBench(o: LiveOptions): Promise<{ doc: LiveDocument; dir: string; files: string[] }> {
  const wl0 = WORKLOADS[o.workload];
  if (!wl0) throw new Error(`unknown workload '${o.workload}' (${Object.keys(WORKLOADS).join(', ')})`);
  process.env.PALLAS_LOG ??= 'warn';
  const inv = o.testbed;
  // This machine's rack and how its threads wait: the CPU budget (lib/budget.ts).
  const plan = inv ? undefined : planRack({ ...(o.servers ? { servers: o.servers } : {}), ...(o.workers ? { workers: o.workers } : {}) });
  let rack: LiveDocument['rack'];
  if (inv) {
    const ws = inv.servers.map((s) => s.workers);
    rack = { servers: ws.length, workers: ws[0]!, cores: ws.reduce((a, b) => a + b, 0), why: `the testbed of ${inv.file}` };
  } else {
    rack = { servers: plan!.servers, workers: plan!.workers, cores: plan!.servers * plan!.workers, why: plan!.why };
  }
  const uniform = !inv || inv.servers.every((s) => s.workers === rack.workers);
  const systems = o.systems ?? DEFAULT_SYSTEMS;
  // Steps of 0.1: on a small machine the budget stops the sweep early, and the curve still has points.
  const loads = o.loads ?? (o.quick ? [0.2, 0.5, 0.8] : [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9]);
  const fixedMs = o.durationMs ?? (o.quick ? 2000 : undefined);
  const where = inv ? `testbed ${inv.file}` : 'this machine';
  o.log(`bench ${wl0.name}: ${wl0.about}`);
  const workers = uniform ? `${rack.workers} worker(s)` : `${inv!.servers.map((s) => s.workers).join('/')} workers`;
  o.log(
    `  rack: ${rack.servers} server(s) × ${workers} (${rack.why}); ` +
      `systems ${systems.join(', ')}; ` +
      (fixedMs
        ? `${fixedMs} ms per point`
        : `${POINT_MS} ms per point, or as long as ${POINT_REPLIES} replies take (at most ${MAX_POINT_MS / 1000} s)`) +
      ', the first 10 % not measured',
  );
  if (inv) {
    o.log(
      `  testbed (${inv.connection}): switch ${inv.switch.kind} on ${inv.switch.host} (${inv.switch.address}:${inv.switch.port}); ` +
        `servers ${inv.servers.map((s) => s.host).join(', ')}; clients ${inv.clients.map((c) => c.host).join(', ')}, ` +
        `each sending 1/${inv.clients.length} of the load`,
    );
  }
  const probes = inv ? await probeHosts(inv) : new Map<string, never>();
  if (inv) {
    const clock = (p: { offsetMs: number; rttMs: number }) =>
      `${Math.abs(p.offsetMs) < 0.05 ? '' : p.offsetMs > 0 ? '+' : '−'}${Math.abs(p.offsetMs).toFixed(1)} ms ±${(p.rttMs / 2).toFixed(1)}`;
    o.log(
      `  hosts: ${[...probes.values()].map((p) => `${p.host} (${p.hostname}) clock ${clock(p)}`).join(', ')}; ` +
        "each runs this Pallas; the clients' shared start is given in their own clocks",
    );
  }
  if (wl0.kv && !inv) {
    const kv = await loadKv({ path: KV_PATH, keys: 5000, valueBytes: 64 });
    o.log(`  RocksDB: ${kv.keys} keys × ${kv.valueBytes} B on ${KV_PATH} (${kv.built ? 'built now' : 'already there'})`);
  } else if (wl0.kv) {
    o.log(`  RocksDB: 5000 keys × 64 B on ${KV_PATH} of every server host (built by its agent when missing)`);
  }
  // A testbed's path is real hardware: its workloads run as the paper has them unless --scale says otherwise.
  const forced = inv ? (o.scale ?? 1) : o.scale;
  const unscaled = forced === undefined ? await serviceTimes(wl0, inv) : undefined;
  const scaled = scaleWorkload(wl0, unscaled, rack.cores, forced);
  const wl = scaled.wl;
  if (scaled.scale > 1) {
    const what = wl.kv
      ? `RocksDB reads ×${scaled.scale} the keys a request (${wl.types.map((t) => `${t.type.toUpperCase()}(${t.count})`).join(', ')})`
      : `service times × ${scaled.scale}`;
    o.log(
      inv || o.scale !== undefined
        ? `  ${what} (as asked)`
        : `  ${what}: the workload keeps its shape, ` +
            `and the rack's capacity stays within the ~${PATH_BUDGET_RPS / 1000} k req/s ` +
            "that one machine's client, switch and servers carry with room to spare (--scale 1 runs it as the paper has it)",
    );
  }
  // The scaled workload's times (RocksDB's calls timed again: more keys a call is real work, not a multiple of the time);
  // unscaled, the ones the scale was chosen from.
  const timed = scaled.scale === 1 && unscaled ? unscaled : await serviceTimes(wl, inv);
  // The times load is counted in: RocksDB's are the rack's own once the first warm-up has measured them (calibrate).
  let svc = timed;
  o.log(
    `  service times${inv ? '' : ' here'}: ${fmtTimes(timed)}` +
      (wl.kv ? ` (RocksDB calls timed directly on the database the servers read${inv ? `, on ${inv.servers[0]!.host}` : ''})` : ''),
  );
  const server: ServerConfig = {
    handlers: wl.handlers,
    ...(wl.kv ? { kv: { path: KV_PATH, keys: 5000, valueBytes: 64, load: true } } : {}),
  };
  const clientTypes = wl.types.map(({ type, share, service, count, arrivals }) => ({
    type,
    share,
    ...(service ? { service } : {}),
    ...(count ? { count, keys: 5000 } : {}),
    ...(arrivals ? { arrivals } : {}),
  }));
  // The mean request rate of a point at `load` over its phases.
  const meanRps = (load: number) => phasesFor(wl, svc, rack.cores, load, 1).reduce((a, p) => a + p.durationMs * p.rateRps, 0);
  // One point: the generator's run at `load`, the requests each server completed, and what each role's CPU did.
  const runPoint = async (r: LiveRack, load: number, ms: number, seed: number) => {
    const before = await r.completed();
    const cpu0 = r.cpu?.();
    const run = await r.run({
      types: clientTypes,
      phases: phasesFor(wl, svc, rack.cores, load, ms),
      warmupMs: ms / 10,
      timeoutMs: 1000,
      seed,
      ...(plan ? { sendSpinUs: sendSpinAt(plan, meanRps(load)), realtime: plan.realtimeSend } : {}),
    });
    // Heartbeats every 100 ms: wait for one after the run so the counts include it.
    await new Promise((res) => setTimeout(res, 250));
    const after = await r.completed();
    const cpu1 = r.cpu?.();
    const n = Math.max(1, run.report.sent);
    const us = (a: number, b: number) => ((b - a) * 1e6) / n;
    const costs: RoleCosts | undefined =
      cpu0 && cpu1
        ? {
            client: (run.report.cpuS * 1e6) / n,
            switch: us(cpu0.switch, cpu1.switch),
            dispatcher: us(cpu0.dispatchers, cpu1.dispatchers),
            work: us(cpu0.workers, cpu1.workers),
            // Over the whole time between the two reads (the run, its lead and the wait after it).
            background: (cpu1.agents + cpu1.bench - cpu0.agents - cpu0.bench - run.report.cpuS) / ((cpu1.at - cpu0.at) / 1000),
          }
        : undefined;
    return { ...run, completed: after.map((x, i) => x - (before[i] ?? 0)), costs };
  };
  // How long a run must be for `replies` measured replies (its first 10 % is not measured) at `rps`, within [lo, hi] ms.
  const runMs = (replies: number, rps: number, lo: number, hi: number) =>
    Math.min(hi, Math.max(lo, Math.ceil((replies / 0.9 / rps) * 10) * 100));
  const pointMs = (load: number) => runMs(POINT_REPLIES, meanRps(load), POINT_MS, MAX_POINT_MS);
  // RocksDB: a warm-up long enough for twice CALIBRATE_REPLIES of the rarest type (its arrivals are random).
  const rarest = Math.min(...phaseMixes(wl, timed).flatMap((p) => p.shares.map((x) => x / p.shares.reduce((a, b) => a + b, 0))));
  const warmupMs = (load: number) => (wl.kv ? runMs(2 * CALIBRATE_REPLIES, meanRps(load) * rarest, WARMUP_MS, MAX_WARMUP_MS) : WARMUP_MS);
  // A GET or SCAN takes longer in the rack than timed alone in a loop (on this VM by up to 60 %):
  // load 1.0 is the rack's capacity at the times its servers measure, as long as every type had replies enough.
  const calibrate = (perType: ClientReport['perType']) => {
    const exec = wl.types.map((t) => perType[t.type]);
    if (exec.some((e) => !e || e.histogram.totalCount < CALIBRATE_REPLIES)) {
      o.log(`  (the warm-up measured too few replies of a type to count load in the rack's times: kept the timed ones)`);
      return timed;
    }
    const rackUs = Object.fromEntries(wl.types.map((t, i) => [t.type, exec[i]!.execMeanUs]));
    o.log(`  service times in the rack (the first warm-up's execution times; load is counted in these): ${fmtTimes(rackUs)}`);
    if (budget) budget.meanServiceUs = meanServiceUs(wl, rackUs);
    return rackUs;
  };
  const budget: LiveBudget | undefined = plan ? { plan, meanServiceUs: meanServiceUs(wl, svc), notRun: [] } : undefined;
  if (plan) o.log(formatPlan(plan));
  const total = systems.length * loads.length;
  let done = 0;
  const points: LivePoint[] = [];
  for (const system of systems) {
    const { policy, control } = systemRack(
      system,
      wl.types.map((t) => ({ type: t.type, meanUs: svc[t.type]!, share: t.share ?? 1 })),
    );
    o.progress?.(`[${'#'.repeat(done).padEnd(total, '.')}] ${done}/${total} ${system}: starting the rack`);
    const r = inv
      ? await testbedRack(inv, system, control, policy, server, new Map([...probes].map(([h, p]) => [h, p.offsetMs])))
      : await localRack(plan!, system, control, policy, server);
    try {
      // A warm-up at the first load, not reported: the rack's start (its first plan, RocksDB's caches, the JIT)
      // would otherwise count in the first point's latencies and costs.
      if (loads.length) {
        o.progress?.(`[${'#'.repeat(done).padEnd(total, '.')}] ${done}/${total} ${system}: warming up`);
        const w = await runPoint(r, loads[0]!, warmupMs(loads[0]!), 0);
        // Once, so that every system runs the same rates.
        if (wl.kv && system === systems[0]) svc = calibrate(w.report.perType);
      }
      // What the last point's costs say the machine carries (the costs per request fall as the load rises, so this errs low).
      let carried: ReturnType<typeof carriedLoad> | undefined;
      for (const [i, load] of loads.entries()) {
        if (budget && carried && load > carried.maxLoad + 1e-9) {
          for (const l of loads.slice(i)) budget.notRun.push({ system, load: l, why: carried.need(l) });
          done += loads.length - i;
          break;
        }
        o.progress?.(`[${'#'.repeat(done).padEnd(total, '.')}] ${done}/${total} ${system} load ${load}`);
        const ms = fixedMs ?? pointMs(load);
        const { report: rep, clients, spreadMs, completed, costs } = await runPoint(r, load, ms, 1 + done);
        if (budget && costs) carried = carriedLoad(budget.plan, costs, budget.meanServiceUs);
        const achieved = rep.replies / rep.durationS;
        points.push({
          system,
          load,
          offeredRps: rep.offeredRps,
          achievedRps: achieved,
          saturated: achieved < 0.99 * rep.offeredRps,
          p50Us: rep.all.p50Us,
          p99Us: rep.all.p99Us,
          p99LoUs: rep.all.p99LoUs,
          p99HiUs: rep.all.p99HiUs,
          p999Us: rep.all.p999Us,
          perType: Object.fromEntries(
            Object.entries(rep.perType).map(([n, t]) => [
              n,
              {
                replies: t.replies,
                measured: t.histogram.totalCount,
                p50Us: t.p50Us,
                p99Us: t.p99Us,
                p999Us: t.p999Us,
                execMeanUs: t.execMeanUs,
              },
            ]),
          ),
          sent: rep.sent,
          replies: rep.replies,
          drops: rep.drops,
          timeouts: rep.timeouts,
          late: rep.late,
          lateMaxUs: rep.lateMaxUs,
          serverCompleted: completed,
          durationMs: ms,
          ...(plan?.realtimeSend ? { realtimeSend: rep.realtime } : {}),
          ...(costs && carried
            ? {
                cpu: {
                  ...costs,
                  busyCores: costs.background + (rep.sent * (pathCost(costs) + costs.work)) / 1e6 / rep.durationS,
                  carries: carried.maxLoad,
                },
                ...(load > carried.maxLoad + 1e-9 ? { overBudget: true } : {}),
              }
            : {}),
          ...(clients !== undefined ? { clients, clientStartSpreadMs: spreadMs } : {}),
        });
        done++;
      }
    } finally {
      await r.stop();
    }
  }
  if (uniform) {
    o.progress?.(`[${'#'.repeat(total)}] ${total}/${total} simulating the same rack`);
    // Each point's simulation takes the execution times its servers measured (per type; the timed
    // ones for a type without replies): the same rack doing the same work. 200 000 requests a
    // point: fewer leave the end of the run inside the 1 % that flags a point saturated.
    const sim = await simulate(
      wl,
      { servers: rack.servers, workers: rack.workers },
      points.map((p) => {
        const svcUs = Object.fromEntries(
          wl.types.map((t) => [t.type, p.perType[t.type]?.measured ? p.perType[t.type]!.execMeanUs : svc[t.type]!]),
        );
        // The same request rate: a load of the rack's capacity at these times, not at the timed ones.
        const mix = (us: Record<string, number>) => wl.types.reduce((a, t) => a + (t.share ?? 1) * us[t.type]!, 0);
        return { system: p.system, load: (p.load * mix(svcUs)) / mix(svc), svcUs, durationMs: p.durationMs };
      }),
      200_000,
    );
    points.forEach((p, i) => Object.assign(p, { simP99Us: sim[i]!.p99, simSaturated: sim[i]!.saturated }));
  } else {
    o.log("  (no simulator column: the simulator's racks have the same worker count on every server, and these servers differ)");
  }
  o.progress?.('');
  const doc: LiveDocument = {
    workload: wl.name,
    about: wl.about,
    rack,
    where,
    serviceUs: svc,
    ...(svc !== timed ? { timedUs: timed } : {}),
    ...(budget ? { budget } : {}),
    scale: scaled.scale,
    ...(fixedMs ? { durationMs: fixedMs } : {}),
    points,
    ...(inv
      ? {
          testbed: {
            inventory: inv.file,
            connection: inv.connection,
            switch: `${inv.switch.kind} on ${inv.switch.host}`,
            servers: inv.servers.map((s) => ({ host: s.host, address: s.address, workers: s.workers })),
            clients: inv.clients.map((c) => c.host),
            hosts: [...probes.values()].map(({ host, hostname, offsetMs, rttMs }) => ({ host, hostname, offsetMs, rttMs })),
          },
        }
      : {}),
  };
  const dir = join(o.out, 'bench', `${wl.name}-${new Date().toISOString().replace(/[:.]/g, '-')}`);
  mkdirSync(dir, { recursive: true });
  const files = [join(dir, 'result.json'), join(dir, 'points.csv'), join(dir, 'p99.svg')];
  writeFileSync(files[0]!, JSON.stringify(doc, null, 2));
  writeFileSync(files[1]!, csv(doc));
  writeFileSync(
    files[2]!,
    renderChart({
      title:
        `${wl.name}${scaled.scale > 1 ? ` ×${scaled.scale}` : ''}: p99 against load ` +
        `(${rack.servers} servers, ${rack.cores} cores; ${inv ? 'testbed' : 'this machine'})`,
      xLabel: "load (fraction of the rack's capacity)",
      yLabel: 'p99 latency',
      yUnit: 'µs',
      yLog: true,
      series: [
        ...systems.map((s) => ({
          name: s,
          points: points.filter((p) => p.system === s && !p.overBudget).map((p) => ({ x: p.load, y: p.p99Us, open: p.saturated })),
        })),
        ...systems
          .map((s) => ({
            name: `${s} (sim)`,
            pairOf: s,
            points: points
              .filter((p) => p.system === s && p.simP99Us !== undefined && !p.overBudget)
              .map((p) => ({ x: p.load, y: p.simP99Us!, open: p.simSaturated })),
          }))
          .filter((x) => x.points.length > 0),
      ],
      note: 'dashed, hollow: the simulator on the same rack; open markers: saturated (achieved < 0.99 × offered)',
    }),
  );
  writeFileSync(join(dir, 'p99.png'), renderPng(readFileSync(files[2]!, 'utf8')));
  files.push(join(dir, 'p99.png'));
  return { doc, dir, files };
}
