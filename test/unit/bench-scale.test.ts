// How the live benchmarks slow a workload down to a small machine (bench/live scaleWorkload).
import { describe, expect, it } from 'vitest';

import { scaleWorkload } from '../../bench/live/index.js';
import { WORKLOADS } from '../../bench/live/workloads.js';

const bimodalUs = { short: 10, long: 100 };

describe('scaling a workload to the machine', () => {
  it('slows spin workloads by a round factor that keeps the capacity within the path budget, and keeps their shape', () => {
    const { wl, scale } = scaleWorkload(WORKLOADS.bimodal!, bimodalUs, 2);
    // 2 cores / 19 µs = 105 k req/s; ×50 brings it to 2.1 k req/s (×20 would leave 5.3 k).
    expect(scale).toBe(50);
    expect(wl.types.map((t) => t.service!.meanUs)).toEqual([500, 5000]);
    expect(wl.types.map((t) => t.share)).toEqual([0.9, 0.1]);
    expect(scaleWorkload(WORKLOADS.bimodal!, bimodalUs, 2, 1).scale).toBe(1);
    // On a machine with 80 cores the factor grows with the capacity.
    expect(scaleWorkload(WORKLOADS.bimodal!, bimodalUs, 80).scale).toBe(1000);
  });

  it("counts the capacity in the busiest phase's mix: a shift workload's normal half", () => {
    // shift-bimodal: port 50/50 (mean 55 µs) then normal 90/10 (19 µs): 105 k req/s on 2 cores in the normal half, so ×50.
    expect(scaleWorkload(WORKLOADS['shift-bimodal']!, bimodalUs, 2).scale).toBe(50);
    // shift-rocksdb at GET 8 µs, SCAN 800 µs: the normal half's 87.2 µs, not the port mix's 404 µs.
    expect(scaleWorkload(WORKLOADS['shift-rocksdb']!, { get: 8, scan: 800 }, 2).scale).toBe(10);
    expect(scaleWorkload(WORKLOADS['rocksdb-port']!, { get: 8, scan: 800 }, 2).scale).toBe(2);
  });

  it('turns the TPC-C handler into fixed spins of the scaled profile', () => {
    const us = { payment: 5, order_status: 6, new_order: 16, delivery: 62, stock_level: 74 };
    const { wl, scale } = scaleWorkload(WORKLOADS.tpcc!, us, 2);
    expect(scale).toBeGreaterThan(1);
    expect(wl.handlers!.payment).toEqual({ fixedUs: 5 * scale });
    expect(wl.types.find((t) => t.type === 'stock_level')!.service!.meanUs).toBe(74 * scale);
  });

  it('makes RocksDB requests read k times the keys, from the times measured, within the 16-bit count', () => {
    // GET 8 µs, SCAN 800 µs: a mean of 87.2 µs, 22.9 k req/s on 2 workers; ×10 brings it to 2.3 k.
    const { wl, scale } = scaleWorkload(WORKLOADS.rocksdb!, { get: 8, scan: 800 }, 2);
    expect(scale).toBe(10);
    expect(wl.types.map((t) => [t.type, t.count, t.share])).toEqual([
      ['get', 100, 0.9],
      ['scan', 50000, 0.1],
    ]);
    expect(wl.handlers).toEqual(WORKLOADS.rocksdb!.handlers);
    expect(wl.types.every((t) => t.service === undefined)).toBe(true);
    // A slower database needs less.
    expect(scaleWorkload(WORKLOADS.rocksdb!, { get: 40, scan: 2500 }, 2).scale).toBe(5);
    // A much faster one stops at ×10: SCAN(5000 × 20) would not fit the request's count.
    const fast = scaleWorkload(WORKLOADS.rocksdb!, { get: 1, scan: 100 }, 2);
    expect(fast.scale).toBe(10);
    expect(Math.max(...fast.wl.types.map((t) => t.count!))).toBeLessThanOrEqual(65535);
    // Forced: as asked (no times needed), or refused when the count would not fit.
    expect(scaleWorkload(WORKLOADS.rocksdb!, undefined, 2, 1)).toEqual({ wl: WORKLOADS.rocksdb, scale: 1 });
    expect(scaleWorkload(WORKLOADS.rocksdb!, undefined, 2, 13).wl.types[1]!.count).toBe(65000);
    expect(() => scaleWorkload(WORKLOADS.rocksdb!, undefined, 2)).toThrow(/service times are needed/);
    expect(() => scaleWorkload(WORKLOADS.rocksdb!, undefined, 2, 14)).toThrow(
      expect.objectContaining({ code: 'USAGE', message: expect.stringMatching(/70000 keys a request, and at most 65535/) }),
    );
  });
});
