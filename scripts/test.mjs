#!/usr/bin/env node
// `npm test`: the vitest suite (TypeScript, the addon, integration), then the native stages
// (scripts/test-native.mjs: C++ tests under each CMake preset, fuzzing, coverage, the cmake-js
// addon). With arguments, only vitest runs, on them (`npm test -- test/unit/scenario.test.ts`).
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const run = (script, argv) => spawnSync(process.execPath, [script, ...argv], { cwd: root, stdio: 'inherit' }).status ?? 1;

const t0 = Date.now();
const js = run(join(root, 'node_modules', 'vitest', 'vitest.mjs'), ['run', ...args]);
const jsSeconds = Math.round((Date.now() - t0) / 1000);
if (args.length) process.exit(js);
const t1 = Date.now();
const native = run(join(root, 'scripts', 'test-native.mjs'), []);
const verdict = (status) => (status === 0 ? 'passed' : 'FAILED');
console.log(`\ntests: vitest ${verdict(js)} in ${jsSeconds} s; native ${verdict(native)} in ${Math.round((Date.now() - t1) / 1000)} s`);
process.exit(js || native);
