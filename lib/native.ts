// Loads the native addon (build/Release/pallas.node) and describes what it exports. Everything
// in lib/ reaches native code through this module; a missing build is an ADDON_MISSING error.
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

import { PallasError } from './errors.js';
import type { Header } from './wire/codec.js';

export interface NativeEndpoint {
  ip: string;
  port: number;
  mac: string;
}
export type NativeTransportConfig =
  | { kind: 'udp'; bindIp: string; port: number; socketBuf: number }
  | { kind: 'dpdk'; device: string; ip: string; udpPort: number; peerMac: string; rxDesc: number; txDesc: number; mbufs: number }
  | { kind: 'mem'; link: NativeMemLink; side: 0 | 1 };
export interface NativeMemLink {
  readonly __brand: 'MemLink';
}
export interface NativeEcho {
  start(): void;
  stop(): void;
  local(): NativeEndpoint;
  transportKind(): string;
  echoCounters(): BigUint64Array;
  transportCounters(): BigUint64Array;
}
export interface NativePumpResult {
  sent: number;
  received: number;
  rxDropped: number;
  pinned: boolean;
  elapsedNs: number;
  rttP50Ns: number;
  rttP99Ns: number;
}
export interface NativeBuildInfo {
  features: { dpdk: boolean; rocksdb: boolean };
  napiVersion: number;
  dpdkVersion: string;
  rocksdbVersion: string;
  compiler: string;
}

export interface NativeSummary {
  mean: number;
  p50: number;
  p99: number;
  p999: number;
  /** Samples the summary is of. */
  count: number;
  /** The p99's 95 % confidence interval (order statistics); p99Hi null when too few samples bound it from above. */
  p99Lo: number;
  p99Hi: number | null;
}
export interface NativePolicyCounters {
  n_arrivals: number;
  n_dispatched: number;
  n_completed: number;
  n_drop_full: number;
  n_drop_clone: number;
  n_bounced: number;
  n_preempted: number;
  n_reserved: number;
}
export interface NativeDispatchCounters {
  n_requests: number;
  n_bounced: number;
  n_cloned: number;
  n_held: number;
  n_drop_no_server: number;
  n_drop_full: number;
  n_replies: number;
  n_replies_filtered: number;
  n_clone_drop_notices: number;
  n_unmapped: number;
  n_filter_evicted: number;
  n_clone_suppressed: number;
  n_po2: number;
}
export interface NativeSimSession {
  /** Runs every event up to untilNs; resolves true once the run is over. */
  advance(untilNs: number, control?: BigUint64Array): Promise<boolean>;
  nowNs(): number;
  /** The Pallas switch's monitor registers per type index, cumulative u32 (null for baseline switches). */
  monitor(): { requests: number[]; replies: number[]; timeUnits: number[]; notices: number[]; nowNs: number } | null;
  apply(update: { tables?: object; servers?: { server: number; policy: object; types: number[] }[]; meanNs?: number[] }): void;
  finish(): NativeSimResult;
}
export interface NativeSimResult {
  offeredRps: number;
  achievedRps: number;
  arrivalRps: number;
  requests: number;
  measured: number;
  completed: number;
  dropped: { queueFull: number; clone: number; switch: number };
  lost: number;
  duplicates: number;
  cloneCopies: number;
  bouncedReroutes: number;
  updates: number;
  serverMoves: number;
  switch: NativeDispatchCounters;
  timeline?: { tMs: number; count: number[]; p99Us: number[] }[];
  events: number;
  eventsPerSec: number;
  wallS: number;
  simTimeS: number;
  latencyUs: NativeSummary;
  waitUs: NativeSummary;
  slowdown: NativeSummary;
  waitedFraction: number;
  inSystemMean: number;
  perType: Record<
    string,
    { generated: number; measured: number; latencyUs: NativeSummary; waitUs: NativeSummary; slowdown: NativeSummary }
  >;
  perServerCompleted: number[];
  policy: NativePolicyCounters;
  reservation?: string;
  aborted: boolean;
}
export interface NativeItem {
  handle: number;
  type: number;
  flags?: number;
  group?: number;
  enqNs?: number;
  workNs?: number;
}
export interface NativeReservation {
  groups: { types: number[]; meanNs: number; demand: number; first: number; count: number; spill: boolean }[];
  spillway: number;
  serveUpto: number[];
}
export interface NativePolicyHarness {
  arrive(item: NativeItem, nowNs: number): { admit: 'queued' | 'drop_full' | 'drop_clone'; wake: number | null };
  next(worker: number, nowNs: number): (Required<NativeItem> & { budgetNs: number | null }) | null;
  complete(worker: number, item: NativeItem, serviceNs: number, nowNs: number): void;
  sliceEnd(
    worker: number,
    item: NativeItem,
    nowNs: number,
  ): { verdict: 'continue' | 'requeued'; budgetNs: number | null; switchCostNs: number };
  bounce(filter: { by: 'group' | 'type'; values: number[] }): Required<NativeItem>[];
  takeKick(): boolean;
  idle(): number[];
  queued(): number;
  counters(): NativePolicyCounters;
  reservation(): NativeReservation | null;
  nextDeparture(): number | null;
  popDeparture(nowNs: number): Required<NativeItem> | null;
}

export interface NativeSwitchTables {
  typeToGroup?: Record<number, number>;
  defaultGroup?: number;
  tauShift?: number;
  clone?: boolean;
  groups: { wrr: { server: number; weight: number }[]; cThres?: number; cloneTarget?: number | null; balance?: 'wrr' | 'po2' }[];
  ablation?: { tauNs?: number; argminTarget?: boolean; sharedCloneCounter?: boolean };
}
export interface NativeForward {
  group: number;
  server: number;
  flags: number;
  index: number;
}
export interface NativePipelineRegisters {
  seq: number;
  wrrCounter: number[];
  cloneCounter: number[];
  burstWindow: number[];
  burstCount: number[];
  outstanding: { group: number; server: number; value: number }[];
  filter?: { slot: number; lo: number; hi: number }[];
}
export interface NativeSwitchPipeline {
  load(t: NativeSwitchTables): void;
  /** group and server: a bounced request's header fields (the group it was sent with, the server that bounced it). */
  request(
    r: { type: number; flags?: number; index?: number; group?: number; server?: number },
    nowNs: number,
  ): NativeForward & { dropped: boolean; clone?: NativeForward };
  reply(r: { type: number; flags: number; index: number; timeNs: number; group?: number; server?: number }): boolean;
  /** The monitor registers of every type with a non-zero cell (cumulative u32). */
  monitor(): { type: number; requests: number; replies: number; timeUnits: number; notices: number }[];
  /** The other registers; with a list of slots, those reply-filter slots too. */
  registers(filterSlots?: number[]): NativePipelineRegisters;
  /** The control plane's write of register seq (BAD_POLICY for 0). */
  writeSeq(v: number): void;
  counters(): Record<string, number>;
}

export interface NativeRuntimeViews {
  server: BigUint64Array;
  types: BigUint64Array;
  workers: BigUint64Array;
  hist: BigUint64Array;
}
export interface NativeRuntimeLayout {
  serverCells: string[];
  typeCells: string[];
  workerCells: string[];
  workerStride: number;
  histKinds: string[];
  histLower: Float64Array;
}
export interface NativeRuntime {
  start(): void;
  stop(): void;
  apply(u: object): void;
  local(): NativeEndpoint;
  transportKind(): string;
  policyName(): string;
  rowTypes(): number[];
  views(): NativeRuntimeViews;
  transportCounters(): BigUint64Array;
  /** CPU time each thread has used, ns (zeros when not running). */
  threadCpu(): { dispatcherNs: number; workersNs: number[] };
}

export interface NativeSoftSwitchViews {
  switch: BigUint64Array;
  types: BigUint64Array;
  servers: BigUint64Array;
  registers: BigUint64Array;
}
export interface NativeSoftSwitch {
  start(): void;
  stop(): void;
  load(tables: NativeSwitchTables): void;
  setServer(index: number, addr: { ip: string; port: number; mac?: string } | null): void;
  local(): NativeEndpoint;
  policyName(): string;
  views(): NativeSoftSwitchViews;
  transportCounters(): BigUint64Array;
  /** CPU time the switch's thread has used, ns (0 when not running). */
  threadCpuNs(): number;
}

export interface NativeClientTypeResult {
  scheduled: number;
  sent: number;
  replies: number;
  drops: number;
  timeouts: number;
  neverSent: number;
  late: number;
  /** [lower, width, count] triples, ns, lowest first. */
  latencyBuckets: Float64Array;
  latencyMaxNs: number;
  latencyMeanNs: number;
  /** Replies after the warm-up (the ones in the histogram), and the servers' mean execution time for them. */
  measured: number;
  execMeanNs: number;
}
export interface NativeClientResult {
  scheduled: number;
  sent: number;
  replies: number;
  drops: number;
  timeouts: number;
  neverSent: number;
  late: number;
  lateMaxNs: number;
  duplicates: number;
  unexpected: number;
  invalid: number;
  txRetries: number;
  firstSendNs: number;
  lastSendNs: number;
  endNs: number;
  cpuNs: number;
  realtime: boolean;
  aborted: boolean;
  accountingOk: boolean;
  dropsByCause: number[];
  perType: NativeClientTypeResult[];
}

export interface NativeAddon {
  MemLink: new (slots?: number) => NativeMemLink;
  Echo: new (cfg: { transport: NativeTransportConfig; serverId: number; waitUs?: number }) => NativeEcho;
  runPump(cfg: {
    transport: NativeTransportConfig;
    dst: { ip: string; port: number; mac?: string };
    mode: 'tx-only' | 'rx-only' | 'round-trip';
    durationMs: number;
    core?: number;
    burst?: number;
    window?: number;
    type?: number;
    payload?: Uint8Array;
    acceptRequests?: boolean;
  }): Promise<NativePumpResult>;
  wireEncode(h: Partial<Header>, payload?: Uint8Array): Buffer;
  wireDecode(b: Uint8Array, strictTypes?: boolean): { reason: string; header?: Header };
  wireValidateBatch(data: Uint8Array, lens: Uint32Array, strictTypes?: boolean): Uint8Array;
  buildInfo(): NativeBuildInfo;
  tscHz(): number;
  dpdkInit(args: string[]): void;
  dpdkReady(): boolean;
  rocksdbProbe(dir: string): void;
  runSim(cfg: object, control?: BigUint64Array): Promise<NativeSimResult>;
  SimSession: new (cfg: object) => NativeSimSession;
  darcReserve(
    profiles: { type: number; meanNs: number; share: number }[],
    workers: number,
    groupRatio?: number,
  ): (NativeReservation & { demandOf: Record<string, number> }) | null;
  PolicyHarness: new (cfg: object) => NativePolicyHarness;
  SwitchPipeline: new (
    tables: NativeSwitchTables,
    filterSlots?: number,
    opts?: { seed?: number; allowAblation?: boolean },
  ) => NativeSwitchPipeline;
  echoCounterNames: string[];
  transportCounterNames: string[];
  SoftSwitch: new (cfg: object) => NativeSoftSwitch;
  clientSchedule(cfg: object): { tNs: Float64Array; type: Uint8Array; arg: Uint32Array };
  runClient(cfg: object, control?: BigUint64Array): Promise<NativeClientResult>;
  switchLayout(): { switchCells: string[]; typeCells: string[]; serverCells: string[] };
  Runtime: new (cfg: object) => NativeRuntime;
  runtimeLayout(): NativeRuntimeLayout;
  kvLoad(cfg: { path: string; keys: number; valueBytes: number }): Promise<{ built: boolean; keys: number; valueBytes: number }>;
  kvBench(cfg: {
    path: string;
    op: 'get' | 'scan';
    count: number;
    iterations: number;
    key?: number;
  }): Promise<{ ns: Float64Array; found: number }>;
  kvValue(key: number, valueBytes: number): Buffer;
}

/** The package root (where package.json and build/ live), from dist/lib or lib. */
export const packageRoot = (() => {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) {
    const up = dirname(dir);
    if (up === dir) break;
    dir = up;
  }
  return dir;
})();

/**
 * The addon node-gyp builds, or the one PALLAS_ADDON names (e.g. the cmake-js build,
 * build/cmake-js/Release/pallas.node: `npm run build:cmake`).
 */
export const addonPath = process.env.PALLAS_ADDON
  ? resolve(process.env.PALLAS_ADDON)
  : join(packageRoot, 'build', 'Release', 'pallas.node');

let cached: NativeAddon | undefined;

/** The addon; throws ADDON_MISSING when it is not built. */
export function loadNative(): NativeAddon {
  if (cached) return cached;
  if (!existsSync(addonPath)) {
    throw new PallasError('ADDON_MISSING', `the native addon is not built (${addonPath} is missing): run \`npm run build\``);
  }
  cached = createRequire(import.meta.url)(addonPath) as NativeAddon;
  return cached;
}

/** The addon, or undefined when it is not built (for `pallas doctor`). */
export function tryLoadNative(): NativeAddon | undefined {
  try {
    return loadNative();
  } catch {
    return undefined;
  }
}
