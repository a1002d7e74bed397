// The open-loop load generator's TypeScript side: validates a run, hands it to native/client (all
// per-request work is native: the schedule, the sends, the receives, the histograms), then turns
// the result into a report. Per-type latency histograms (3 significant digits) become
// hdr-histogram-js histograms, merged into one for the whole run. Every run checks the accounting
// invariant (sent = replies + drops + timeouts; scheduled = sent + never sent) and throws
// ACCOUNTING when it breaks.
import * as hdr from 'hdr-histogram-js';

import { bad, bool, int, list, num, obj, oneOf, only, type Obj } from '../config.js';
import { nativeAsync, PallasError } from '../errors.js';
import { prepareTransport, type TransportConfig } from '../io/transport.js';
import { loadNative, type NativeClientTypeResult } from '../native.js';
import { typeId, typeName } from '../runtime/config.js';
import { parseAddr } from '../switch/soft.js';
import { DROP_CAUSES, TYPES } from '../wire/gen.js';

/** A GET or SCAN request's count of keys travels in 16 bits (docs/wire-format.md). */
export const MAX_KV_COUNT = 65535;

export interface ClientTypeSpec {
  /** Wire type (name or id). */
  type: string | number;
  share?: number;
  /** Spin types: the work each request asks for. */
  service?: { dist?: 'fixed' | 'exp' | 'lognormal'; meanUs: number; sigma?: number };
  /** GET/SCAN: keys drawn uniformly from [0, keys), `count` keys per request. */
  keys?: number;
  count?: number;
  /** This type arrives as a process of its own (at its share of the rate); the others share `arrivals`. */
  arrivals?: { process?: 'poisson' | 'gamma' | 'fixed'; cv?: number };
}

export interface ClientPhase {
  durationMs: number;
  rateRps: number;
  shares?: number[];
}

export interface ClientConfig {
  transport?: TransportConfig;
  dst: string | { ip: string; port: number; mac?: string };
  types: ClientTypeSpec[];
  phases: ClientPhase[];
  arrivals?: { process?: 'poisson' | 'gamma' | 'fixed'; cv?: number };
  seed?: number;
  /** After the last send, how long to wait for answers. */
  timeoutMs?: number;
  /** A send this much after its scheduled time counts as late. */
  lateUs?: number;
  /**
   * The longest spin before a send (µs; default 500): the thread sleeps until twice the wake-up
   * lateness it has seen before the send is due, and spins the rest. 0 never spins: for a
   * generator that shares its cores with the rack (a send is then as late as the wake-up).
   */
  sendSpinUs?: number;
  /**
   * Run the generator's thread at SCHED_FIFO when this process may (root or CAP_SYS_NICE): on
   * cores shared with the rack, a send then waits for the timer only. The report says whether it did.
   */
  realtime?: boolean;
  /** Requests scheduled in the first `warmupMs` are answered and counted but not measured. */
  warmupMs?: number;
  maxRequests?: number;
  /**
   * Wall-clock time (Unix ms) at which the schedule starts: clients on several hosts start together,
   * as far as their clocks agree. A time already past starts at once.
   */
  startAt?: number;
}

export interface TypeReport {
  name: string;
  scheduled: number;
  sent: number;
  replies: number;
  drops: number;
  timeouts: number;
  neverSent: number;
  late: number;
  /** Latency from the scheduled send time, replies after the warm-up only, µs. */
  p50Us: number;
  p99Us: number;
  /** The p99's 95 % confidence interval (order statistics); p99HiUs null when too few replies bound it from above. */
  p99LoUs: number;
  p99HiUs: number | null;
  p999Us: number;
  meanUs: number;
  maxUs: number;
  /** The servers' execution time for those replies, as the replies report it. */
  execMeanUs: number;
  histogram: hdr.Histogram;
}

export interface ClientReport {
  scheduled: number;
  sent: number;
  replies: number;
  drops: number;
  timeouts: number;
  neverSent: number;
  late: number;
  lateMaxUs: number;
  duplicates: number;
  unexpected: number;
  invalid: number;
  dropsByCause: Record<string, number>;
  /** Offered: scheduled requests over the schedule's length; achieved: replies over the same time. */
  offeredRps: number;
  achievedRps: number;
  durationS: number;
  perType: Record<string, TypeReport>;
  all: TypeReport;
  aborted: boolean;
  /** Wall-clock time (Unix ms) the run started. */
  startedAtMs: number;
  /** CPU time the generator's thread used, s. */
  cpuS: number;
  /** The generator's thread ran at SCHED_FIFO (asked for with `realtime`, and allowed). */
  realtime: boolean;
}

interface Normalised {
  native: Record<string, unknown>;
  names: string[];
  durationNs: number;
  startAt?: number;
}

function normalise(v: unknown): Normalised {
  const o = obj(v, 'client');
  only(o, 'client', [
    'transport',
    'dst',
    'types',
    'phases',
    'arrivals',
    'seed',
    'timeoutMs',
    'lateUs',
    'sendSpinUs',
    'realtime',
    'warmupMs',
    'maxRequests',
    'startAt',
  ]);
  const dst = parseAddr(o.dst, 'client.dst');
  if (!dst) bad('client.dst', 'is required');
  const names: string[] = [];
  const types = list(o, 'types', 'client').map((t, i) => {
    const p = `client.types[${i}]`;
    const to: Obj = obj(t, p);
    only(to, p, ['type', 'share', 'service', 'keys', 'count', 'arrivals']);
    const id = typeId(to.type, `${p}.type`);
    const payload = TYPES.find((x) => x.id === id)!.payload;
    names.push(typeName(id));
    const out: Record<string, unknown> = { wireType: id, share: num(to, 'share', p, 0, 1e9, 1) };
    if (payload === 'spin') {
      const so: Obj = obj(to.service ?? { meanUs: 1 }, `${p}.service`);
      only(so, `${p}.service`, ['dist', 'meanUs', 'sigma']);
      out.dist = oneOf(so, 'dist', `${p}.service`, ['fixed', 'exp', 'lognormal'] as const, 'fixed');
      out.meanNs = num(so, 'meanUs', `${p}.service`, 0, 4e6) * 1000;
      out.sigma = num(so, 'sigma', `${p}.service`, 0, 10, 1);
    } else if (to.service !== undefined) {
      bad(`${p}.service`, `${typeName(id)} carries a key and a count, not a service time`);
    }
    if (to.arrivals !== undefined) {
      const ao: Obj = obj(to.arrivals, `${p}.arrivals`);
      only(ao, `${p}.arrivals`, ['process', 'cv']);
      out.process = oneOf(ao, 'process', `${p}.arrivals`, ['poisson', 'gamma', 'fixed'] as const, 'poisson');
      out.cv = num(ao, 'cv', `${p}.arrivals`, 0.01, 100, 1);
    }
    if (payload === 'kv') {
      out.keys = int(to, 'keys', p, 1, 2 ** 32 - 1, 5000);
      out.count = int(to, 'count', p, 1, MAX_KV_COUNT, id === TYPES.find((x) => x.name === 'scan')?.id ? 5000 : 10);
    }
    return out;
  });
  let durationNs = 0;
  const phases = list(o, 'phases', 'client').map((ph, i) => {
    const p = `client.phases[${i}]`;
    const po: Obj = obj(ph, p);
    only(po, p, ['durationMs', 'rateRps', 'shares']);
    const d = num(po, 'durationMs', p, 0.001, 3_600_000) * 1e6;
    durationNs += d;
    const out: Record<string, unknown> = { durationNs: d, rateRps: num(po, 'rateRps', p, 0.001, 1e9) };
    if (po.shares !== undefined) {
      const s = list(po, 'shares', p);
      if (s.length !== types.length) bad(`${p}.shares`, `give one share per type (${types.length})`);
      out.shares = s.map((x, j) => {
        if (typeof x !== 'number' || !(x >= 0)) bad(`${p}.shares[${j}]`, 'must be a number >= 0');
        return x;
      });
    }
    return out;
  });
  const a: Obj = o.arrivals === undefined ? {} : obj(o.arrivals, 'client.arrivals');
  only(a, 'client.arrivals', ['process', 'cv']);
  // Within a day of now: anything else is a unit mistake (seconds, or ns) or a broken clock.
  const startAt = o.startAt === undefined ? undefined : num(o, 'startAt', 'client', Date.now() - 86_400_000, Date.now() + 86_400_000);
  return {
    names,
    durationNs,
    ...(startAt !== undefined ? { startAt } : {}),
    native: {
      transport: o.transport ?? { kind: 'udp', port: 0 },
      dst,
      types,
      phases,
      process: oneOf(a, 'process', 'client.arrivals', ['poisson', 'gamma', 'fixed'] as const, 'poisson'),
      cv: num(a, 'cv', 'client.arrivals', 0.01, 100, 1),
      seed: int(o, 'seed', 'client', 0, 2 ** 31, 1),
      timeoutNs: num(o, 'timeoutMs', 'client', 1, 600_000, 1000) * 1e6,
      lateNs: num(o, 'lateUs', 'client', 0, 1e9, 50) * 1000,
      spinMaxNs: num(o, 'sendSpinUs', 'client', 0, 1e6, 500) * 1000,
      realtime: bool(o, 'realtime', 'client', false),
      warmupNs: num(o, 'warmupMs', 'client', 0, 3_600_000, 0) * 1e6,
      maxRequests: int(o, 'maxRequests', 'client', 1, 1e8, 20_000_000),
    },
  };
}

/** The schedule a config gives (send times in ns from the start, type index, work), without running it. */
export function clientSchedule(cfg: ClientConfig): { tNs: Float64Array; type: Uint8Array; arg: Uint32Array } {
  const n = normalise(cfg);
  try {
    return loadNative().clientSchedule(n.native);
  } catch (e) {
    throw new PallasError('BAD_CONFIG', (e as Error).message);
  }
}

function histogramOf(buckets: Float64Array): hdr.Histogram {
  const h = hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 2 ** 44, numberOfSignificantValueDigits: 3 });
  for (let i = 0; i < buckets.length; i += 3) h.recordValueWithCount(Math.round(buckets[i]! + (buckets[i + 1]! - 1) / 2), buckets[i + 2]!);
  return h;
}

/**
 * The p99's 95 % confidence interval from a histogram of n values, distribution-free: the values
 * at ranks n·0.99 ∓ 1.96·√(n·0.99·0.01) (µs); hi is null when that rank is past the last value.
 */
export function p99Interval(h: hdr.Histogram): { p99LoUs: number; p99HiUs: number | null } {
  const n = h.totalCount;
  if (n === 0) return { p99LoUs: 0, p99HiUs: null };
  const half = 1.96 * Math.sqrt(n * 0.99 * 0.01);
  const lo = Math.max(0, Math.floor(n * 0.99 - half)),
    hi = Math.ceil(n * 0.99 + half);
  return {
    p99LoUs: h.getValueAtPercentile((Math.max(lo, 1) / n) * 100) / 1000,
    p99HiUs: hi <= n ? h.getValueAtPercentile((hi / n) * 100) / 1000 : null,
  };
}

function typeReport(
  name: string,
  t: Omit<NativeClientTypeResult, 'latencyBuckets' | 'latencyMaxNs' | 'latencyMeanNs' | 'measured' | 'execMeanNs'>,
  h: hdr.Histogram,
  maxNs: number,
  execMeanNs: number,
): TypeReport {
  const q = (p: number) => (h.totalCount ? h.getValueAtPercentile(p) / 1000 : 0);
  return {
    name,
    ...p99Interval(h),
    scheduled: t.scheduled,
    sent: t.sent,
    replies: t.replies,
    drops: t.drops,
    timeouts: t.timeouts,
    neverSent: t.neverSent,
    late: t.late,
    p50Us: q(50),
    p99Us: q(99),
    p999Us: q(99.9),
    meanUs: h.totalCount ? h.mean / 1000 : 0,
    maxUs: maxNs / 1000,
    execMeanUs: execMeanNs / 1000,
    histogram: h,
  };
}

/**
 * Runs the schedule against `dst` and reports. `control`, if given, is a 2-element BigUint64Array:
 * [0] requests sent so far (written by the run), [1] set non-zero to stop sending.
 */
export async function runClient(cfg: ClientConfig, control?: BigUint64Array): Promise<ClientReport> {
  const n = normalise(cfg);
  const transport = prepareTransport(n.native.transport, 'client.transport');
  // Timers run on a monotonic clock and may fire a millisecond before the wall clock gets there.
  while (n.startAt !== undefined && n.startAt > Date.now())
    await new Promise((res) => setTimeout(res, Math.max(1, n.startAt! - Date.now())));
  const startedAtMs = Date.now();
  const r = await nativeAsync(() => loadNative().runClient({ ...n.native, transport }, control));
  const perType: Record<string, TypeReport> = {};
  const all = hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 2 ** 44, numberOfSignificantValueDigits: 3 });
  let maxNs = 0,
    execSum = 0,
    measured = 0;
  r.perType.forEach((t, i) => {
    const h = histogramOf(t.latencyBuckets);
    all.add(h);
    maxNs = Math.max(maxNs, t.latencyMaxNs);
    execSum += t.execMeanNs * t.measured;
    measured += t.measured;
    perType[n.names[i]!] = typeReport(n.names[i]!, t, h, t.latencyMaxNs, t.execMeanNs);
  });
  const dropsByCause: Record<string, number> = {};
  for (const [name, code] of Object.entries(DROP_CAUSES)) if (r.dropsByCause[code]) dropsByCause[name] = r.dropsByCause[code]!;
  if (r.dropsByCause[0]) dropsByCause.UNKNOWN = r.dropsByCause[0];
  const durationS = n.durationNs / 1e9;
  const report: ClientReport = {
    scheduled: r.scheduled,
    sent: r.sent,
    replies: r.replies,
    drops: r.drops,
    timeouts: r.timeouts,
    neverSent: r.neverSent,
    late: r.late,
    lateMaxUs: r.lateMaxNs / 1000,
    duplicates: r.duplicates,
    unexpected: r.unexpected,
    invalid: r.invalid,
    dropsByCause,
    offeredRps: r.scheduled / durationS,
    achievedRps: r.replies / durationS,
    durationS,
    perType,
    all: typeReport('all', r, all, maxNs, measured ? execSum / measured : 0),
    aborted: r.aborted,
    startedAtMs,
    cpuS: r.cpuNs / 1e9,
    realtime: r.realtime,
  };
  if (!r.accountingOk) {
    throw new PallasError(
      'ACCOUNTING',
      `the run lost track of requests: scheduled ${r.scheduled} = sent ${r.sent} + never sent ${r.neverSent}; ` +
        `sent ${r.sent} = replies ${r.replies} + drops ${r.drops} + timeouts ${r.timeouts}`,
    );
  }
  return report;
}
