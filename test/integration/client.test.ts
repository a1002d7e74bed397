// The open-loop load generator (native/client, lib/client): its schedule (inter-arrival times
// against the exponential by a Kolmogorov–Smirnov test, gamma bursts, phases), latency measured
// from the scheduled time (a deliberately slow server shows its queueing), late sends counted,
// and the accounting of every request (replies, drop notices by cause, timeouts) against real
// servers on loopback.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import * as hdr from 'hdr-histogram-js';
import { afterEach, describe, expect, it } from 'vitest';

import { clientSchedule, runClient, type ClientConfig } from '../../lib/client/client.js';
import { EchoServer } from '../../lib/io/echo.js';
import { Server } from '../../lib/runtime/server.js';
import { SoftSwitch } from '../../lib/switch/soft.js';

let cleanup: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanup.reverse()) c();
  cleanup = [];
});

const gapsOf = (t: Float64Array) => Array.from(t, (x, i) => (i === 0 ? x : x - t[i - 1]!));

/** Kolmogorov–Smirnov distance between the sample and the exponential of the given mean. */
function ksExponential(xs: number[], mean: number): number {
  const s = xs.slice().sort((a, b) => a - b);
  let d = 0;
  s.forEach((x, i) => {
    const f = 1 - Math.exp(-x / mean);
    d = Math.max(d, Math.abs(f - i / s.length), Math.abs(f - (i + 1) / s.length));
  });
  return d;
}

const base = (over: Partial<ClientConfig> = {}): ClientConfig => ({
  dst: '127.0.0.1:9',
  types: [{ type: 'short', service: { meanUs: 1 } }],
  phases: [{ durationMs: 1000, rateRps: 1000 }],
  ...over,
});

describe('load generator: schedule', () => {
  it('Poisson inter-arrival times pass a Kolmogorov–Smirnov test against the exponential', () => {
    const s = clientSchedule(base({ phases: [{ durationMs: 2000, rateRps: 10_000 }], seed: 11 }));
    const gaps = gapsOf(s.tNs).slice(1);
    expect(gaps.length).toBeGreaterThan(19_000);
    const d = ksExponential(gaps, 100_000);
    // Critical value at α = 0.001: 1.95/√n (about 0.014 here). Fixed seed: the verdict is stable.
    expect(d).toBeLessThan(1.95 / Math.sqrt(gaps.length));
    // And the test can fail: gaps with half the mean are far from this exponential.
    expect(
      ksExponential(
        gaps.map((g) => g / 2),
        100_000,
      ),
    ).toBeGreaterThan(0.1);
  });

  it('gamma arrivals have the coefficient of variation asked for; fixed ones none; phases change rate and mix', () => {
    const cv = (xs: number[]) => {
      const m = xs.reduce((a, b) => a + b, 0) / xs.length;
      return Math.sqrt(xs.reduce((a, b) => a + (b - m) ** 2, 0) / xs.length) / m;
    };
    const g = gapsOf(
      clientSchedule(base({ phases: [{ durationMs: 2000, rateRps: 10_000 }], arrivals: { process: 'gamma', cv: 3 } })).tNs,
    ).slice(1);
    expect(cv(g)).toBeGreaterThan(2.7);
    expect(cv(g)).toBeLessThan(3.3);
    const f = gapsOf(clientSchedule(base({ arrivals: { process: 'fixed' } })).tNs).slice(1);
    expect(Math.max(...f) - Math.min(...f)).toBeLessThanOrEqual(1); // integer ns
    const s = clientSchedule(
      base({
        types: [
          { type: 'short', share: 0.5, service: { meanUs: 10 } },
          { type: 'long', share: 0.5, service: { meanUs: 100, dist: 'exp' } },
        ],
        phases: [
          { durationMs: 1000, rateRps: 4000 },
          { durationMs: 1000, rateRps: 8000, shares: [0.9, 0.1] },
        ],
      }),
    );
    const first = Array.from(s.tNs).filter((t) => t < 1e9).length;
    expect(first).toBeGreaterThan(3700);
    expect(first).toBeLessThan(4300);
    expect(s.tNs.length - first).toBeGreaterThan(7500);
    const second = Array.from(s.type.subarray(first));
    expect(second.filter((t) => t === 0).length / second.length).toBeCloseTo(0.9, 1);
    // Work: short is fixed at 10 µs, long exponential with mean 100 µs.
    const args = (ty: number) => Array.from(s.arg).filter((_, i) => s.type[i] === ty);
    expect(new Set(args(0))).toEqual(new Set([10_000]));
    const longs = args(1);
    expect(longs.reduce((a, b) => a + b, 0) / longs.length).toBeGreaterThan(90_000);
    expect(longs.reduce((a, b) => a + b, 0) / longs.length).toBeLessThan(110_000);
  });

  it('a type with arrivals of its own (bursty shorts among Poisson longs) keeps its process and its share', () => {
    const s = clientSchedule(
      base({
        types: [
          { type: 'short', share: 0.9, service: { meanUs: 10 }, arrivals: { process: 'gamma', cv: 5 } },
          { type: 'long', share: 0.1, service: { meanUs: 90 } },
        ],
        phases: [{ durationMs: 4000, rateRps: 20_000 }],
        seed: 2,
      }),
    );
    const times = (ty: number) => Array.from(s.tNs).filter((_, i) => s.type[i] === ty);
    const cvOf = (t: number[]) => {
      const g = t.slice(1).map((x, i) => x - t[i]!);
      const m = g.reduce((a, b) => a + b, 0) / g.length;
      return Math.sqrt(g.reduce((a, b) => a + (b - m) ** 2, 0) / g.length) / m;
    };
    const short = times(0),
      long = times(1);
    expect(short.length / s.tNs.length).toBeCloseTo(0.9, 1);
    expect(cvOf(short)).toBeGreaterThan(4);
    expect(cvOf(long)).toBeGreaterThan(0.9);
    expect(cvOf(long)).toBeLessThan(1.1);
    // One schedule in send order.
    expect(Array.from(s.tNs).every((t, i) => i === 0 || t >= s.tNs[i - 1]!)).toBe(true);
  });

  it('refuses bad configs with the field named', () => {
    expect(() => clientSchedule(base({ types: [] }))).toThrow(/client.types/);
    expect(() => clientSchedule(base({ types: [{ type: 'nope' }] }))).toThrow(/client.types\[0\].type/);
    expect(() => clientSchedule(base({ phases: [{ durationMs: 10, rateRps: 0 }] }))).toThrow(/rateRps/);
    expect(() => clientSchedule(base({ phases: [{ durationMs: 10, rateRps: 10, shares: [1, 2] }] }))).toThrow(/shares/);
    expect(() => clientSchedule(base({ types: [{ type: 'get', service: { meanUs: 1 } }] }))).toThrow(/service/);
    expect(() => clientSchedule(base({ phases: [{ durationMs: 1000, rateRps: 1e6 }], maxRequests: 1000 }))).toThrow(/more than 1000/);
  });
});

describe('load generator against real servers', () => {
  it('measures latency from the scheduled time: a deliberately slow server shows its queueing', async () => {
    // One worker, 1 ms per request, offered 2000/s for 0.2 s: the queue grows by ~1 request per ms.
    const slow = await new Server({ workers: 1, transport: { kind: 'udp', port: 0 } }).start();
    cleanup.push(() => slow.stop());
    const r = await runClient({
      dst: `127.0.0.1:${slow.local().port}`,
      types: [{ type: 'short', service: { meanUs: 1000 } }],
      phases: [{ durationMs: 200, rateRps: 2000 }],
      timeoutMs: 5000,
      seed: 3,
    });
    expect(r.replies).toBe(r.sent);
    const short = r.perType.short!;
    // The last requests waited for the ~200 before them: about 200 ms from their scheduled time,
    // while each took 1 ms of service.
    expect(short.maxUs).toBeGreaterThan(100_000);
    expect(short.p50Us).toBeGreaterThan(20_000);
    // The servers' execution time comes back in the replies: the spin asked for, not the queueing.
    expect(short.execMeanUs).toBeGreaterThanOrEqual(1000);
    expect(short.execMeanUs).toBeLessThan(short.p50Us / 5);
    // The same load on a fast server: latency is the round trip, not a queue.
    const echo = new EchoServer({ transport: { kind: 'udp', port: 0 } }).start();
    cleanup.push(() => echo.stop());
    const fast = await runClient({
      dst: `127.0.0.1:${echo.local().port}`,
      types: [{ type: 'short', service: { meanUs: 1000 } }],
      phases: [{ durationMs: 200, rateRps: 2000 }],
      seed: 3,
    });
    expect(fast.replies).toBe(fast.sent);
    expect(fast.perType.short!.p50Us).toBeLessThan(short.p50Us / 10);
  });

  it("reports the CPU time of each role's thread (generator, switch, dispatcher, worker), with nothing spinning in block mode", async () => {
    // The server spins 200 µs a request and blocks when idle; the switch blocks too; the generator
    // never spins before a send. Every thread's CPU counts what it did: the worker at least the
    // spins, the others something per request but far less than a core over the run.
    const server = await new Server({ workers: 1, wait: 'block', transport: { kind: 'udp', port: 0 } }).start();
    cleanup.push(() => server.stop());
    const sw = new SoftSwitch({ policy: 'random', wait: 'block', transport: { kind: 'udp', port: 0 }, servers: [server.local()] }).start();
    cleanup.push(() => sw.stop());
    const s0 = sw.threadCpuS(),
      t0 = server.threadCpu();
    const r = await runClient({
      dst: `127.0.0.1:${sw.local().port}`,
      types: [{ type: 'short', service: { dist: 'fixed', meanUs: 200 } }],
      phases: [{ durationMs: 500, rateRps: 1000 }],
      sendSpinUs: 0,
      seed: 5,
    });
    const s1 = sw.threadCpuS(),
      t1 = server.threadCpu();
    expect(r.replies).toBe(r.sent);
    const worker = t1.workersS[0]! - t0.workersS[0]!;
    expect(worker).toBeGreaterThanOrEqual((r.sent * 200e-6) / 1.05);
    for (const [who, cpu] of [
      ['generator', r.cpuS],
      ['switch', s1 - s0],
      ['dispatcher', t1.dispatcherS - t0.dispatcherS],
    ] as const) {
      expect(cpu, who).toBeGreaterThan(0);
      expect(cpu, who).toBeLessThan(0.5 * worker + 0.1); // busy-polling would burn the whole 0.5 s
    }
    expect(sw.stats().switch.n_fwd_replies).toBe(r.sent);
    sw.stop();
    expect(sw.threadCpuS()).toBe(0); // no thread any more
  });

  it('leaves the warm-up out of the latency but not out of the books', async () => {
    const echo = new EchoServer({ transport: { kind: 'udp', port: 0 } }).start();
    cleanup.push(() => echo.stop());
    const r = await runClient({
      dst: `127.0.0.1:${echo.local().port}`,
      types: [{ type: 'short' }],
      phases: [{ durationMs: 100, rateRps: 2000 }],
      arrivals: { process: 'fixed' },
      warmupMs: 50,
    });
    expect(r.replies).toBe(r.sent);
    expect(r.all.histogram.totalCount).toBeGreaterThan(r.replies * 0.4);
    expect(r.all.histogram.totalCount).toBeLessThan(r.replies * 0.6);
  });

  it('counts late sends, and their lateness is in the latency', async () => {
    // A large receive buffer: the burst must not overflow the echo's socket while it is starved of
    // CPU (2 vCPUs shared with the client), or replies go missing for a reason this test is not about.
    const echo = new EchoServer({ transport: { kind: 'udp', port: 0, socketBuf: 64 << 20 } }).start();
    cleanup.push(() => echo.stop());
    // 10 000 requests scheduled within 5 ms (2 M/s): more than one thread can send on time.
    const r = await runClient({
      dst: `127.0.0.1:${echo.local().port}`,
      types: [{ type: 'short' }],
      phases: [{ durationMs: 5, rateRps: 2e6 }],
      arrivals: { process: 'fixed' },
      lateUs: 50,
      timeoutMs: 2000,
    });
    expect(r.sent).toBe(r.scheduled);
    expect(r.late).toBeGreaterThan(0);
    expect(r.late).toBeLessThanOrEqual(r.sent);
    expect(r.lateMaxUs).toBeGreaterThan(50);
    // A reply's latency counts from the scheduled time, so the latest send's lateness is in it.
    expect(r.replies).toBe(r.sent);
    expect(r.all.maxUs).toBeGreaterThanOrEqual(r.lateMaxUs * 0.99);
  });

  it('accounts for every request: replies, drop notices by cause, and timeouts', async () => {
    // A server with a queue of 2 behind 1 worker of 2 ms: most of a 1000/s burst is refused.
    const small = await new Server({
      workers: 1,
      transport: { kind: 'udp', port: 0 },
      policy: { kind: 'cfcfs', queueCapacity: 2 },
    }).start();
    cleanup.push(() => small.stop());
    const r = await runClient({
      dst: `127.0.0.1:${small.local().port}`,
      types: [{ type: 'short', service: { meanUs: 2000 } }],
      phases: [{ durationMs: 100, rateRps: 1000 }],
      timeoutMs: 2000,
      seed: 5,
    });
    expect(r.drops).toBeGreaterThan(0);
    expect(r.dropsByCause.QUEUE_FULL).toBe(r.drops);
    expect(r.replies).toBeGreaterThan(0);
    expect(r.replies + r.drops + r.timeouts).toBe(r.sent);
    expect(small.stats().types.short!.dropFull).toBe(r.drops);
    // Nobody listening: every request times out, none is lost from the books.
    const none = await runClient(base({ dst: '127.0.0.1:9', phases: [{ durationMs: 50, rateRps: 1000 }], timeoutMs: 100 }));
    expect(none.sent).toBe(none.scheduled);
    expect(none.timeouts).toBe(none.sent);
    expect(none.replies + none.drops).toBe(0);
  });

  it('stops sending when told to; what it did not send is counted as never sent', async () => {
    const echo = new EchoServer({ transport: { kind: 'udp', port: 0 } }).start();
    cleanup.push(() => echo.stop());
    const control = new BigUint64Array(2);
    const run = runClient(
      { dst: `127.0.0.1:${echo.local().port}`, types: [{ type: 'short' }], phases: [{ durationMs: 5000, rateRps: 1000 }] },
      control,
    );
    while (control[0]! < 50n) await new Promise((r) => setTimeout(r, 5));
    control[1] = 1n;
    const r = await run;
    expect(r.aborted).toBe(true);
    expect(r.neverSent).toBeGreaterThan(1000);
    expect(r.sent + r.neverSent).toBe(r.scheduled);
    expect(r.replies + r.drops + r.timeouts).toBe(r.sent);
  });

  it('runs as `pallas client`, and its JSON carries histograms that decode to the replies it counted', () => {
    const echo = new EchoServer({ transport: { kind: 'udp', port: 0 } }).start();
    cleanup.push(() => echo.stop());
    const dir = mkdtempSync(join(tmpdir(), 'pallas-client-'));
    cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
    const cfg = join(dir, 'client.yaml');
    writeFileSync(
      cfg,
      'types: [ { type: short, share: 0.9, service: { meanUs: 10 } }, { type: long, share: 0.1, service: { meanUs: 100 } } ]\n' +
        'phases: [ { durationMs: 300, rateRps: 1000 } ]\n',
    );
    const cli = join(__dirname, '..', '..', 'dist', 'lib', 'cli', 'main.js');
    const run = spawnSync(
      process.execPath,
      [cli, 'client', '--config', cfg, '--dst', `127.0.0.1:${echo.local().port}`, '--rate', '2000', '--json'],
      { encoding: 'utf8' },
    );
    expect(run.status, run.stderr).toBe(0);
    const doc = JSON.parse(run.stdout) as {
      sent: number;
      replies: number;
      offeredRps: number;
      all: { histogram: string };
      perType: Record<string, { replies: number; histogram: string }>;
    };
    expect(doc.replies).toBe(doc.sent);
    expect(doc.offeredRps).toBeGreaterThan(1500); // --rate replaced the file's 1000/s
    expect(hdr.decodeFromCompressedBase64(doc.all.histogram).totalCount).toBe(doc.replies);
    expect(hdr.decodeFromCompressedBase64(doc.perType.long!.histogram).totalCount).toBe(doc.perType.long!.replies);
    const bad = spawnSync(process.execPath, [cli, 'client', '--dst', '127.0.0.1:9'], { encoding: 'utf8' });
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/^pallas client: USAGE: pallas client needs --config/);
  });

  it('starts at a wall-clock time; with --stdin it takes its config from stdin and stops when stdin closes', async () => {
    const echo = new EchoServer({ transport: { kind: 'udp', port: 0 } }).start();
    cleanup.push(() => echo.stop());
    const dst = `127.0.0.1:${echo.local().port}`;
    const startAt = Date.now() + 400;
    const r = await runClient({ dst, types: [{ type: 'short' }], phases: [{ durationMs: 50, rateRps: 1000 }], startAt });
    expect(r.startedAtMs).toBeGreaterThanOrEqual(startAt);
    expect(r.replies).toBe(r.sent);
    // Seconds instead of ms is a unit mistake, not a date in 1970.
    expect(() => clientSchedule(base({ startAt: Math.floor(Date.now() / 1000) }))).toThrow(/client\.startAt: must be a number in/);
    // A 60 s run whose stdin closes after ~0.5 s: it stops, counts the rest as never sent, and reports.
    const cli = join(__dirname, '..', '..', 'dist', 'lib', 'cli', 'main.js');
    const child = spawn(process.execPath, [cli, 'client', '--stdin', '--json'], { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
    });
    child.stdin.write(`${JSON.stringify({ dst, types: [{ type: 'short' }], phases: [{ durationMs: 60_000, rateRps: 1000 }] })}\n`);
    await new Promise((res) => setTimeout(res, 500));
    const t0 = Date.now();
    child.stdin.end();
    const code = await new Promise((res) => child.once('exit', res));
    expect(code).toBe(0);
    expect(Date.now() - t0).toBeLessThan(5000);
    const doc = JSON.parse(out) as { aborted: boolean; sent: number; replies: number; neverSent: number; scheduled: number };
    expect(doc.aborted).toBe(true);
    expect(doc.sent).toBeGreaterThan(0);
    expect(doc.neverSent).toBeGreaterThan(50_000);
    expect(doc.sent + doc.neverSent).toBe(doc.scheduled);
  });
});
