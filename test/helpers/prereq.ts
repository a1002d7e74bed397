// Prerequisite checks for test layers. Locally a missing prerequisite skips its tests and says so
// loudly; under CI (CI=true) it fails them: CI installs everything, so a gap there is a bug.
import { execFileSync } from 'node:child_process';

import { loadNative } from '../../lib/native.js';

export interface Prereq {
  ok: boolean;
  why: string;
}

export function need(ok: boolean, why: string): Prereq {
  return { ok, why };
}

export function commandWorks(cmd: string, args: string[]): boolean {
  try {
    execFileSync(cmd, args, { stdio: 'ignore', timeout: 20_000 });
    return true;
  } catch {
    return false;
  }
}

/**
 * Returns true when the tests may run. When they may not: in CI, throws (the suite fails); locally,
 * prints a banner and returns false so that the caller skips.
 */
export function checkPrereqs(suite: string, prereqs: Prereq[]): boolean {
  const missing = prereqs.filter((p) => !p.ok).map((p) => p.why);
  if (missing.length === 0) return true;
  const msg = `${suite}: missing prerequisites: ${missing.join('; ')}`;
  if (process.env.CI) throw new Error(`${msg} (CI must provide them: see .ci/run)`);
  console.warn(`\n*** SKIPPING ${msg} ***\n`);
  return false;
}

/** What the tests over DPDK on a veth pair between network namespaces need. */
export function dpdkNetnsPrereqs(): Prereq[] {
  return [
    need(process.getuid?.() === 0, 'root (network namespaces)'),
    need(commandWorks('ip', ['-V']), 'iproute2 (`ip`)'),
    need(loadNative().buildInfo().features.dpdk, 'an addon built with DPDK (apt-get install dpdk-dev libdpdk-dev)'),
  ];
}
