#!/usr/bin/env node
// Runs before `npm run bench`, `npm test` and `npm run sim` (their pre-scripts), so that on a fresh
// clone the README's two commands do all the set-up they need: the system packages, the npm
// dependencies and the build through scripts/setup.sh when any is missing, or only the build when
// a source is newer than what was built; nothing (in well under a second) when all is current.
// Uses nothing but Node's own modules: on a fresh clone there are no others yet.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { requireNode } from './require-node.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const say = (s) => process.stderr.write(`pallas set-up: ${s}\n`);

requireNode('pallas set-up');

/** Newest modification time under `dir` of files whose name passes `keep` (0 when none). */
function newest(dir, keep) {
  let t = 0;
  if (!existsSync(dir)) return t;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) {
      if (e.name !== 'node_modules') t = Math.max(t, newest(p, keep));
    } else if (keep(e.name)) t = Math.max(t, statSync(p).mtimeMs);
  }
  return t;
}
const mtime = (p) => (existsSync(p) ? statSync(p).mtimeMs : 0);
function run(cmd, args, why) {
  say(why);
  const r = spawnSync(cmd, args, { cwd: root, stdio: ['ignore', 'inherit', 'inherit'] });
  if (r.status !== 0) {
    say(`\`${[cmd, ...args].join(' ')}\` failed (exit ${r.status ?? r.signal}); fix what it says above, then run the command again`);
    process.exit(r.status || 1);
  }
}

// 1. System packages and npm dependencies: scripts/setup.sh does both, and the build.
const packages = spawnSync('bash', [join(root, 'scripts', 'setup.sh'), '--check'], { cwd: root, encoding: 'utf8' });
const lock = mtime(join(root, 'package-lock.json'));
const installed = mtime(join(root, 'node_modules', '.package-lock.json'));
if (packages.status !== 0 || installed === 0 || installed < lock) {
  const why =
    packages.status !== 0
      ? `system packages missing (${packages.stdout.trim()})`
      : installed === 0
        ? 'no npm dependencies yet'
        : 'package-lock.json changed since the npm dependencies were installed';
  run(
    'bash',
    [join(root, 'scripts', 'setup.sh')],
    `${why}: running scripts/setup.sh (packages, npm ci, build; a few minutes the first time)`,
  );
  process.exit(0);
}

// 2. The build: the addon, the generated wire files and the TypeScript, when a source is newer.
const ts = (n) => n.endsWith('.ts') && !n.endsWith('.d.ts');
const native = (n) => /\.(cc|cpp|hpp|h|c)$/.test(n);
const addon = mtime(join(root, 'build', 'Release', 'pallas.node'));
const js = mtime(join(root, 'dist', 'lib', 'cli', 'main.js'));
const stale = [];
if (addon < Math.max(newest(join(root, 'native'), native), mtime(join(root, 'binding.gyp')), mtime(join(root, 'proto', 'wire.json'))))
  stale.push('the native addon');
if (
  js <
  Math.max(
    newest(join(root, 'lib'), ts),
    newest(join(root, 'bench'), ts),
    mtime(join(root, 'tsconfig.json')),
    mtime(join(root, 'proto', 'wire.json')),
  )
) {
  stale.push('the TypeScript');
}
if (stale.length) run('npm', ['run', '--silent', 'build'], `${stale.join(' and ')} older than the sources: npm run build`);
