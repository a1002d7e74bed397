// The Tofino program (p4/pallas.p4) compiles and fits Tofino 1 with bf-p4c (../shared/tools, or
// $PALLAS_BF_P4C / $SDE_INSTALL): no error, no warning off the known list, at most 12 stages per
// gress, and the tables, registers and counters the BFRuntime driver resolves by name. The
// compiler's verdict is the check; nothing here runs P4 (no Tofino model on these machines).
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, describe, expect, it } from 'vitest';

import { packageRoot } from '../../lib/native.js';
import { checkPrereqs, need } from '../helpers/prereq.js';

// @ts-expect-error: a plain ES module without types
const build = await import(join(packageRoot, 'scripts', 'build-p4.mjs')) as {
  findCompiler: () => { path: string; from: string } | null;
  buildP4: (o: { out: string }) => Promise<{ ok: boolean; built: boolean; warnings: { known: string[]; unknown: string[] }; stages: { ingress: number; egress: number } | null; text: string }>;
};

const ok = checkPrereqs('p4 program', [need(build.findCompiler() !== null, 'the Tofino compiler bf-p4c (../shared/tools/bf-p4c, $PALLAS_BF_P4C or $SDE_INSTALL)')]);
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
    for (const c of ['n_requests', 'n_unmapped', 'n_bounced', 'n_cloned', 'n_clone_suppressed', 'n_drop_no_server', 'n_po2', 'n_bad_header'])
      expect(size.has(`PallasIngress.${c}`), c).toBe(true);
    for (const c of ['n_replies', 'n_replies_filtered', 'n_clone_drop_notices']) expect(size.has(`PallasEgress.${c}`), c).toBe(true);
  }, 900_000);
});
