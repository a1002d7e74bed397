// Builds the libFuzzer target for the C++ wire decoder and runs it for a bounded time
// (PALLAS_FUZZ_SECONDS, default 20) from a corpus seeded with the shared vectors.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

import { checkPrereqs, commandWorks, need } from '../helpers/prereq.js';
import { bytesOf, fromHex, INVALID, VALID } from '../helpers/vectors.js';

const root = join(__dirname, '..', '..');
const seconds = Number(process.env.PALLAS_FUZZ_SECONDS ?? 20);
const work = mkdtempSync(join(tmpdir(), 'pallas-fuzz-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const ready = checkPrereqs('libFuzzer', [
  need(commandWorks('clang++', ['--version']), 'clang++ with libFuzzer (apt-get install clang libclang-rt-14-dev)'),
]);

describe.runIf(ready)('libFuzzer: wire decoder', () => {
  it(
    `survives ${seconds} s of fuzzing`,
    () => {
      const bin = join(work, 'wire_fuzz');
      execFileSync(
        'clang++',
        [
          '-std=c++20',
          '-g',
          '-O1',
          '-fsanitize=fuzzer,address,undefined',
          '-fno-sanitize-recover=all',
          join(root, 'native/fuzz/wire_fuzz.cpp'),
          join(root, 'native/core/wire/wire.cpp'),
          '-o',
          bin,
        ],
        { stdio: 'pipe', timeout: 180_000 },
      );
      const corpus = join(work, 'corpus');
      mkdirSync(corpus);
      [...VALID.map((v) => fromHex(v.hex)), ...INVALID.map(bytesOf)].forEach((b, i) => writeFileSync(join(corpus, `seed${i}`), b));
      const r = spawnSync(bin, [`-max_total_time=${seconds}`, '-seed=1', '-max_len=1600', `-artifact_prefix=${work}/`, corpus], {
        encoding: 'utf8',
        timeout: (seconds + 60) * 1000,
      });
      const runs = Number(/Done (\d+) runs/.exec(r.stderr)?.[1] ?? 0);
      expect(r.status, r.stderr.slice(-2000)).toBe(0);
      expect(runs).toBeGreaterThan(10_000);
    },
    (seconds + 240) * 1000,
  );
});
