// Testbed mode (`npm run bench -- <workload> --testbed INVENTORY`) against hosts reached over real
// ssh: a private sshd on loopback stands in for the testbed's hosts, so that every remote command
// (`pallas kv-load`, `control`, `agent`, `client`) goes through ssh as on a real rack. The bench
// measures with two client hosts and merges their histograms; killing the bench stops every remote
// process (their stdin closes); a host that fails to start is named in the error.
import { spawn, type ChildProcess } from 'node:child_process';
import { createSocket, type Socket } from 'node:dgram';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';

import { runLiveBench } from '../../bench/live/index.js';
import type { RackStatus } from '../../lib/control/plane.js';
import { loadNative } from '../../lib/native.js';
import { logger } from '../../lib/util/log.js';
import { probeHosts } from '../../lib/testbed/clock.js';
import { normaliseInventory, toAnsible } from '../../lib/testbed/inventory.js';
import { startTestbedRack } from '../../lib/testbed/rack.js';
import { VERSION } from '../../lib/version.js';
import { checkPrereqs, commandWorks, need } from '../helpers/prereq.js';
import { pidsOf } from '../helpers/procs.js';
import { SSHD, startSshd, type Sshd } from '../helpers/sshd.js';
import { waitFor } from '../helpers/wait.js';

const root = join(__dirname, '..', '..');
const BASE = 23000 + (process.pid % 1000) * 8;
const ready = checkPrereqs('testbed over ssh', [
  need(existsSync(join(root, 'dist', 'lib', 'cli', 'main.js')), 'the compiled CLI (npm run build)'),
  need(existsSync(SSHD), 'an OpenSSH server (apt-get install openssh-server)'),
  need(commandWorks('ssh', ['-V']) && existsSync('/usr/bin/ssh-keygen'), 'an OpenSSH client (ssh, ssh-keygen)'),
  need(process.getuid?.() === 0, 'root (the test logs in to its own sshd as root)'),
  need(loadNative().buildInfo().features.rocksdb, 'an addon built with RocksDB (apt-get install librocksdb-dev)'),
]);

const out = mkdtempSync(join(tmpdir(), 'pallas-testbed-'));
let sshd: Sshd | undefined;
const procs: ChildProcess[] = [];
afterAll(() => {
  for (const p of procs) if (p.exitCode === null) p.kill('SIGKILL');
  sshd?.stop();
  rmSync(out, { recursive: true, force: true });
});

function inventory(over: Record<string, unknown> = {}) {
  return {
    connection: 'ssh',
    ssh: { user: 'root', port: BASE, identity: sshd!.identity, options: sshd!.options },
    switch: { host: '127.0.0.1', address: '127.0.0.1', port: BASE + 1, controlPort: BASE + 2 },
    servers: [
      { host: '127.0.0.1', address: '127.0.0.1', port: BASE + 3, cores: 1 },
      { host: 'localhost', address: '127.0.0.1', port: BASE + 4, cores: [1] },
    ],
    clients: [
      { host: '127.0.0.1', address: '127.0.0.1' },
      { host: 'localhost', address: '127.0.0.1' },
    ],
    ...over,
  };
}

/** Pallas commands a bench started with --stdin (only this file's run: test files do not run in parallel). */
const remoteCommands = () => pidsOf(['--stdin', '--json']);

describe.runIf(ready)('bench --testbed over ssh', () => {
  beforeAll(async () => {
    sshd = await startSshd(BASE);
  });

  it("runs the rocksdb workload on the inventory's hosts, two clients merged, and leaves nothing running", async () => {
    const lines: string[] = [];
    const inv = normaliseInventory(inventory(), 'test-inventory');
    const { doc, files } = await runLiveBench({
      workload: 'rocksdb',
      loads: [0.15],
      durationMs: 1000,
      out,
      testbed: inv,
      log: (s) => lines.push(s),
    });
    expect(doc.where).toBe('testbed test-inventory');
    expect(doc.testbed).toMatchObject({ connection: 'ssh', clients: ['127.0.0.1', 'localhost'] });
    expect(doc.rack).toMatchObject({ servers: 2, workers: 1, cores: 2 });
    expect(doc.points.map((p) => p.system)).toEqual(['pallas', 'rs-darc']);
    // The service times were taken on the first server's host (over ssh), not here.
    expect(lines.join('\n')).toMatch(
      /service times: get [\d.]+ µs, scan [\d.]+ µs \(RocksDB calls timed directly on the database the servers read, on 127\.0\.0\.1\)/,
    );
    for (const p of doc.points) {
      expect(p.clients).toBe(2);
      expect(p.replies + p.drops + p.timeouts).toBe(p.sent);
      expect(p.replies).toBeGreaterThan(0.9 * p.sent);
      // Both clients sent their half at about one start time (the same clock here).
      expect(p.clientStartSpreadMs).toBeLessThan(1000);
      expect(p.offeredRps).toBeGreaterThan((0.8 * 0.15 * 2e6) / (0.9 * doc.serviceUs.get! + 0.1 * doc.serviceUs.scan!));
      // Real RocksDB on the servers, and every server of the inventory did some of it.
      expect(p.perType.scan!.execMeanUs).toBeGreaterThan(5 * p.perType.get!.execMeanUs);
      expect(p.serverCompleted).toHaveLength(2);
      expect(p.serverCompleted.every((c) => c > 0)).toBe(true);
      expect(p.serverCompleted.reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual(p.replies * 0.95);
      expect(p.simP99Us).toBeGreaterThan(0);
    }
    expect(files.map((f) => f.split('/').pop())).toEqual(['result.json', 'points.csv', 'p99.svg', 'p99.png']);
    await waitFor(() => remoteCommands().length === 0, 'every remote command to have exited', 10_000, 100);
  });

  it('stops every remote process when the bench is killed outright', async () => {
    const file = join(out, 'inventory.yaml');
    // The file the bench reads is an ansible inventory (the one format --testbed takes).
    writeFileSync(file, stringify(toAnsible(normaliseInventory(inventory(), file))));
    const bench = spawn(
      process.execPath,
      [
        join(root, 'dist', 'bench', 'run.js'),
        'bimodal',
        '--testbed',
        file,
        '--scale',
        '50',
        '--loads',
        '0.2',
        '--duration',
        '30000',
        '--systems',
        'pallas',
        '--out',
        out,
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    procs.push(bench);
    let err = '';
    bench.stderr!.on('data', (d) => {
      err += d;
    });
    // Up: both servers registered and running a policy, and the clients sending.
    await waitFor(
      () => bench.exitCode === null && remoteCommands().length >= 5,
      `the rack and its clients to be up (${err.slice(-400)})`,
      60_000,
      100,
    );
    const st = (await (await fetch(`http://127.0.0.1:${BASE + 2}/v1/status`)).json()) as RackStatus;
    expect(st.servers.filter((s) => s.alive && s.epoch > 0)).toHaveLength(2);
    bench.kill('SIGKILL');
    // No goodbye: each ssh sees its stdin close, the remote command sees the same, and stops.
    await waitFor(() => remoteCommands().length === 0, 'every remote command to have exited after the bench died', 15_000, 100);
    await waitFor(() => pidsOf(['ssh', '-T']).length === 0, 'the ssh clients to have exited', 15_000, 100);
  });
});

describe.runIf(ready)('bench --testbed: a host that fails', () => {
  let blocker: Socket | undefined;
  afterAll(() => blocker?.close());

  it('names the host whose command did not start, and stops the others', async () => {
    // Server 1's port is taken: its agent cannot open its transport.
    blocker = createSocket('udp4');
    await new Promise<void>((r) => blocker!.bind(BASE + 6, '127.0.0.1', r));
    const inv = normaliseInventory(
      {
        connection: 'local',
        switch: { address: '127.0.0.1', port: BASE + 1, controlPort: BASE + 2 },
        servers: [
          { address: '127.0.0.1', port: BASE + 5, cores: 1 },
          { address: '127.0.0.1', port: BASE + 6, cores: 1 },
        ],
        clients: [{ address: '127.0.0.1' }],
      },
      'broken-inventory',
    );
    await expect(
      runLiveBench({
        workload: 'bimodal',
        loads: [0.2],
        durationMs: 500,
        scale: 50,
        out,
        testbed: inv,
        systems: ['pallas'],
        log: () => {},
      }),
    ).rejects.toThrow(/pallas agent 1 on this machine (exited|said nothing)/);
    await waitFor(() => remoteCommands().length === 0, 'the control plane and the other agent to have stopped', 15_000, 100);
  });
});

describe.runIf(ready)('testbed hosts: versions and clocks', () => {
  const local = (over: Record<string, unknown> = {}) =>
    normaliseInventory(
      {
        connection: 'local',
        switch: { address: '127.0.0.1', port: BASE + 1, controlPort: BASE + 2 },
        servers: [{ address: '127.0.0.1', port: BASE + 5, cores: 1 }],
        clients: [
          { host: 'a', address: '127.0.0.1' },
          { host: 'b', address: '127.0.0.1' },
        ],
        ...over,
      },
      'clock-inventory',
    );

  it('finds every host on this Pallas, with its clock offset bounded by the round trip', async () => {
    const probes = await probeHosts(local());
    expect([...probes.keys()].sort()).toEqual(['127.0.0.1', 'a', 'b']);
    for (const p of probes.values()) {
      expect(p.version).toBe(VERSION);
      // The same clock: the offset is within half the best round trip (plus the clock's own jitter).
      expect(Math.abs(p.offsetMs)).toBeLessThanOrEqual(p.rttMs / 2 + 1);
    }
  });

  it('refuses, before anything starts, a server pinned to a CPU its host does not have', async () => {
    const inv = local({ servers: [{ address: '127.0.0.1', port: BASE + 5, cores: [0, 4095] }] });
    await expect(probeHosts(inv)).rejects.toThrow(
      /server 0 on 127\.0\.0\.1 pins workers to CPU 4095, but the host has \d+ CPUs .*fix pallas_worker_cores in clock-inventory/,
    );
  });

  it('refuses a host that runs another Pallas, naming it', async () => {
    // Another checkout whose `pallas clock` answers with another version.
    const other = join(out, 'other-pallas');
    mkdirSync(join(other, 'dist', 'lib', 'cli'), { recursive: true });
    writeFileSync(
      join(other, 'dist', 'lib', 'cli', 'main.js'),
      `process.stdin.setEncoding('utf8').on('data', (d) => {
      for (const _ of d.split('\\n').slice(1)) process.stdout.write(JSON.stringify({ nowMs: Date.now(), host: 'old', version: '0.0.1-old' }) + '\\n');
    });\n`,
    );
    await expect(probeHosts(local({ pallas: other }))).rejects.toThrow(
      /must run this bench's Pallas \(.+\): 127\.0\.0\.1 runs 0\.0\.1-old, a runs 0\.0\.1-old, b runs 0\.0\.1-old/,
    );
  });

  it('gives each client the shared start in its own clock: a client whose clock is 400 ms ahead starts 400 ms later by it', async () => {
    const rack = await startTestbedRack(local(), {
      policy: 'rr',
      control: { serverPolicy: { kind: 'cfcfs' } },
      log: logger('test'),
      // Client b's clock claimed 400 ms ahead of this machine's: its start time must be 400 ms later in its clock.
      clockOffsetsMs: new Map([
        ['a', 0],
        ['b', 400],
      ]),
    });
    try {
      const t0 = Date.now();
      const r = await rack.runClients({
        dst: '127.0.0.1:9',
        types: [{ type: 'short', service: { meanUs: 10 } }],
        phases: [{ durationMs: 300, rateRps: 400 }],
        timeoutMs: 500,
      });
      expect(r.clients).toBe(2);
      expect(r.report.replies).toBe(r.report.sent);
      // Seen on this machine's clock (the offset taken back off), both started together;
      // b really did start ~400 ms after a, so the whole run took that much longer.
      expect(r.spreadMs).toBeLessThan(150);
      expect(r.report.startedAtMs).toBeGreaterThanOrEqual(t0);
      expect(Date.now() - r.report.startedAtMs).toBeGreaterThan(400 + 300);
    } finally {
      await rack.stop();
    }
  });
});
