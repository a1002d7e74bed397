// The Tofino program (p4/pallas.p4) compiles and fits Tofino 1 with bf-p4c (../shared/tools, or
// $PALLAS_BF_P4C / $SDE_INSTALL): no error, no warning off the known list, at most 12 stages per
// gress, and the tables, registers and counters the BFRuntime driver resolves by name. The
// compiler's verdict is the check; nothing here runs P4 (no Tofino model on these machines).
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, describe, expect, it } from 'vitest';

import type { SwitchTables } from '../../lib/control/policy.js';
import { packageRoot } from '../../lib/native.js';
import { diffP4, p4Entries, type P4Entry } from '../../lib/switch/p4-entries.js';
import { checkPrereqs, need } from '../helpers/prereq.js';

interface BfrtField {
  id: number;
  name: string;
  match_type?: string;
  type: { type: string; width?: number };
}
interface BfrtTable {
  name: string;
  size: number;
  table_type: string;
  key: BfrtField[];
  action_specs?: { name: string; data: BfrtField[] }[];
  data: { singleton?: BfrtField }[];
}

/** Checks one entry against the compiler's bf-rt.json as a switch would: names, match types, widths. */
function checkEntry(rt: Map<string, BfrtTable>, e: P4Entry): string[] {
  const t = rt.get(e.table);
  if (!t) return [`${e.table}: no such table`];
  const errs: string[] = [];
  const fits = (v: number, f: BfrtField) => f.type.type !== 'bytes' || (Number.isInteger(v) && v >= 0 && v < 2 ** f.type.width!);
  for (const [name, v] of Object.entries(e.key)) {
    const f = t.key.find((k) => k.name === name);
    if (!f) {
      errs.push(`${e.table}: no key field ${name}`);
      continue;
    }
    if (typeof v === 'number') {
      if (f.match_type !== 'Exact') errs.push(`${e.table}.${name}: ${f.match_type} key given an exact value`);
      if (!fits(v, f)) errs.push(`${e.table}.${name}: ${v} does not fit ${f.type.width} bits`);
    } else {
      if (f.match_type !== 'Range') errs.push(`${e.table}.${name}: ${f.match_type} key given a range`);
      if (!fits(v.low, f) || !fits(v.high, f) || v.low > v.high) errs.push(`${e.table}.${name}: bad range ${v.low}..${v.high}`);
    }
  }
  if (!e.isDefault)
    for (const f of t.key)
      if (f.match_type && !(f.name in e.key) && f.name !== '$MATCH_PRIORITY') errs.push(`${e.table}: key field ${f.name} missing`);
  if (e.action === null) {
    for (const [name, v] of Object.entries(e.data)) {
      const f = t.data.map((d) => d.singleton).find((d) => d?.name === name);
      if (!f) errs.push(`${e.table}: no register field ${name}`);
      else if (!fits(v, f)) errs.push(`${e.table}.${name}: ${v} does not fit`);
    }
    return errs;
  }
  const a = t.action_specs?.find((x) => x.name === e.action);
  if (!a) return [...errs, `${e.table}: no action ${e.action}`];
  for (const f of a.data) if (!(f.name in e.data)) errs.push(`${e.action}: data ${f.name} missing`);
  for (const [name, v] of Object.entries(e.data)) {
    const f = a.data.find((d) => d.name === name);
    if (!f) errs.push(`${e.action}: no data field ${name}`);
    else if (!fits(v, f)) errs.push(`${e.action}.${name}: ${v} does not fit ${f.type.width} bits`);
  }
  return errs;
}

// A plain ES module without types: the cast below says what it gives.
const build = (await import(join(packageRoot, 'scripts', 'build-p4.mjs'))) as {
  findCompiler: () => { path: string; from: string } | null;
  buildP4: (o: { out: string }) => Promise<{
    ok: boolean;
    built: boolean;
    warnings: { known: string[]; unknown: string[] };
    stages: { ingress: number; egress: number; sram?: number } | null;
    text: string;
  }>;
};

const ok = checkPrereqs('p4 program', [
  need(build.findCompiler() !== null, 'the Tofino compiler bf-p4c (../shared/tools/bf-p4c, $PALLAS_BF_P4C or $SDE_INSTALL)'),
]);
const out = mkdtempSync(join(tmpdir(), 'pallas-p4-program-'));
afterAll(() => rmSync(out, { recursive: true, force: true }));

describe.skipIf(!ok)('the Tofino program', () => {
  it('compiles and assembles for Tofino 1 within its 12 stages, with the names the driver uses', async () => {
    const r = await build.buildP4({ out });
    expect(r.warnings.unknown, r.text.slice(-3000)).toEqual([]);
    expect(r.built, r.text.slice(-3000)).toBe(true);
    expect(r.ok).toBe(true);
    expect(r.stages!.ingress).toBeLessThanOrEqual(12);
    expect(r.stages!.egress).toBeLessThanOrEqual(12);
    // The figures, printed in CI's log (docs: p4/README.md compares them with the contract's estimate and the paper's).
    console.log(`p4/pallas.p4 on Tofino 1: ${JSON.stringify(r.stages)}`);
    const rt = JSON.parse(readFileSync(join(out, 'bf-rt.json'), 'utf8')) as { tables: { name: string; size: number }[] };
    const size = new Map(rt.tables.map((t) => [t.name.replace(/^pipe\./, ''), t.size]));
    const want: Record<string, number> = {
      'PallasIngress.shaper.type_to_group': 256,
      'PallasIngress.group_config.group_cfg': 32,
      'PallasIngress.wrr_pick.wrr': 1024,
      'PallasIngress.po2_pick.po2_pick_a': 1024,
      'PallasIngress.po2_pick.po2_pick_b': 1024,
      'PallasIngress.burst_window.burst_window': 1,
      'PallasIngress.switch_config.switch_cfg': 1,
      'PallasIngress.forward.servers': 256,
      'PallasIngress.seq': 1,
      'PallasIngress.counters.wrr_counter': 32,
      'PallasIngress.counters.clone_counter': 32,
      'PallasIngress.burst.burst': 32,
      'PallasIngress.outstanding.outstanding_a': 8192,
      'PallasIngress.outstanding.outstanding_b': 8192,
      'PallasIngress.monitor_requests.mon_requests': 256,
      'PallasEgress.reply_filter.filter': 65536,
      'PallasEgress.monitor_replies.mon': 256,
      'PallasEgress.monitor_notices.mon_notices': 256,
      'PallasIngressParser.recirc_ports': 4,
    };
    for (const [name, n] of Object.entries(want)) expect(size.get(name), name).toBe(n);
    for (const c of [
      'n_requests',
      'n_unmapped',
      'n_bounced',
      'n_cloned',
      'n_clone_suppressed',
      'n_drop_no_server',
      'n_po2',
      'n_bad_header',
    ])
      expect(size.has(`PallasIngress.${c}`), c).toBe(true);
    for (const c of ['n_replies', 'n_replies_filtered', 'n_clone_drop_notices']) expect(size.has(`PallasEgress.${c}`), c).toBe(true);

    // Every entry the control plane's tables turn into exists in the program, with its key, action
    // and data fields at their widths: a plan of three groups (po2, a clone target, an unmapped
    // default), an update that moves weights, and the largest values the contract allows.
    const byName = new Map(rt.tables.map((t) => [t.name.replace(/^pipe\./, ''), t as unknown as BfrtTable]));
    const plan: SwitchTables = {
      typeToGroup: { 1: 0, 2: 1, 3: 2, 255: 2 },
      defaultGroup: 2,
      tauShift: 24,
      clone: true,
      groups: [
        {
          cThres: 4,
          cloneTarget: 2,
          balance: 'wrr',
          wrr: [
            { server: 0, weight: 3 },
            { server: 1, weight: 1 },
          ],
        },
        {
          cThres: 2 ** 32 - 1,
          cloneTarget: 2,
          balance: 'po2',
          wrr: [
            { server: 2, weight: 10 },
            { server: 255, weight: 65525 },
          ],
        },
        { cThres: 0, cloneTarget: null, balance: 'wrr', wrr: [{ server: 3, weight: 7 }] },
      ],
    };
    const setup = { vip: 0xc0a80001, cloneSession: 1023 };
    const first = p4Entries(plan, setup);
    const moved = p4Entries(
      {
        ...plan,
        tauShift: 8,
        groups: plan.groups.map((g, i) =>
          i === 0
            ? {
                ...g,
                wrr: [
                  { server: 1, weight: 2 },
                  { server: 4, weight: 2 },
                ],
              }
            : g,
        ),
      },
      setup,
    );
    const errs = [...first, ...moved].flatMap((e) => checkEntry(byName, e));
    expect(errs).toEqual([]);
    // (The check refuses what a switch would: an unknown action, a value too wide, a missing key.)
    const row = first.find((e) => e.table === 'PallasIngress.wrr_pick.wrr')!;
    expect(checkEntry(byName, { ...row, action: 'PallasIngress.wrr_pick.nope' })).not.toEqual([]);
    expect(checkEntry(byName, { ...row, data: { server: 256 } })).not.toEqual([]);
    expect(checkEntry(byName, { ...row, key: { group: 0 } })).not.toEqual([]);
    expect(new Set(first.map((e) => e.table))).toEqual(
      new Set([
        'PallasIngress.switch_config.switch_cfg',
        'PallasIngress.burst_window.burst_window',
        'PallasIngress.shaper.type_to_group',
        'PallasIngress.group_config.group_cfg',
        'PallasIngress.wrr_pick.wrr',
        'PallasIngress.po2_pick.po2_pick_a',
        'PallasIngress.po2_pick.po2_pick_b',
        'PallasIngress.counters.wrr_counter',
        'PallasIngress.counters.clone_counter',
      ]),
    );
    const ups = diffP4(first, moved);
    expect(ups.filter((u) => u.type === 'DELETE').every((u) => !u.entry.isDefault)).toBe(true);
    expect(
      ups.some(
        (u) => u.entry.table === 'PallasIngress.burst_window.burst_window' && u.entry.action === 'PallasIngress.burst_window.window_8',
      ),
    ).toBe(true);
  }, 900_000);
});
