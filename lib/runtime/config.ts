// Server runtime configuration: the schema (defaults, ranges, one wording per error) for a Pallas
// server and for the intra-server policies applied to it, normalised into what the addon expects.
// The same policy schema serves `pallas server`'s config file and the agent's policy pushes.
import { bad, bool, int, list, num, obj, oneOf, only, readConfigFile, str, type Obj } from '../config.js';
import type { TransportConfig } from '../io/transport.js';
import { TYPES } from '../wire/gen.js';

/** The TPC-C profile's service time per transaction type, µs (the paper's Table 2). */
export const TPCC_US: Readonly<Record<string, number>> = {
  payment: 5,
  order_status: 6,
  new_order: 16,
  delivery: 62,
  stock_level: 74,
};

/**
 * What a worker does for a type:
 *   spin     spin on the TSC for the request's spin_ns
 *   zero     nothing (benchmarks of the runtime itself)
 *   tpcc     spin for the TPC-C profile's time for this type
 *   rocksdb  GET(n) or SCAN(n) on the RocksDB database (by the type: GET or SCAN)
 *   { fixedUs: n }  spin for n µs whatever the request says
 */
export type HandlerSpec = 'spin' | 'zero' | 'tpcc' | 'rocksdb' | { fixedUs: number };

export interface KvConfig {
  /** Database directory; put it on tmpfs (/dev/shm) as the papers do. */
  path?: string;
  keys?: number;
  valueBytes?: number;
  /** Build the database at start when it is missing or of another shape (default true). */
  load?: boolean;
}

/** A type by its wire name (short, get, payment ...; any case) or id. */
export type TypeRef = string | number;

export interface DarcGroupSpec {
  types: TypeRef[];
  workers: number;
}

export interface PolicySpec {
  kind: 'cfcfs' | 'darc';
  /** Per queue: cfcfs's one queue, darc's queue per type. */
  queueCapacity?: number;
  /**
   * darc: `groups` gives the reservation (Pallas: from the control plane), shortest group first;
   * without groups DARC profiles by itself (Perséphone, for RS-DARC).
   */
  darc?: {
    groups?: DarcGroupSpec[];
    ownerFirst?: boolean;
    profileSamples?: number;
    recheckSamples?: number;
    groupRatio?: number;
    rereserveThreshold?: number;
  };
}

/** A policy applied at a policy epoch. `served` and `meanNs` arm bouncing (docs/runtime.md). */
export interface PolicyUpdate extends PolicySpec {
  epoch?: number;
  /** Types this server serves from this epoch on. */
  served?: TypeRef[];
  /** The control plane's mean execution time per type, ns. */
  meanNs?: Record<string, number>;
}

export interface ServerConfig {
  serverId?: number;
  workers?: number;
  /** One CPU per worker to pin it to; omit to leave the workers to the OS scheduler. */
  cores?: number[];
  dispatcherCore?: number;
  /**
   * poll: busy-poll (isolated cores); hybrid: spin a little, then block when idle (the default);
   * block: block as soon as there is nothing to do (a machine with fewer cores than busy threads).
   */
  wait?: 'poll' | 'hybrid' | 'block';

  transport?: TransportConfig;
  /** Per type name: its handler. Types left out get the default for their kind (see docs). */
  handlers?: Record<string, HandlerSpec | 'none'>;
  kv?: KvConfig;
  policy?: PolicySpec;
  /** Request buffers; a request holds one from arrival to reply. */
  slots?: number;
  /** Answer every dropped request with a drop notice (default true). */
  dropNotices?: boolean;
}

export interface NativeHandler {
  type: number;
  kind: 'zero' | 'spin' | 'fixed' | 'get' | 'scan';
  fixedNs?: number;
}
export interface NativePolicy {
  kind: 'cfcfs' | 'darc';
  workers: number;
  queueCapacity: number;
  darc?: {
    groups?: { types: number[]; workers: number }[];
    ownerFirst: boolean;
    profileSamples: number;
    recheckSamples: number;
    groupRatio: number;
    rereserveThreshold: number;
  };
}
export interface NormalisedServer {
  serverId: number;
  workers: number;
  workerCores?: number[];
  dispatcherCore?: number;
  busyPoll: boolean;
  /** Empty polls before a thread blocks (hybrid 200, block 1). */
  idlePolls: number;
  transport: TransportConfig;
  handlers: NativeHandler[];
  kv?: Required<KvConfig>;
  policy: NativePolicy;
  slots: number;
  dropNotices: boolean;
}

const TYPE_BY_NAME = new Map(TYPES.map((t) => [t.name, t]));
const TYPE_BY_ID = new Map(TYPES.map((t) => [t.id, t]));

export const DEFAULT_KV_PATH = '/dev/shm/pallas-kv';

/** A type id from a name or id; BAD_CONFIG naming `path` when it is neither. */
export function typeId(v: unknown, path: string): number {
  if (typeof v === 'number' && TYPE_BY_ID.has(v)) return v;
  if (typeof v === 'string') {
    const t = TYPE_BY_NAME.get(v.toLowerCase()) ?? (/^\d+$/.test(v) ? TYPE_BY_ID.get(Number(v)) : undefined);
    if (t) return t.id;
  }
  return bad(path, `'${String(v)}' is not a request type (one of: ${TYPES.map((t) => t.name).join(', ')})`);
}

export function typeName(id: number): string {
  return TYPE_BY_ID.get(id)?.name ?? `type${id}`;
}

function handlerFor(id: number, spec: unknown, path: string, hasKv: boolean): NativeHandler | undefined {
  const t = TYPE_BY_ID.get(id)!;
  if (spec === 'none') return undefined;
  if (spec === undefined) {
    // Defaults: synthetic spin types spin; TPC-C types spin their profile time; GET/SCAN use
    // RocksDB when a database is configured.
    if (t.name in TPCC_US) return { type: id, kind: 'fixed', fixedNs: TPCC_US[t.name]! * 1000 };
    if (t.payload === 'spin') return { type: id, kind: 'spin' };
    if (hasKv) return { type: id, kind: t.name === 'scan' ? 'scan' : 'get' };
    return undefined;
  }
  if (typeof spec === 'object' && spec !== null) {
    const o = obj(spec, path);
    only(o, path, ['fixedUs']);
    return { type: id, kind: 'fixed', fixedNs: Math.round(num(o, 'fixedUs', path, 0, 4e6) * 1000) };
  }
  if (spec === 'zero') return { type: id, kind: 'zero' };
  if (spec === 'spin') {
    if (t.payload !== 'spin') bad(path, `spin needs a spin_ns payload; ${t.name} carries ${t.payload}`);
    return { type: id, kind: 'spin' };
  }
  if (spec === 'tpcc') {
    const us = TPCC_US[t.name];
    if (us === undefined) bad(path, `tpcc is only for the TPC-C types (${Object.keys(TPCC_US).join(', ')})`);
    return { type: id, kind: 'fixed', fixedNs: us * 1000 };
  }
  if (spec === 'rocksdb') {
    if (t.payload !== 'kv') bad(path, `rocksdb needs a key/count payload; ${t.name} carries ${t.payload}`);
    if (!hasKv) bad(path, 'rocksdb needs `kv` (the database) in the server config');
    return { type: id, kind: t.name === 'scan' ? 'scan' : 'get' };
  }
  return bad(path, 'must be one of: spin, zero, tpcc, rocksdb, none, or { fixedUs: n }');
}

/** Normalises an intra-server policy for a server of `workers` workers. */
export function normalisePolicy(v: unknown, workers: number, path = 'policy'): NativePolicy {
  const o = obj(v, path);
  only(o, path, ['kind', 'queueCapacity', 'darc', 'epoch', 'served', 'meanNs']);
  const kind = oneOf(o, 'kind', path, ['cfcfs', 'darc'] as const);
  const queueCapacity = int(o, 'queueCapacity', path, 1, 1 << 20, 4096);
  if (kind === 'cfcfs') {
    if (o.darc !== undefined) bad(`${path}.darc`, 'is only used with kind: darc');
    return { kind, workers, queueCapacity };
  }
  const dp = `${path}.darc`;
  const d = o.darc === undefined ? {} : obj(o.darc, dp);
  only(d, dp, ['groups', 'ownerFirst', 'profileSamples', 'recheckSamples', 'groupRatio', 'rereserveThreshold']);
  const darc: NonNullable<NativePolicy['darc']> = {
    ownerFirst: bool(d, 'ownerFirst', dp, false),
    profileSamples: int(d, 'profileSamples', dp, 1, 1e9, 50000),
    recheckSamples: int(d, 'recheckSamples', dp, 1, 1e9, 5000),
    groupRatio: num(d, 'groupRatio', dp, 1, 100, 1.2),
    rereserveThreshold: num(d, 'rereserveThreshold', dp, 0, 10, 0.1),
  };
  if (d.groups !== undefined) {
    const seen = new Set<number>();
    let total = 0;
    const groups = list(d, 'groups', dp);
    darc.groups = groups.map((g, i) => {
      const gp = `${dp}.groups[${i}]`;
      const go = obj(g, gp);
      only(go, gp, ['types', 'workers']);
      const types = list(go, 'types', gp).map((t, j) => {
        const id = typeId(t, `${gp}.types[${j}]`);
        if (seen.has(id)) bad(`${gp}.types[${j}]`, `type ${typeName(id)} is in two groups`);
        seen.add(id);
        return id;
      });
      // A group other than the last may have no cores: it runs on the longer groups' idle cores, first.
      const w = int(go, 'workers', gp, i < groups.length - 1 ? 0 : 1, workers);
      total += w;
      return { types, workers: w };
    });
    if (total !== workers) bad(`${dp}.groups`, `reserve ${total} workers in all; the server has ${workers}`);
  }
  return { kind, workers, queueCapacity, darc };
}

export interface NativeUpdate {
  epoch: number;
  policy: NativePolicy;
  served?: number[];
  meanNs?: { type: number; ns: number }[];
}

/** Normalises a policy update; `epoch` defaults to `nextEpoch`. */
export function normaliseUpdate(v: unknown, workers: number, nextEpoch: number, path = 'policy'): NativeUpdate {
  const o = obj(v, path);
  const policy = normalisePolicy(o, workers, path);
  const out: NativeUpdate = { epoch: int(o, 'epoch', path, 0, Number.MAX_SAFE_INTEGER, nextEpoch), policy };
  if (o.served !== undefined) out.served = list(o, 'served', path, 0).map((t, i) => typeId(t, `${path}.served[${i}]`));
  if (o.meanNs !== undefined) {
    const m = obj(o.meanNs, `${path}.meanNs`);
    out.meanNs = Object.keys(m).map((k) => ({ type: typeId(k, `${path}.meanNs.${k}`), ns: num(m, k, `${path}.meanNs`, 0, 1e12) }));
  }
  if ((out.served === undefined) !== (out.meanNs === undefined)) bad(path, 'served and meanNs go together (they arm bouncing)');
  return out;
}

/** How a thread with nothing to do waits (the runtime's and the software switch's). */
export const WAIT_MODES = ['poll', 'hybrid', 'block'] as const;
export type WaitMode = (typeof WAIT_MODES)[number];
/** Empty polls before blocking, per mode (poll never blocks). */
export const IDLE_POLLS: Readonly<Record<WaitMode, number>> = { poll: 0, hybrid: 200, block: 1 };

/** Validates a server config and fills in every default. */
export function normaliseServer(v: unknown, path = 'server'): NormalisedServer {
  const o: Obj = obj(v ?? {}, path);
  only(o, path, [
    'serverId',
    'workers',
    'cores',
    'dispatcherCore',
    'wait',
    'transport',
    'handlers',
    'kv',
    'policy',
    'slots',
    'dropNotices',
  ]);
  const workers = int(o, 'workers', path, 1, 1024, 1);
  const wait = oneOf(o, 'wait', path, WAIT_MODES, 'hybrid');
  const out: NormalisedServer = {
    serverId: int(o, 'serverId', path, 0, 255, 0),
    workers,
    busyPoll: wait === 'poll',
    idlePolls: IDLE_POLLS[wait],
    transport: (o.transport === undefined
      ? { kind: 'udp', bindIp: '127.0.0.1', port: 9011 }
      : obj(o.transport, `${path}.transport`)) as TransportConfig,
    handlers: [],
    policy: normalisePolicy(o.policy ?? { kind: 'cfcfs' }, workers, `${path}.policy`),
    slots: int(o, 'slots', path, workers + 1, 1 << 22, 16384),
    dropNotices: bool(o, 'dropNotices', path, true),
  };
  if (o.cores !== undefined) {
    const cores = list(o, 'cores', path).map((c, i) => {
      if (typeof c !== 'number' || !Number.isInteger(c) || c < 0 || c > 4095) bad(`${path}.cores[${i}]`, 'must be a CPU number');
      return c;
    });
    if (cores.length !== workers) bad(`${path}.cores`, `give one CPU per worker (${workers}), got ${cores.length}`);
    out.workerCores = cores;
  }
  if (o.dispatcherCore !== undefined) out.dispatcherCore = int(o, 'dispatcherCore', path, 0, 4095);
  if (o.kv !== undefined) {
    const kp = `${path}.kv`;
    const k = obj(o.kv, kp);
    only(k, kp, ['path', 'keys', 'valueBytes', 'load']);
    out.kv = {
      path: str(k, 'path', kp, DEFAULT_KV_PATH),
      keys: int(k, 'keys', kp, 1, 1e8, 5000),
      valueBytes: int(k, 'valueBytes', kp, 1, 1024, 64),
      load: bool(k, 'load', kp, true),
    };
  }
  const hp = `${path}.handlers`;
  const given = o.handlers === undefined ? {} : obj(o.handlers, hp);
  const byId = new Map<number, unknown>();
  for (const [name, spec] of Object.entries(given)) byId.set(typeId(name, `${hp}.${name}`), spec);
  for (const t of TYPES) {
    const h = handlerFor(t.id, byId.get(t.id), `${hp}.${t.name}`, out.kv !== undefined);
    if (h) out.handlers.push(h);
  }
  if (out.handlers.length === 0) bad(hp, 'no request type has a handler');
  const handled = new Set(out.handlers.map((h) => h.type));
  for (const g of out.policy.darc?.groups ?? []) {
    for (const t of g.types) if (!handled.has(t)) bad(`${path}.policy.darc.groups`, `type ${typeName(t)} has no handler on this server`);
  }
  return out;
}

/** Reads a server config file (YAML or JSON). */
export function loadServerConfig(file: string): ServerConfig {
  return readConfigFile(file, 'server') as ServerConfig;
}
