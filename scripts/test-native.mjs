#!/usr/bin/env node
// The native half of `npm test`: the CMake presets of native/CMakePresets.json, each configured,
// built and run through ctest (the C++ tests and the fuzz targets' corpora; in the fuzz preset,
// libFuzzer for PALLAS_FUZZ_SECONDS per target), then C++ line coverage (llvm-cov) and the addon
// built by cmake-js running the addon's smoke tests. Prints the time of every stage.
//
//   node scripts/test-native.mjs [preset|cmake-js ...]    (default: all; PALLAS_NATIVE_STAGES too)
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const native = join(root, 'native');
const ALL = ['release', 'asan', 'tsan', 'fuzz', 'coverage', 'cmake-js'];
const asked = process.argv.slice(2).length ? process.argv.slice(2) : (process.env.PALLAS_NATIVE_STAGES?.split(',') ?? ALL);
const unknown = asked.filter((s) => !ALL.includes(s));
if (unknown.length) {
  console.error(`test-native: unknown stage(s) ${unknown.join(', ')} (stages: ${ALL.join(', ')})`);
  process.exit(2);
}
const fuzzSeconds = Number(process.env.PALLAS_FUZZ_SECONDS ?? 10);

/** Runs a command with its output shown; its exit status. */
function sh(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { stdio: 'inherit', cwd: native, ...opts });
  if (r.error) console.error(`test-native: ${cmd}: ${r.error.message}`);
  return r.status ?? 1;
}
/** Runs a command and returns its standard output (for the coverage figures). */
function out(cmd, args) {
  const r = spawnSync(cmd, args, { cwd: native, encoding: 'utf8' });
  return r.status === 0 ? r.stdout : '';
}

const results = [];
function stage(name, fn) {
  const t0 = Date.now();
  console.log(`\n== native: ${name}`);
  let ok = false;
  let note = '';
  try {
    const r = fn();
    ok = r === true || (typeof r === 'object' && r.ok);
    if (typeof r === 'object') note = r.note ?? '';
  } catch (e) {
    note = e.message;
  }
  const s = ((Date.now() - t0) / 1000).toFixed(0);
  results.push({ name, ok, s, note });
  console.log(`== native: ${name} ${ok ? 'passed' : 'FAILED'} in ${s} s${note ? ` (${note})` : ''}`);
}

function cxxCoverage() {
  const dir = join(root, 'build', 'cmake', 'coverage');
  const profiles = join(dir, 'profiles');
  const raws = existsSync(profiles) ? readdirSync(profiles).filter((f) => f.endsWith('.profraw')) : [];
  if (!raws.length) return 'no profiles';
  const merged = join(dir, 'merged.profdata');
  if (sh('llvm-profdata-14', ['merge', '-sparse', '-o', merged, ...raws.map((f) => join(profiles, f))]) !== 0) return 'merge failed';
  const bins = [
    join(dir, 'pallas_tests'),
    ...readdirSync(dir)
      .filter((f) => f.endsWith('_fuzz'))
      .map((f) => join(dir, f)),
  ];
  const [first, ...rest] = bins.filter((b) => existsSync(b));
  const report = out('llvm-cov-14', [
    'report',
    first,
    ...rest.flatMap((b) => ['-object', b]),
    `-instr-profile=${merged}`,
    '-ignore-filename-regex=(native/tests/|native/fuzz/|/usr/)',
  ]);
  const total = report.split('\n').find((l) => l.startsWith('TOTAL'));
  if (!total) return 'no report';
  // TOTAL regions missed cover% functions missed executed% lines missed cover% branches missed cover%
  const pcts = total.match(/\d+\.\d+%/g) ?? [];
  return `C++ coverage of native/ by the C++ tests and corpora: lines ${pcts[2] ?? '?'}, functions ${pcts[1] ?? '?'}, regions ${pcts[0] ?? '?'}`;
}

/** Each fuzz target's executions and rate, from libFuzzer's final stats in ctest's log. */
function fuzzStats() {
  const log = join(root, 'build', 'cmake', 'fuzz', 'Testing', 'Temporary', 'LastTest.log');
  if (!existsSync(log)) return 'no ctest log';
  const text = readFileSync(log, 'utf8');
  const rows = [];
  for (const part of text.split(/^\d+\/\d+ Test: /m).slice(1)) {
    const name = part
      .split('\n')[0]
      .trim()
      .replace(/^fuzz\./, '');
    const runs = /stat::number_of_executed_units:\s*(\d+)/.exec(part)?.[1];
    const rate = /stat::average_exec_per_sec:\s*(\d+)/.exec(part)?.[1];
    if (runs) rows.push(`${name} ${Number(runs).toLocaleString('en')} runs (${Number(rate).toLocaleString('en')}/s)`);
  }
  return `${fuzzSeconds} s each: ${rows.sort().join(', ')}`;
}

for (const name of asked) {
  if (name === 'cmake-js') {
    stage('cmake-js addon + smoke tests', () => {
      const build = sh(process.execPath, [join(root, 'node_modules', 'cmake-js', 'bin', 'cmake-js'), 'build', '--out', 'build/cmake-js'], {
        cwd: root,
        env: { ...process.env, CMAKE_BUILD_PARALLEL_LEVEL: '2' },
      });
      if (build !== 0) return false;
      const addon = join(root, 'build', 'cmake-js', 'Release', 'pallas.node');
      if (!existsSync(addon)) return { ok: false, note: `cmake-js built no ${addon}` };
      // The addon's smoke tests, on the cmake-js build instead of node-gyp's (reporter: default only,
      // so that the JSON report of the main vitest run, which CI reads, stays).
      const smoke = ['wire', 'errors', 'policies', 'switch-pipeline', 'runtime'].map((t) => `test/native/${t}.test.ts`);
      const status = sh(
        process.execPath,
        [join(root, 'node_modules', 'vitest', 'vitest.mjs'), 'run', '--coverage.enabled=false', '--reporter=default', ...smoke],
        {
          cwd: root,
          env: { ...process.env, PALLAS_ADDON: addon, PALLAS_COVERAGE: '0' },
        },
      );
      return { ok: status === 0, note: `${addon.replace(`${root}/`, '')}: ${smoke.length} smoke test files` };
    });
    continue;
  }
  stage(`${name}: configure, build, ctest`, () => {
    const extra = name === 'fuzz' ? [`-DPALLAS_FUZZ_SECONDS=${fuzzSeconds}`] : [];
    if (name === 'coverage') rmSync(join(root, 'build', 'cmake', 'coverage', 'profiles'), { recursive: true, force: true });
    if (sh('cmake', ['--preset', name, '--log-level=WARNING', ...extra]) !== 0) return false;
    if (sh('cmake', ['--build', '--preset', name]) !== 0) return false;
    const ok = sh('ctest', ['--preset', name]) === 0;
    return { ok, note: name === 'coverage' ? cxxCoverage() : name === 'fuzz' ? fuzzStats() : '' };
  });
}

console.log('\nnative stages:');
for (const r of results)
  console.log(`  ${r.ok ? 'ok    ' : 'FAILED'} ${r.name.padEnd(34)} ${r.s.padStart(4)} s${r.note ? `  ${r.note}` : ''}`);
process.exit(results.every((r) => r.ok) ? 0 : 1);
