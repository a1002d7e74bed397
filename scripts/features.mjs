#!/usr/bin/env node
// Feature detection for binding.gyp: asks pkg-config which optional system libraries exist and
// prints the defines/cflags/libs that gyp should use. binding.gyp asks, this script decides.
//
//   node scripts/features.mjs defines|cflags|libs|json
//
// PALLAS_NO_DPDK=1 / PALLAS_NO_ROCKSDB=1 force a feature off (to test the build without them).
import { execFileSync } from 'node:child_process';

function pkg(name, ...args) {
  try {
    return execFileSync('pkg-config', [...args, name], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return null;
  }
}

// Only the DPDK libraries the transport uses; PMDs are loaded by EAL from its plugin directory.
const DPDK_LIBS = ['rte_ethdev', 'rte_mbuf', 'rte_mempool', 'rte_ring', 'rte_net', 'rte_kvargs', 'rte_eal'];

export function detect() {
  const features = [];
  const dpdkVersion = process.env.PALLAS_NO_DPDK ? null : pkg('libdpdk', '--modversion');
  if (dpdkVersion) {
    // Keep DPDK's own -march: its inline headers (rte_memcpy) need the ISA it was built for.
    const cflags = pkg('libdpdk', '--cflags').split(/\s+/).filter(Boolean);
    const libdir = pkg('libdpdk', '--variable=libdir');
    features.push({
      name: 'dpdk',
      define: 'HAVE_DPDK=1',
      version: dpdkVersion,
      cflags,
      libs: [`-L${libdir}`, ...DPDK_LIBS.map((l) => `-l${l}`)],
    });
  }
  const rocksVersion = process.env.PALLAS_NO_ROCKSDB ? null : pkg('rocksdb', '--modversion');
  if (rocksVersion) {
    features.push({
      name: 'rocksdb',
      define: 'HAVE_ROCKSDB=1',
      version: rocksVersion,
      cflags: pkg('rocksdb', '--cflags').split(/\s+/).filter(Boolean),
      libs: pkg('rocksdb', '--libs').split(/\s+/).filter(Boolean),
    });
  }
  return features;
}

const what = process.argv[2];
if (what) {
  const f = detect();
  const out = {
    defines: f.map((x) => x.define),
    cflags: f.flatMap((x) => x.cflags),
    libs: f.flatMap((x) => x.libs),
    json: [JSON.stringify(f.map(({ name, version }) => ({ name, version })))],
  }[what];
  if (!out) {
    console.error(`features.mjs: unknown query '${what}' (defines|cflags|libs|json)`);
    process.exit(2);
  }
  // gyp's <!@(...) splits on whitespace; quote nothing.
  console.log(out.join(' '));
}
