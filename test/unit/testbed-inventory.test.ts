// The testbed inventory's schema (defaults, NICs to transports, errors that name the field) and the
// command lines the bench runs on its hosts.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';

import { packageRoot } from '../../lib/native.js';
import { join } from 'node:path';

import { fromAnsible, loadInventory, normaliseInventory, transportFor } from '../../lib/testbed/inventory.js';
import { commandFor, shq } from '../../lib/testbed/remote.js';

const base = () => ({
  switch: { host: 'tor-ctl', address: '10.0.0.1' },
  servers: [
    { host: 'node1', address: '10.0.0.11', cores: 4 },
    { address: '10.0.0.12', cores: [2, 3, 4, 5], nic: { device: '0000:3b:00.0', peerMac: '0c:42:a1:00:00:01' } },
  ],
  clients: [{ host: 'pallas@client1', address: '10.0.0.21' }],
});

describe('testbed inventory', () => {
  it('fills in defaults: ssh, this checkout, soft switch on 9010/9020, servers on 9101, host = address', () => {
    const inv = normaliseInventory(base(), 'inv.yaml');
    expect(inv).toMatchObject({ connection: 'ssh', pallas: packageRoot, node: 'node', ssh: { options: [] } });
    expect(inv.switch).toMatchObject({
      kind: 'soft',
      host: 'tor-ctl',
      address: '10.0.0.1',
      manage: '10.0.0.1',
      port: 9010,
      controlPort: 9020,
    });
    expect(inv.servers[0]).toMatchObject({ host: 'node1', port: 9101, workers: 4 });
    expect(inv.servers[0]!.cores).toBeUndefined();
    expect(inv.servers[1]).toMatchObject({ host: '10.0.0.12', workers: 4, cores: [2, 3, 4, 5] });
  });

  it('turns a NIC into a DPDK transport (a PCI address is allowed in to EAL), and no NIC into kernel UDP', () => {
    const inv = normaliseInventory(base());
    expect(transportFor(inv.servers[0]!, 9101)).toEqual({ kind: 'udp', bindIp: '10.0.0.11', port: 9101 });
    const t = transportFor(inv.servers[1]!, 9101);
    expect(t).toMatchObject({ kind: 'dpdk', device: '0000:3b:00.0', ip: '10.0.0.12', udpPort: 9101, peerMac: '0c:42:a1:00:00:01' });
    const eal = (t as { eal: string[] }).eal;
    expect(eal.slice(-2)).toEqual(['-a', '0000:3b:00.0']);
    expect(eal).not.toContain('--no-pci');
    const vdev = normaliseInventory({ ...base(), clients: [{ address: '10.0.0.21', nic: { device: 'net_af_xdp0,iface=eth1' } }] });
    expect(transportFor(vdev.clients[0]!, 0)).toMatchObject({ kind: 'dpdk', device: 'net_af_xdp0,iface=eth1' });
    expect((transportFor(vdev.clients[0]!, 0) as { eal: string[] }).eal).toContain('--no-pci');
  });

  it('refuses bad inventories, naming the field', () => {
    const bad = (patch: (o: ReturnType<typeof base> & Record<string, unknown>) => void, msg: RegExp) => {
      const o = base() as ReturnType<typeof base> & Record<string, unknown>;
      patch(o);
      expect(() => normaliseInventory(o)).toThrow(msg);
    };
    bad((o) => {
      o.serverz = [];
    }, /inventory\.serverz: unknown field/);
    bad((o) => {
      o.connection = 'telnet';
    }, /inventory\.connection: must be one of: ssh, local/);
    bad((o) => {
      (o.switch as Record<string, unknown>).kind = 'tofino';
    }, /inventory\.switch\.kind: the testbed bench starts a software switch/);
    bad((o) => {
      o.servers[0]!.address = '10.0.0.256';
    }, /inventory\.servers\[0\]\.address: '10\.0\.0\.256' is not an IPv4 address/);
    bad((o) => {
      o.servers[0]!.cores = 0;
    }, /inventory\.servers\[0\]\.cores: must be an integer in \[1, 1024\]/);
    bad((o) => {
      o.servers[1]!.cores = [2, 2];
    }, /inventory\.servers\[1\]\.cores: must list distinct CPUs/);
    bad((o) => {
      o.servers[1]!.nic = { device: 'x', peerMac: 'zz' } as never;
    }, /inventory\.servers\[1\]\.nic\.peerMac: 'zz' is not a MAC address/);
    bad((o) => {
      o.servers[1]!.address = '10.0.0.11';
    }, /inventory\.servers\[1\]: 10\.0\.0\.11:9101 is used twice/);
    bad((o) => {
      o.clients = [];
    }, /inventory\.clients: must be a list of at least 1/);
    bad((o) => {
      o.secret = 'short';
    }, /inventory\.secret: must be at least 16 characters/);
    bad((o) => {
      o.pallas = 'opt/pallas';
    }, /inventory\.pallas: must be an absolute path/);
  });

  it('reads the ansible inventory of deploy/ansible as the same testbed (one description for both)', () => {
    const inv = loadInventory(join(packageRoot, 'deploy', 'ansible', 'inventory', 'example.yml'));
    expect(inv).toMatchObject({ connection: 'ssh', pallas: '/opt/pallas', ssh: { user: 'pallas' } });
    expect(inv.secret).toBeUndefined(); // a lookup ansible resolves; the bench takes PALLAS_SECRET
    expect(inv.switch).toMatchObject({
      kind: 'soft',
      host: '192.0.2.10',
      address: '10.0.0.1',
      manage: '192.0.2.10',
      port: 9010,
      controlPort: 9020,
    });
    expect(inv.servers.map((s) => [s.host, s.address, s.workers, s.nic?.device])).toEqual([
      ['192.0.2.11', '10.0.0.11', 10, '0000:3b:00.0'],
      ['192.0.2.12', '10.0.0.12', 10, '0000:3b:00.0'],
    ]);
    expect(inv.servers[0]!.cores).toEqual([2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
    expect(transportFor(inv.servers[0]!, 9101)).toMatchObject({ kind: 'dpdk', device: '0000:3b:00.0' });
    expect(inv.clients.map((c) => [c.host, c.address, c.nic])).toEqual([['192.0.2.20', '10.0.0.20', undefined]]);
    // Group and host variables override all's; every host local makes a local testbed.
    const doc = (server: Record<string, unknown>) => ({
      all: {
        vars: { pallas_dir: '/srv/p', ansible_connection: 'local' },
        children: {
          pallas_switch: { hosts: { sw: { pallas_address: '127.0.0.1', pallas_switch_port: 9300 } } },
          pallas_servers: {
            vars: { pallas_server_port: 9400 },
            hosts: { s1: { pallas_address: '127.0.0.1', pallas_worker_cores: [1], ...server } },
          },
          pallas_clients: { hosts: { c1: { pallas_address: '127.0.0.1' } } },
        },
      },
    });
    const loc = fromAnsible(doc({}));
    expect(loc).toMatchObject({ connection: 'local', pallas: '/srv/p', switch: { port: 9300 } });
    expect(loc.servers[0]).toMatchObject({ port: 9400, workers: 1, cores: [1] });
    // Errors name the host and the inventory variable.
    expect(() => fromAnsible(doc({ pallas_address: '10.0.0.300' }))).toThrow(
      /host s1: pallas_address: '10\.0\.0\.300' is not an IPv4 address/,
    );
    expect(() => fromAnsible(doc({ pallas_worker_cores: [1, 1] }))).toThrow(/host s1: pallas_worker_cores: must list distinct CPUs/);
    expect(() => fromAnsible({ all: { children: { pallas_servers: { hosts: { s1: {} } } } } })).toThrow(
      /exactly one host in group pallas_switch/,
    );
  });

  it('runs ssh without a terminal, in batch mode, with the remote command quoted for the remote shell', () => {
    const inv = normaliseInventory({
      ...base(),
      pallas: "/opt/my pallas's",
      ssh: { user: 'ops', port: 2222, identity: '/keys/id', options: ['-o', 'Foo=bar'] },
    });
    const { cmd, argv } = commandFor(inv, inv.servers[0]!, ['agent', '--stdin', '--json']);
    expect(cmd).toBe('ssh');
    expect(argv.slice(0, 3)).toEqual(['-T', '-o', 'BatchMode=yes']);
    expect(argv).toEqual(expect.arrayContaining(['-p', '2222', '-i', '/keys/id', '-o', 'Foo=bar', 'ops@node1', '--']));
    // A user in the host name wins over the inventory's.
    expect(commandFor(inv, inv.clients[0]!, ['client']).argv).toContain('pallas@client1');
    // What the remote shell runs: sh parses it back into exactly these words.
    const remote = argv[argv.length - 1]!.replace(/^(PALLAS_LOG=\S+ )?exec /, '');
    const words = execFileSync('sh', ['-c', `for w in ${remote}; do printf '%s\\n' "$w"; done`], { encoding: 'utf8' })
      .trimEnd()
      .split('\n');
    expect(words).toEqual(['node', "/opt/my pallas's/dist/lib/cli/main.js", 'agent', '--stdin', '--json']);
    expect(shq('plain-word_1.2:3')).toBe('plain-word_1.2:3');
  });

  it('refuses a file of the retired format, naming the command that converts it to the same testbed', () => {
    const dir = mkdtempSync(join(tmpdir(), 'pallas-inv-'));
    try {
      const old = join(dir, 'old.yaml');
      const doc = {
        ...base(),
        ssh: { user: 'ops', port: 2222, identity: '/keys/id', options: ['-o', 'Foo=bar'] },
        pallas: '/srv/pallas',
        node: '/usr/local/bin/node',
        secret: 'a-long-enough-secret',
      };
      doc.servers[1]!.nic = { device: '0000:3b:00.0', peerMac: '0c:42:a1:00:00:01', eal: ['-l', '2', '-a', '0000:3b:00.0'] } as never;
      writeFileSync(old, stringify(doc));
      expect(() => loadInventory(old)).toThrow(
        /old\.yaml is in the retired testbed format.*pallas inventory convert .*old\.yaml --out inventory\.yml/,
      );
      const cli = join(packageRoot, 'dist', 'lib', 'cli', 'main.js');
      const converted = join(dir, 'inventory.yml');
      execFileSync(process.execPath, [cli, 'inventory', 'convert', old, '--out', converted]);
      // The same testbed, read back from the ansible inventory (only the file name differs).
      const want = { ...normaliseInventory(doc, old), file: converted };
      expect(loadInventory(converted)).toEqual(want);
      // And it is a valid ansible inventory for the playbooks too: every group and pallas_* variable.
      const a = parse(readFileSync(converted, 'utf8')) as {
        all: { children: Record<string, { hosts: Record<string, Record<string, unknown>> }> };
      };
      expect(Object.keys(a.all.children)).toEqual(['pallas_switch', 'pallas_servers', 'pallas_clients']);
      expect(a.all.children.pallas_servers!.hosts.server1).toMatchObject({
        ansible_host: 'node1',
        pallas_address: '10.0.0.11',
        pallas_workers: 4,
        pallas_nic: 'kernel',
      });
      expect(a.all.children.pallas_clients!.hosts.client1).toMatchObject({ ansible_user: 'pallas', ansible_host: 'client1' });
      // A local testbed converts too; check prints what the bench will drive.
      writeFileSync(old, stringify({ ...base(), connection: 'local' }));
      execFileSync(process.execPath, [cli, 'inventory', 'convert', old, '--out', converted]);
      expect(loadInventory(converted)).toEqual({ ...normaliseInventory({ ...base(), connection: 'local' }, old), file: converted });
      const shown = execFileSync(process.execPath, [cli, 'inventory', 'check', converted], { encoding: 'utf8' });
      expect(shown).toMatch(/a testbed over local/);
      expect(shown).toMatch(/server 1 10\.0\.0\.12 \(10\.0\.0\.12, DPDK 0000:3b:00\.0\): port 9101, 4 worker\(s\) on CPUs 2,3,4,5/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses per-host ssh settings the bench cannot follow, and unknown NIC fields', () => {
    const doc = (s1: Record<string, unknown>) => ({
      all: {
        vars: { ansible_port: 22 },
        children: {
          pallas_switch: { hosts: { sw: { pallas_address: '10.0.0.1' } } },
          pallas_servers: { hosts: { s1: { pallas_address: '10.0.0.2', ...s1 } } },
          pallas_clients: { hosts: { c1: { pallas_address: '10.0.0.3' } } },
        },
      },
    });
    expect(() => fromAnsible(doc({ ansible_port: 2222 }))).toThrow(/host s1: ansible_port: the bench uses one value for every host/);
    expect(() => fromAnsible(doc({ pallas_nic: { device: 'x', pci: 'y' } }))).toThrow(/host s1: pallas_nic\.pci: unknown field/);
    expect(fromAnsible(doc({ ansible_user: 'ops', pallas_workers: 3 })).servers[0]).toMatchObject({ host: 'ops@s1', workers: 3 });
    // A DPDK server names no peer MAC: its frames go to the software switch's host, whose pallas_mac it takes.
    const d = doc({ pallas_nic: { device: '0000:3b:00.0' } });
    (d.all.children.pallas_switch.hosts.sw as Record<string, unknown>).pallas_mac = '0c:42:a1:00:00:01';
    expect(fromAnsible(d).servers[0]!.nic).toEqual({ device: '0000:3b:00.0', peerMac: '0c:42:a1:00:00:01' });
    expect(fromAnsible(doc({ pallas_nic: { device: '0000:3b:00.0', peer_mac: '0c:42:a1:00:00:02' } })).servers[0]!.nic!.peerMac).toBe(
      '0c:42:a1:00:00:02',
    );
  });

  it('runs local hosts as child processes of this Node', () => {
    const inv = normaliseInventory({ ...base(), connection: 'local' });
    expect(commandFor(inv, inv.servers[0]!, ['agent'])).toEqual({
      cmd: process.execPath,
      argv: [`${packageRoot}/dist/lib/cli/main.js`, 'agent'],
    });
  });
});
