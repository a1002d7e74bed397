// The testbed inventory's schema (defaults, NICs to transports, errors that name the field) and the
// command lines the bench runs on its hosts.
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';

import { packageRoot } from '../../lib/native.js';
import { join } from 'node:path';

import { fromAnsible, loadInventory, normaliseInventory, transportFor } from '../../lib/testbed/inventory.js';
import { commandFor, shq } from '../../lib/testbed/remote.js';

const base = () => ({
  switch: { host: 'tor-ctl', address: '10.0.0.1' },
  servers: [{ host: 'node1', address: '10.0.0.11', cores: 4 }, { address: '10.0.0.12', cores: [2, 3, 4, 5], nic: { device: '0000:3b:00.0', peerMac: '0c:42:a1:00:00:01' } }],
  clients: [{ host: 'pallas@client1', address: '10.0.0.21' }],
});

describe('testbed inventory', () => {
  it('fills in defaults: ssh, this checkout, soft switch on 9010/9020, servers on 9101, host = address', () => {
    const inv = normaliseInventory(base(), 'inv.yaml');
    expect(inv).toMatchObject({ connection: 'ssh', pallas: packageRoot, node: 'node', ssh: { options: [] } });
    expect(inv.switch).toMatchObject({ kind: 'soft', host: 'tor-ctl', address: '10.0.0.1', manage: '10.0.0.1', port: 9010, controlPort: 9020 });
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
    bad((o) => { o.serverz = []; }, /inventory\.serverz: unknown field/);
    bad((o) => { o.connection = 'telnet'; }, /inventory\.connection: must be one of: ssh, local/);
    bad((o) => { (o.switch as Record<string, unknown>).kind = 'tofino'; }, /inventory\.switch\.kind: the testbed bench starts a software switch/);
    bad((o) => { o.servers[0]!.address = '10.0.0.256'; }, /inventory\.servers\[0\]\.address: '10\.0\.0\.256' is not an IPv4 address/);
    bad((o) => { o.servers[0]!.cores = 0; }, /inventory\.servers\[0\]\.cores: must be an integer in \[1, 1024\]/);
    bad((o) => { o.servers[1]!.cores = [2, 2]; }, /inventory\.servers\[1\]\.cores: must list distinct CPUs/);
    bad((o) => { o.servers[1]!.nic = { device: 'x', peerMac: 'zz' } as never; }, /inventory\.servers\[1\]\.nic\.peerMac: 'zz' is not a MAC address/);
    bad((o) => { o.servers[1]!.address = '10.0.0.11'; }, /inventory\.servers\[1\]: 10\.0\.0\.11:9101 is used twice/);
    bad((o) => { o.clients = []; }, /inventory\.clients: must be a list of at least 1/);
    bad((o) => { o.secret = 'short'; }, /inventory\.secret: must be at least 16 characters/);
    bad((o) => { o.pallas = 'opt/pallas'; }, /inventory\.pallas: must be an absolute path/);
  });

  it('reads the ansible inventory of deploy/ansible as the same testbed (one description for both)', () => {
    const inv = loadInventory(join(packageRoot, 'deploy', 'ansible', 'inventory', 'example.yml'));
    expect(inv).toMatchObject({ connection: 'ssh', pallas: '/opt/pallas', ssh: { user: 'pallas' } });
    expect(inv.secret).toBeUndefined();  // a lookup ansible resolves; the bench takes PALLAS_SECRET
    expect(inv.switch).toMatchObject({ kind: 'soft', host: '192.0.2.10', address: '10.0.0.1', manage: '192.0.2.10', port: 9010, controlPort: 9020 });
    expect(inv.servers.map((s) => [s.host, s.address, s.workers, s.nic?.device])).toEqual([
      ['192.0.2.11', '10.0.0.11', 10, '0000:3b:00.0'], ['192.0.2.12', '10.0.0.12', 10, '0000:3b:00.0']]);
    expect(inv.servers[0]!.cores).toEqual([2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
    expect(transportFor(inv.servers[0]!, 9101)).toMatchObject({ kind: 'dpdk', device: '0000:3b:00.0' });
    expect(inv.clients.map((c) => [c.host, c.address, c.nic])).toEqual([['192.0.2.20', '10.0.0.20', undefined]]);
    // Group and host variables override all's; every host local makes a local testbed.
    const doc = (server: Record<string, unknown>) => ({ all: { vars: { pallas_dir: '/srv/p', ansible_connection: 'local' }, children: {
      pallas_switch: { hosts: { sw: { pallas_address: '127.0.0.1', pallas_switch_port: 9300 } } },
      pallas_servers: { vars: { pallas_server_port: 9400 }, hosts: { s1: { pallas_address: '127.0.0.1', pallas_worker_cores: [1], ...server } } },
      pallas_clients: { hosts: { c1: { pallas_address: '127.0.0.1' } } } } } });
    const loc = fromAnsible(doc({}));
    expect(loc).toMatchObject({ connection: 'local', pallas: '/srv/p', switch: { port: 9300 } });
    expect(loc.servers[0]).toMatchObject({ port: 9400, workers: 1, cores: [1] });
    // Errors name the host and the inventory variable.
    expect(() => fromAnsible(doc({ pallas_address: '10.0.0.300' }))).toThrow(/host s1: pallas_address: '10\.0\.0\.300' is not an IPv4 address/);
    expect(() => fromAnsible(doc({ pallas_worker_cores: [1, 1] }))).toThrow(/host s1: pallas_worker_cores: must list distinct CPUs/);
    expect(() => fromAnsible({ all: { children: { pallas_servers: { hosts: { s1: {} } } } } })).toThrow(/exactly one host in group pallas_switch/);
  });

  it('runs ssh without a terminal, in batch mode, with the remote command quoted for the remote shell', () => {
    const inv = normaliseInventory({ ...base(), pallas: "/opt/my pallas's", ssh: { user: 'ops', port: 2222, identity: '/keys/id', options: ['-o', 'Foo=bar'] } });
    const { cmd, argv } = commandFor(inv, inv.servers[0]!, ['agent', '--stdin', '--json']);
    expect(cmd).toBe('ssh');
    expect(argv.slice(0, 3)).toEqual(['-T', '-o', 'BatchMode=yes']);
    expect(argv).toEqual(expect.arrayContaining(['-p', '2222', '-i', '/keys/id', '-o', 'Foo=bar', 'ops@node1', '--']));
    // A user in the host name wins over the inventory's.
    expect(commandFor(inv, inv.clients[0]!, ['client']).argv).toContain('pallas@client1');
    // What the remote shell runs: sh parses it back into exactly these words.
    const remote = argv[argv.length - 1]!.replace(/^(PALLAS_LOG=\S+ )?exec /, '');
    const words = execFileSync('sh', ['-c', `for w in ${remote}; do printf '%s\\n' "$w"; done`], { encoding: 'utf8' }).trimEnd().split('\n');
    expect(words).toEqual(['node', "/opt/my pallas's/dist/lib/cli/main.js", 'agent', '--stdin', '--json']);
    expect(shq('plain-word_1.2:3')).toBe('plain-word_1.2:3');
  });

  it('reads the example inventory the docs point to', () => {
    const inv = loadInventory(`${packageRoot}/bench/testbed/inventory.example.yaml`);
    expect(inv.servers.map((s) => s.workers)).toEqual([10, 10, 10]);
    expect(inv.servers[0]!.cores).toHaveLength(10);
    expect(transportFor(inv.servers[0]!, inv.servers[0]!.port)).toMatchObject({ kind: 'dpdk', device: '0000:3b:00.0', ip: '10.10.0.11' });
    expect(transportFor(inv.servers[2]!, inv.servers[2]!.port)).toMatchObject({ kind: 'udp', bindIp: '10.10.0.13' });
    expect(inv.switch.manage).toBe('192.168.1.10');
  });

  it('runs local hosts as child processes of this Node', () => {
    const inv = normaliseInventory({ ...base(), connection: 'local' });
    expect(commandFor(inv, inv.servers[0]!, ['agent'])).toEqual({ cmd: process.execPath, argv: [`${packageRoot}/dist/lib/cli/main.js`, 'agent'] });
  });
});
