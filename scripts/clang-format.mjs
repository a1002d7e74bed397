#!/usr/bin/env node
// Checks (default) or applies (--write) the C++ house style (.clang-format) over native/.
// Uses Debian's clang-format 14 (scripts/setup.sh installs it); the style's output differs between
// major versions, so another version is refused rather than reformatting everything.
import { execFileSync, spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(fileURLToPath(import.meta.url), '..', '..');
const write = process.argv.includes('--write');

function find() {
  for (const bin of ['clang-format-14', 'clang-format']) {
    const r = spawnSync(bin, ['--version'], { encoding: 'utf8' });
    if (r.status === 0 && /version 14\./.test(r.stdout)) return bin;
  }
  console.error('clang-format: version 14 not found (Debian 12: apt-get install clang-format-14, or run scripts/setup.sh)');
  process.exit(2);
}

function sources(dir) {
  const out = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...sources(p));
    // *_gen.* are written by proto/generate.mjs, whose --check compares them byte for byte.
    else if (/\.(cpp|hpp|h|cc)$/.test(e.name) && !/_gen\./.test(e.name)) out.push(p);
  }
  return out.sort();
}

const bin = find();
const files = sources(join(root, 'native'));
try {
  execFileSync(bin, write ? ['-i', ...files] : ['--dry-run', '-Werror', ...files], { stdio: 'inherit' });
} catch {
  console.error(`clang-format: ${files.length} files checked; the ones above differ from .clang-format (npm run format:native fixes them)`);
  process.exit(1);
}
console.log(`clang-format: ${files.length} files ${write ? 'formatted' : 'match .clang-format'}`);
