// `pallas doctor`: what this machine offers Pallas and what each missing piece disables.
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';

import { toPallasError } from './errors.js';
import { addonPath, tryLoadNative } from './native.js';

export interface Check {
  name: string;
  ok: boolean;
  detail: string;
  /** What does not work without it (empty when ok). */
  disables: string;
}

export interface DoctorReport {
  version: string;
  checks: Check[];
  addon: { built: boolean; path: string; napiVersion?: number; features?: { dpdk: boolean; rocksdb: boolean } };
  dpdk: { built: boolean; version: string; pmds: string[] };
  rocksdb: { built: boolean; version: string; probe: string };
  hugepages: { totalPages: number; pageSizeKb: number; mounted: boolean };
  cores: { count: number; model: string; isolated: string };
  tsc: { hz: number; constant: boolean };
  root: boolean;
}

function read(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}

/** DPDK's network PMDs as installed (the plugin directory EAL loads drivers from). */
export function dpdkPmds(): string[] {
  const found = new Set<string>();
  for (const base of ['/usr/lib', '/usr/local/lib']) {
    let arches: string[] = [];
    try { arches = readdirSync(base); } catch { continue; }
    for (const arch of ['.', ...arches]) {
      const dpdkDir = join(base, arch, 'dpdk');
      if (!existsSync(dpdkDir)) continue;
      for (const d of readdirSync(dpdkDir).filter((x) => x.startsWith('pmds-'))) {
        for (const f of readdirSync(join(dpdkDir, d))) {
          const m = /^librte_net_(\w+)\.so$/.exec(f);
          if (m) found.add(`net_${m[1]}`);
        }
      }
    }
  }
  return [...found].sort();
}

/** The PMDs Pallas uses: mlx5 in deployment, the rest on test machines. */
const KEY_PMDS = ['net_mlx5', 'net_af_xdp', 'net_af_packet', 'net_ring', 'net_null'];

export function doctor(version: string): DoctorReport {
  const addon = tryLoadNative();
  const info = addon?.buildInfo();
  const meminfo = read('/proc/meminfo');
  const num = (re: RegExp) => Number(re.exec(meminfo)?.[1] ?? 0);
  const hugepages = { totalPages: num(/HugePages_Total:\s+(\d+)/), pageSizeKb: num(/Hugepagesize:\s+(\d+)/),
    mounted: /\shugetlbfs\s/.test(read('/proc/mounts')) };
  const cpuinfo = read('/proc/cpuinfo');
  const flags = /^flags\s*:(.*)$/m.exec(cpuinfo)?.[1] ?? '';
  const tsc = { hz: addon ? Math.round(addon.tscHz()) : 0, constant: /\bconstant_tsc\b/.test(flags) && /\bnonstop_tsc\b/.test(flags) };
  const cores = { count: cpus().length, model: cpus()[0]?.model ?? 'unknown', isolated: read('/sys/devices/system/cpu/isolated').trim() };
  const pmds = dpdkPmds();
  let probe = 'not run';
  if (info?.features.rocksdb && addon) {
    const dir = mkdtempSync(join(existsSync('/dev/shm') ? '/dev/shm' : tmpdir(), 'pallas-doctor-'));
    try {
      addon.rocksdbProbe(join(dir, 'db'));
      probe = 'ok';
    } catch (e) {
      probe = toPallasError(e).message;
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  const root = process.getuid?.() === 0;
  const checks: Check[] = [
    { name: 'addon', ok: !!addon, detail: addon ? `built (N-API ${info?.napiVersion})` : `not built: ${addonPath}`,
      disables: addon ? '' : 'everything native: run `npm run build`' },
    { name: 'dpdk', ok: !!info?.features.dpdk, detail: info?.features.dpdk ? `${info.dpdkVersion}; ${pmds.length} net PMDs, of which ${KEY_PMDS.map((p) => `${p} ${pmds.includes(p) ? 'yes' : 'NO'}`).join(', ')}` : 'not built in',
      disables: info?.features.dpdk ? '' : 'the DPDK transport (mlx5 testbeds, veth tests): apt-get install dpdk-dev libdpdk-dev pkg-config; npm run build' },
    { name: 'rocksdb', ok: !!info?.features.rocksdb && probe === 'ok', detail: info?.features.rocksdb ? `${info.rocksdbVersion}; probe: ${probe}` : 'not built in',
      disables: info?.features.rocksdb && probe === 'ok' ? '' : 'the RocksDB handlers and workloads: apt-get install librocksdb-dev pkg-config; npm run build' },
    { name: 'hugepages', ok: hugepages.totalPages > 0 && hugepages.mounted,
      detail: `${hugepages.totalPages} x ${hugepages.pageSizeKb} kB, hugetlbfs ${hugepages.mounted ? 'mounted' : 'not mounted'}`,
      disables: hugepages.totalPages > 0 && hugepages.mounted ? '' : 'DPDK at full speed (runs with --no-huge -m 256 instead; deploy/ sets hugepages up)' },
    { name: 'cores', ok: cores.count >= 4, detail: `${cores.count} x ${cores.model}${cores.isolated ? `; isolated: ${cores.isolated}` : ''}`,
      disables: cores.count >= 4 ? '' : 'busy-polling workers (a machine this small runs the hybrid waiting mode and a scaled-down rack)' },
    { name: 'tsc', ok: tsc.hz > 0 && tsc.constant, detail: `${(tsc.hz / 1e9).toFixed(3)} GHz${tsc.constant ? ', constant and nonstop' : ', not invariant'}`,
      disables: tsc.hz > 0 && tsc.constant ? '' : 'precise spin handlers (falls back to the monotonic clock)' },
    { name: 'root', ok: root, detail: root ? 'yes' : 'no',
      disables: root ? '' : 'network namespaces and veth (DPDK integration tests), hugepage setup' },
  ];
  return {
    version, checks,
    addon: { built: !!addon, path: addonPath, ...(info ? { napiVersion: info.napiVersion, features: info.features } : {}) },
    dpdk: { built: !!info?.features.dpdk, version: info?.dpdkVersion ?? '', pmds },
    rocksdb: { built: !!info?.features.rocksdb, version: info?.rocksdbVersion ?? '', probe },
    hugepages, cores, tsc, root,
  };
}

export function formatDoctor(r: DoctorReport): string {
  const lines = [`pallas ${r.version}: what this machine offers`, ''];
  const w = Math.max(...r.checks.map((c) => c.name.length));
  for (const c of r.checks) {
    lines.push(`${c.ok ? ' ok ' : 'MISS'}  ${c.name.padEnd(w)}  ${c.detail}`);
    if (!c.ok) lines.push(`      ${' '.repeat(w)}  without it: ${c.disables}`);
  }
  return lines.join('\n');
}
