#!/usr/bin/env node
// The `pallas` command (package.json bin): runs the compiled CLI in dist/, after checking what a
// first run in a fresh checkout can lack, with a message that says what to do instead of a stack
// trace or a silent build: a Node.js too old for the project, or a checkout not built yet.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

import { requireNode } from '../scripts/require-node.mjs';

requireNode('pallas');
const main = new URL('../dist/lib/cli/main.js', import.meta.url);
if (!existsSync(fileURLToPath(main)) || !existsSync(fileURLToPath(new URL('../build/Release/pallas.node', import.meta.url)))) {
  process.stderr.write(
    'pallas: this checkout is not built yet. Run `bash scripts/setup.sh` (system packages, npm dependencies, build), ' +
      'or any of `npm test`, `npm run bench -- rocksdb`, `npm run sim -- fig2b`, which set up first\n',
  );
  process.exit(1);
}
await import(main.href);
