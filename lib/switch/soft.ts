// SoftSwitch: the software ToR switch (native/switch) in this process, behind the SwitchDriver
// interface. It runs the Pallas pipeline (or a baseline's switch) on its own thread over kernel
// UDP (default) or DPDK; from here on TypeScript only writes tables, wires servers and reads the
// shared-memory statistics and monitor registers (nothing per packet crosses N-API).
import { bad, int, mac, obj, oneOf, only, type Obj } from '../config.js';
import type { MonitorRead } from './contract.js';
import type { SwitchTables } from './contract.js';
import { native, PallasError } from '../errors.js';
import { prepareTransport, type TransportConfig } from '../io/transport.js';
import { loadNative, type NativeEndpoint, type NativeSoftSwitch, type NativeSoftSwitchViews } from '../native.js';
import { IDLE_POLLS, typeName, WAIT_MODES, type WaitMode } from '../runtime/config.js';
import { SWITCH } from '../wire/gen.js';
import type { PipelineRegisters, SwitchDriver } from './driver.js';
import { diffTables, normaliseTables, singleGroupTables, type TableOp } from './tables.js';

export const SWITCH_POLICIES = ['pallas', 'po2', 'rr', 'random', 'jbsq', 'draconis', 'netclone'] as const;
export type SwitchPolicy = (typeof SWITCH_POLICIES)[number];
/** The software switch's default UDP port (servers default to 9011). */
export const DEFAULT_SWITCH_PORT = 9010;

/** A server's address; `mac` is needed only by a switch on DPDK (kernel UDP resolves it itself). */
export type ServerAddr = { ip: string; port: number; mac?: string };

export interface SoftSwitchConfig {
  policy?: SwitchPolicy;
  transport?: TransportConfig;
  /** Server index → address ("ip:port" or {ip, port}); null for a slot not wired yet. */
  servers: (string | ServerAddr | null)[];
  /** Workers per server (the jbsq, draconis and netclone baselines count them). */
  workers?: number;
  seed?: number;
  /** Pallas: the tables to start with (default: one group of every server, weight 1). */
  tables?: unknown;
  jbsqDepth?: number;
  queueCapacity?: number;
  filterSlots?: number;
  /** Requests whose client the switch remembers (a power of two). */
  clientSlots?: number;
  slots?: number;
  /** How the switch's thread waits when idle: poll, hybrid (default) or block (lib/runtime/config.ts WAIT_MODES). */
  wait?: WaitMode;
  /** The CPU to pin the switch's thread to. */
  core?: number;
}

export interface SwitchStats {
  policy: string;
  /** Switch counters (n_requests, n_fwd_replies, n_cloned, n_reply_no_client, …). */
  switch: Record<string, number>;
  /** Datagrams refused by wire validation, by reason. */
  invalid: Record<string, number>;
  /** Per type seen: requests, and the monitor registers (cumulative; the mean over the switch's life). */
  types: Record<string, { id: number; requests: number; monReplies: number; monNotices: number; monMeanNs: number | null }>;
  servers: { sent: number; replies: number; queueLen: number }[];
  transport: Record<string, number>;
}

/** "ip:port", "ip:port@mac" or {ip, port, mac?}; null for an empty slot. */
export function parseAddr(v: unknown, path: string): ServerAddr | null {
  if (v === null) return null;
  if (typeof v === 'string') {
    const m = /^(\d+\.\d+\.\d+\.\d+):(\d+)(?:@([0-9a-fA-F:]{17}))?$/.exec(v);
    if (!m || Number(m[2]) < 1 || Number(m[2]) > 65535) bad(path, `'${v}' is not ip:port (or ip:port@mac)`);
    return { ip: m![1]!, port: Number(m![2]), ...(m![3] ? { mac: m![3].toLowerCase() } : {}) };
  }
  const o: Obj = obj(v, path);
  only(o, path, ['ip', 'port', 'mac']);
  if (typeof o.ip !== 'string' || !/^\d+\.\d+\.\d+\.\d+$/.test(o.ip)) bad(`${path}.ip`, 'must be an IPv4 address');
  const out: ServerAddr = { ip: o.ip as string, port: int(o, 'port', path, 1, 65535) };
  if (o.mac !== undefined) out.mac = mac(o, 'mac', path);
  return out;
}

let layout: { switchCells: string[]; typeCells: string[]; serverCells: string[] } | undefined;
function lay(): { switchCells: string[]; typeCells: string[]; serverCells: string[] } {
  layout ??= loadNative().switchLayout();
  return layout;
}

/** A consistent copy of the switch thread's cells (it brackets each loop with the seq cell). */
function snapshot(v: NativeSoftSwitchViews): {
  sw: BigUint64Array;
  types: BigUint64Array;
  servers: BigUint64Array;
  registers: BigUint64Array;
} {
  for (let attempt = 0; ; attempt++) {
    const s0 = v.switch[0]!;
    const copy = { sw: v.switch.slice(), types: v.types.slice(), servers: v.servers.slice(), registers: v.registers.slice() };
    if (((s0 & 1n) === 0n && v.switch[0] === s0) || attempt >= 50) return copy;
  }
}

export class SoftSwitch implements SwitchDriver {
  readonly kind = 'soft';
  readonly policy: SwitchPolicy;
  #native: NativeSoftSwitch | undefined;
  #state: 'new' | 'running' | 'stopped' = 'new';
  #tables: SwitchTables | null = null;
  readonly #cfg: { native: object; servers: number };

  /** Validates `cfg` (BAD_CONFIG naming the field); starts nothing. */
  constructor(cfg: SoftSwitchConfig) {
    const path = 'switch';
    const o = obj(cfg, path);
    only(o, path, [
      'policy',
      'transport',
      'servers',
      'workers',
      'seed',
      'tables',
      'jbsqDepth',
      'queueCapacity',
      'filterSlots',
      'clientSlots',
      'slots',
      'wait',
      'core',
    ]);
    this.policy = oneOf(o, 'policy', path, SWITCH_POLICIES, 'pallas');
    const wait = oneOf(o, 'wait', path, WAIT_MODES, 'hybrid');
    if (!Array.isArray(o.servers) || o.servers.length < 1 || o.servers.length > 256) bad(`${path}.servers`, 'must list 1 to 256 servers');
    const servers = (o.servers as unknown[]).map((s, i) => parseAddr(s, `${path}.servers[${i}]`));
    const clientSlots = int(o, 'clientSlots', path, 2, 1 << 24, 1 << 18);
    if ((clientSlots & (clientSlots - 1)) !== 0) bad(`${path}.clientSlots`, 'must be a power of two');
    if (this.policy === 'pallas')
      this.#tables =
        o.tables === undefined ? singleGroupTables(servers.length) : normaliseTables(o.tables, servers.length, `${path}.tables`);
    else if (o.tables !== undefined) bad(`${path}.tables`, `only the pallas switch has tables (this one runs ${this.policy})`);
    this.#cfg = {
      servers: servers.length,
      native: {
        transport: o.transport ?? { kind: 'udp', port: DEFAULT_SWITCH_PORT },
        policy: {
          kind: this.policy,
          workers: int(o, 'workers', path, 1, 4096, 1),
          seed: int(o, 'seed', path, 0, 2 ** 31, 1),
          jbsqDepth: int(o, 'jbsqDepth', path, 1, 1024, 2),
          queueCapacity: int(o, 'queueCapacity', path, 1, 1 << 22, 65536),
          filterSlots: int(o, 'filterSlots', path, 1, 1 << 22, 65536),
          ...(this.#tables ? { tables: this.#tables } : {}),
        },
        servers,
        clientSlots,
        slots: int(o, 'slots', path, 1, 1 << 22, 16384),
        busyPoll: wait === 'poll',
        idlePolls: IDLE_POLLS[wait],
        ...(o.core !== undefined ? { core: int(o, 'core', path, 0, 4095) } : {}),
      },
    };
  }

  /** Opens the transport and starts the switch thread. Idempotent. */
  start(): this {
    if (this.#state === 'running') return this;
    if (this.#state === 'stopped') throw new PallasError('STOPPED', 'this switch has been stopped; create a new SoftSwitch');
    const c = this.#cfg.native as { transport: unknown };
    const transport = prepareTransport(c.transport, 'switch.transport');
    this.#native = native(() => new (loadNative().SoftSwitch)({ ...c, transport }));
    native(() => this.#native!.start());
    this.#state = 'running';
    return this;
  }

  /** Stops the switch thread; statistics stay readable. Idempotent. */
  stop(): void {
    this.#native?.stop();
    if (this.#state === 'running') this.#state = 'stopped';
  }

  get running(): boolean {
    return this.#state === 'running';
  }

  get capacity(): number {
    return this.#cfg.servers;
  }

  local(): NativeEndpoint {
    return this.#live().local();
  }

  tables(): SwitchTables | null {
    return this.#tables;
  }

  async writeTables(tables: SwitchTables): Promise<TableOp[]> {
    if (this.policy !== 'pallas') throw new PallasError('BAD_POLICY', `this switch runs ${this.policy}, which has no Pallas tables`);
    const t = normaliseTables(tables, this.#cfg.servers);
    const ops = diffTables(this.#tables, t);
    const sw = this.#live();
    native(() => sw.load(t));
    this.#tables = t;
    return ops;
  }

  async setServer(index: number, addr: ServerAddr | string | null): Promise<void> {
    if (!Number.isInteger(index) || index < 0 || index >= this.#cfg.servers)
      bad('setServer.index', `must be a server index below ${this.#cfg.servers}`);
    const a = parseAddr(addr, 'setServer.addr');
    const sw = this.#live();
    native(() => sw.setServer(index, a));
  }

  async readMonitor(): Promise<MonitorRead> {
    const L = lay();
    const { types } = snapshot(this.#live().views());
    const nt = L.typeCells.length;
    const col = (name: string) => {
      const c = L.typeCells.indexOf(name);
      return Array.from({ length: 256 }, (_, t) => Number(types[t * nt + c]!));
    };
    return { requests: col('mon_requests'), replies: col('mon_replies'), timeUnits: col('mon_time_units'), notices: col('mon_notices') };
  }

  async readRegisters(): Promise<PipelineRegisters | null> {
    if (this.policy !== 'pallas') return null;
    const { registers: r } = snapshot(this.#live().views());
    const groups = SWITCH.maxGroups;
    const at = (i: number) => Number(r[i]!);
    const row = (k: number) => Array.from({ length: groups }, (_, g) => at(1 + k * groups + g));
    return { seq: at(0), wrrCounter: row(0), cloneCounter: row(1), burstWindow: row(2), burstCount: row(3) };
  }

  async counters(): Promise<Record<string, number>> {
    return this.stats().switch;
  }

  /** CPU time the switch's thread has used, s (0 when not running; for CPU budgets). */
  threadCpuS(): number {
    return this.#live().threadCpuNs() / 1e9;
  }

  stats(): SwitchStats {
    const L = lay();
    const sw = this.#live();
    const { sw: cells, types, servers } = snapshot(sw.views());
    const out: SwitchStats = { policy: sw.policyName(), switch: {}, invalid: {}, types: {}, servers: [], transport: {} };
    L.switchCells.forEach((name, i) => {
      if (name.startsWith('n_invalid_')) {
        if (name !== 'n_invalid_ok') out.invalid[name.slice('n_invalid_'.length)] = Number(cells[i]);
      } else if (name !== 'seq') out.switch[name] = Number(cells[i]);
    });
    const nt = L.typeCells.length;
    const cell = (t: number, name: string) => Number(types[t * nt + L.typeCells.indexOf(name)]);
    for (let t = 0; t < 256; t++) {
      const requests = cell(t, 'n_requests'),
        replies = cell(t, 'mon_replies'),
        notices = cell(t, 'mon_notices');
      if (requests === 0 && replies === 0 && notices === 0) continue;
      out.types[typeName(t)] = {
        id: t,
        requests,
        monReplies: replies,
        monNotices: notices,
        monMeanNs: replies > 0 ? (cell(t, 'mon_time_units') * 2 ** SWITCH.monTimeShift) / replies : null,
      };
    }
    const ns = L.serverCells.length;
    for (let s = 0; s * ns < servers.length; s++) {
      const c = (name: string) => Number(servers[s * ns + L.serverCells.indexOf(name)]);
      out.servers.push({ sent: c('n_sent'), replies: c('n_replies'), queueLen: c('queue_len') });
    }
    const tc = sw.transportCounters();
    loadNative().transportCounterNames.forEach((n, i) => {
      out.transport[n] = Number(tc[i]);
    });
    return out;
  }

  #live(): NativeSoftSwitch {
    if (!this.#native)
      throw new PallasError('STOPPED', this.#state === 'new' ? 'the switch has not been started' : 'the switch has been stopped');
    return this.#native;
  }
}
