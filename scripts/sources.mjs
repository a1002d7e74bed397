#!/usr/bin/env node
// The native sources from native/sources.json (the one list, per library), as binding.gyp wants
// them: every library's, relative to the package root, one per line. CMake reads the same file.
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const libs = JSON.parse(readFileSync(join(root, 'native', 'sources.json'), 'utf8'));
const files = Object.entries(libs)
  .filter(([name]) => name !== '//')
  .flatMap(([, list]) => list.map((f) => `native/${f}`));
process.stdout.write(`${files.join('\n')}\n`);
