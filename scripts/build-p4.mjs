#!/usr/bin/env node
// `npm run p4`: compiles p4/pallas.p4 for Tofino 1 (TNA) into build/p4 (git-ignored), with the
// bf-rt.json that BFRuntime clients resolve ids from, context.json, tofino.bin and the resource
// reports (-g: pipe/logs/). The compiler is the SDE's when $SDE_INSTALL has one, else
// $PALLAS_BF_P4C, else ../shared/tools/bf-p4c/bf-p4c (bf-p4c from p4lang/p4c's open Tofino backend);
// the script says which. Every warning is printed; one that is not on the list below (each with the
// reason it is harmless) fails the build, as does an error.
//   node scripts/build-p4.mjs [--out DIR] [--target tofino|tofino2] [--quiet]
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** Warnings the program is known to raise, and why each does not matter. */
export const KNOWN_WARNINGS = [
  {
    re: /Parser state min_parse_depth_accept_loop will be unrolled up to \d+ times due to @pragma max_loop_depth/,
    why: 'the compiler adds this loop itself, to pad the parse of packets shorter than the minimum parse depth (a Pallas packet is longer)',
  },
];

/** The compiler to use and where it comes from. */
export function findCompiler(env = process.env) {
  if (env.SDE_INSTALL && existsSync(join(env.SDE_INSTALL, 'bin', 'bf-p4c')))
    return { path: join(env.SDE_INSTALL, 'bin', 'bf-p4c'), from: '$SDE_INSTALL' };
  if (env.PALLAS_BF_P4C) return { path: env.PALLAS_BF_P4C, from: '$PALLAS_BF_P4C' };
  const shared = join(root, '..', 'shared', 'tools', 'bf-p4c', 'bf-p4c');
  if (existsSync(shared)) return { path: shared, from: '../shared/tools/bf-p4c' };
  return null;
}

/** Stages per gress and the critical path, from the compiler's table summary. */
export function stageReport(out) {
  const f = join(out, 'pipe', 'logs', 'table_summary.log');
  if (!existsSync(f)) return null;
  const text = readFileSync(f, 'utf8');
  const last = (re) => {
    const m = [...text.matchAll(re)];
    return m.length ? Number(m[m.length - 1][1]) : null;
  };
  const report = {
    ingress: last(/Number of stages for ingress table allocation: (\d+)/g),
    egress: last(/Number of stages for egress table allocation: (\d+)/g),
    criticalPath: last(/Critical path length through the table dependency graph: (\d+)/g),
  };
  // Memories and stateful ALUs the compiler allocated, over all stages (Tofino 1: 12 stages of 80
  // SRAM blocks, 24 TCAM blocks and 4 stateful ALUs).
  const res = join(out, 'pipe', 'logs', 'resources.json');
  if (existsSync(res)) {
    const stages = JSON.parse(readFileSync(res, 'utf8')).resources?.mau?.mau_stages ?? [];
    const sum = (f) => stages.reduce((a, st) => a + f(st), 0);
    report.sram = sum((st) => st.rams?.srams?.length ?? 0);
    report.tcam = sum((st) => st.tcams?.tcams?.length ?? 0);
    report.statefulAlus = sum((st) => st.meter_alus?.meters?.length ?? 0);
    report.of = { sram: 80 * 12, tcam: 24 * 12, statefulAlus: 4 * 12 };
  }
  return report;
}

/**
 * Compiles the program. Resolves to { ok, compiler, out, warnings: {known, unknown}, stages, text };
 * ok is false on an error, a failed assembly, or a warning not in KNOWN_WARNINGS.
 */
export async function buildP4({ out = join(root, 'build', 'p4'), target = 'tofino', env = process.env } = {}) {
  const compiler = findCompiler(env);
  if (!compiler)
    return {
      ok: false,
      compiler: null,
      out,
      warnings: { known: [], unknown: [] },
      stages: null,
      text: 'no bf-p4c: install an SDE (set $SDE_INSTALL), set $PALLAS_BF_P4C, or provide ../shared/tools/bf-p4c',
    };
  mkdirSync(out, { recursive: true });
  const arch = target === 'tofino2' ? 't2na' : 'tna';
  const args = [
    '--std',
    'p4-16',
    '--target',
    target,
    '--arch',
    arch,
    '-g',
    '--bf-rt-schema',
    join(out, 'bf-rt.json'),
    '-o',
    out,
    join(root, 'p4', 'pallas.p4'),
  ];
  const r = await promisify(execFile)(compiler.path, args, { timeout: 900_000, maxBuffer: 1 << 26 }).then(
    (x) => ({ code: 0, text: x.stdout + x.stderr }),
    (e) => ({
      code: typeof e.code === 'number' ? e.code : 1,
      text: `${e.stdout ?? ''}${e.stderr ?? ''}${e.killed ? '\n(timed out)' : ''}`,
    }),
  );
  const lines = r.text.split('\n');
  const warnings = lines.filter((l) => /\bwarning\b/i.test(l) && !/^\d+ errors?, \d+ warnings? generated/.test(l.trim()));
  const known = warnings.filter((w) => KNOWN_WARNINGS.some((k) => k.re.test(w)));
  const unknown = warnings.filter((w) => !KNOWN_WARNINGS.some((k) => k.re.test(w)));
  const built =
    r.code === 0 && !/failed command/.test(r.text) && existsSync(join(out, 'pipe', target === 'tofino2' ? 'tofino2.bin' : 'tofino.bin'));
  return { ok: built && unknown.length === 0, built, compiler, out, warnings: { known, unknown }, stages: stageReport(out), text: r.text };
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const argv = process.argv.slice(2);
  const opt = (name) => {
    const i = argv.indexOf(name);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const target = opt('--target') ?? 'tofino';
  if (!['tofino', 'tofino2'].includes(target)) {
    console.error(`p4: --target must be tofino or tofino2, not ${target}`);
    process.exit(2);
  }
  const out = resolve(opt('--out') ?? join(root, 'build', 'p4'));
  const c = findCompiler();
  console.log(c ? `p4: compiling p4/pallas.p4 for ${target} with ${c.path} (${c.from})` : 'p4: no compiler found');
  const r = await buildP4({ out, target });
  if (!argv.includes('--quiet') || !r.ok) process.stdout.write(r.text.endsWith('\n') ? r.text : `${r.text}\n`);
  for (const w of r.warnings.known) console.log(`p4: known warning (${KNOWN_WARNINGS.find((k) => k.re.test(w)).why}): ${w.trim()}`);
  for (const w of r.warnings.unknown) console.error(`p4: warning not on the known list, read it: ${w.trim()}`);
  if (r.stages) {
    const st = r.stages;
    const pct = (a, b) => `${((100 * a) / b).toFixed(1)} %`;
    console.log(`p4: stages: ingress ${st.ingress}, egress ${st.egress} (of 12); critical path ${st.criticalPath}`);
    if (st.sram !== undefined)
      console.log(
        `p4: SRAM blocks ${st.sram} (${pct(st.sram, st.of.sram)}), TCAM blocks ${st.tcam} (${pct(st.tcam, st.of.tcam)}), ` +
          `stateful ALUs ${st.statefulAlus} (${pct(st.statefulAlus, st.of.statefulAlus)}) of Tofino 1's`,
      );
  }
  console.log(r.ok ? `p4: built ${r.out} (bf-rt.json, pipe/context.json, pipe/${target}.bin, pipe/logs/)` : 'p4: FAILED');
  process.exit(r.ok ? 0 : 1);
}
