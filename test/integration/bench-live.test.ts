// The main job's harness (bench/live), run small: the rocksdb workload on a live rack of real
// processes with real RocksDB handlers, one load point per system. It must write its table's
// files, balance its books, and show the servers' real work (SCAN takes RocksDB time).
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

import { formatLive, runLiveBench } from '../../bench/live/index.js';
import { loadNative } from '../../lib/native.js';
import { checkPrereqs, need } from '../helpers/prereq.js';

const out = mkdtempSync(join(tmpdir(), 'pallas-bench-'));
afterAll(() => rmSync(out, { recursive: true, force: true }));
const ready = checkPrereqs('bench rocksdb', [
  need(loadNative().buildInfo().features.rocksdb, 'an addon built with RocksDB (apt-get install librocksdb-dev)'),
  need(existsSync(join(__dirname, '..', '..', 'dist', 'lib', 'cli', 'main.js')), 'the compiled CLI (npm run build)'),
]);

describe.runIf(ready)('bench rocksdb on a live rack', () => {
  it('runs pallas and rs-darc with real RocksDB handlers, balances its books, and writes table, CSV, JSON and plots', async () => {
    const lines: string[] = [];
    const { doc, files } = await runLiveBench({
      workload: 'rocksdb',
      loads: [0.2],
      durationMs: 1000,
      servers: 2,
      workers: 1,
      out,
      log: (s) => lines.push(s),
    });
    expect(doc.points.map((p) => p.system)).toEqual(['pallas', 'rs-darc']);
    for (const p of doc.points) {
      expect(p.replies + p.drops + p.timeouts).toBe(p.sent);
      expect(p.replies).toBeGreaterThan(0);
      // Real RocksDB: a SCAN(5000) takes far longer than a GET(10), on the servers' own clocks.
      expect(p.perType.scan!.execMeanUs).toBeGreaterThan(5 * p.perType.get!.execMeanUs);
      expect(p.perType.scan!.execMeanUs).toBeGreaterThan(100);
      // The servers' counters account for the work (heartbeats; clones may add a little).
      expect(p.serverCompleted.reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual(p.replies * 0.95);
      expect(p.simP99Us).toBeGreaterThan(0);
      // The CPU budget's readings: every role did some work for each request, the workers the most.
      const c = p.cpu!;
      for (const x of [c.client, c.switch, c.dispatcher, c.work]) expect(x).toBeGreaterThan(0);
      expect(c.work).toBeGreaterThan(0.5 * (0.9 * p.perType.get!.execMeanUs + 0.1 * p.perType.scan!.execMeanUs));
      expect(c.busyCores).toBeGreaterThan(0);
      expect(c.carries).toBeGreaterThan(0);
      // The p99's 95 % interval holds it (from the merged histogram's order statistics).
      expect(p.p99LoUs).toBeLessThanOrEqual(p.p99Us);
      if (p.p99HiUs !== null) expect(p.p99HiUs).toBeGreaterThanOrEqual(p.p99Us);
    }
    expect(files.map((f) => f.split('/').pop())).toEqual(['result.json', 'points.csv', 'p99.svg', 'p99.png']);
    for (const f of files) expect(existsSync(f)).toBe(true);
    expect(readFileSync(files[1]!, 'utf8').split('\n')[0]).toMatch(
      /^system,load,offered_rps,achieved_rps,saturated,p50_us,p99_us.*,p99_lo_us,p99_hi_us,cpu_path_us,cpu_work_us,busy_cores,over_budget$/,
    );
    expect(readFileSync(files[2]!, 'utf8')).toMatch(/<svg[\s\S]*pallas[\s\S]*rs-darc/);
    expect(formatLive(doc)).toMatch(/^pallas\s+0\.20/m);
    expect(lines.join('\n')).toMatch(/service times here: get [\d.]+ µs, scan [\d.]+ µs/);
    // Slowed to this machine's path, the requests read k times the keys, and the run says so.
    if (doc.scale > 1)
      expect(lines.join('\n')).toContain(
        `RocksDB reads ×${doc.scale} the keys a request (GET(${10 * doc.scale}), SCAN(${5000 * doc.scale}))`,
      );
    expect(doc.points.every((p) => p.durationMs === 1000)).toBe(true);
    // The budget it ran under, printed and kept.
    expect(doc.budget!.plan.servers).toBe(2);
    expect(lines.join('\n')).toMatch(/budget: (shared|dedicated) cores/);
  });
});
