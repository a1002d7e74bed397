#!/usr/bin/env node
// Builds the addon with node-gyp (configure only when binding.gyp, the feature set or the Node
// headers changed; then an incremental build). Run through npm so that node-gyp uses the local
// Node headers (npm_config_nodedir) instead of downloading them.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { requireNode } from './require-node.mjs';

requireNode('build-native');
const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
let gyp;
try {
  gyp = require.resolve('node-gyp/bin/node-gyp.js');
} catch (e) {
  // A checkout with no node_modules (npm runs install scripts there for `npx pallas` in a fresh
  // clone): nothing to build with yet. Say what sets it up, and do not fail npx's install.
  if (existsSync(join(root, 'node_modules'))) throw e;
  console.error('build-native: skipped, this checkout has no npm dependencies yet (bash scripts/setup.sh sets it up)');
  process.exit(0);
}
const stamp = join(root, 'build', '.pallas-config');
const features = execFileSync(process.execPath, [join(root, 'scripts/features.mjs'), 'json'], { encoding: 'utf8' }).trim();
// binding.gyp takes its source list from native/sources.json at configure time: either changing reconfigures.
const key = JSON.stringify({
  features,
  gyp: readFileSync(join(root, 'binding.gyp'), 'utf8'),
  sources: readFileSync(join(root, 'native', 'sources.json'), 'utf8'),
  node: process.version,
});

function run(args) {
  const r = spawnSync(process.execPath, [gyp, ...args], { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) {
    console.error(`build-native: node-gyp ${args[0]} failed (exit ${r.status}); see the compiler output above`);
    process.exit(r.status ?? 1);
  }
}

console.log(`build-native: building the native addon (C++, N-API; about a minute the first time) with features ${features}`);
const configured = existsSync(join(root, 'build', 'Makefile')) && existsSync(stamp) && readFileSync(stamp, 'utf8') === key;
if (!configured) {
  run(['configure']);
  writeFileSync(stamp, key);
}
run(['build', `-j${Math.max(1, Math.min(2, Number(process.env.PALLAS_BUILD_JOBS) || 2))}`]);
console.log(`build-native: built build/Release/pallas.node with features ${features}`);
