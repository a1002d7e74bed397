// Merging the reports of several clients (a testbed's): counts add, histograms add exactly (the
// merged percentiles are those of all the samples together, not an average of percentiles), the
// JSON form round-trips, and books that do not balance are refused.
import * as hdr from 'hdr-histogram-js';
import { describe, expect, it } from 'vitest';

import { p99Interval, type ClientReport, type TypeReport } from '../../lib/client/client.js';
import { decodeReport, encodeReport, mergeReports } from '../../lib/client/merge.js';

const build = () => hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 2 ** 44, numberOfSignificantValueDigits: 3 });

function typeReport(name: string, ns: number[], execUs: number, extra: Partial<TypeReport> = {}): TypeReport {
  const h = build();
  for (const v of ns) h.recordValue(v);
  return {
    name,
    scheduled: ns.length,
    sent: ns.length,
    replies: ns.length,
    drops: 0,
    timeouts: 0,
    neverSent: 0,
    late: 0,
    p50Us: h.getValueAtPercentile(50) / 1000,
    p99Us: h.getValueAtPercentile(99) / 1000,
    ...p99Interval(h),
    p999Us: h.getValueAtPercentile(99.9) / 1000,
    meanUs: h.mean / 1000,
    maxUs: h.maxValue / 1000,
    execMeanUs: execUs,
    histogram: h,
    ...extra,
  };
}

function report(short: number[], long: number[], startedAtMs: number): ClientReport {
  const s = typeReport('short', short, 10),
    l = typeReport('long', long, 100);
  const all = typeReport('all', [...short, ...long], (10 * short.length + 100 * long.length) / (short.length + long.length), { late: 3 });
  const n = short.length + long.length;
  return {
    scheduled: n,
    sent: n,
    replies: n,
    drops: 0,
    timeouts: 0,
    neverSent: 0,
    late: 3,
    lateMaxUs: 70,
    duplicates: 0,
    unexpected: 0,
    invalid: 0,
    dropsByCause: {},
    offeredRps: n,
    achievedRps: n,
    durationS: 1,
    perType: { short: s, long: l },
    all,
    aborted: false,
    cpuS: 0.25,
    realtime: false,
    startedAtMs,
  };
}

/** Deterministic samples: a client with fast answers, another with a slow tail. */
const seq = (n: number, f: (i: number) => number) => Array.from({ length: n }, (_, i) => Math.round(f(i)));

describe('merging client reports', () => {
  const aShort = seq(9000, (i) => 20_000 + (i % 100) * 100),
    aLong = seq(1000, (i) => 150_000 + i * 10);
  const bShort = seq(4000, (i) => 30_000 + (i % 50) * 2000),
    bLong = seq(500, (i) => 900_000 + i * 1000);
  const a = report(aShort, aLong, 1_000_000),
    b = report(bShort, bLong, 1_000_040);

  it('adds counts and histograms: the merged percentiles are those of all the samples', () => {
    const m = mergeReports([
      decodeReport(JSON.parse(JSON.stringify(encodeReport(a)))),
      decodeReport(JSON.parse(JSON.stringify(encodeReport(b)))),
    ]);
    const every = build();
    for (const v of [...aShort, ...aLong, ...bShort, ...bLong]) every.recordValue(v);
    expect(m.sent).toBe(14_500);
    expect(m.replies).toBe(14_500);
    expect(m.late).toBe(6);
    expect(m.offeredRps).toBe(14_500);
    expect(m.startedAtMs).toBe(1_000_000);
    expect(m.cpuS).toBe(0.5); // the generators' CPU adds
    expect(m.all.histogram.totalCount).toBe(14_500);
    expect(m.all.p99Us).toBe(every.getValueAtPercentile(99) / 1000);
    expect(m.all.p999Us).toBe(every.getValueAtPercentile(99.9) / 1000);
    // Not the mean of the two clients' p99s.
    expect(m.all.p99Us).not.toBeCloseTo((a.all.p99Us + b.all.p99Us) / 2, 0);
    const longs = build();
    for (const v of [...aLong, ...bLong]) longs.recordValue(v);
    expect(m.perType.long!.p50Us).toBe(longs.getValueAtPercentile(50) / 1000);
    expect(m.perType.long!.replies).toBe(1500);
    expect(m.perType.long!.maxUs).toBeCloseTo(1_399, 0);
    // Execution time: a mean weighted by each run's measured replies.
    expect(m.all.execMeanUs).toBeCloseTo((10 * 13_000 + 100 * 1500) / 14_500, 6);
  });

  it('round-trips the JSON form exactly', () => {
    const d = decodeReport(JSON.parse(JSON.stringify(encodeReport(a))));
    expect(d.all.histogram.totalCount).toBe(a.all.histogram.totalCount);
    expect(d.all.histogram.getValueAtPercentile(99.9)).toBe(a.all.histogram.getValueAtPercentile(99.9));
    expect(() => decodeReport({ sent: 1 }, 'client 3')).toThrow(/client 3: not a client report/);
    expect(() => decodeReport({ ...encodeReport(a), all: { ...encodeReport(a).all, histogram: 'not base64 hdr' } }, 'client 1')).toThrow(
      /client 1\.all: the histogram does not decode/,
    );
  });

  it('refuses merged books that do not balance', () => {
    const broken = report(aShort, aLong, 0);
    broken.replies -= 5;
    expect(() => mergeReports([broken, b])).toThrow(/do not balance/);
  });

  it('gives each p99 its 95 % interval from the order statistics, unbounded above when the replies are too few', () => {
    const h = build();
    for (let i = 1; i <= 10_000; i++) h.recordValue(i * 1000); // 1 … 10 000 µs, uniform
    const ci = p99Interval(h);
    // n = 10 000: ranks 9900 ∓ 1.96·√99 ≈ 9880 and 9920.
    expect(ci.p99LoUs).toBeGreaterThan(9860);
    expect(ci.p99LoUs).toBeLessThan(9900);
    expect(ci.p99HiUs!).toBeGreaterThan(9900);
    expect(ci.p99HiUs!).toBeLessThan(9940);
    const few = build();
    for (let i = 1; i <= 100; i++) few.recordValue(i * 1000);
    expect(p99Interval(few).p99HiUs).toBeNull();
  });
});
