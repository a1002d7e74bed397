// Client reports across processes and hosts. A report travels as JSON with each histogram as a
// compressed HdrHistogram encoding (`pallas client --json`), so that the runs of several clients
// (a testbed's) merge exactly: counts add, histograms add bucket by bucket, and the percentiles are
// read off the merged histogram, never averaged.
import * as hdr from 'hdr-histogram-js';

import { PallasError } from '../errors.js';
import { p99Interval, type ClientReport, type TypeReport } from './client.js';

export type EncodedType = Omit<TypeReport, 'histogram'> & { histogram: string };
export type EncodedReport = Omit<ClientReport, 'all' | 'perType'> & { all: EncodedType; perType: Record<string, EncodedType> };

export function encodeReport(r: ClientReport): EncodedReport {
  const { all, perType, ...counts } = r;
  const enc = ({ histogram, ...t }: TypeReport): EncodedType => ({ ...t, histogram: hdr.encodeIntoCompressedBase64(histogram) });
  return { ...counts, all: enc(all), perType: Object.fromEntries(Object.entries(perType).map(([k, t]) => [k, enc(t)])) };
}

function fresh(): hdr.Histogram {
  return hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 2 ** 44, numberOfSignificantValueDigits: 3 });
}

function decodeType(t: EncodedType, where: string): TypeReport {
  if (typeof t?.histogram !== 'string') throw new PallasError('BAD_CONFIG', `${where}: no histogram encoding`);
  let h: hdr.Histogram;
  try {
    h = fresh();
    h.add(hdr.decodeFromCompressedBase64(t.histogram));
  } catch (e) {
    throw new PallasError('BAD_CONFIG', `${where}: the histogram does not decode (${(e as Error).message})`);
  }
  return { ...t, histogram: h };
}

/** A report from its JSON form (`pallas client --json`); `where` names it in errors. */
export function decodeReport(v: unknown, where = 'client report'): ClientReport {
  const r = v as EncodedReport;
  if (!r || typeof r !== 'object' || typeof r.sent !== 'number' || !r.all || !r.perType) {
    throw new PallasError('BAD_CONFIG', `${where}: not a client report`);
  }
  return {
    ...r,
    all: decodeType(r.all, `${where}.all`),
    perType: Object.fromEntries(Object.entries(r.perType).map(([k, t]) => [k, decodeType(t, `${where}.perType.${k}`)])),
  };
}

const COUNTS = ['scheduled', 'sent', 'replies', 'drops', 'timeouts', 'neverSent', 'late'] as const;

function mergeTypes(name: string, ts: TypeReport[]): TypeReport {
  const h = fresh();
  for (const t of ts) h.add(t.histogram);
  const q = (p: number) => (h.totalCount ? h.getValueAtPercentile(p) / 1000 : 0);
  // The execution time is a mean over the measured replies: weight each run by its count.
  const measured = ts.reduce((a, t) => a + t.histogram.totalCount, 0);
  const out = {
    name,
    p50Us: q(50),
    p99Us: q(99),
    ...p99Interval(h),
    p999Us: q(99.9),
    meanUs: h.totalCount ? h.mean / 1000 : 0,
    maxUs: Math.max(0, ...ts.map((t) => t.maxUs)),
    execMeanUs: measured ? ts.reduce((a, t) => a + t.execMeanUs * t.histogram.totalCount, 0) / measured : 0,
    histogram: h,
  } as TypeReport;
  for (const k of COUNTS) out[k] = ts.reduce((a, t) => a + t[k], 0);
  return out;
}

/**
 * One report for runs that went on side by side (several clients driving one rack): counts and
 * histograms add; rates add; the duration is the longest run's. Throws ACCOUNTING if the merged
 * books do not balance.
 */
export function mergeReports(rs: ClientReport[]): ClientReport {
  if (rs.length === 0) throw new PallasError('BAD_CONFIG', 'no client reports to merge');
  const names = [...new Set(rs.flatMap((r) => Object.keys(r.perType)))];
  const perType = Object.fromEntries(
    names.map((n) => [
      n,
      mergeTypes(
        n,
        rs.flatMap((r) => (r.perType[n] ? [r.perType[n]!] : [])),
      ),
    ]),
  );
  const dropsByCause: Record<string, number> = {};
  for (const r of rs) for (const [k, v] of Object.entries(r.dropsByCause)) dropsByCause[k] = (dropsByCause[k] ?? 0) + v;
  const sum = (k: 'duplicates' | 'unexpected' | 'invalid' | 'offeredRps' | 'achievedRps') => rs.reduce((a, r) => a + r[k], 0);
  const all = mergeTypes(
    'all',
    rs.map((r) => r.all),
  );
  const total = (k: (typeof COUNTS)[number]) => rs.reduce((a, r) => a + r[k], 0);
  const m: ClientReport = {
    scheduled: total('scheduled'),
    sent: total('sent'),
    replies: total('replies'),
    drops: total('drops'),
    timeouts: total('timeouts'),
    neverSent: total('neverSent'),
    late: total('late'),
    lateMaxUs: Math.max(...rs.map((r) => r.lateMaxUs)),
    duplicates: sum('duplicates'),
    unexpected: sum('unexpected'),
    invalid: sum('invalid'),
    dropsByCause,
    offeredRps: sum('offeredRps'),
    achievedRps: sum('achievedRps'),
    durationS: Math.max(...rs.map((r) => r.durationS)),
    perType,
    all,
    aborted: rs.some((r) => r.aborted),
    startedAtMs: Math.min(...rs.map((r) => r.startedAtMs)),
    // A report from an older Pallas has no CPU time.
    cpuS: rs.reduce((a, r) => a + (r.cpuS ?? 0), 0),
    realtime: rs.every((r) => r.realtime === true),
  };
  if (m.sent !== m.replies + m.drops + m.timeouts || m.scheduled !== m.sent + m.neverSent) {
    throw new PallasError(
      'ACCOUNTING',
      `the merged runs of ${rs.length} clients do not balance: scheduled ${m.scheduled}, sent ${m.sent}, ` +
        `never sent ${m.neverSent}, replies ${m.replies}, drops ${m.drops}, timeouts ${m.timeouts}`,
    );
  }
  return m;
}
