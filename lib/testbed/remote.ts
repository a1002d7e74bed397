// Pallas commands on the hosts of an inventory: over ssh, or as child processes of this one with
// `connection: local`. A long-running command (`pallas control`, `pallas agent`, `pallas client`)
// gets `--stdin --json`: its config (with the shared secret, which never goes on a command line)
// is the first line of its standard input, it answers with JSON lines, and it stops when its
// standard input closes. ssh closes that when the connection ends, so nothing a bench starts
// outlives it, even if the bench is killed.
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';

import { PallasError } from '../errors.js';
import type { HostSpec, Inventory } from './inventory.js';

/** A shell word, quoted for the remote shell. */
export function shq(s: string): string {
  return /^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

/** The argv that runs `pallas <args>` on `h`. */
export function commandFor(inv: Inventory, h: HostSpec, args: string[]): { cmd: string; argv: string[] } {
  const main = join(inv.pallas, 'dist', 'lib', 'cli', 'main.js');
  if (inv.connection === 'local') return { cmd: inv.node, argv: [main, ...args] };
  const opts = [
    '-T',
    '-o',
    'BatchMode=yes',
    '-o',
    'ConnectTimeout=10',
    '-o',
    'ServerAliveInterval=5',
    ...(inv.ssh.port ? ['-p', String(inv.ssh.port)] : []),
    ...(inv.ssh.identity ? ['-i', inv.ssh.identity] : []),
    ...inv.ssh.options,
  ];
  const dest = inv.ssh.user && !h.host.includes('@') ? `${inv.ssh.user}@${h.host}` : h.host;
  const log = process.env.PALLAS_LOG ? `PALLAS_LOG=${shq(process.env.PALLAS_LOG)} ` : '';
  return { cmd: 'ssh', argv: [...opts, dest, '--', `${log}exec ${[inv.node, main, ...args].map(shq).join(' ')}`] };
}

export class RemoteProcess {
  readonly child: ChildProcess;
  readonly what: string;
  #lines: unknown[] = [];
  #waiters: { resolve: (v: unknown) => void; reject: (e: Error) => void }[] = [];
  #stderr = '';
  #exited: Promise<void>;
  #exitNote = '';

  constructor(inv: Inventory, h: HostSpec, args: string[], config: object, what: string) {
    this.what = `${what} on ${inv.connection === 'local' ? 'this machine' : h.host}`;
    const { cmd, argv } = commandFor(inv, h, [...args, '--stdin', '--json']);
    this.child = spawn(cmd, argv, { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    this.child.stdout!.setEncoding('utf8').on('data', (d: string) => {
      out += d;
      let nl;
      while ((nl = out.indexOf('\n')) >= 0) {
        const line = out.slice(0, nl).trim();
        out = out.slice(nl + 1);
        if (!line) continue;
        let v: unknown;
        try {
          v = JSON.parse(line);
        } catch {
          this.#stderr = `${this.#stderr}${line}\n`.slice(-4000); // a stray line: keep it for the error text
          continue;
        }
        const w = this.#waiters.shift();
        if (w) w.resolve(v);
        else this.#lines.push(v);
      }
    });
    this.child.stderr!.setEncoding('utf8').on('data', (d: string) => {
      this.#stderr = (this.#stderr + d).slice(-4000);
    });
    this.#exited = new Promise((resolve) => {
      const done = (code: number | null, sig: NodeJS.Signals | null) => {
        this.#exitNote = sig ? `killed by ${sig}` : `exited with ${code}`;
        for (const w of this.#waiters.splice(0)) w.reject(this.#error(this.#exitNote));
        resolve();
      };
      this.child.once('exit', done);
      this.child.once('error', (e) => {
        this.#stderr += `${e.message}\n`;
        done(null, null);
      });
    });
    this.child.stdin!.on('error', () => {}); // the process died: its exit says why
    this.child.stdin!.write(`${JSON.stringify(config)}\n`);
  }

  #error(how: string): PallasError {
    const tail = this.#stderr.trim().split('\n').slice(-4).join(' | ');
    return new PallasError('UNREACHABLE', `${this.what} ${how}${tail ? `: ${tail}` : ''}`);
  }

  /** The next JSON line it prints (its ready line, its report), within `ms`. */
  next<T = Record<string, unknown>>(ms: number): Promise<T> {
    if (this.#lines.length) return Promise.resolve(this.#lines.shift() as T);
    if (this.#exitNote) return Promise.reject(this.#error(this.#exitNote));
    return new Promise<T>((resolve, reject) => {
      const w = {
        resolve: (v: unknown) => {
          clearTimeout(t);
          resolve(v as T);
        },
        reject: (e: Error) => {
          clearTimeout(t);
          reject(e);
        },
      };
      const t = setTimeout(() => {
        this.#waiters.splice(this.#waiters.indexOf(w), 1);
        reject(this.#error(`said nothing within ${ms / 1000} s`));
      }, ms);
      this.#waiters.push(w);
    });
  }

  get exited(): boolean {
    return this.#exitNote !== '';
  }

  /** Writes one line to its standard input. */
  send(line: string): void {
    if (!this.#exitNote) this.child.stdin!.write(`${line}\n`);
  }

  /** Closes its stdin (it stops by itself), then kills what is left after `graceMs`. */
  async stop(graceMs = 10_000): Promise<void> {
    if (!this.#exitNote) this.child.stdin!.end();
    const t = setTimeout(() => this.child.kill('SIGTERM'), graceMs);
    const k = setTimeout(() => this.child.kill('SIGKILL'), graceMs + 3000);
    await this.#exited;
    clearTimeout(t);
    clearTimeout(k);
  }
}

/** Runs a one-shot `pallas <args>` on `h` and returns its stdout (UNREACHABLE, with its stderr tail, if it fails). */
export function runOnce(inv: Inventory, h: HostSpec, args: string[], ms = 120_000): Promise<string> {
  const { cmd, argv } = commandFor(inv, h, args);
  return new Promise((resolve, reject) => {
    const c = spawn(cmd, argv, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '',
      err = '';
    c.stdout.setEncoding('utf8').on('data', (d: string) => {
      out += d;
    });
    c.stderr.setEncoding('utf8').on('data', (d: string) => {
      err = (err + d).slice(-4000);
    });
    const t = setTimeout(() => c.kill('SIGKILL'), ms);
    c.once('error', (e) => {
      clearTimeout(t);
      reject(new PallasError('UNREACHABLE', `pallas ${args[0]} on ${h.host}: ${e.message}`));
    });
    c.once('exit', (code, sig) => {
      clearTimeout(t);
      if (code === 0) resolve(out);
      else
        reject(
          new PallasError(
            'UNREACHABLE',
            `pallas ${args[0]} on ${h.host} ${sig ? `killed by ${sig}` : `exited with ${code}`}: ${err.trim().split('\n').slice(-4).join(' | ')}`,
          ),
        );
    });
  });
}
