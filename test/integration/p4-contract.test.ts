// The switch contract's register actions compile for Tofino 1 (p4/contract/register_actions.p4,
// bf-p4c from ../shared/tools or $PALLAS_BF_P4C): one register action per register per packet,
// at most two comparisons per stateful ALU, paired registers with cross-half assignments. The
// compiler's verdict is the check; nothing here runs P4 (no Tofino model on these machines).
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

import { afterAll, describe, expect, it } from 'vitest';

import { packageRoot } from '../../lib/native.js';
import { checkPrereqs, need } from '../helpers/prereq.js';

// The same compiler `npm run p4` uses ($SDE_INSTALL's, $PALLAS_BF_P4C, or ../shared/tools/bf-p4c).
// A plain ES module without types: the cast below says what it gives.
const { findCompiler } = (await import(join(packageRoot, 'scripts', 'build-p4.mjs'))) as { findCompiler: () => { path: string } | null };
const compiler = findCompiler()?.path ?? '';
const ok = checkPrereqs('p4 contract', [
  need(compiler !== '', 'the Tofino compiler bf-p4c (../shared/tools/bf-p4c, $PALLAS_BF_P4C or $SDE_INSTALL)'),
]);
const out = mkdtempSync(join(tmpdir(), 'pallas-p4-'));
afterAll(() => rmSync(out, { recursive: true, force: true }));

describe.skipIf(!ok)('switch contract on Tofino 1', () => {
  it('its register actions compile and assemble with bf-p4c (tofino, tna)', async () => {
    const src = join(packageRoot, 'p4', 'contract', 'register_actions.p4');
    const r = await promisify(execFile)(compiler, ['--std', 'p4-16', '--target', 'tofino', '--arch', 'tna', '-o', out, src], {
      timeout: 240_000,
      maxBuffer: 1 << 24,
    }).then(
      (x) => ({ code: 0, text: x.stdout + x.stderr }),
      (e: { code?: number; stdout?: string; stderr?: string }) => ({ code: e.code ?? 1, text: `${e.stdout ?? ''}${e.stderr ?? ''}` }),
    );
    expect(r.text).toMatch(/\b0 errors\b/);
    expect(r.text).not.toMatch(/failed command/);
    expect(r.code, r.text.slice(-2000)).toBe(0);
    expect(existsSync(join(out, 'pipe', 'tofino.bin'))).toBe(true);
  }, 300_000);
});
