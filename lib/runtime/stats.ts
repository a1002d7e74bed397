// Reading a runtime's statistics: the native cells are shared memory (native/runtime/stats.hpp),
// seen here as BigUint64Array views; a read copies them (retrying while the dispatcher is
// mid-update, detected by its sequence cell) and turns them into named numbers and quantiles.
import { loadNative, type NativeRuntimeLayout, type NativeRuntimeViews } from '../native.js';
import { typeName } from './config.js';

export interface Quantiles {
  count: number;
  mean: number;
  p50: number;
  p99: number;
  p999: number;
  max: number;
  /** Cumulative counts at the bounds of HIST_BOUNDS_NS (values ≤ each bound), for Prometheus histograms. */
  cumulative: number[];
  sumNs: number;
}

/** The bucket bounds the stats export as histograms: 1, 2 and 5 × 10^k ns from 1 µs to 10 s. */
export const HIST_BOUNDS_NS: readonly number[] = Array.from({ length: 8 }, (_, k) => [1, 2, 5].map((m) => m * 10 ** (k + 3)))
  .flat()
  .concat([1e10]);

export interface TypeStats {
  id: number;
  received: number;
  dispatched: number;
  completed: number;
  dropFull: number;
  dropClone: number;
  dropOther: number;
  bounced: number;
  /** Queued now. */
  queued: number;
  /** Time from arrival to a worker, ns. */
  waitNsMean: number;
  waitNsMax: number;
  /** Execution time measured by the worker, ns. */
  execNs: Quantiles;
  /** Arrival to completion, ns. */
  sojournNs: Quantiles;
  /** Index of the reservation group the type belongs to (darc), or null. */
  group: number | null;
  /** The type's DARC demand in cores (0 when unknown). */
  demand: number;
}

export interface WorkerStats {
  completed: number;
  busyNs: number;
  busy: boolean;
  sleeps: number;
  /** Index of the reservation group this worker is reserved for (darc), or null. */
  group: number | null;
}

/** The policy's core reservation (darc), as the stats show it (refreshed every ms). */
export interface ReservationView {
  groups: { types: string[]; workers: number[]; demand: number }[];
}

export interface RuntimeStats {
  epoch: number;
  policy: string;
  /** Server counters by name (n_rx, n_replies, n_drop_full, queued, in_service ...). */
  server: Record<string, number>;
  /** Datagrams refused by wire validation, by reason. */
  invalid: Record<string, number>;
  /** Per type name, for the types this server has a handler for. */
  types: Record<string, TypeStats>;
  workers: WorkerStats[];
  /** null for cfcfs, and for darc while it profiles. */
  reservation: ReservationView | null;
  transport: Record<string, number>;
}

let layout: NativeRuntimeLayout | undefined;
function lay(): NativeRuntimeLayout {
  layout ??= loadNative().runtimeLayout();
  return layout;
}

function quantiles(counts: BigUint64Array, off: number, n: number, sumNs: number, lower: Float64Array): Quantiles {
  let total = 0;
  let maxBucket = -1;
  for (let i = 0; i < n; i++) {
    const c = Number(counts[off + i]);
    if (c > 0) maxBucket = i;
    total += c;
  }
  const mid = (i: number) => (i + 1 < n ? (lower[i]! + lower[i + 1]!) / 2 : lower[i]!);
  const at = (q: number) => {
    if (total === 0) return 0;
    const rank = Math.max(1, Math.ceil(q * total));
    let seen = 0;
    for (let i = 0; i < n; i++) {
      seen += Number(counts[off + i]);
      if (seen >= rank) return mid(i);
    }
    return mid(n - 1);
  };
  // A native bucket counts at bound b when all of it lies at or below b (its upper edge ≤ b). The
  // native buckets are log-linear on powers of two (64 per octave), so the one that straddles a
  // decimal bound counts above it: each cumulative count is exact to within that bucket (< 1.6 %
  // of the bound).
  // One pass over the buckets (stats are read on every heartbeat): the bounds ascend, and so do
  // the buckets' upper edges.
  const cumulative: number[] = [];
  let seen = 0,
    i = 0;
  for (const b of HIST_BOUNDS_NS) {
    for (; i < n && (i + 1 < n ? lower[i + 1]! : Infinity) <= b; i++) seen += Number(counts[off + i]);
    cumulative.push(seen);
  }
  return {
    count: total,
    mean: total ? sumNs / total : 0,
    p50: at(0.5),
    p99: at(0.99),
    p999: at(0.999),
    max: maxBucket < 0 ? 0 : mid(maxBucket),
    cumulative,
    sumNs,
  };
}

/** A consistent copy of the dispatcher's cells (at most a few retries; the copy is µs). */
function snapshot(v: NativeRuntimeViews): { server: BigUint64Array; types: BigUint64Array; hist: BigUint64Array } {
  for (let attempt = 0; ; attempt++) {
    const s0 = v.server[0]!;
    const server = v.server.slice();
    const types = v.types.slice();
    const hist = v.hist.slice();
    if ((s0 & 1n) === 0n && v.server[0] === s0) return { server, types, hist };
    if (attempt >= 50) return { server, types, hist }; // a busy dispatcher: near enough
  }
}

export function readStats(views: NativeRuntimeViews, rowTypes: number[], policy: string, transport: BigUint64Array): RuntimeStats {
  const L = lay();
  const { server, types, hist } = snapshot(views);
  const out: RuntimeStats = { epoch: 0, policy, server: {}, invalid: {}, types: {}, workers: [], reservation: null, transport: {} };
  L.serverCells.forEach((name, i) => {
    if (name.startsWith('n_invalid_')) {
      if (name !== 'n_invalid_ok') out.invalid[name.slice('n_invalid_'.length)] = Number(server[i]);
    } else if (name !== 'seq') {
      out.server[name] = Number(server[i]);
    }
  });
  out.epoch = out.server.epoch ?? 0;
  const nt = L.typeCells.length;
  const nb = L.histLower.length;
  const nk = L.histKinds.length;
  rowTypes.forEach((id, r) => {
    const cell = (name: string) => Number(types[r * nt + L.typeCells.indexOf(name)]);
    const completed = cell('n_completed');
    const dispatched = cell('n_dispatched');
    out.types[typeName(id)] = {
      id,
      received: cell('n_received'),
      completed,
      dropFull: cell('n_drop_full'),
      dropClone: cell('n_drop_clone'),
      dropOther: cell('n_drop_other'),
      bounced: cell('n_bounced'),
      queued: cell('queued'),
      dispatched,
      waitNsMean: dispatched ? cell('wait_ns_sum') / dispatched : 0,
      waitNsMax: cell('wait_ns_max'),
      execNs: quantiles(hist, (r * nk + 0) * nb, nb, cell('exec_ns_sum'), L.histLower),
      sojournNs: quantiles(hist, (r * nk + 1) * nb, nb, cell('sojourn_ns_sum'), L.histLower),
      group: cell('group') > 0 ? cell('group') - 1 : null,
      demand: cell('demand_milli') / 1000,
    };
  });
  const ws = views.workers;
  for (let w = 0; w * L.workerStride < ws.length; w++) {
    const c = (name: string) => Number(ws[w * L.workerStride + L.workerCells.indexOf(name)]);
    out.workers.push({
      completed: c('n_completed'),
      busyNs: c('busy_ns'),
      busy: c('busy') === 1,
      sleeps: c('n_sleeps'),
      group: c('group') > 0 ? c('group') - 1 : null,
    });
  }
  const nGroups = out.server.res_groups ?? 0;
  if (nGroups > 0) {
    const groups = Array.from({ length: nGroups }, () => ({ types: [] as string[], workers: [] as number[], demand: 0 }));
    for (const [name, t] of Object.entries(out.types)) {
      const g = t.group === null ? undefined : groups[t.group];
      if (g) {
        g.types.push(name);
        g.demand += t.demand;
      }
    }
    out.workers.forEach((w, i) => {
      if (w.group !== null) groups[w.group]?.workers.push(i);
    });
    out.reservation = { groups };
  }
  loadNative().transportCounterNames.forEach((n, i) => {
    out.transport[n] = Number(transport[i]);
  });
  return out;
}
