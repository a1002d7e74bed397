// The generated wire files are in sync with proto/wire.json, and the check catches staleness.
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const root = join(__dirname, '..', '..');
const GENERATED = ['native/core/wire/wire_gen.hpp', 'lib/wire/gen.ts', 'p4/include/pallas_wire.p4', 'docs/wire-format.md'];
const scratch = mkdtempSync(join(tmpdir(), 'pallas-proto-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

function copyTree(): string {
  const dir = mkdtempSync(join(scratch, 't-'));
  for (const f of ['proto/generate.mjs', 'proto/wire.json', ...GENERATED]) cpSync(join(root, f), join(dir, f), { recursive: true });
  return dir;
}

describe('proto generator', () => {
  it('generated files in the repo match proto/wire.json', () => {
    execFileSync(process.execPath, [join(root, 'proto/generate.mjs'), '--check'], { stdio: 'pipe' });
  });

  it.each(GENERATED)('--check fails when %s is stale', (file) => {
    const dir = copyTree();
    writeFileSync(join(dir, file), `${readFileSync(join(dir, file), 'utf8')}\n// edited by hand\n`);
    const r = spawnSync(process.execPath, [join(dir, 'proto/generate.mjs'), '--check'], { encoding: 'utf8' });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(file);
  });

  it('--check fails when the spec changes and the outputs are not regenerated', () => {
    const dir = copyTree();
    const spec = JSON.parse(readFileSync(join(dir, 'proto/wire.json'), 'utf8'));
    spec.defaultUdpPort = 9999;
    writeFileSync(join(dir, 'proto/wire.json'), JSON.stringify(spec));
    const r = spawnSync(process.execPath, [join(dir, 'proto/generate.mjs'), '--check'], { encoding: 'utf8' });
    expect(r.status).toBe(1);
    // Regenerating brings it back in sync, with the new port in every language.
    execFileSync(process.execPath, [join(dir, 'proto/generate.mjs')]);
    execFileSync(process.execPath, [join(dir, 'proto/generate.mjs'), '--check']);
    expect(readFileSync(join(dir, 'lib/wire/gen.ts'), 'utf8')).toContain('DEFAULT_UDP_PORT = 9999');
    expect(readFileSync(join(dir, 'native/core/wire/wire_gen.hpp'), 'utf8')).toContain('kDefaultUdpPort = 9999');
    expect(readFileSync(join(dir, 'p4/include/pallas_wire.p4'), 'utf8')).toContain('PALLAS_UDP_PORT 9999');
  });
});
