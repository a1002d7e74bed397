// Simulator scenarios: the file format (YAML or JSON), declared once as a zod schema that validates
// a document (one clear error naming the bad field), fills its defaults, types it and gives the
// JSON Schema for editors (schemas/scenario.schema.json); then the rules that span fields, and the
// normalised form handed to the native simulator. The field names here are a contract other tools
// rely on: extend, never rename.
import { bad, readConfigFile } from '../config.js';
import { PallasError } from '../errors.js';
import { jsonSchemaOf, parseWith, z, zBool, zEnum, zInt, zList, zNum, zObj, zStr } from '../schema.js';
import { SWITCH } from '../wire/gen.js';

export const SERVICE_DISTS = ['fixed', 'exp', 'lognormal'] as const;
export const ARRIVAL_DISTS = ['poisson', 'gamma', 'fixed'] as const;
export const SWITCHES = ['random', 'rr', 'central', 'po2', 'jbsq', 'draconis', 'netclone', 'pallas'] as const;
export const SERVER_POLICIES = ['cfcfs', 'dfcfs', 'darc', 'ts', 'ps'] as const;

export type ServiceDist = (typeof SERVICE_DISTS)[number];
export type ArrivalDist = (typeof ARRIVAL_DISTS)[number];
export type SwitchKind = (typeof SWITCHES)[number];
export type ServerPolicy = (typeof SERVER_POLICIES)[number];

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
export const SYSTEM_NAMES = Object.keys(SYSTEM_PRESETS) as [SystemName, ...SystemName[]];

// ---- The document ----

const arrivalsSchema = zObj({
  dist: zEnum(ARRIVAL_DISTS).default('poisson').describe('The arrival process'),
  cv: zNum(0.01, 100).optional().describe('Coefficient of variation of the gaps (dist: gamma only; default 1)'),
});

const requestTypeSchema = zObj({
  name: zStr().describe('The type, as results and other fields name it'),
  service: zObj({
    dist: zEnum(SERVICE_DISTS).describe('Service time distribution'),
    meanUs: zNum(0.001, 1e9).describe('Mean service time, µs'),
    sigma: zNum(0.001, 10).optional().describe('σ of the underlying normal (dist: lognormal only; default 1)'),
  }),
  share: zNum(0, 1e9).default(1).describe("The type's share of requests (relative to the others)"),
  arrivals: arrivalsSchema.optional().describe('This type arrives as its own process (otherwise in the shared one)'),
});

const phaseSchema = zObj({
  durationMs: zNum(0.001, 1e9).optional().describe('How long the phase lasts, ms (required on every phase but the last)'),
  load: zNum(0.001, 100).default(1).describe("Scales the point's load during this phase"),
  shares: z.record(z.string(), zNum(0, 1e9)).optional().describe("The types' shares during this phase, by type name"),
});

const ablationSchema = zObj({
  tauUs: zNum(0.1, 1e6).optional().describe('The burst window is now / τ for this τ instead of 2^tauShift ns'),
  argminTarget: zBool().optional().describe("Clones go to the least-burst group instead of the group's clone target"),
  sharedCloneCounter: zBool().default(false).describe("Clones take turns in the target group's own balancing"),
});

/** Pallas's control-plane options: the fields a `system: pallas*` entry may set. */
const pallasShape = {
  deltaCores: zNum(0, 1e6).default(10).describe('δ: summed demand drift, in cores, that triggers a re-plan'),
  intervalMs: zNum(0.01, 1e5).default(10).describe('Monitor interval, ms'),
  reactionMs: zNum(0, 1e5).default(1).describe('From detecting a drift to the new tables being in force, ms'),
  minSamples: zInt(1, 1e9).default(1000).describe('Replies an estimate needs (intervals accumulate until then)'),
  cThresFactor: zNum(0.01, 100).default(1).describe("Scales C_thres (1: the capacity of a group's cores per τ)"),
  tauShift: zInt(SWITCH.tauShiftMin, SWITCH.tauShiftMax).default(SWITCH.tauShiftDefault).describe('Burst window τ = 2^tauShift ns'),
  ablation: ablationSchema.prefault({}).describe("The paper's rules a Tofino cannot run as written (simulator-only ablations)"),
  balance: zEnum(['auto', 'wrr', 'po2'] as const)
    .default('auto')
    .describe('Balancing inside groups: chosen per plan by simulation, or fixed'),
  selectRequests: zInt(1000, 1e8).default(100_000).describe('Requests per candidate simulation when selecting a grouping'),
  groups: zInt(1, 255).optional().describe('Fix the number of groups (the candidate with this k) instead of selecting'),
  ownerFirst: zBool().default(true).describe("Mixed servers: a freed core serves its own group first (false: Perséphone's shortest first)"),
};
const PALLAS_KEYS = Object.keys(pallasShape);

const darcSchema = zObj({
  profileSamples: zInt(1, 1e9)
    .optional()
    .describe(
      'Completions a server profiles (in cFCFS) before it reserves; ' +
        "default: Perséphone's 50 000, or fewer so that profiling ends in the first half of the warm-up",
    ),
  recheckSamples: zInt(1, 1e9).default(5000).describe('Completions needed before a re-check may re-reserve'),
  groupRatio: zNum(1, 100).default(1.2).describe("A type joins a group within this ratio of its leader's mean"),
  rereserveThreshold: zNum(0, 10).default(0.1).describe('Re-reserve when a demand moved by more than this fraction'),
  warm: zBool()
    .optional()
    .describe("Start from the declared workload's reservation (a server that profiled long ago); default: rs-darc-oracle only"),
  groups: zList(zObj({ types: zList(zStr()), workers: zInt(1, 4096) }))
    .optional()
    .describe("Given reservations (a Pallas agent's), shortest first"),
});

const systemObjectSchema = zObj({
  name: zStr().optional().describe('The name results use (default: the preset, or switch/server)'),
  system: zEnum(SYSTEM_NAMES).optional().describe('A preset; or give switch and server instead'),
  switch: zEnum(SWITCHES.filter((x) => x !== 'pallas') as [SwitchKind, ...SwitchKind[]])
    .optional()
    .describe('Without a preset: the switch policy (default random)'),
  server: zEnum(SERVER_POLICIES).optional().describe('Without a preset: the server policy (required then)'),
  queueCapacity: zInt(1, 1 << 24)
    .default(4096)
    .describe("A server's request queue, in requests"),
  push: zEnum(['random', 'rr'] as const)
    .default('random')
    .describe('dfcfs: how the dispatcher picks a worker queue'),
  sliceUs: zNum(0.01, 1e6).default(50).describe('ts: the time slice, µs'),
  switchCostUs: zNum(0, 1e6).default(1).describe('ts: the cost of a preemption, µs'),
  jbsqDepth: zInt(1, 1 << 16)
    .default(2)
    .describe('jbsq (r2p2): outstanding requests per worker'),
  switchQueue: zInt(1, 1 << 24)
    .default(65536)
    .describe('jbsq, draconis: requests the switch may hold'),
  darc: darcSchema.optional().describe('darc: Perséphone options'),
  ...pallasShape,
});

const scenarioSchema = zObj({
  name: zStr().optional().describe("The scenario's name (default: the file's)"),
  rack: zObj({
    servers: zInt(1, 4096).describe('Servers in the rack'),
    workers: zInt(1, 4096).describe('Worker cores per server'),
  }),
  network: zObj({ oneWayUs: zNum(0, 1e6).default(0).describe('One-way delay between any two hosts, µs') }).prefault({}),
  workload: zObj({
    types: zList(requestTypeSchema).describe('Request types'),
    arrivals: arrivalsSchema.prefault({}).describe('The shared arrival process'),
    phases: zList(phaseSchema).optional().describe('A workload that changes over time: phases in order'),
  }),
  systems: zList(z.union([zEnum(SYSTEM_NAMES), systemObjectSchema])).describe('The systems to compare: preset names or objects'),
  loads: zList(
    z
      .number({ error: 'must be a number in (0, 100]' })
      .gt(0, { error: 'must be a number in (0, 100]' })
      .max(100, { error: 'must be a number in (0, 100]' }),
  ).describe("Offered loads, as fractions of the rack's capacity"),
  requests: zInt(10, 1e10).default(1_000_000).describe('Requests per point'),
  seed: zInt(0, Number.MAX_SAFE_INTEGER).default(1),
  warmup: zNum(0, 0.9).default(0.1).describe('Fraction of the requests left out of the statistics'),
  sweep: zObj({
    shareOf: zStr().describe('The type whose share is swept'),
    values: zList(
      z
        .number({ error: 'must be a share in [0, 1]' })
        .min(0, { error: 'must be a share in [0, 1]' })
        .max(1, { error: 'must be a share in [0, 1]' }),
    ),
  })
    .optional()
    .describe("Sweep one type's share (the others fill the rest in proportion)"),
  timelineMs: zNum(0.01, 1e6).optional().describe('Per-type p99 over time in buckets of this width, ms'),
  sloUs: zNum(0.001, 1e9).optional().describe("A p99 objective, µs: the summary reports each system's throughput under it"),
});

/** The JSON Schema of scenario files (`pallas schema scenario`; schemas/scenario.schema.json). */
export function scenarioJsonSchema(): object {
  return jsonSchemaOf(scenarioSchema, {
    title: 'Pallas simulator scenario',
    description: 'A rack, a workload, the systems to compare and the loads (docs/simulator.md)',
  });
}

// ---- The normalised form ----

type RequestTypeDoc = z.output<typeof requestTypeSchema>;
export type Arrivals = { dist: ArrivalDist; cv: number };
export type RequestType = Omit<RequestTypeDoc, 'service' | 'arrivals'> & {
  service: Required<RequestTypeDoc['service']>;
  arrivals?: Arrivals;
};
export type Phase = { durationMs: number; load: number; shares?: Record<string, number> };
/** The paper's rules a Tofino cannot run as written, as simulator-only ablations (docs/switch-contract.md); only rules in force are present. */
export type AblationOptions = { tauUs?: number; argminTarget?: true; sharedCloneCounter?: true };
/** Pallas's control-plane options (systems pallas, pallas-oracle, pallas-ideal, pallas-no-clone, pallas-no-bounce, pallas-static). */
export type PallasOptions = Omit<z.output<z.ZodObject<typeof pallasShape>>, 'ablation'> & {
  ablation: AblationOptions;
  learn: boolean; // plan from the switch's monitor after a bootstrap plan (pallas); false: from the declared mix (pallas-oracle, pallas-static)
  adapt: boolean; // re-plan on drift (pallas-static: false)
  clone: boolean; // burst cloning (pallas-no-clone: false)
  bounce: boolean; // epoch bouncing (pallas-no-bounce: false)
};
export type DarcOptions = Omit<z.output<typeof darcSchema>, 'warm'> & { warm: boolean };
export interface SystemSpec {
  name: string;
  system?: SystemName; // the preset it came from, when it came from one
  switch: SwitchKind;
  server: ServerPolicy;
  jbsqDepth: number;
  switchQueue: number;
  pallas?: PallasOptions;
  queueCapacity: number;
  push: 'random' | 'rr';
  sliceUs: number;
  switchCostUs: number;
  darc: DarcOptions;
}
export type Sweep = NonNullable<z.output<typeof scenarioSchema>['sweep']>;
export type Scenario = Omit<z.output<typeof scenarioSchema>, 'name' | 'workload' | 'systems'> & {
  name: string;
  workload: { types: RequestType[]; arrivals: Arrivals; phases: Phase[] };
  systems: SystemSpec[];
};

function arrivalsOf(a: z.output<typeof arrivalsSchema>, path: string): Arrivals {
  if (a.cv !== undefined && a.dist !== 'gamma') bad(`${path}.cv`, 'is only used with dist: gamma');
  return { dist: a.dist, cv: a.cv ?? 1 };
}

function requestType(t: RequestTypeDoc, path: string): RequestType {
  const { dist, meanUs, sigma } = t.service;
  if (sigma !== undefined && dist !== 'lognormal') bad(`${path}.service.sigma`, 'is only used with dist: lognormal');
  const out: RequestType = { name: t.name, service: { dist, meanUs, sigma: sigma ?? 1 }, share: t.share };
  if (t.arrivals) out.arrivals = arrivalsOf(t.arrivals, `${path}.arrivals`);
  return out;
}

type SystemDoc = z.output<typeof systemObjectSchema>;

function pallasOptions(p: SystemDoc, path: string, system: SystemName, typeCount: number): PallasOptions {
  if (p.groups !== undefined && p.groups > typeCount) bad(`${path}.groups`, `must be an integer in [1, ${typeCount}]`);
  // pallas-ideal: the paper's 20 µs window and least-burst clone target.
  const ideal = system === 'pallas-ideal';
  const ablation: AblationOptions = {};
  if (p.ablation.tauUs !== undefined || ideal) ablation.tauUs = p.ablation.tauUs ?? 20;
  if (p.ablation.argminTarget ?? ideal) ablation.argminTarget = true;
  if (p.ablation.sharedCloneCounter) ablation.sharedCloneCounter = true;
  const { deltaCores, intervalMs, reactionMs, minSamples, cThresFactor, tauShift, balance, selectRequests, groups, ownerFirst } = p;
  return {
    ...{ deltaCores, intervalMs, reactionMs, minSamples, cThresFactor, tauShift, balance, selectRequests, ownerFirst },
    ...(groups !== undefined ? { groups } : {}),
    ablation,
    learn: system !== 'pallas-oracle' && system !== 'pallas-static',
    adapt: system !== 'pallas-static',
    clone: system !== 'pallas-no-clone',
    bounce: system !== 'pallas-no-bounce',
  };
}

/**
 * Which fields a system may set: a preset's own options, or a switch's and a server's. `given` is
 * the document's entry as written (before defaults).
 */
function checkSystemFields(o: SystemDoc, given: object, path: string): { sw: SwitchKind; server: ServerPolicy; preset?: SystemName } {
  const set = (k: string) => k in given;
  const refuse = (allowed: string[]) => {
    for (const k of Object.keys(given))
      if (!allowed.includes(k)) bad(`${path}.${k}`, `unknown field (expected one of: ${allowed.join(', ')})`);
  };
  if (o.system !== undefined) {
    const preset = o.system;
    const { switch: sw, server } = SYSTEM_PRESETS[preset];
    const extra: string[] = [];
    if (sw === 'pallas') extra.push(...PALLAS_KEYS);
    if (sw === 'jbsq') extra.push('jbsqDepth', 'switchQueue');
    if (sw === 'draconis') extra.push('switchQueue');
    if (server === 'darc') extra.push('darc');
    if (server === 'ts') extra.push('sliceUs', 'switchCostUs');
    refuse(['name', 'system', 'queueCapacity', ...extra]);
    return { sw, server, preset };
  }
  refuse(['name', 'switch', 'server', 'queueCapacity', 'push', 'sliceUs', 'switchCostUs', 'darc', 'jbsqDepth', 'switchQueue']);
  if (o.server === undefined) bad(`${path}.server`, `must be one of: ${SERVER_POLICIES.join(', ')}`);
  const sw = o.switch ?? 'random',
    server = o.server;
  const onlyFor = (key: string, policy: ServerPolicy) => {
    if (set(key) && server !== policy) bad(`${path}.${key}`, `is only used with server: ${policy}`);
  };
  onlyFor('push', 'dfcfs');
  onlyFor('sliceUs', 'ts');
  onlyFor('switchCostUs', 'ts');
  onlyFor('darc', 'darc');
  if (set('jbsqDepth') && sw !== 'jbsq') bad(`${path}.jbsqDepth`, 'is only used with switch: jbsq');
  if (set('switchQueue') && sw !== 'jbsq' && sw !== 'draconis') bad(`${path}.switchQueue`, 'is only used with switch: jbsq or draconis');
  return { sw, server };
}

function system(v: SystemName | SystemDoc, given: unknown, path: string, sc: Pick<Scenario, 'rack' | 'workload'>): SystemSpec {
  const o: SystemDoc = typeof v === 'string' ? systemObjectSchema.parse({ system: v }) : v;
  const { sw, server, preset } = checkSystemFields(o, typeof given === 'object' && given !== null ? given : { system: v }, path);
  const spec: SystemSpec = {
    name: o.name ?? preset ?? `${sw}/${server}`,
    ...(preset ? { system: preset } : {}),
    switch: sw,
    server,
    jbsqDepth: o.jbsqDepth,
    switchQueue: o.switchQueue,
    queueCapacity: o.queueCapacity,
    push: o.push,
    sliceUs: o.sliceUs,
    switchCostUs: o.switchCostUs,
    // rs-darc profiles as Perséphone does; rs-darc-oracle starts from the declared mix's reservation.
    darc: { recheckSamples: 5000, groupRatio: 1.2, rereserveThreshold: 0.1, warm: preset === 'rs-darc-oracle' },
  };
  if (preset && sw === 'pallas') spec.pallas = pallasOptions(o, path, preset, sc.workload.types.length);
  if (o.darc !== undefined) {
    const dp = `${path}.darc`;
    const { groups, warm, ...rest } = o.darc;
    spec.darc = { ...rest, warm: warm ?? spec.darc.warm };
    if (groups !== undefined) {
      const names = sc.workload.types.map((t) => t.name);
      const seen = new Set<string>();
      const workers = sw === 'central' ? sc.rack.servers * sc.rack.workers : sc.rack.workers;
      groups.forEach((g, i) =>
        g.types.forEach((t, j) => {
          const tp = `${dp}.groups[${i}].types[${j}]`;
          if (!names.includes(t)) bad(tp, `must name a workload type (${names.join(', ')})`);
          if (seen.has(t)) bad(tp, `type '${t}' is already in an earlier group`);
          seen.add(t);
        }),
      );
      const total = groups.reduce((a, g) => a + g.workers, 0);
      if (total > workers) bad(`${dp}.groups`, `reserve ${total} workers but a server has ${workers}`);
      spec.darc.groups = groups;
    }
  }
  return spec;
}

/** Validates a parsed scenario document and fills in defaults. */
export function normaliseScenario(doc: unknown, name = 'scenario'): Scenario {
  const path = 'scenario';
  const d = parseWith(scenarioSchema, doc, path);
  const rp = `${path}.rack`;
  if (d.rack.servers * d.rack.workers > 65536) bad(rp, 'servers × workers must be at most 65536');

  const wp = `${path}.workload`;
  const types = d.workload.types.map((t, i) => requestType(t, `${wp}.types[${i}]`));
  if (types.length > 255) bad(`${wp}.types`, 'at most 255 types');
  const names = types.map((t) => t.name);
  names.forEach((n, i) => {
    if (names.indexOf(n) !== i) bad(`${wp}.types[${i}].name`, `'${n}' is used twice`);
  });
  if (types.every((t) => t.share === 0)) bad(`${wp}.types`, 'needs a positive share for at least one type');
  const phases = (d.workload.phases ?? []).map((p, i, all): Phase => {
    const pp = `${wp}.phases[${i}]`;
    if (i < all.length - 1 && p.durationMs === undefined) bad(`${pp}.durationMs`, 'is required on every phase but the last');
    const ph: Phase = { durationMs: p.durationMs ?? 0, load: p.load };
    if (p.shares !== undefined) {
      const sp = `${pp}.shares`;
      for (const k of Object.keys(p.shares))
        if (!names.includes(k)) bad(`${sp}.${k}`, `unknown field (expected one of: ${names.join(', ')})`);
      ph.shares = Object.fromEntries(names.map((n) => [n, p.shares![n] ?? 0]));
      if (Object.values(ph.shares).every((x) => x <= 0)) bad(sp, 'needs a positive share for at least one type');
    }
    return ph;
  });
  const base = { rack: d.rack, workload: { types, arrivals: arrivalsOf(d.workload.arrivals, `${wp}.arrivals`), phases } };
  const given = (doc as { systems: unknown[] }).systems;
  const systems = d.systems.map((s, i) => system(s, given[i], `${path}.systems[${i}]`, base));
  systems.forEach((s, i) => {
    if (systems.findIndex((x) => x.name === s.name) !== i)
      bad(`${path}.systems[${i}]`, `a system named '${s.name}' is already listed (give it a distinct name)`);
  });
  const sc: Scenario = {
    name: d.name ?? name,
    ...base,
    network: d.network,
    systems,
    loads: d.loads,
    requests: d.requests,
    seed: d.seed,
    warmup: d.warmup,
  };
  if (d.timelineMs !== undefined) sc.timelineMs = d.timelineMs;
  if (d.sloUs !== undefined) sc.sloUs = d.sloUs;
  if (d.sweep !== undefined) {
    const sp = `${path}.sweep`;
    const { shareOf, values } = d.sweep;
    if (!names.includes(shareOf)) bad(`${sp}.shareOf`, `must name a workload type (${names.join(', ')})`);
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
