// The ansible deployment run for real: four hosts made of network namespaces on one bridge (a
// switch host, two servers, a client), each with its own sshd on port 22 of its own address.
// `site.yml` deploys Pallas to them over ssh from this machine, with every path that would change
// this machine (sysctl file, GRUB defaults, fstab, /etc/pallas, the units) under a temporary root
// per host (pallas_sysroot); the checkout is one directory all hosts see (pallas_shared_dir, as on
// an NFS-shared testbed), cloned from this repository and built by the first host. A second run
// changes nothing. The rendered services are started as their units would start them, and register.
// Then `bench.yml` runs `rocksdb --quick` from the switch host across the others over kernel UDP,
// and the results come back. Whatever the test started is gone afterwards, also when it fails.
import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';

import type { LiveDocument } from '../../bench/live/index.js';
import type { RackStatus } from '../../lib/control/plane.js';
import { loadNative, packageRoot } from '../../lib/native.js';
import { loadInventory } from '../../lib/testbed/inventory.js';
import { createHostNet, type HostNet } from '../helpers/hostnet.js';
import { checkPrereqs, commandWorks, need } from '../helpers/prereq.js';
import { SSHD, startSshd, type Sshd } from '../helpers/sshd.js';
import { waitFor } from '../helpers/wait.js';

const dir = join(packageRoot, 'deploy', 'ansible');
const ready = checkPrereqs('deploy (site.yml over ssh)', [
  need(process.getuid?.() === 0, 'root (network namespaces, sshd)'),
  need(commandWorks('ip', ['-V']), 'iproute2 (`ip`)'),
  need(existsSync(SSHD) && commandWorks('ssh', ['-V']), 'OpenSSH (apt-get install openssh-server openssh-client)'),
  need(commandWorks('ansible-playbook', ['--version']), 'ansible-core (apt-get install ansible-core)'),
  need(existsSync(join(packageRoot, '.git')), 'a git checkout of Pallas (the hosts clone it)'),
  need(loadNative().buildInfo().features.rocksdb, 'an addon built with RocksDB (apt-get install librocksdb-dev)'),
]);

/** Every file whose change would mean the test touched this machine rather than its temporary roots. */
const GUARDED = [
  '/etc/fstab',
  '/etc/default/grub',
  '/etc/sysctl.d',
  '/etc/pallas',
  '/etc/systemd/system/pallas-control.service',
  '/etc/systemd/system/pallas-agent.service',
  '/etc/passwd',
];
function fingerprint(): string {
  const h = createHash('sha256');
  for (const p of GUARDED) {
    if (!existsSync(p)) {
      h.update(`${p}: none\n`);
      continue;
    }
    h.update(`${p}: ${statSync(p).isDirectory() ? readdirSync(p).sort().join(',') : readFileSync(p, 'utf8')}\n`);
  }
  return h.digest('hex');
}

const tmp = mkdtempSync(join(tmpdir(), 'pallas-deploy-'));
const pallasDir = join(tmp, 'opt', 'pallas');
const sysroot = (host: string) => join(tmp, 'root', host);
const NAMES = ['sw1', 's1', 's2', 'c1'];
let net: HostNet | undefined;
const sshds: Sshd[] = [];
const started: ChildProcess[] = [];
let before = '';

/** Processes of this machine whose command line names the test's directory (ansible's ssh control masters). */
function ours(): { pid: number; cmd: string }[] {
  return readdirSync('/proc')
    .filter((p) => /^\d+$/.test(p) && Number(p) !== process.pid)
    .map((p) => {
      try {
        return { pid: Number(p), cmd: readFileSync(`/proc/${p}/cmdline`, 'utf8').replace(/\0/g, ' ') };
      } catch {
        return { pid: 0, cmd: '' };
      }
    })
    .filter((p) => p.cmd.includes(tmp));
}

/** Stops everything; returns the command lines of this machine's processes it had to kill outright. */
function cleanup(): string[] {
  for (const p of started) if (p.exitCode === null) p.kill('SIGKILL');
  // ansible keeps an ssh master per host for a minute; a namespace removed under it leaves it
  // waiting on a connection that will never close, so ask each to exit first (then make sure).
  const cp = join(tmp, 'cp');
  if (existsSync(cp)) {
    for (const sock of readdirSync(cp)) {
      try {
        execFileSync('ssh', ['-o', `ControlPath=${join(cp, sock)}`, '-O', 'exit', 'pallas-test'], { stdio: 'ignore', timeout: 5000 });
      } catch {
        /* gone */
      }
    }
  }
  const forced = ours();
  for (const p of forced) {
    try {
      process.kill(p.pid, 'SIGKILL');
    } catch {
      /* gone */
    }
  }
  for (const s of sshds) s.stop();
  net?.remove();
  rmSync(tmp, { recursive: true, force: true });
  return forced.map((p) => p.cmd);
}
afterAll(() => {
  cleanup();
});

interface Run {
  code: number;
  out: string;
}
function playbook(args: string[], timeoutMs: number): Promise<Run> {
  const env = {
    ...process.env,
    ANSIBLE_LOCAL_TEMP: join(tmp, 'ansible-local'),
    ANSIBLE_SSH_CONTROL_PATH_DIR: join(tmp, 'cp'),
    ANSIBLE_NOCOLOR: '1',
    ANSIBLE_FORCE_COLOR: '0',
    NO_COLOR: '1',
    ANSIBLE_RETRY_FILES_ENABLED: '0',
  };
  return new Promise((resolve) => {
    execFile(
      'ansible-playbook',
      ['-i', join(tmp, 'inventory.yml'), ...args],
      { cwd: dir, env, timeout: timeoutMs, maxBuffer: 1 << 26 },
      (e, stdout, stderr) => resolve({ code: e ? (typeof e.code === 'number' ? e.code : 1) : 0, out: `${stdout}${stderr}` }),
    );
  });
}

/** PLAY RECAP: host → its counts. */
function recap(out: string): Map<string, Record<string, number>> {
  const m = new Map<string, Record<string, number>>();
  const at = out.lastIndexOf('PLAY RECAP');
  for (const line of out.slice(at).split('\n').slice(1)) {
    const r = /^(\S+)\s+:\s+(.*)$/.exec(line.trim());
    if (!r) continue;
    m.set(
      r[1]!,
      Object.fromEntries(
        r[2]!
          .trim()
          .split(/\s+/)
          .map((kv) => {
            const [k, v] = kv.split('=');
            return [k!, Number(v)];
          }),
      ),
    );
  }
  return m;
}

function files(root: string): string[] {
  return readdirSync(root, { recursive: true, encoding: 'utf8' }).map((f) => join(root, f));
}

describe.runIf(ready)('deploy/ansible on four hosts in network namespaces', () => {
  beforeAll(async () => {
    before = fingerprint();
    net = createHostNet('dep', NAMES);
    const key = join(tmp, 'id_ed25519');
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', key]);
    for (const h of net.hosts) sshds.push(await startSshd(22, { address: h.address, netns: h.ns, identity: key }));
    const host = (i: number, extra: Record<string, unknown> = {}) => {
      const a = net!.hosts[i]!.address;
      return { ansible_host: a, pallas_address: a, pallas_manage: a, pallas_nic: 'kernel', ...extra };
    };
    // The servers are prepared as DPDK hosts (hugepages, kernel command line) although this rack
    // runs on kernel UDP: that is what puts the sysctl, GRUB and fstab files under the test.
    const server = (i: number) =>
      host(i, { pallas_worker_cores: [1], pallas_dispatcher_core: 0, pallas_dpdk_host: true, pallas_hugepages_1g: 2 });
    const inventory = {
      all: {
        vars: {
          ansible_user: 'root',
          ansible_ssh_private_key_file: key,
          ansible_ssh_common_args: sshds[0]!.options.join(' '),
          ansible_python_interpreter: '/usr/bin/python3',
          pallas_dir: pallasDir,
          pallas_shared_dir: true,
          pallas_repo: packageRoot,
          pallas_version: execFileSync('git', ['rev-parse', 'HEAD'], { cwd: packageRoot, encoding: 'utf8' }).trim(),
          // This machine's own Node, users and clock: the tasks run and find them as they are.
          pallas_node_source: 'debian',
          pallas_time_sync: 'none',
          pallas_apt_cache_valid_time: 10 * 365 * 86400,
          pallas_user: 'root',
          pallas_user_shell: execFileSync('getent', ['passwd', 'root'], { encoding: 'utf8' }).trim().split(':')[6],
          pallas_secret: 'deploy-test-secret-0123456789',
          pallas_sysroot: `${join(tmp, 'root')}/{{ inventory_hostname }}`,
          allow_reboot: false,
        },
        children: {
          pallas_switch: { hosts: { sw1: host(0) } },
          pallas_servers: { hosts: { s1: server(1), s2: server(2) } },
          pallas_clients: { hosts: { c1: host(3) } },
        },
      },
    };
    writeFileSync(join(tmp, 'inventory.yml'), stringify(inventory));
  }, 120_000);

  it("site.yml deploys over ssh with the machine's paths under a temporary root, and a second run changes nothing", async () => {
    const first = await playbook(['site.yml'], 900_000);
    expect(first.code, first.out.slice(-6000)).toBe(0);
    const r1 = recap(first.out);
    expect([...r1.keys()].sort()).toEqual([...NAMES].sort());
    for (const [h, c] of r1) expect(c, h).toMatchObject({ failed: 0, unreachable: 0 });
    // The first host cloned and built the shared checkout, once.
    const build = first.out.slice(first.out.indexOf('TASK [pallas : Set up and build Pallas'));
    expect(build.slice(0, build.indexOf('TASK [', 10))).toMatch(/^changed: \[sw1\]$/m);
    expect(build.slice(0, build.indexOf('TASK [', 10)).match(/^changed:/gm)).toHaveLength(1);
    expect(existsSync(join(pallasDir, 'build', 'Release', 'pallas.node'))).toBe(true);
    // The doctor gated every host.
    expect(first.out).toMatch(/TASK \[pallas : Check the host with pallas doctor\]/);

    // What would have changed the machine is under each host's root.
    for (const s of ['s1', 's2']) {
      expect(readFileSync(join(sysroot(s), 'etc', 'sysctl.d', '90-pallas.conf'), 'utf8')).toMatch(/^vm\.nr_hugepages = 1024$/m);
      expect(readFileSync(join(sysroot(s), 'etc', 'fstab'), 'utf8')).toMatch(/^nodev \/dev\/hugepages hugetlbfs defaults 0 0$/m);
      expect(readFileSync(join(sysroot(s), 'etc', 'default', 'grub'), 'utf8')).toBe(
        'GRUB_CMDLINE_LINUX_DEFAULT="quiet isolcpus=1,0 nohz_full=1,0 rcu_nocbs=1,0 default_hugepagesz=1G hugepagesz=1G hugepages=2 ' +
          'intel_idle.max_cstate=0 processor.max_cstate=1"\n',
      );
      const agent = readFileSync(join(sysroot(s), 'etc', 'pallas', 'agent.yaml'), 'utf8');
      expect(agent).toContain(`control: "http://${net!.hosts[0]!.address}:9020"`);
      expect(existsSync(join(sysroot(s), 'etc', 'systemd', 'system', 'pallas-agent.service'))).toBe(true);
    }
    expect(readFileSync(join(sysroot('sw1'), 'etc', 'pallas', 'control.yaml'), 'utf8')).toMatch(
      /transport: \{ kind: udp, bindIp: "198\.19\.\d+\.10", port: 9010 \}/,
    );
    // Kernel UDP on the switch and the client: not DPDK hosts, nothing of dpdk_host there.
    expect(existsSync(join(sysroot('sw1'), 'etc', 'default', 'grub'))).toBe(false);
    expect(existsSync(join(sysroot('c1'), 'etc'))).toBe(false);
    expect(fingerprint()).toBe(before);

    const second = await playbook(['site.yml'], 600_000);
    expect(second.code, second.out.slice(-6000)).toBe(0);
    const r2 = recap(second.out);
    for (const [h, c] of r2)
      expect(c, `${h} on the second run:\n${second.out.slice(-4000)}`).toMatchObject({ changed: 0, failed: 0, unreachable: 0 });
    expect(r2.size).toBe(NAMES.length);
    expect(fingerprint()).toBe(before);
  }, 1_500_000);

  it("the rendered units start a control plane and two agents that register on the hosts' addresses", async () => {
    // What systemd would run (ExecStart of each unit), in each host's namespace.
    const execStart = (host: string, unit: string) => {
      const text = readFileSync(join(sysroot(host), 'etc', 'systemd', 'system', `${unit}.service`), 'utf8');
      return /^ExecStart=(.*)$/m.exec(text)![1]!.split(' ');
    };
    const logs = new Map<ChildProcess, string>();
    const run = (host: string, unit: string) => {
      const ns = net!.hosts[NAMES.indexOf(host)]!.ns;
      const p = spawn('ip', ['netns', 'exec', ns, ...execStart(host, unit)], { cwd: pallasDir, stdio: ['ignore', 'pipe', 'pipe'] });
      logs.set(p, '');
      p.stdout!.on('data', (d) => logs.set(p, (logs.get(p)! + d).slice(-3000)));
      p.stderr!.on('data', (d) => logs.set(p, (logs.get(p)! + d).slice(-3000)));
      started.push(p);
      return p;
    };
    const control = run('sw1', 'pallas-control');
    const agents = [run('s1', 'pallas-agent'), run('s2', 'pallas-agent')];
    const url = `http://${net!.hosts[0]!.address}:9020/v1/status`;
    let st: RackStatus | undefined;
    await waitFor(
      async () => {
        try {
          st = (await (await fetch(url)).json()) as RackStatus;
          return st.servers.filter((s) => s.alive && s.epoch > 0).length === 2;
        } catch {
          return false;
        }
      },
      `both agents to register and run a policy (${[...logs.values()].join(' | ').slice(-1500)})`,
      30_000,
      200,
    );
    expect(st!.servers.map((s) => s.addr.split(':')[0]).sort()).toEqual([net!.hosts[1]!.address, net!.hosts[2]!.address]);
    for (const p of [control, ...agents]) p.kill('SIGTERM');
    await waitFor(() => [control, ...agents].every((p) => p.exitCode !== null), 'the services to stop', 15_000, 100);
  }, 120_000);

  it('bench.yml runs rocksdb --quick from the switch host across the others and fetches the results', async () => {
    const results = join(tmp, 'results');
    const r = await playbook(
      ['bench.yml', '-e', JSON.stringify({ pallas_workload: 'rocksdb', pallas_bench_args: ['--quick'], pallas_results_dir: results })],
      900_000,
    );
    expect(r.code, r.out.slice(-6000)).toBe(0);
    const tgz = files(results).filter((f) => f.endsWith('results.tgz'));
    expect(tgz).toHaveLength(1);
    expect(tgz[0]!.startsWith(join(results, 'sw1'))).toBe(true);
    const unpacked = join(tmp, 'unpacked');
    mkdirSync(unpacked);
    execFileSync('tar', ['-xzf', tgz[0]!, '-C', unpacked]);
    const docs = files(unpacked).filter((f) => f.endsWith('result.json'));
    expect(docs).toHaveLength(1);
    const doc = JSON.parse(readFileSync(docs[0]!, 'utf8')) as LiveDocument;
    expect(doc.where).toMatch(/^testbed .*inventory\.yml$/);
    expect(doc.testbed).toMatchObject({ connection: 'ssh', clients: [net!.hosts[3]!.address] });
    expect(doc.rack).toMatchObject({ servers: 2, workers: 1 });
    const systems = [...new Set(doc.points.map((p) => p.system))];
    expect(systems.length).toBeGreaterThanOrEqual(2);
    expect(doc.points).toHaveLength(3 * systems.length);
    for (const p of doc.points) {
      expect(p.replies + p.drops + p.timeouts).toBe(p.sent);
      expect(p.replies).toBeGreaterThan(0);
      // Both servers, each in its own namespace, did real RocksDB work.
      expect(p.serverCompleted).toHaveLength(2);
      expect(p.serverCompleted.every((c) => c > 0)).toBe(true);
    }
    // The bench read the same inventory the playbooks did.
    expect(loadInventory(join(tmp, 'inventory.yml')).servers.map((s) => s.address)).toEqual([
      net!.hosts[1]!.address,
      net!.hosts[2]!.address,
    ]);
    // Nothing of the bench is left on any host: only the sshd (and its sessions) in each namespace.
    await waitFor(
      () => net!.hosts.every((h) => net!.processes(h).every((p) => /sshd/.test(p.cmd))),
      `only sshd left in the namespaces (${net!.hosts.flatMap((h) => net!.processes(h).map((p) => `${h.name}: ${p.cmd}`)).join('; ')})`,
      20_000,
      200,
    );
  }, 1_000_000);

  it('removes everything it started', () => {
    const ns = net!.hosts.map((h) => h.ns);
    // Every process on this machine ended when asked (the ssh masters by -O exit): none was killed outright.
    expect(cleanup()).toEqual([]);
    const left = execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' });
    for (const n of ns) expect(left).not.toContain(n);
    expect(execFileSync('ip', ['link', 'show'], { encoding: 'utf8' })).not.toContain(net!.bridge);
    // No ssh client (ansible's control masters) and no process of the checkout is left on this machine.
    expect(ours()).toEqual([]);
    expect(fingerprint()).toBe(before);
  });
});
