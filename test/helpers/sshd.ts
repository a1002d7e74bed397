// A private OpenSSH server on loopback for the testbed tests: its own host key, one client key,
// public-key login only, on a port of its own. Real ssh, so that the bench's remote commands go
// through the same path as on a testbed.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync, copyFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const SSHD = '/usr/sbin/sshd';

export interface Sshd {
  port: number;
  identity: string;
  /** ssh options that trust this throwaway host key. */
  options: string[];
  stop(): void;
}

export async function startSshd(port: number): Promise<Sshd> {
  const dir = mkdtempSync(join(tmpdir(), 'pallas-sshd-'));
  for (const k of ['host', 'client']) execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(dir, k)]);
  copyFileSync(join(dir, 'client.pub'), join(dir, 'authorized_keys'));
  writeFileSync(join(dir, 'sshd_config'), [
    `Port ${port}`, 'ListenAddress 127.0.0.1', `HostKey ${join(dir, 'host')}`, `AuthorizedKeysFile ${join(dir, 'authorized_keys')}`,
    'PasswordAuthentication no', 'KbdInteractiveAuthentication no', 'PermitRootLogin prohibit-password', 'StrictModes no', 'UsePAM no',
    `PidFile ${join(dir, 'sshd.pid')}`, 'MaxStartups 64', 'MaxSessions 64', '',
  ].join('\n'));
  // sshd's privilege separation wants this directory (a service start would make it).
  if (!existsSync('/run/sshd')) mkdirSync('/run/sshd', { recursive: true });
  const child: ChildProcess = spawn(SSHD, ['-D', '-e', '-f', join(dir, 'sshd_config')], { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  child.stderr!.on('data', (d) => { log = (log + d).slice(-4000); });
  const options = ['-o', 'StrictHostKeyChecking=no', '-o', 'UserKnownHostsFile=/dev/null', '-o', 'LogLevel=ERROR'];
  const identity = join(dir, 'client');
  const stop = () => {
    if (child.exitCode === null) child.kill('SIGTERM');
    rmSync(dir, { recursive: true, force: true });
  };
  const deadline = Date.now() + 15_000;
  for (;;) {
    try {
      execFileSync('ssh', ['-T', '-o', 'BatchMode=yes', '-p', String(port), '-i', identity, ...options, 'root@127.0.0.1', '--', 'true'], { stdio: 'ignore', timeout: 5000 });
      break;
    } catch {
      if (child.exitCode !== null || Date.now() > deadline) {
        stop();
        throw new Error(`sshd did not come up on 127.0.0.1:${port}: ${log}`);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  return { port, identity, options, stop };
}
