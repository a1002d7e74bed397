// A private OpenSSH server for the testbed and deployment tests: its own host key, one client key,
// public-key login only, on a port of its own; on loopback, or on an address inside a network
// namespace (a host of its own). Real ssh, so that the bench's remote commands and ansible go
// through the same path as on a testbed.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync, copyFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const SSHD = '/usr/sbin/sshd';

export interface Sshd {
  port: number;
  address: string;
  identity: string;
  /** ssh options that trust this throwaway host key. */
  options: string[];
  stop(): void;
}

export interface SshdOptions {
  /** The address to listen on (default 127.0.0.1). */
  address?: string;
  /** A network namespace to run in (`ip netns exec`). */
  netns?: string;
  /** A client key pair to accept (`identity` and `identity.pub`) instead of a fresh one. */
  identity?: string;
}

export async function startSshd(port: number, o: SshdOptions = {}): Promise<Sshd> {
  const address = o.address ?? '127.0.0.1';
  const dir = mkdtempSync(join(tmpdir(), 'pallas-sshd-'));
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(dir, 'host')]);
  if (!o.identity) execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(dir, 'client')]);
  const identity = o.identity ?? join(dir, 'client');
  copyFileSync(`${identity}.pub`, join(dir, 'authorized_keys'));
  writeFileSync(
    join(dir, 'sshd_config'),
    [
      `Port ${port}`,
      `ListenAddress ${address}`,
      `HostKey ${join(dir, 'host')}`,
      `AuthorizedKeysFile ${join(dir, 'authorized_keys')}`,
      'PasswordAuthentication no',
      'KbdInteractiveAuthentication no',
      'PermitRootLogin prohibit-password',
      'StrictModes no',
      'UsePAM no',
      `PidFile ${join(dir, 'sshd.pid')}`,
      'MaxStartups 64',
      'MaxSessions 64',
      'Subsystem sftp internal-sftp',
      '',
    ].join('\n'),
  );
  // sshd's privilege separation wants this directory (a service start would make it).
  if (!existsSync('/run/sshd')) mkdirSync('/run/sshd', { recursive: true });
  const argv = [SSHD, '-D', '-e', '-f', join(dir, 'sshd_config')];
  const child: ChildProcess = o.netns
    ? spawn('ip', ['netns', 'exec', o.netns, ...argv], { stdio: ['ignore', 'ignore', 'pipe'] })
    : spawn(argv[0]!, argv.slice(1), { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  child.stderr!.on('data', (d) => {
    log = (log + d).slice(-4000);
  });
  const options = ['-o', 'StrictHostKeyChecking=no', '-o', 'UserKnownHostsFile=/dev/null', '-o', 'LogLevel=ERROR'];
  const stop = () => {
    if (child.exitCode === null) child.kill('SIGTERM');
    rmSync(dir, { recursive: true, force: true });
  };
  const deadline = Date.now() + 15_000;
  for (;;) {
    try {
      execFileSync('ssh', ['-T', '-o', 'BatchMode=yes', '-p', String(port), '-i', identity, ...options, `root@${address}`, '--', 'true'], {
        stdio: 'ignore',
        timeout: 5000,
      });
      break;
    } catch {
      if (child.exitCode !== null || Date.now() > deadline) {
        stop();
        throw new Error(`sshd did not come up on ${address}:${port}${o.netns ? ` in ${o.netns}` : ''}: ${log}`);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  return { port, address, identity, options, stop };
}
