#!/usr/bin/env node
// npm's `prepare`: the wire files and the TypeScript build, run when the package is installed from
// a git URL (npm installs its dev dependencies first) and by `npm install` in a checkout. `npx pallas`
// in a fresh clone also runs it, on a checkout with no node_modules yet: then there is nothing to
// build with, so say what sets the checkout up and succeed, rather than fail npx's install (which
// leaves npx's cache broken for this directory until it is deleted).
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
let tsc;
try {
  tsc = createRequire(join(root, 'package.json')).resolve('typescript/bin/tsc');
} catch {
  tsc = undefined;
}
if (!tsc || !existsSync(join(root, 'node_modules'))) {
  console.error(
    'pallas prepare: skipped, this checkout has no npm dependencies yet. Set it up with `bash scripts/setup.sh`, ' +
      'or run any of `npm test`, `npm run bench -- rocksdb`, `npm run sim -- fig2b`, which set up first',
  );
  process.exit(0);
}
for (const args of [[join(root, 'proto', 'generate.mjs')], [tsc, '-p', join(root, 'tsconfig.json')]]) {
  const r = spawnSync(process.execPath, args, { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) process.exit(r.status ?? 1);
}
