#!/usr/bin/env node
// clang-tidy 14 with the checks of .clang-tidy over every native source: the libraries and the
// addon (compile commands of the cmake-js build tree, which has the Node headers), then the C++
// tests and fuzz targets (the release preset's tree). Any finding fails (WarningsAsErrors).
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const sh = (cmd, args, cwd = root) => spawnSync(cmd, args, { cwd, stdio: 'inherit' }).status ?? 1;

const addonTree = join(root, 'build', 'cmake-js');
if (!existsSync(join(addonTree, 'compile_commands.json'))) {
  const cmakeJs = join(root, 'node_modules', 'cmake-js', 'bin', 'cmake-js');
  if (sh(process.execPath, [cmakeJs, 'configure', '--out', 'build/cmake-js']) !== 0) process.exit(1);
}
const testTree = join(root, 'build', 'cmake', 'release');
if (!existsSync(join(testTree, 'compile_commands.json'))) {
  if (sh('cmake', ['--preset', 'release', '--log-level=WARNING'], join(root, 'native')) !== 0) process.exit(1);
}
const tidy = (tree, filter) => sh('run-clang-tidy-14', ['-p', tree, '-j', '2', '-quiet', '-extra-arg=-Wno-unknown-warning-option', filter]);
const a = tidy(addonTree, 'native/(core|sim|io|runtime|switch|client|addon)/.*\\.cpp$');
const b = tidy(testTree, 'native/(tests|fuzz)/.*\\.cpp$');
console.log(`clang-tidy: ${a === 0 && b === 0 ? 'no findings' : 'findings above'}`);
process.exit(a || b);
