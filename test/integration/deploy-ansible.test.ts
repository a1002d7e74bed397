// The ansible deployment (deploy/ansible): every playbook passes ansible-lint's production profile
// and --syntax-check with Debian's ansible-core and ansible-lint, and a malformed inventory stops
// the play on every host before anything changes, naming the host and the field. (Running
// site.yml over ssh against hosts in network namespaces is the next step of issue 18.)
import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

import { afterAll, describe, expect, it } from 'vitest';

import { packageRoot } from '../../lib/native.js';
import { checkPrereqs, commandWorks, need } from '../helpers/prereq.js';

const dir = join(packageRoot, 'deploy', 'ansible');
const ok = checkPrereqs('deploy (ansible)', [
  need(commandWorks('ansible-playbook', ['--version']), 'ansible-core (apt-get install ansible-core)'),
  need(commandWorks('ansible-lint', ['--version']), 'ansible-lint (apt-get install ansible-lint)'),
]);
const tmp = mkdtempSync(join(tmpdir(), 'pallas-ansible-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const playbooks = readdirSync(dir).filter((f) => f.endsWith('.yml')).sort();
const env = { ...process.env, ANSIBLE_LOCAL_TEMP: join(tmp, 'local'), ANSIBLE_REMOTE_TEMP: join(tmp, 'remote'), ANSIBLE_NOCOLOR: '1', ANSIBLE_FORCE_COLOR: '0', NO_COLOR: '1' };
const run = (cmd: string, args: string[]) => promisify(execFile)(cmd, args, { cwd: dir, env, timeout: 240_000, maxBuffer: 1 << 24 })
  .then((r) => ({ code: 0, out: r.stdout + r.stderr }), (e: { code?: number; stdout?: string; stderr?: string }) => ({ code: e.code ?? 1, out: `${e.stdout ?? ''}${e.stderr ?? ''}` }));

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
      ['bad address', 's1: { ansible_connection: local, pallas_address: 10.0.0.300 }', /host s1: pallas_address must be an IPv4 address, not '10\.0\.0\.300'/],
      ['no such core', 's1: { ansible_connection: local, pallas_address: 10.0.0.2, pallas_worker_cores: [1, 4096] }', /host s1: pallas_worker_cores \[1, 4096\]/],
      ['bad nic', 's1: { ansible_connection: local, pallas_address: 10.0.0.2, pallas_nic: eth0 }', /host s1: pallas_nic must be 'kernel'/],
    ];
    for (const [what, server, msg] of cases) {
      const inv = join(tmp, `${what.replace(/ /g, '-')}.yml`);
      writeFileSync(inv, ['all:', `  vars: { pallas_sysroot: "${tmp}/root" }`, '  children:', '    pallas_switch:', '      hosts:',
        '        sw1: { ansible_connection: local, pallas_address: 10.0.0.1 }', '    pallas_servers:', '      hosts:', `        ${server}`, ''].join('\n'));
      const r = await run('ansible-playbook', ['-i', inv, 'site.yml']);
      expect(r.code, `${what}: ${r.out.slice(-1500)}`).not.toBe(0);
      expect(r.out, what).toMatch(msg);
      // Nothing ran past the checks: no package task, on any host.
      expect(r.out, what).not.toMatch(/TASK \[common : Install the base packages\]/);
    }
    // A missing group.
    const inv = join(tmp, 'no-servers.yml');
    writeFileSync(inv, ['all:', '  children:', '    pallas_switch:', '      hosts:', '        sw1: { ansible_connection: local, pallas_address: 10.0.0.1 }', ''].join('\n'));
    const r = await run('ansible-playbook', ['-i', inv, 'site.yml']);
    expect(r.code).not.toBe(0);
    expect(r.out).toMatch(/needs one host in pallas_switch and at least one in pallas_servers/);
  }, 300_000);
});
