// The command line as a new user meets it: every subcommand's --help, usage errors (unknown
// flags and commands with a suggestion, missing values, stray arguments, negative numbers) in one
// line with a hint and exit 2, config errors in one line with file:line:col, empty configs
// refused, errors as JSON under --json, `status` against something that is not a control plane,
// and the bench's options through the same parser (no stack traces).
import { execFile, spawnSync } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { packageRoot } from '../../lib/native.js';
import { checkPrereqs, need } from '../helpers/prereq.js';

const cli = join(packageRoot, 'dist', 'lib', 'cli', 'main.js');
const bench = join(packageRoot, 'dist', 'bench', 'run.js');
const ready = checkPrereqs('the command line', [need(existsSync(cli) && existsSync(bench), 'the compiled CLI and bench (npm run build)')]);
const dir = mkdtempSync(join(tmpdir(), 'pallas-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function run(script: string, args: string[]): { code: number; out: string; err: string } {
  const r = spawnSync(process.execPath, [script, ...args], {
    encoding: 'utf8',
    timeout: 60_000,
    env: { ...process.env, PALLAS_LOG: 'warn' },
  });
  return { code: r.status ?? -1, out: r.stdout, err: r.stderr };
}
const pallas = (...args: string[]) => run(cli, args);

const COMMANDS = [
  'doctor',
  'echo',
  'server',
  'kv-load',
  'up',
  'status',
  'control',
  'agent',
  'switch',
  'client',
  'clock',
  'inventory',
  'schema',
  'sim',
];

describe.runIf(ready)('pallas command line', () => {
  it('prints help for the program and for every command, with examples, and exits 0', () => {
    for (const args of [[], ['--help'], ['help'], ['-h']]) {
      const r = pallas(...args);
      expect(r.code, args.join(' ')).toBe(0);
      expect(r.out).toMatch(/^Usage: pallas \[options\] \[command\]/);
      for (const c of COMMANDS) expect(r.out).toContain(`  ${c}`);
      expect(r.out).toMatch(/Exit codes: 0 done; 1 failed while running; 2 the command line or a config is wrong/);
    }
    for (const c of COMMANDS) {
      for (const args of [
        [c, '--help'],
        ['help', c],
      ]) {
        const r = pallas(...args);
        expect(r.code, args.join(' ')).toBe(0);
        expect(r.out, args.join(' ')).toMatch(new RegExp(`^Usage: pallas ${c} `));
        expect(r.err).toBe('');
      }
    }
    expect(pallas('sim', '--help').out).toMatch(/Examples:\n {2}\$ pallas sim fig2b/);
    expect(pallas('inventory', 'convert', '--help').out).toMatch(/^Usage: pallas inventory convert \[options\] <file>/);
    expect(pallas('--version').out.trim()).toMatch(/^\d+\.\d+\.\d+/);
    // The JSON Schemas the package ships are the ones the command prints.
    for (const f of ['scenario', 'inventory']) {
      const shipped = JSON.parse(readFileSync(join(packageRoot, 'schemas', `${f}.schema.json`), 'utf8')) as unknown;
      expect(JSON.parse(pallas('schema', f).out), f).toEqual(shipped);
    }
  });

  it('reports usage errors in one line with a hint and exit 2, suggesting the nearest name', () => {
    const cases: [string[], string][] = [
      [['agnet'], "pallas agnet: USAGE: unknown command 'agnet' (did you mean agent?) (see pallas --help)"],
      [['echo', '--por', '1'], "pallas echo: USAGE: unknown option '--por' (did you mean --port?) (see pallas echo --help)"],
      [['server', '--workers'], "pallas server: USAGE: option '--workers <n>' argument missing (see pallas server --help)"],
      // A negative number is a value, and the command says what it wants.
      [['server', '--workers', '-3'], 'pallas server: USAGE: --workers must be an integer in [0, 1024] (see pallas server --help)'],
      [
        ['status', 'extra'],
        "pallas status: USAGE: too many arguments for 'status'. Expected 0 arguments but got 1. (see pallas status --help)",
      ],
      [
        ['inventory', 'chek', 'x'],
        "pallas inventory chek: USAGE: unknown command 'chek' (did you mean check?) (see pallas inventory --help)",
      ],
      [['inventory', 'check'], "pallas inventory check: USAGE: missing required argument 'file' (see pallas inventory check --help)"],
      [
        ['schema', 'scenaro'],
        "pallas schema: USAGE: command-argument value 'scenaro' is invalid for argument 'format'. " +
          'Allowed choices are scenario, inventory. (see pallas schema --help)',
      ],
      [
        ['up', '--policy', 'fastest'],
        'pallas up: USAGE: --policy must be one of pallas, po2, rr, random, jbsq, draconis, netclone (see pallas up --help)',
      ],
    ];
    for (const [args, line] of cases) {
      const r = pallas(...args);
      expect(r.err, args.join(' ')).toBe(`${line}\n`);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.out).toBe('');
    }
    const d = pallas('doctor', '--require', 'adon');
    expect(d.code).toBe(2);
    expect(d.err).toMatch(/^pallas doctor: USAGE: --require: no check named adon \(did you mean addon\?\)/m);
  });

  it('refuses empty, comment-only and malformed configs in one line naming the file, the line and the column', () => {
    const f = (name: string, text: string) => {
      const p = join(dir, name);
      writeFileSync(p, text);
      return p;
    };
    for (const text of ['', '# nothing here\n', '---\n']) {
      const p = f('empty.yaml', text);
      const r = pallas('server', '--config', p);
      expect(r.code).toBe(2);
      expect(r.err).toBe(
        `pallas server: BAD_CONFIG: ${p}: empty; a server config is a mapping of its settings ` +
          '(give at least one, or leave out --config for the defaults)\n',
      );
    }
    const y = f('bad.yaml', 'workers: 2\ntransport: { kind: udp\n');
    let r = pallas('server', '--config', y);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(new RegExp(`^pallas server: BAD_CONFIG: ${y.replace(/[.]/g, '\\.')}:\\d+:\\d+: not valid YAML: [^\\n]+\\n$`));
    const j = f('bad.json', '{\n  "workers": 2,\n  oops\n}');
    r = pallas('agent', '--config', j);
    expect(r.err).toMatch(/bad\.json:3:\d+: not valid JSON: [^\n]+\n$/);
    r = pallas('server', '--config', f('list.yaml', '- 1\n- 2\n'));
    expect(r.err).toMatch(/list\.yaml: a server config is a mapping of its settings, not a list\n$/);
    r = pallas('server', '--config', join(dir, 'missing.yaml'));
    expect(r.err).toMatch(/missing\.yaml: cannot read the server config \(no such file\)\n$/);
    expect(r.code).toBe(2);
  });

  it('prints errors as one JSON line under --json', () => {
    const r = pallas('server', '--workers', '2', '--json', '--bogus');
    expect(r.code).toBe(2);
    expect(JSON.parse(r.err)).toEqual({ error: { code: 'USAGE', message: "unknown option '--bogus'", hint: 'see pallas server --help' } });
    const c = pallas('server', '--config', join(dir, 'none.yaml'), '--json');
    expect(JSON.parse(c.err).error).toMatchObject({ code: 'BAD_CONFIG' });
  });

  describe('status against something that is not a control plane', () => {
    let http: Server;
    let port = 0;
    beforeAll(async () => {
      http = createServer((req, res) => {
        if (req.url === '/v1/status' && req.headers['x-kind'] !== 'html') {
          res.setHeader('content-type', 'application/json');
          res.end('null');
          return;
        }
        res.statusCode = 404;
        res.end('<html>not found</html>');
      });
      await new Promise<void>((r) => http.listen(0, '127.0.0.1', r));
      port = (http.address() as { port: number }).port;
    });
    afterAll(() => http.close());

    it('says so in one line instead of crashing', async () => {
      // Asynchronously: the fake endpoint answers from this process.
      const pallasAsync = (...args: string[]) =>
        new Promise<{ code: number; err: string }>((resolve) => {
          execFile(process.execPath, [cli, ...args], { timeout: 30_000 }, (e, _out, err) =>
            resolve({ code: e ? Number(e.code ?? 1) : 0, err }),
          );
        });
      const r = await pallasAsync('status', '--control', `http://127.0.0.1:${port}`);
      expect(r.code).toBe(1);
      expect(r.err).toBe(
        `pallas status: UNREACHABLE: http://127.0.0.1:${port} answered /v1/status with HTTP 200, but not as a Pallas control plane (null); ` +
          "is --control the control plane's address?\n",
      );
      http.removeAllListeners('request');
      http.on('request', (_req, res) => {
        res.statusCode = 404;
        res.end('<html>not found</html>');
      });
      const n = await pallasAsync('status', '--control', `http://127.0.0.1:${port}`);
      expect(n.err).toMatch(
        /UNREACHABLE: .* answered \/v1\/status with HTTP 404, but not as a Pallas control plane \(<html>not found<\/html>\)/,
      );
    });
  });

  it("finds bare scenario names in bench/scenarios as well as the paper's", () => {
    const r = pallas('sim', 'fig2b', '--requests', '2000', '--no-write', '--quiet');
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(/DARC/);
  });
});

describe.runIf(ready)('npm run bench -- options', () => {
  it('goes through the same parser: help, usage errors with suggestions and exit 2, no stack trace', () => {
    const h = run(bench, ['--help']);
    expect(h.code).toBe(0);
    expect(h.out).toMatch(/^Usage: npm run bench -- <benchmark> \[options\]/);
    expect(h.out).toMatch(/ rocksdb /);
    expect(run(bench, ['rocksdb', '--help']).out).toMatch(/--testbed <inventory>/);
    expect(h.out).toMatch(/ path /);
    expect(run(bench, ['sim', '--help']).out).toMatch(/--paper-requests <n>[\s\S]*--no-paper/);
    const cases: [string[], string][] = [
      [['rocksdb', '--bogus'], "npm run bench -- rocksdb: USAGE: unknown option '--bogus' (see npm run bench -- rocksdb --help)"],
      [['rockdb'], "npm run bench -- rockdb: USAGE: unknown command 'rockdb' (did you mean rocksdb?) (see npm run bench -- --help)"],
      [
        ['rocksdb', '--loads', '3'],
        'npm run bench -- rocksdb: USAGE: --loads must be numbers in (0, 2), comma-separated (see npm run bench -- rocksdb --help)',
      ],
      [
        ['rocksdb', '--scale', '2.5'],
        'npm run bench -- rocksdb: USAGE: --scale must be an integer in [1, 10000] (see npm run bench -- rocksdb --help)',
      ],
      [
        ['rocksdb', '--scale', '20'],
        'npm run bench -- rocksdb: USAGE: --scale 20: rocksdb would read 100000 keys a request, and at most 65535 fit ' +
          '(see npm run bench -- rocksdb --help)',
      ],
      [
        ['sim', '--paper-requests', '5'],
        'npm run bench -- sim: USAGE: --paper-requests must be an integer >= 10 (see npm run bench -- sim --help)',
      ],
      [
        ['path', '--duration', 'x'],
        'npm run bench -- path: USAGE: --duration must be an integer >= 100 (ms) (see npm run bench -- path --help)',
      ],
      [
        ['rocksdb', '--testbed', join(dir, 'none.yml')],
        `npm run bench -- rocksdb: BAD_CONFIG: ${join(dir, 'none.yml')}: cannot read the inventory config (no such file)`,
      ],
    ];
    for (const [args, line] of cases) {
      const r = run(bench, args);
      expect(r.err, args.join(' ')).toBe(`${line}\n`);
      expect(r.code).toBe(2);
      expect(r.err).not.toMatch(/ at .*\.js:\d+/);
    }
  });
});
