// The ansible deployment (deploy/ansible): every playbook passes ansible-lint's production profile
// and --syntax-check with Debian's ansible-core and ansible-lint; a malformed inventory stops the
// play on every host before anything changes, naming the host and the field; the services' configs
// rendered from DPDK and Tofino inventories are accepted by the parsers the commands use. (The
// playbooks run for real over ssh in deploy-site.test.ts.)
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

import { afterAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';

import { only } from '../../lib/config.js';
import { normaliseTransport } from '../../lib/io/transport.js';
import { normaliseServer } from '../../lib/runtime/config.js';
import { normaliseTofinoConfig } from '../../lib/switch/tofino.js';

import { packageRoot } from '../../lib/native.js';
import { checkPrereqs, commandWorks, need } from '../helpers/prereq.js';

const dir = join(packageRoot, 'deploy', 'ansible');
const ok = checkPrereqs('deploy (ansible)', [
  need(commandWorks('ansible-playbook', ['--version']), 'ansible-core (apt-get install ansible-core)'),
  need(commandWorks('ansible-lint', ['--version']), 'ansible-lint (apt-get install ansible-lint)'),
]);
const tmp = mkdtempSync(join(tmpdir(), 'pallas-ansible-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const playbooks = readdirSync(dir)
  .filter((f) => f.endsWith('.yml'))
  .sort();
const env = {
  ...process.env,
  ANSIBLE_LOCAL_TEMP: join(tmp, 'local'),
  ANSIBLE_REMOTE_TEMP: join(tmp, 'remote'),
  ANSIBLE_NOCOLOR: '1',
  ANSIBLE_FORCE_COLOR: '0',
  NO_COLOR: '1',
};
const run = (cmd: string, args: string[]) =>
  promisify(execFile)(cmd, args, { cwd: dir, env, timeout: 240_000, maxBuffer: 1 << 24 }).then(
    (r) => ({ code: 0, out: r.stdout + r.stderr }),
    (e: { code?: number; stdout?: string; stderr?: string }) => ({ code: e.code ?? 1, out: `${e.stdout ?? ''}${e.stderr ?? ''}` }),
  );

describe.skipIf(!ok)('ansible deployment', () => {
  it('passes --syntax-check and ansible-lint (production profile) on every playbook', async () => {
    expect(playbooks).toEqual(['bench.yml', 'site.yml', 'teardown.yml']);
    const syntax = await run('ansible-playbook', ['--syntax-check', '-i', 'inventory/example.yml', ...playbooks]);
    expect(syntax.code, syntax.out).toBe(0);
    const lint = await run('ansible-lint', ['--profile', 'production', '--offline', ...playbooks]);
    expect(lint.code, lint.out.slice(-3000)).toBe(0);
    expect(lint.out).toMatch(/Passed with production profile/);
  }, 300_000);

  it('stops every host before anything changes when the inventory is malformed, naming the host and the field', async () => {
    const cases: [string, string, RegExp][] = [
      [
        'bad address',
        's1: { ansible_connection: local, pallas_address: 10.0.0.300 }',
        /host s1: pallas_address must be an IPv4 address, not '10\.0\.0\.300'/,
      ],
      [
        'no such core',
        's1: { ansible_connection: local, pallas_address: 10.0.0.2, pallas_worker_cores: [1, 4096] }',
        /host s1: pallas_worker_cores \[1, 4096\]/,
      ],
      ['bad nic', 's1: { ansible_connection: local, pallas_address: 10.0.0.2, pallas_nic: eth0 }', /host s1: pallas_nic must be 'kernel'/],
    ];
    for (const [what, server, msg] of cases) {
      const inv = join(tmp, `${what.replace(/ /g, '-')}.yml`);
      writeFileSync(
        inv,
        [
          'all:',
          `  vars: { pallas_sysroot: "${tmp}/root" }`,
          '  children:',
          '    pallas_switch:',
          '      hosts:',
          '        sw1: { ansible_connection: local, pallas_address: 10.0.0.1 }',
          '    pallas_servers:',
          '      hosts:',
          `        ${server}`,
          '',
        ].join('\n'),
      );
      const r = await run('ansible-playbook', ['-i', inv, 'site.yml']);
      expect(r.code, `${what}: ${r.out.slice(-1500)}`).not.toBe(0);
      expect(r.out, what).toMatch(msg);
      // Nothing ran past the checks: no package task, on any host.
      expect(r.out, what).not.toMatch(/TASK \[common : Install the base packages\]/);
    }
    // A missing group.
    const inv = join(tmp, 'no-servers.yml');
    writeFileSync(
      inv,
      [
        'all:',
        '  children:',
        '    pallas_switch:',
        '      hosts:',
        '        sw1: { ansible_connection: local, pallas_address: 10.0.0.1 }',
        '',
      ].join('\n'),
    );
    const r = await run('ansible-playbook', ['-i', inv, 'site.yml']);
    expect(r.code).not.toBe(0);
    expect(r.out).toMatch(/needs one host in pallas_switch and at least one in pallas_servers/);
  }, 300_000);

  it('renders configs for DPDK and Tofino racks that the control plane and the agents accept', async () => {
    const rack = (kind: 'soft' | 'tofino') => {
      const nic = (i: number) => ({ device: `0000:3b:00.${i}`, peer_mac: '0c:42:a1:00:00:ff' });
      const host = (i: number, extra: Record<string, unknown> = {}) => ({
        ansible_connection: 'local',
        pallas_address: `10.0.0.${i}`,
        pallas_manage: `192.0.2.${i}`,
        pallas_nic: nic(i),
        pallas_mac: `0c:42:a1:00:00:0${i}`,
        pallas_tofino_port: 8 * i,
        ...extra,
      });
      return {
        all: {
          vars: {
            pallas_sysroot: `${tmp}/${kind}/{{ inventory_hostname }}`,
            pallas_user: 'root',
            pallas_secret: 'render-test-secret-0123',
          },
          children: {
            pallas_switch: { hosts: { sw1: host(1, { pallas_switch_kind: kind, pallas_dispatcher_core: 0 }) } },
            pallas_servers: {
              hosts: {
                s1: host(2, {
                  pallas_worker_cores: [1],
                  pallas_dispatcher_core: 0,
                  pallas_nic: { device: 'net_af_xdp0,iface=eth1', eal: ['-l', '1'] },
                }),
                s2: host(3, { pallas_workers: 1 }),
              },
            },
            pallas_clients: { hosts: { c1: host(4) } },
          },
        },
      };
    };
    for (const kind of ['soft', 'tofino'] as const) {
      const inv = join(tmp, `render-${kind}.yml`);
      writeFileSync(inv, stringify(rack(kind)));
      const r = await run('ansible-playbook', ['-i', inv, 'site.yml', '--tags', 'services']);
      expect(r.code, r.out.slice(-3000)).toBe(0);
      const read = (host: string, f: string) =>
        parse(readFileSync(join(tmp, kind, host, 'etc', 'pallas', f), 'utf8')) as Record<string, unknown>;
      for (const [host, id] of [
        ['s1', 0],
        ['s2', 1],
      ] as const) {
        const agent = read(host, 'agent.yaml');
        only(agent as never, 'agent', ['control', 'secret', 'listen', 'advertise', 'heartbeatMs', 'name', 'server']);
        expect(agent).toMatchObject({ control: 'http://192.0.2.1:9020', name: host, listen: { host: `192.0.2.${id + 2}`, port: 9030 } });
        const server = normaliseServer(agent.server);
        expect(server).toMatchObject({ serverId: id, workers: 1 });
        const t = normaliseTransport(server.transport);
        // s1 names no peer: its frames go to the software switch's host (its pallas_mac); a Tofino's has none.
        expect(t.native).toMatchObject({
          kind: 'dpdk',
          ip: `10.0.0.${id + 2}`,
          udpPort: 9011,
          peerMac: host === 's2' ? '0c:42:a1:00:00:ff' : kind === 'soft' ? '0c:42:a1:00:00:01' : '',
        });
        // An eal the inventory gives is kept whole; else a PCI device is allowed in with -a.
        expect(t.eal).toEqual(host === 's1' ? ['-l', '1'] : expect.arrayContaining(['-a', '0000:3b:00.3']));
      }
      const control = read('sw1', 'control.yaml');
      expect(control).toMatchObject({ secret: 'render-test-secret-0123', listen: { host: '192.0.2.1', port: 9020 }, serverSlots: 4 });
      const sw = control.switch as Record<string, unknown>;
      if (kind === 'soft') {
        expect(normaliseTransport(sw.transport).native).toMatchObject({
          kind: 'dpdk',
          device: '0000:3b:00.1',
          ip: '10.0.0.1',
          udpPort: 9010,
        });
      } else {
        expect(normaliseTofinoConfig(sw)).toMatchObject({
          grpc: '192.0.2.1:50052',
          vip: '10.0.0.1',
          ports: [16, 24],
          clients: [{ ip: '10.0.0.4', port: 32, mac: '0c:42:a1:00:00:04' }],
        });
      }
    }
    // A Tofino rack whose client has no port: stopped before anything, naming the host and the fields.
    const bad = rack('tofino');
    delete (bad.all.children.pallas_clients.hosts.c1 as Record<string, unknown>).pallas_tofino_port;
    const inv = join(tmp, 'render-bad.yml');
    writeFileSync(inv, stringify(bad));
    const r = await run('ansible-playbook', ['-i', inv, 'site.yml', '--tags', 'services']);
    expect(r.code).not.toBe(0);
    expect(r.out).toMatch(/host c1: with a Tofino switch, pallas_tofino_port .* is '\(missing\)'/);
  }, 300_000);
});
