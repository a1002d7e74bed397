// The package as a new user gets it. (1) `npm pack` gives a tarball that installs into an empty
// project (its install script builds the addon, visibly) and runs `pallas doctor` and the API; so
// does a git URL of the repository.
// (2) The README's promise: on a fresh clone, the npm commands do their own set-up. A clone of this
// repository at HEAD with no node_modules, no build and no dist runs `npm run sim -- fig2b` (the
// same pre-script as `npm run bench` and `npm test`): scripts/ensure.mjs finds the system packages
// there, runs scripts/setup.sh for the npm dependencies and the build, then the command runs. A
// second run sets up nothing; a changed source rebuilds only what it feeds. `npx pallas` before the
// set-up says what to run, and works after it from the same npx cache.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, describe, expect, it } from 'vitest';

import { packageRoot } from '../../lib/native.js';
import { checkPrereqs, commandWorks, need } from '../helpers/prereq.js';

const ready = checkPrereqs('a fresh clone', [
  need(existsSync(join(packageRoot, '.git')), 'a git checkout of Pallas'),
  need(commandWorks('bash', [join(packageRoot, 'scripts', 'setup.sh'), '--check']), 'the system packages scripts/setup.sh installs'),
]);
const dir = mkdtempSync(join(tmpdir(), 'pallas-clone-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function npm(args: string[]): { code: number; out: string; err: string } {
  const r = spawnSync('npm', args, { cwd: join(dir, 'pallas'), encoding: 'utf8', timeout: 600_000 });
  return { code: r.status ?? -1, out: r.stdout, err: r.stderr };
}

describe.runIf(ready)('the packed package', () => {
  it('installs into an empty project as a dependency, builds its addon, and runs pallas doctor and the API', () => {
    const proj = join(dir, 'app');
    mkdirSync(proj);
    const tgz = execFileSync('npm', ['pack', '--pack-destination', dir, '--silent'], {
      cwd: packageRoot,
      encoding: 'utf8',
      timeout: 300_000,
    })
      .trim()
      .split('\n')
      .pop()!;
    writeFileSync(join(proj, 'package.json'), JSON.stringify({ name: 'app', version: '1.0.0', private: true, type: 'module' }));
    const inst = spawnSync('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', '--foreground-scripts', join(dir, tgz)], {
      cwd: proj,
      encoding: 'utf8',
      timeout: 600_000,
    });
    expect(inst.status, `${inst.stdout.slice(-1500)}\n${inst.stderr.slice(-1500)}`).toBe(0);
    // The native build shows (npm runs install scripts in the foreground when asked; the build says what it made).
    expect(inst.stdout + inst.stderr).toMatch(/build-native: built build\/Release\/pallas\.node with features/);
    const doctor = spawnSync(join(proj, 'node_modules', '.bin', 'pallas'), ['doctor', '--json'], {
      cwd: proj,
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(doctor.status, doctor.stderr).toBe(0);
    const report = JSON.parse(doctor.stdout) as { checks: { name: string; ok: boolean }[] };
    expect(report.checks.find((c) => c.name === 'addon')?.ok).toBe(true);
    // The API through the package's exports, with its types shipped beside it.
    const api = spawnSync(
      process.execPath,
      ['--input-type=module', '-e', "import { VERSION, sim, wire } from 'pallas'; console.log(VERSION, typeof sim, typeof wire)"],
      { cwd: proj, encoding: 'utf8' },
    );
    expect(api.stdout.trim()).toMatch(/^\d+\.\d+\.\d+ object object$/);
    expect(existsSync(join(proj, 'node_modules', 'pallas', 'dist', 'lib', 'index.d.ts'))).toBe(true);
    expect(existsSync(join(proj, 'node_modules', 'pallas', 'test'))).toBe(false);
  }, 900_000);
});

describe.runIf(ready)('the package from a git URL', () => {
  it('installs from git+file:// (npm clones, runs prepare with the dev dependencies, packs) and runs', () => {
    const proj = join(dir, 'git-app');
    mkdirSync(proj);
    writeFileSync(join(proj, 'package.json'), JSON.stringify({ name: 'git-app', version: '1.0.0', private: true, type: 'module' }));
    const inst = spawnSync('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', `git+file://${packageRoot}`], {
      cwd: proj,
      encoding: 'utf8',
      timeout: 900_000,
    });
    expect(inst.status, `${inst.stdout.slice(-1500)}\n${inst.stderr.slice(-1500)}`).toBe(0);
    // prepare built dist/ in npm's clone (dist is not in git), and the install script the addon.
    expect(existsSync(join(proj, 'node_modules', 'pallas', 'dist', 'lib', 'cli', 'main.js'))).toBe(true);
    const v = spawnSync(join(proj, 'node_modules', '.bin', 'pallas'), ['doctor', '--require', 'addon'], { cwd: proj, encoding: 'utf8' });
    expect(v.status, v.stderr).toBe(0);
  }, 900_000);
});

describe.runIf(ready)('a fresh clone', () => {
  it('sets itself up on the first npm command, does nothing on the second, and rebuilds what a change feeds', () => {
    execFileSync('git', ['clone', '-q', '--no-hardlinks', packageRoot, join(dir, 'pallas')]);
    expect(existsSync(join(dir, 'pallas', 'node_modules'))).toBe(false);
    // `npx pallas` before anything is built says what to run, instead of a stack trace, a silent
    // build, or an npm error. npx installs the checkout into its own cache (a private one here),
    // running its prepare and install scripts: with no node_modules they must skip, not fail, or
    // npx's cache stays broken for this directory after the set-up too.
    const npx = (args: string[]) =>
      spawnSync('npx', ['--no-install', ...args], {
        cwd: join(dir, 'pallas'),
        encoding: 'utf8',
        timeout: 300_000,
        env: { ...process.env, npm_config_cache: join(dir, 'npm-cache') },
      });
    const early = npx(['pallas', 'doctor']);
    expect(early.status, early.stderr).toBe(1);
    expect(early.stderr).toMatch(/^pallas: this checkout is not built yet\. Run `bash scripts\/setup\.sh`/m);
    expect(early.stderr).not.toMatch(/npm error/);
    expect(existsSync(join(dir, 'pallas', 'node_modules'))).toBe(false);
    const args = ['run', 'sim', '--', 'fig2b', '--requests', '2000', '--no-write', '--quiet'];
    const first = npm(args);
    expect(first.code, first.err.slice(-2000)).toBe(0);
    expect(first.err).toMatch(/pallas set-up: no npm dependencies yet: running scripts\/setup\.sh/);
    expect(first.out).toMatch(/DARC \[short=1\]/);
    expect(existsSync(join(dir, 'pallas', 'build', 'Release', 'pallas.node'))).toBe(true);

    const second = npm(args);
    expect(second.code).toBe(0);
    expect(second.err).not.toMatch(/pallas set-up/);
    // The same npx cache now runs the built checkout.
    const later = npx(['pallas', '--version']);
    expect(later.status, later.stderr).toBe(0);
    expect(later.stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);

    // A TypeScript source newer than the build: only the build runs again.
    const src = join(dir, 'pallas', 'lib', 'version.ts');
    const now = new Date();
    utimesSync(src, now, now);
    const third = npm(args);
    expect(third.code, third.err.slice(-2000)).toBe(0);
    expect(third.err).toMatch(/pallas set-up: the TypeScript older than the sources: npm run build/);
    expect(third.err).not.toMatch(/setup\.sh/);
  }, 900_000);
});
