// How the live benchmarks scale spin workloads to a small machine (bench/live scaleWorkload).
import { describe, expect, it } from 'vitest';

import { scaleWorkload } from '../../bench/live/index.js';
import { WORKLOADS } from '../../bench/live/workloads.js';

describe('scaling a workload to the machine', () => {
  it('slows spin workloads by a round factor that keeps the capacity within the path budget, and keeps their shape', () => {
    const { wl, scale } = scaleWorkload(WORKLOADS.bimodal!, 2);
    // 2 cores / 19 µs = 105 k req/s; ×50 brings it to 2.1 k req/s (×20 would leave 5.3 k).
    expect(scale).toBe(50);
    expect(wl.types.map((t) => t.service!.meanUs)).toEqual([500, 5000]);
    expect(wl.types.map((t) => t.share)).toEqual([0.9, 0.1]);
    expect(scaleWorkload(WORKLOADS.bimodal!, 2, 1).scale).toBe(1);
    // On a machine with 80 cores the factor grows with the capacity.
    expect(scaleWorkload(WORKLOADS.bimodal!, 80).scale).toBe(1000);
  });

  it('turns the TPC-C handler into fixed spins of the scaled profile, and never scales RocksDB', () => {
    const { wl, scale } = scaleWorkload(WORKLOADS.tpcc!, 2);
    expect(scale).toBeGreaterThan(1);
    expect(wl.handlers!.payment).toEqual({ fixedUs: 5 * scale });
    expect(wl.types.find((t) => t.type === 'stock_level')!.service!.meanUs).toBe(74 * scale);
    expect(scaleWorkload(WORKLOADS.rocksdb!, 2)).toEqual({ wl: WORKLOADS.rocksdb, scale: 1 });
  });
});
