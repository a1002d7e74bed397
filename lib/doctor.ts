// `pallas doctor`: what this machine offers Pallas and what each missing piece disables.
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';

import { toPallasError } from './errors.js';
import { addonPath, packageRoot, tryLoadNative } from './native.js';

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
  /** A Tofino switch host: the SDE, the compiler, the compiled program, and (with `--switch`) BFRuntime. */
  tofino: {
    sde: string | null;
    compiler: string | null;
    program: string | null;
    grpc?: { endpoint: string; ok: boolean; programs: string[]; error?: string };
  };
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
    try {
      arches = readdirSync(base);
    } catch {
      continue;
    }
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

/**
 * What this machine offers. With `opts.switchGrpc` (HOST:PORT), also asks BFRuntime there which
 * programs the switch runs (a switch host: the SDE's bf_switchd).
 */
export async function doctor(version: string, opts: { switchGrpc?: string } = {}): Promise<DoctorReport> {
  const addon = tryLoadNative();
  const info = addon?.buildInfo();
  const meminfo = read('/proc/meminfo');
  const num = (re: RegExp) => Number(re.exec(meminfo)?.[1] ?? 0);
  const hugepages = {
    totalPages: num(/HugePages_Total:\s+(\d+)/),
    pageSizeKb: num(/Hugepagesize:\s+(\d+)/),
    mounted: /\shugetlbfs\s/.test(read('/proc/mounts')),
  };
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
  // The Tofino side: the SDE (a switch host), the compiler, the program built by `npm run p4`.
  const sde = process.env.SDE_INSTALL && existsSync(join(process.env.SDE_INSTALL, 'bin', 'bf_switchd')) ? process.env.SDE_INSTALL : null;
  let compiler: string | null = null;
  try {
    const m = (await import(join(packageRoot, 'scripts', 'build-p4.mjs'))) as { findCompiler: () => { path: string; from: string } | null };
    const c = m.findCompiler();
    compiler = c ? `${c.path} (${c.from})` : null;
  } catch {
    /* no scripts/ in this install */
  }
  const programPath = join(packageRoot, 'build', 'p4', 'bf-rt.json');
  const program = existsSync(programPath) ? programPath : null;
  let grpc: DoctorReport['tofino']['grpc'];
  if (opts.switchGrpc) grpc = await probeBfruntime(opts.switchGrpc);
  const checks: Check[] = [
    {
      name: 'addon',
      ok: !!addon,
      detail: addon ? `built (N-API ${info?.napiVersion})` : `not built: ${addonPath}`,
      disables: addon ? '' : 'everything native: run `npm run build`',
    },
    {
      name: 'dpdk',
      ok: !!info?.features.dpdk,
      detail: info?.features.dpdk
        ? `${info.dpdkVersion}; ${pmds.length} net PMDs, of which ${KEY_PMDS.map((p) => `${p} ${pmds.includes(p) ? 'yes' : 'NO'}`).join(', ')}`
        : 'not built in',
      disables: info?.features.dpdk
        ? ''
        : 'the DPDK transport (mlx5 testbeds, veth tests): apt-get install dpdk-dev libdpdk-dev pkg-config; npm run build',
    },
    {
      name: 'rocksdb',
      ok: !!info?.features.rocksdb && probe === 'ok',
      detail: info?.features.rocksdb ? `${info.rocksdbVersion}; probe: ${probe}` : 'not built in',
      disables:
        info?.features.rocksdb && probe === 'ok'
          ? ''
          : 'the RocksDB handlers and workloads: apt-get install librocksdb-dev pkg-config; npm run build',
    },
    {
      name: 'hugepages',
      ok: hugepages.totalPages > 0 && hugepages.mounted,
      detail: `${hugepages.totalPages} x ${hugepages.pageSizeKb} kB, hugetlbfs ${hugepages.mounted ? 'mounted' : 'not mounted'}`,
      disables:
        hugepages.totalPages > 0 && hugepages.mounted
          ? ''
          : 'DPDK at full speed (runs with --no-huge -m 256 instead; the dpdk_host role of deploy/ansible sets hugepages up: docs/deploy.md)',
    },
    {
      name: 'cores',
      ok: cores.count >= 4,
      detail: `${cores.count} x ${cores.model}${cores.isolated ? `; isolated: ${cores.isolated}` : ''}`,
      disables: cores.count >= 4 ? '' : 'busy-polling workers (a machine this small runs the hybrid waiting mode and a scaled-down rack)',
    },
    {
      name: 'tsc',
      ok: tsc.hz > 0 && tsc.constant,
      detail: `${(tsc.hz / 1e9).toFixed(3)} GHz${tsc.constant ? ', constant and nonstop' : ', not invariant'}`,
      disables: tsc.hz > 0 && tsc.constant ? '' : 'precise spin handlers (falls back to the monotonic clock)',
    },
    {
      name: 'root',
      ok: root,
      detail: root ? 'yes' : 'no',
      disables: root ? '' : 'network namespaces and veth (DPDK integration tests), hugepage setup',
    },
    {
      name: 'sde',
      ok: !!sde,
      detail: sde
        ? `$SDE_INSTALL=${sde} (bf_switchd present)`
        : process.env.SDE_INSTALL
          ? `$SDE_INSTALL=${process.env.SDE_INSTALL}, but no bin/bf_switchd`
          : '$SDE_INSTALL not set',
      disables: sde ? '' : 'running p4/pallas.p4 on a Tofino from this host (a switch host only; docs/tofino.md)',
    },
    {
      name: 'p4',
      ok: !!compiler && !!program,
      detail: `compiler: ${compiler ?? 'none'}; program: ${program ?? 'not built (npm run p4)'}`,
      disables: compiler && program ? '' : 'the Tofino program (npm run p4; a switch host needs it, other hosts do not)',
    },
    ...(grpc
      ? [
          {
            name: 'bfruntime',
            ok: grpc.ok,
            detail: grpc.ok ? `${grpc.endpoint}: programs ${grpc.programs.join(', ') || 'none'}` : `${grpc.endpoint}: ${grpc.error}`,
            disables: grpc.ok ? '' : 'pallas control with switch: { kind: tofino } (is bf_switchd running p4/pallas.p4 there?)',
          },
        ]
      : []),
  ];
  return {
    version,
    checks,
    addon: { built: !!addon, path: addonPath, ...(info ? { napiVersion: info.napiVersion, features: info.features } : {}) },
    dpdk: { built: !!info?.features.dpdk, version: info?.dpdkVersion ?? '', pmds },
    rocksdb: { built: !!info?.features.rocksdb, version: info?.rocksdbVersion ?? '', probe },
    hugepages,
    cores,
    tsc,
    root,
    tofino: { sde, compiler, program, ...(grpc ? { grpc } : {}) },
  };
}

/** Subscribes to BFRuntime at `endpoint` and lists the programs the switch runs (needs no bind). */
async function probeBfruntime(endpoint: string): Promise<NonNullable<DoctorReport['tofino']['grpc']>> {
  const { credentials } = await import('@grpc/grpc-js');
  const { loadBfruntime } = await import('./switch/tofino.js');
  const Client = loadBfruntime();
  const c = new Client(endpoint, credentials.createInsecure());
  try {
    const res = await new Promise<{ config: { p4_name: string }[] }>((resolve, reject) => {
      (c.GetForwardingPipelineConfig as unknown as (r: object, o: object, cb: (e: Error | null, r: never) => void) => void)(
        { device_id: 0, client_id: 0 },
        { deadline: Date.now() + 3000 },
        (e, r) => (e ? reject(e) : resolve(r)),
      );
    });
    const programs = res.config.map((x) => x.p4_name);
    return {
      endpoint,
      ok: programs.includes('pallas'),
      programs,
      ...(programs.includes('pallas') ? {} : { error: `no program 'pallas' (it runs: ${programs.join(', ') || 'none'})` }),
    };
  } catch (e) {
    return { endpoint, ok: false, programs: [], error: (e as Error).message };
  } finally {
    c.close();
  }
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
