// Simulator scenarios: the file format (YAML or JSON), its validation (one clear error naming the
// bad field), and the normalised form handed to the native simulator. The field names here are a
// contract other tools rely on: extend, never rename.
import { bad, bool, int, list, num, obj, oneOf, only, readConfigFile, str } from '../config.js';
import { PallasError } from '../errors.js';
import { SWITCH } from '../wire/gen.js';

export const SERVICE_DISTS = ['fixed', 'exp', 'lognormal'] as const;
export const ARRIVAL_DISTS = ['poisson', 'gamma', 'fixed'] as const;
export const SWITCHES = ['random', 'rr', 'central', 'po2', 'jbsq', 'draconis', 'netclone', 'pallas'] as const;
export const SERVER_POLICIES = ['cfcfs', 'dfcfs', 'darc', 'ts', 'ps'] as const;

export type ServiceDist = (typeof SERVICE_DISTS)[number];
export type ArrivalDist = (typeof ARRIVAL_DISTS)[number];
export type SwitchKind = (typeof SWITCHES)[number];
export type ServerPolicy = (typeof SERVER_POLICIES)[number];

export interface Arrivals {
  dist: ArrivalDist;
  cv: number;
}
export interface RequestType {
  name: string;
  service: { dist: ServiceDist; meanUs: number; sigma: number };
  share: number;
  arrivals?: Arrivals; // this type arrives as its own process
}
export interface Phase {
  durationMs: number;
  load: number;
  shares?: Record<string, number>;
}
export interface DarcOptions {
  /** Completions a server profiles (in cFCFS) before it reserves; unset: Perséphone's 50 000, or fewer so that profiling ends in the first half of the warm-up. */
  profileSamples?: number;
  recheckSamples: number;
  groupRatio: number;
  rereserveThreshold: number;
  warm: boolean; // start from the declared workload's reservation (a server that profiled long ago)
  groups?: { types: string[]; workers: number }[]; // given reservations (a Pallas agent's), shortest first
}
/** The paper's rules a Tofino cannot run as written, as simulator-only ablations (docs/switch-contract.md). */
export interface AblationOptions {
  tauUs?: number; // the burst window is now / τ for this τ (the paper's 20 µs) instead of 2^tauShift ns
  argminTarget?: boolean; // clones go to the least-burst group instead of the group's clone target
  sharedCloneCounter?: boolean; // clones take turns in the target group's own balancing
}
/** Pallas's control-plane options (systems pallas, pallas-oracle, pallas-ideal, pallas-no-clone, pallas-no-bounce, pallas-static). */
export interface PallasOptions {
  learn: boolean; // plan from the switch's monitor after a bootstrap plan (pallas); false: from the declared mix (pallas-oracle, pallas-static)
  adapt: boolean; // re-plan on drift (pallas-static: false)
  clone: boolean; // burst cloning (pallas-no-clone: false)
  bounce: boolean; // epoch bouncing (pallas-no-bounce: false)
  deltaCores: number; // δ: summed demand drift, in cores, that triggers a re-plan
  intervalMs: number; // monitor interval
  reactionMs: number; // from detecting a drift to the new tables being in force
  minSamples: number; // replies an estimate needs (intervals accumulate until then)
  cThresFactor: number; // scales C_thres (1: the capacity of a group's cores per τ)
  tauShift: number; // burst window τ = 2^tauShift ns
  ablation: AblationOptions;
  balance: 'auto' | 'wrr' | 'po2'; // balancing inside groups: chosen per plan by simulation, or fixed
  selectRequests: number; // requests per candidate simulation when selecting a grouping
  groups?: number; // fix the number of groups (the candidate with this k), instead of selecting
  ownerFirst: boolean; // mixed servers: a freed core serves its own group first (false: Perséphone's shortest first)
}
export interface SystemSpec {
  name: string;
  system?: SystemName; // the preset it came from, when it came from one
  switch: SwitchKind;
  server: ServerPolicy;
  jbsqDepth: number; // jbsq (r2p2): outstanding requests per worker
  switchQueue: number; // jbsq, draconis: requests the switch may hold
  pallas?: PallasOptions;
  queueCapacity: number;
  push: 'random' | 'rr'; // dfcfs
  sliceUs: number; // ts
  switchCostUs: number; // ts
  darc: DarcOptions;
}
export interface Sweep {
  shareOf: string;
  values: number[];
}
export interface Scenario {
  name: string;
  rack: { servers: number; workers: number };
  network: { oneWayUs: number };
  workload: { types: RequestType[]; arrivals: Arrivals; phases: Phase[] };
  systems: SystemSpec[];
  loads: number[];
  requests: number;
  seed: number;
  warmup: number;
  sweep?: Sweep;
  timelineMs?: number; // per-type p99 over time in buckets of this width (workload shifts)
  sloUs?: number; // a p99 objective: the summary reports each system's throughput under it
}

const MAX_REQUESTS = 1e10;

/**
 * Systems by name: Pallas and its ablations, RackSched with each intra-server policy,
 * R2P2, Draconis, NetClone, oblivious spreading, and the ideal rack-wide central queues.
 */
export const SYSTEM_PRESETS = {
  pallas: { switch: 'pallas', server: 'cfcfs' },
  'pallas-oracle': { switch: 'pallas', server: 'cfcfs' },
  'pallas-ideal': { switch: 'pallas', server: 'cfcfs' },
  'pallas-no-clone': { switch: 'pallas', server: 'cfcfs' },
  'pallas-no-bounce': { switch: 'pallas', server: 'cfcfs' },
  'pallas-static': { switch: 'pallas', server: 'cfcfs' },
  'rs-darc': { switch: 'po2', server: 'darc' },
  'rs-darc-oracle': { switch: 'po2', server: 'darc' },
  'rs-cfcfs': { switch: 'po2', server: 'cfcfs' },
  'rs-ts': { switch: 'po2', server: 'ts' },
  'rs-ps': { switch: 'po2', server: 'ps' },
  r2p2: { switch: 'jbsq', server: 'cfcfs' },
  draconis: { switch: 'draconis', server: 'cfcfs' },
  netclone: { switch: 'netclone', server: 'cfcfs' },
  random: { switch: 'random', server: 'cfcfs' },
  rr: { switch: 'rr', server: 'cfcfs' },
  'central-cfcfs': { switch: 'central', server: 'cfcfs' },
  'central-ps': { switch: 'central', server: 'ps' },
} as const satisfies Record<string, { switch: SwitchKind; server: ServerPolicy }>;
export type SystemName = keyof typeof SYSTEM_PRESETS;
export const SYSTEM_NAMES = Object.keys(SYSTEM_PRESETS) as SystemName[];
const PALLAS_KEYS = [
  'deltaCores',
  'intervalMs',
  'reactionMs',
  'minSamples',
  'cThresFactor',
  'tauShift',
  'ablation',
  'balance',
  'selectRequests',
  'groups',
  'ownerFirst',
] as const;

function ablationOptions(v: unknown, path: string, system: SystemName): AblationOptions {
  // pallas-ideal: the paper's 20 µs window and least-burst clone target.
  const o = v === undefined ? {} : obj(v, path);
  only(o, path, ['tauUs', 'argminTarget', 'sharedCloneCounter']);
  const ideal = system === 'pallas-ideal';
  const a: AblationOptions = {};
  if (o.tauUs !== undefined || ideal) a.tauUs = num(o, 'tauUs', path, 0.1, 1e6, 20);
  if (bool(o, 'argminTarget', path, ideal)) a.argminTarget = true;
  if (bool(o, 'sharedCloneCounter', path, false)) a.sharedCloneCounter = true;
  return a;
}

function pallasOptions(o: Record<string, unknown>, path: string, system: SystemName, typeCount: number): PallasOptions {
  return {
    ...(o.groups !== undefined ? { groups: int(o, 'groups', path, 1, typeCount, 1) } : {}),
    learn: system !== 'pallas-oracle' && system !== 'pallas-static',
    adapt: system !== 'pallas-static',
    clone: system !== 'pallas-no-clone',
    bounce: system !== 'pallas-no-bounce',
    deltaCores: num(o, 'deltaCores', path, 0, 1e6, 10),
    intervalMs: num(o, 'intervalMs', path, 0.01, 1e5, 10),
    reactionMs: num(o, 'reactionMs', path, 0, 1e5, 1),
    minSamples: int(o, 'minSamples', path, 1, 1e9, 1000),
    cThresFactor: num(o, 'cThresFactor', path, 0.01, 100, 1),
    tauShift: int(o, 'tauShift', path, SWITCH.tauShiftMin, SWITCH.tauShiftMax, SWITCH.tauShiftDefault),
    ablation: ablationOptions(o.ablation, `${path}.ablation`, system),
    balance: oneOf(o, 'balance', path, ['auto', 'wrr', 'po2'] as const, 'auto'),
    selectRequests: int(o, 'selectRequests', path, 1000, 1e8, 100_000),
    ownerFirst: bool(o, 'ownerFirst', path, true),
  };
}

function arrivals(v: unknown, path: string): Arrivals {
  const o = obj(v, path);
  only(o, path, ['dist', 'cv']);
  const dist = oneOf(o, 'dist', path, ARRIVAL_DISTS, 'poisson');
  const cv = num(o, 'cv', path, 0.01, 100, 1);
  if (o.cv !== undefined && dist !== 'gamma') bad(`${path}.cv`, 'is only used with dist: gamma');
  return { dist, cv };
}

function requestType(v: unknown, path: string): RequestType {
  const o = obj(v, path);
  only(o, path, ['name', 'service', 'share', 'arrivals']);
  const name = str(o, 'name', path);
  const sp = `${path}.service`;
  const s = obj(o.service, sp);
  only(s, sp, ['dist', 'meanUs', 'sigma']);
  const dist = oneOf(s, 'dist', sp, SERVICE_DISTS);
  const meanUs = num(s, 'meanUs', sp, 0.001, 1e9);
  if (s.sigma !== undefined && dist !== 'lognormal') bad(`${sp}.sigma`, 'is only used with dist: lognormal');
  const sigma = num(s, 'sigma', sp, 0.001, 10, 1);
  const share = num(o, 'share', path, 0, 1e9, 1);
  const t: RequestType = { name, service: { dist, meanUs, sigma }, share };
  if (o.arrivals !== undefined) t.arrivals = arrivals(o.arrivals, `${path}.arrivals`);
  return t;
}

function sharesMap(v: unknown, path: string, names: string[]): Record<string, number> {
  const o = obj(v, path);
  only(o, path, names);
  const out: Record<string, number> = {};
  let total = 0;
  for (const n of names) {
    out[n] = num(o, n, path, 0, 1e9, 0);
    total += out[n];
  }
  if (total <= 0) bad(path, 'needs a positive share for at least one type');
  return out;
}

function system(v: unknown, path: string, sc: Pick<Scenario, 'rack' | 'workload'>): SystemSpec {
  const o = typeof v === 'string' ? { system: v } : obj(v, path);
  let sw: SwitchKind, server: ServerPolicy, preset: SystemName | undefined;
  if (o.system !== undefined) {
    preset = oneOf(o, 'system', path, SYSTEM_NAMES);
    ({ switch: sw, server } = SYSTEM_PRESETS[preset]);
    const extra: string[] = [];
    if (sw === 'pallas') extra.push(...PALLAS_KEYS);
    if (sw === 'jbsq') extra.push('jbsqDepth', 'switchQueue');
    if (sw === 'draconis') extra.push('switchQueue');
    if (server === 'darc') extra.push('darc');
    if (server === 'ts') extra.push('sliceUs', 'switchCostUs');
    only(o, path, ['name', 'system', 'queueCapacity', ...extra]);
  } else {
    only(o, path, ['name', 'switch', 'server', 'queueCapacity', 'push', 'sliceUs', 'switchCostUs', 'darc', 'jbsqDepth', 'switchQueue']);
    sw = oneOf(
      o,
      'switch',
      path,
      SWITCHES.filter((x) => x !== 'pallas'),
      'random',
    );
    server = oneOf(o, 'server', path, SERVER_POLICIES);
    const onlyFor = (key: string, policy: ServerPolicy) => {
      if (o[key] !== undefined && server !== policy) bad(`${path}.${key}`, `is only used with server: ${policy}`);
    };
    onlyFor('push', 'dfcfs');
    onlyFor('sliceUs', 'ts');
    onlyFor('switchCostUs', 'ts');
    onlyFor('darc', 'darc');
    if (o.jbsqDepth !== undefined && sw !== 'jbsq') bad(`${path}.jbsqDepth`, 'is only used with switch: jbsq');
    if (o.switchQueue !== undefined && sw !== 'jbsq' && sw !== 'draconis')
      bad(`${path}.switchQueue`, 'is only used with switch: jbsq or draconis');
  }
  const spec: SystemSpec = {
    name: o.name === undefined ? (preset ?? `${sw}/${server}`) : str(o, 'name', path),
    ...(preset ? { system: preset } : {}),
    switch: sw,
    server,
    jbsqDepth: int(o, 'jbsqDepth', path, 1, 1 << 16, 2),
    switchQueue: int(o, 'switchQueue', path, 1, 1 << 24, 65536),
    queueCapacity: int(o, 'queueCapacity', path, 1, 1 << 24, 4096),
    push: oneOf(o, 'push', path, ['random', 'rr'] as const, 'random'),
    sliceUs: num(o, 'sliceUs', path, 0.01, 1e6, 50),
    switchCostUs: num(o, 'switchCostUs', path, 0, 1e6, 1),
    // rs-darc profiles as Perséphone does; rs-darc-oracle starts from the declared mix's reservation.
    darc: { recheckSamples: 5000, groupRatio: 1.2, rereserveThreshold: 0.1, warm: preset === 'rs-darc-oracle' },
  };
  if (preset && sw === 'pallas') spec.pallas = pallasOptions(o, path, preset, sc.workload.types.length);
  if (o.darc !== undefined) {
    const dp = `${path}.darc`;
    const d = obj(o.darc, dp);
    only(d, dp, ['profileSamples', 'recheckSamples', 'groupRatio', 'rereserveThreshold', 'warm', 'groups']);
    const warm = bool(d, 'warm', dp, spec.darc.warm);
    spec.darc = {
      warm,
      ...(d.profileSamples !== undefined ? { profileSamples: int(d, 'profileSamples', dp, 1, 1e9) } : {}),
      recheckSamples: int(d, 'recheckSamples', dp, 1, 1e9, 5000),
      groupRatio: num(d, 'groupRatio', dp, 1, 100, 1.2),
      rereserveThreshold: num(d, 'rereserveThreshold', dp, 0, 10, 0.1),
    };
    if (d.groups !== undefined) {
      const names = sc.workload.types.map((t) => t.name);
      const seen = new Set<string>();
      const workers = sw === 'central' ? sc.rack.servers * sc.rack.workers : sc.rack.workers;
      let total = 0;
      spec.darc.groups = list(d, 'groups', dp).map((g, i) => {
        const gp = `${dp}.groups[${i}]`;
        const go = obj(g, gp);
        only(go, gp, ['types', 'workers']);
        const types = list(go, 'types', gp).map((t, j) => {
          if (typeof t !== 'string' || !names.includes(t)) bad(`${gp}.types[${j}]`, `must name a workload type (${names.join(', ')})`);
          if (seen.has(t)) bad(`${gp}.types[${j}]`, `type '${t}' is already in an earlier group`);
          seen.add(t);
          return t;
        });
        const w = int(go, 'workers', gp, 1, 4096);
        total += w;
        return { types, workers: w };
      });
      if (total > workers) bad(`${dp}.groups`, `reserve ${total} workers but a server has ${workers}`);
    }
  }
  return spec;
}

/** Validates a parsed scenario document and fills in defaults. */
export function normaliseScenario(doc: unknown, name = 'scenario'): Scenario {
  const path = 'scenario';
  const o = obj(doc, path);
  only(o, path, ['name', 'rack', 'network', 'workload', 'systems', 'loads', 'requests', 'seed', 'warmup', 'sweep', 'timelineMs', 'sloUs']);
  const rp = `${path}.rack`;
  const rack = obj(o.rack, rp);
  only(rack, rp, ['servers', 'workers']);
  const servers = int(rack, 'servers', rp, 1, 4096);
  const workers = int(rack, 'workers', rp, 1, 4096);
  if (servers * workers > 65536) bad(rp, 'servers × workers must be at most 65536');
  const np = `${path}.network`;
  const net = o.network === undefined ? {} : obj(o.network, np);
  only(net, np, ['oneWayUs']);
  const oneWayUs = num(net, 'oneWayUs', np, 0, 1e6, 0);

  const wp = `${path}.workload`;
  const w = obj(o.workload, wp);
  only(w, wp, ['types', 'arrivals', 'phases']);
  const types = list(w, 'types', wp).map((t, i) => requestType(t, `${wp}.types[${i}]`));
  if (types.length > 255) bad(`${wp}.types`, 'at most 255 types');
  const names = types.map((t) => t.name);
  names.forEach((n, i) => {
    if (names.indexOf(n) !== i) bad(`${wp}.types[${i}].name`, `'${n}' is used twice`);
  });
  if (types.every((t) => t.share === 0)) bad(`${wp}.types`, 'needs a positive share for at least one type');
  const wl = {
    types,
    arrivals: w.arrivals === undefined ? { dist: 'poisson' as const, cv: 1 } : arrivals(w.arrivals, `${wp}.arrivals`),
    phases: [] as Phase[],
  };
  if (w.phases !== undefined) {
    const phases = list(w, 'phases', wp);
    wl.phases = phases.map((p, i) => {
      const pp = `${wp}.phases[${i}]`;
      const po = obj(p, pp);
      only(po, pp, ['durationMs', 'load', 'shares']);
      const last = i === phases.length - 1;
      if (!last && po.durationMs === undefined) bad(`${pp}.durationMs`, 'is required on every phase but the last');
      const ph: Phase = { durationMs: num(po, 'durationMs', pp, 0.001, 1e9, 0), load: num(po, 'load', pp, 0.001, 100, 1) };
      if (po.shares !== undefined) ph.shares = sharesMap(po.shares, `${pp}.shares`, names);
      return ph;
    });
  }
  const base = { rack: { servers, workers }, workload: wl };
  const systems = list(o, 'systems', path).map((s, i) => system(s, `${path}.systems[${i}]`, base));
  systems.forEach((s, i) => {
    if (systems.findIndex((x) => x.name === s.name) !== i)
      bad(`${path}.systems[${i}]`, `a system named '${s.name}' is already listed (give it a distinct name)`);
  });
  const loads = list(o, 'loads', path).map((l, i) => {
    if (typeof l !== 'number' || !(l > 0) || l > 100) bad(`${path}.loads[${i}]`, 'must be a number in (0, 100]');
    return l;
  });
  const sc: Scenario = {
    name: o.name === undefined ? name : str(o, 'name', path),
    ...base,
    network: { oneWayUs },
    systems,
    loads,
    requests: int(o, 'requests', path, 10, MAX_REQUESTS, 1_000_000),
    seed: int(o, 'seed', path, 0, Number.MAX_SAFE_INTEGER, 1),
    warmup: num(o, 'warmup', path, 0, 0.9, 0.1),
  };
  if (o.timelineMs !== undefined) sc.timelineMs = num(o, 'timelineMs', path, 0.01, 1e6);
  if (o.sloUs !== undefined) sc.sloUs = num(o, 'sloUs', path, 0.001, 1e9);
  if (o.sweep !== undefined) {
    const sp = `${path}.sweep`;
    const s = obj(o.sweep, sp);
    only(s, sp, ['shareOf', 'values']);
    const shareOf = str(s, 'shareOf', sp);
    if (!names.includes(shareOf)) bad(`${sp}.shareOf`, `must name a workload type (${names.join(', ')})`);
    const values = list(s, 'values', sp).map((v, i) => {
      if (typeof v !== 'number' || v < 0 || v > 1) bad(`${sp}.values[${i}]`, 'must be a share in [0, 1]');
      return v;
    });
    const others = types.filter((t) => t.name !== shareOf).reduce((a, t) => a + t.share, 0);
    if (others <= 0 && values.some((v) => v < 1)) bad(sp, 'the other types need positive shares to fill the rest of the mix');
    sc.sweep = { shareOf, values };
  }
  return sc;
}

/** Reads and validates a scenario file (.yaml, .yml or .json). */
export function loadScenario(file: string): Scenario {
  const doc = readConfigFile(file, 'scenario');
  try {
    return normaliseScenario(doc, file.replace(/^.*\//, '').replace(/\.[^.]*$/, ''));
  } catch (e) {
    if (e instanceof PallasError) throw new PallasError(e.code, `${file}: ${e.message}`);
    throw e;
  }
}

/** The types' shares for one sweep value: `shareOf` gets v, the others fill 1 − v in proportion. */
export function sweptShares(types: RequestType[], sweep: Sweep, v: number): number[] {
  const others = types.filter((t) => t.name !== sweep.shareOf).reduce((a, t) => a + t.share, 0);
  return types.map((t) => (t.name === sweep.shareOf ? v : others > 0 ? (t.share / others) * (1 - v) : 0));
}

export interface NativeSimConfig {
  servers: number;
  workers: number;
  oneWayNs: number;
  types: {
    name: string;
    dist: ServiceDist;
    meanNs: number;
    sigma: number;
    share: number;
    arrivals?: { process: ArrivalDist; cv: number };
  }[];
  arrivals: { process: ArrivalDist; cv: number };
  phases: { durationNs: number; loadScale: number; shares?: number[] }[];
  switch: { kind: SwitchKind; jbsqDepth: number; queueCapacity: number; tables?: object };
  perServer?: { policy: object; types: number[] }[];
  meanNs?: number[];
  bounce?: boolean;
  timelineNs?: number;
  server: {
    kind: ServerPolicy;
    workers: number;
    queueCapacity: number;
    push: 'random' | 'rr';
    sliceNs: number;
    switchCostNs: number;
    darc: {
      profileSamples: number;
      recheckSamples: number;
      groupRatio: number;
      rereserveThreshold: number;
      groups?: { types: number[]; workers: number }[];
      warm?: { type: number; meanNs: number; share: number }[];
    };
  };
  load: number;
  requests: number;
  seed: number;
  warmup: number;
}

/**
 * DARC's profiling length when the scenario does not set one: Perséphone's 50 000 completions, or
 * fewer, so that every server has profiled within the first half of the unmeasured warm-up (a
 * simulated run is far shorter than a server's life; at least 500 samples).
 */
export function profileSamples(sc: Pick<Scenario, 'requests' | 'warmup' | 'rack'>): number {
  const perServer = (sc.requests * sc.warmup) / sc.rack.servers / 2;
  return Math.round(Math.max(500, Math.min(50_000, perServer)));
}

/** The native config of one run: one system at one load (and one sweep value). */
export function nativeConfig(sc: Scenario, sys: SystemSpec, load: number, sweepValue?: number): NativeSimConfig {
  const names = sc.workload.types.map((t) => t.name);
  const shares =
    sc.sweep && sweepValue !== undefined ? sweptShares(sc.workload.types, sc.sweep, sweepValue) : sc.workload.types.map((t) => t.share);
  if (shares.every((s) => s === 0)) bad('scenario.sweep', 'a sweep value leaves every share at 0');
  const us = (x: number) => Math.round(x * 1000);
  const p0 = sc.workload.phases[0]?.shares;
  const firstShares = p0 && !(sc.sweep && sweepValue !== undefined) ? names.map((n) => p0[n] ?? 0) : shares;
  return {
    servers: sc.rack.servers,
    workers: sc.rack.workers,
    oneWayNs: us(sc.network.oneWayUs),
    types: sc.workload.types.map((t, i) => ({
      name: t.name,
      dist: t.service.dist,
      meanNs: t.service.meanUs * 1000,
      sigma: t.service.sigma,
      share: shares[i] ?? 0,
      ...(t.arrivals ? { arrivals: { process: t.arrivals.dist, cv: t.arrivals.cv } } : {}),
    })),
    arrivals: { process: sc.workload.arrivals.dist, cv: sc.workload.arrivals.cv },
    phases: sc.workload.phases.map((p) => ({
      durationNs: us(p.durationMs * 1000),
      loadScale: p.load,
      ...(p.shares ? { shares: names.map((n) => p.shares![n] ?? 0) } : {}),
    })),
    switch: { kind: sys.switch, jbsqDepth: sys.jbsqDepth, queueCapacity: sys.switchQueue },
    server: {
      kind: sys.server,
      workers: sc.rack.workers,
      queueCapacity: sys.queueCapacity,
      push: sys.push,
      sliceNs: us(sys.sliceUs),
      switchCostNs: us(sys.switchCostUs),
      darc: {
        profileSamples: sys.darc.profileSamples ?? profileSamples(sc),
        recheckSamples: sys.darc.recheckSamples,
        groupRatio: sys.darc.groupRatio,
        rereserveThreshold: sys.darc.rereserveThreshold,
        ...(sys.darc.groups
          ? { groups: sys.darc.groups.map((g) => ({ types: g.types.map((t) => names.indexOf(t)), workers: g.workers })) }
          : {}),
        ...(sys.darc.warm && !sys.darc.groups
          ? { warm: sc.workload.types.map((t, i) => ({ type: i, meanNs: t.service.meanUs * 1000, share: firstShares[i] ?? 0 })) }
          : {}),
      },
    },
    load,
    requests: sc.requests,
    seed: sc.seed,
    warmup: sc.warmup,
    ...(sc.timelineMs ? { timelineNs: Math.round(sc.timelineMs * 1e6) } : {}),
  };
}
