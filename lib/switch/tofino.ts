// TofinoSwitch: the SwitchDriver of a Tofino running p4/pallas.p4, over BFRuntime gRPC
// (docs/tofino.md). It subscribes on the stream channel, binds to the program, fetches the
// pipeline config and resolves every table, key, action, field and register id by name from the
// program's bf-rt.json. A table write is the entry-level difference between the program entries of
// the tables in force and of the new ones (lib/switch/p4-entries.ts), sent as one batch that the
// switch applies whole or not at all (ROLLBACK_ON_ERROR): a refused update leaves the old tables in
// force. Monitor registers are read from hardware, summed over pipes, and handed to the control
// plane as one cumulative 32-bit view that survives a reconnect. When the switch goes away the
// driver reconnects with backoff and, once bound again, writes the last good tables back whole.
import { credentials, loadPackageDefinition, status as Status, type ClientDuplexStream, type ServiceError } from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

import { bad, int, ipv4 as ipv4Field, list, mac as macField, obj, only, str, type Obj } from '../config.js';
import type { MonitorRead } from './contract.js';
import type { SwitchTables } from './contract.js';
import { PallasError } from '../errors.js';
import { packageRoot } from '../native.js';
import { SWITCH } from '../wire/gen.js';
import { BfrtInfo, decode, encode, entryMessage } from './bfrt.js';
import type { PipelineRegisters, SwitchDriver } from './driver.js';
import { diffP4, p4Entries, P4, type P4Entry, type P4Update } from './p4-entries.js';
import { diffTables, singleGroupTables, type TableOp } from './tables.js';

export interface TofinoConfig {
  /** BFRuntime's gRPC endpoint, HOST:PORT (bf_switchd listens on 50052). */
  grpc: string;
  /** The P4 program's name (p4_name), as the switch daemon loaded it. */
  program?: string;
  deviceId?: number;
  clientId?: number;
  /** Directory with bfruntime.proto; default $SDE_INSTALL/share/bf_rt_shared/proto, else the project's own description. */
  protoDir?: string;
  /** The service address clients send requests to (replies leave from it). */
  vip: string;
  /** Server slot → the switch's device port it is behind. */
  ports: number[];
  /** The recirculation port clones come back on, and the mirror session that sends them there. */
  recircPort?: number;
  cloneSession?: number;
  /** Client routes: IPv4 → {port, mac} (replies are forwarded by destination). */
  clients?: { ip: string; port: number; mac: string }[];
  /**
   * Bring the server and client ports up through the switch's $PORT table (speed and FEC as the
   * SDE names them, e.g. BF_SPEED_100G, BF_FEC_TYP_REED_SOLOMON). Omitted: the ports are the
   * operator's (port manager, bfshell).
   */
  portSetup?: { speed: string; fec: string; autoNegotiation?: string };
  /** Reconnect backoff, ms: first and largest wait. */
  backoffMs?: [number, number];
  /** Deadline of one RPC, ms. */
  rpcTimeoutMs?: number;
  log?: (msg: string, fields?: object) => void;
}

/**
 * Validates a control config's `switch: { kind: tofino, … }` (BAD_CONFIG naming the field). The
 * grpc endpoint, vip and ports are required; the rest has defaults.
 */
export function normaliseTofinoConfig(v: unknown, path = 'switch'): TofinoConfig {
  const o = obj(v, path);
  only(o, path, [
    'kind',
    'grpc',
    'program',
    'deviceId',
    'clientId',
    'protoDir',
    'vip',
    'ports',
    'recircPort',
    'cloneSession',
    'clients',
    'backoffMs',
    'rpcTimeoutMs',
    'portSetup',
  ]);
  let portSetup: TofinoConfig['portSetup'];
  if (o.portSetup !== undefined) {
    const pp = `${path}.portSetup`;
    const po: Obj = obj(o.portSetup, pp);
    only(po, pp, ['speed', 'fec', 'autoNegotiation']);
    const speed = str(po, 'speed', pp),
      fec = str(po, 'fec', pp);
    if (!/^BF_SPEED_\w+$/.test(speed)) bad(`${pp}.speed`, `must be an SDE speed such as BF_SPEED_100G, not '${speed}'`);
    if (!/^BF_FEC_TYP_\w+$/.test(fec)) bad(`${pp}.fec`, `must be an SDE FEC such as BF_FEC_TYP_NONE, not '${fec}'`);
    portSetup = { speed, fec, ...(po.autoNegotiation !== undefined ? { autoNegotiation: str(po, 'autoNegotiation', pp) } : {}) };
  }
  if (o.kind !== 'tofino') bad(`${path}.kind`, "must be 'tofino' here");
  const grpc = str(o, 'grpc', path);
  if (!/^[^:\s]+:\d{1,5}$/.test(grpc)) bad(`${path}.grpc`, `must be HOST:PORT, not '${grpc}'`);
  const ports = list(o, 'ports', path).map((p, i) => {
    if (!Number.isInteger(p) || (p as number) < 0 || (p as number) > 511) bad(`${path}.ports[${i}]`, 'must be a device port, 0-511');
    return p as number;
  });
  if (ports.length > SWITCH.maxServers) bad(`${path}.ports`, `at most ${SWITCH.maxServers} server slots`);
  const clients =
    o.clients === undefined
      ? []
      : list(o, 'clients', path, 0).map((c, i) => {
          const cp = `${path}.clients[${i}]`;
          const co: Obj = obj(c, cp);
          only(co, cp, ['ip', 'port', 'mac']);
          return { ip: ipv4Field(co, 'ip', cp), port: int(co, 'port', cp, 0, 511), mac: macField(co, 'mac', cp) };
        });
  const backoff =
    o.backoffMs === undefined
      ? undefined
      : list(o, 'backoffMs', path, 2).map((x, i) => {
          if (typeof x !== 'number' || !(x >= 1 && x <= 600_000)) bad(`${path}.backoffMs[${i}]`, 'must be 1-600000 ms');
          return x as number;
        });
  return {
    grpc,
    program: str(o, 'program', path, 'pallas'),
    deviceId: int(o, 'deviceId', path, 0, 255, 0),
    clientId: int(o, 'clientId', path, 0, 1023, 0),
    ...(o.protoDir !== undefined ? { protoDir: str(o, 'protoDir', path) } : {}),
    vip: ipv4Field(o, 'vip', path),
    ports,
    recircPort: int(o, 'recircPort', path, 0, 511, 68),
    cloneSession: int(o, 'cloneSession', path, 1, 1015, 1),
    clients,
    ...(backoff ? { backoffMs: [backoff[0]!, backoff[1]!] as [number, number] } : {}),
    rpcTimeoutMs: int(o, 'rpcTimeoutMs', path, 100, 600_000, 5000),
    ...(portSetup ? { portSetup } : {}),
  };
}

/** A row of a Read: a register cell or a counter. */
interface Row {
  table_id: number;
  key?: { fields: { field_id: number; exact?: { value: Buffer } }[] };
  data?: { fields: { field_id: number; stream?: Buffer }[] };
}
type Cells = Map<number, Map<string, number>>;

type Grpc = Record<string, (req: object, opts: object, cb?: (err: ServiceError | null, res: never) => void) => unknown> & {
  StreamChannel: () => ClientDuplexStream<object, object>;
  close: () => void;
};

const ipv4 = (s: string, what: string): number => {
  const m = /^(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(s);
  if (!m || m.slice(1).some((x) => Number(x) > 255)) throw new PallasError('BAD_CONFIG', `${what}: '${s}' is not an IPv4 address`);
  return ((Number(m[1]) << 24) | (Number(m[2]) << 16) | (Number(m[3]) << 8) | Number(m[4])) >>> 0;
};
const macNum = (s: string, what: string): number => {
  if (!/^[0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){5}$/.test(s)) throw new PallasError('BAD_CONFIG', `${what}: '${s}' is not a MAC address`);
  return parseInt(s.replace(/:/g, ''), 16);
};

function protoDir(given?: string): string {
  if (given) return given;
  const sde = process.env.SDE_INSTALL ? join(process.env.SDE_INSTALL, 'share', 'bf_rt_shared', 'proto') : null;
  if (sde && existsSync(join(sde, 'bfruntime.proto'))) return sde;
  return join(packageRoot, 'lib', 'switch');
}

/** Loads the BfRuntime service's client constructor. */
export function loadBfruntime(dir?: string): new (addr: string, creds: ReturnType<typeof credentials.createInsecure>) => Grpc {
  const d = protoDir(dir);
  const def = loadSync(join(d, 'bfruntime.proto'), {
    keepCase: true,
    longs: Number,
    enums: String,
    defaults: true,
    oneofs: true,
    includeDirs: [d],
  });
  const pkg = loadPackageDefinition(def) as unknown as { bfrt_proto: { BfRuntime: new (a: string, c: unknown) => Grpc } };
  return pkg.bfrt_proto.BfRuntime;
}

export class TofinoSwitch implements SwitchDriver {
  readonly kind = 'tofino';
  readonly policy = 'pallas';
  readonly capacity: number;
  readonly #cfg: Required<Omit<TofinoConfig, 'protoDir' | 'log' | 'clients' | 'portSetup'>> & {
    clients: { ip: string; port: number; mac: string }[];
    portSetup: TofinoConfig['portSetup'];
  };
  readonly #Client: ReturnType<typeof loadBfruntime>;
  readonly #log: (msg: string, fields?: object) => void;
  #client: Grpc | null = null;
  #stream: ClientDuplexStream<object, object> | null = null;
  #info: BfrtInfo | null = null;
  #up = false; // bound, set up, the last good tables written back: what `connected` says
  #ready = false; // bound: writes and reads may go
  #stopped = false;
  #everUp = false;
  #retry: NodeJS.Timeout | null = null;
  #backoff: number;
  #connecting: Promise<void> | null = null;
  #tables: SwitchTables | null = null;
  #entries: P4Entry[] | null = null; // the last good program entries
  #servers: (P4Entry[] | null)[]; // per slot: its servers/server_ports entries
  #monBase: MonitorRead | null = null; // raw registers at the last read (null: a new baseline)
  #monView: MonitorRead; // what readMonitor presents: cumulative, continuous
  #reconnects = 0;

  constructor(cfg: TofinoConfig) {
    if (!/^[^:]+:\d+$/.test(cfg.grpc ?? '')) throw new PallasError('BAD_CONFIG', `switch.grpc must be HOST:PORT, not '${cfg.grpc}'`);
    if (
      !Array.isArray(cfg.ports) ||
      cfg.ports.length === 0 ||
      cfg.ports.length > SWITCH.maxServers ||
      cfg.ports.some((p) => !Number.isInteger(p) || p < 0 || p > 511)
    )
      throw new PallasError(
        'BAD_CONFIG',
        `switch.ports must list the device port (0-511) of each server slot, 1 to ${SWITCH.maxServers} of them`,
      );
    this.#cfg = {
      grpc: cfg.grpc,
      program: cfg.program ?? 'pallas',
      deviceId: cfg.deviceId ?? 0,
      clientId: cfg.clientId ?? 0,
      vip: cfg.vip,
      ports: cfg.ports,
      recircPort: cfg.recircPort ?? 68,
      cloneSession: cfg.cloneSession ?? 1,
      clients: cfg.clients ?? [],
      backoffMs: cfg.backoffMs ?? [100, 5000],
      rpcTimeoutMs: cfg.rpcTimeoutMs ?? 5000,
      portSetup: cfg.portSetup,
    };
    ipv4(cfg.vip, 'switch.vip');
    if (!Number.isInteger(this.#cfg.cloneSession) || this.#cfg.cloneSession < 1 || this.#cfg.cloneSession > 1015)
      throw new PallasError('BAD_CONFIG', 'switch.cloneSession must be 1-1015');
    for (const c of this.#cfg.clients) {
      ipv4(c.ip, 'switch.clients[].ip');
      macNum(c.mac, 'switch.clients[].mac');
    }
    this.capacity = cfg.ports.length;
    this.#servers = cfg.ports.map(() => null);
    this.#backoff = this.#cfg.backoffMs[0];
    this.#log = cfg.log ?? (() => {});
    this.#Client = loadBfruntime(cfg.protoDir);
    this.#monView = {
      requests: new Array(256).fill(0),
      replies: new Array(256).fill(0),
      timeUnits: new Array(256).fill(0),
      notices: new Array(256).fill(0),
    };
  }

  /** Connects, binds and installs the switch's fixed setup and the last good tables; resolves once up. */
  async start(): Promise<this> {
    await this.#connect();
    if (!this.#tables) await this.writeTables(singleGroupTables(0));
    return this;
  }

  stop(): void {
    this.#stopped = true;
    if (this.#retry) clearTimeout(this.#retry);
    this.#teardown();
  }

  get connected(): boolean {
    return this.#up;
  }
  get reconnects(): number {
    return this.#reconnects;
  }

  #teardown(): void {
    this.#up = false;
    this.#ready = false;
    try {
      this.#stream?.cancel();
    } catch {
      /* gone already */
    }
    this.#stream = null;
    try {
      this.#client?.close();
    } catch {
      /* gone already */
    }
    this.#client = null;
  }

  #lost(why: string): void {
    if (this.#stopped || !this.#ready) return;
    this.#log('switch lost, reconnecting', { why });
    this.#teardown();
    this.#monBase = null; // the registers may have restarted: the next read is a new baseline
    this.#schedule();
  }

  #schedule(): void {
    if (this.#stopped || this.#retry) return;
    const wait = this.#backoff;
    this.#backoff = Math.min(this.#backoff * 2, this.#cfg.backoffMs[1]);
    this.#retry = setTimeout(() => {
      this.#retry = null;
      this.#connect().then(
        () => {
          this.#log('switch back', { reconnects: this.#reconnects });
        },
        (e: unknown) => {
          this.#log('switch still unreachable', { error: (e as Error).message });
          this.#teardown();
          this.#schedule();
        },
      );
    }, wait);
    this.#retry.unref?.();
  }

  #rpc<T>(method: string, req: object): Promise<T> {
    const c = this.#client;
    if (!c) return Promise.reject(new PallasError('UNREACHABLE', 'not connected to the switch'));
    return new Promise((resolve, reject) => {
      c[method]!(req, { deadline: Date.now() + this.#cfg.rpcTimeoutMs }, (err, res) => (err ? reject(err) : resolve(res as T)));
    });
  }

  #read(entries: object[]): Promise<object[]> {
    const c = this.#client;
    if (!c) return Promise.reject(new PallasError('UNREACHABLE', 'not connected to the switch'));
    return new Promise((resolve, reject) => {
      const out: object[] = [];
      const call = c.Read!(
        {
          target: this.#target(),
          client_id: this.#cfg.clientId,
          p4_name: this.#cfg.program,
          entities: entries.map((table_entry) => ({ table_entry })),
        },
        { deadline: Date.now() + this.#cfg.rpcTimeoutMs },
      ) as NodeJS.EventEmitter;
      call.on('data', (r: { entities: { table_entry: object }[] }) => {
        for (const e of r.entities) out.push(e.table_entry);
      });
      call.on('error', reject);
      call.on('end', () => resolve(out));
    });
  }

  #target(): object {
    return { device_id: this.#cfg.deviceId, pipe_id: 0xffff, direction: 0xff, prsr_id: 0xff };
  }

  async #connect(): Promise<void> {
    if (this.#connecting) return this.#connecting;
    this.#connecting = (async () => {
      const client = new this.#Client(this.#cfg.grpc, credentials.createInsecure());
      this.#client = client;
      // Subscribe: the server answers on the stream with the status of the subscription.
      const stream = client.StreamChannel();
      this.#stream = stream;
      await new Promise<void>((resolve, reject) => {
        const t = setTimeout(
          () => reject(new PallasError('UNREACHABLE', `no answer from BFRuntime at ${this.#cfg.grpc}`)),
          this.#cfg.rpcTimeoutMs,
        );
        stream.on('data', (m: { subscribe?: { status?: { code: number; message: string } } }) => {
          if (!m.subscribe) return;
          clearTimeout(t);
          if (m.subscribe.status && m.subscribe.status.code !== 0)
            reject(new PallasError('UNREACHABLE', `subscription refused: ${m.subscribe.status.message}`));
          else resolve();
        });
        stream.on('error', (e: Error) => {
          clearTimeout(t);
          reject(new PallasError('UNREACHABLE', `BFRuntime at ${this.#cfg.grpc}: ${e.message}`));
        });
        stream.write({ client_id: this.#cfg.clientId, subscribe: { device_id: this.#cfg.deviceId, notifications: {} } });
      });
      stream.on('error', (e: Error) => this.#lost(e.message));
      stream.on('end', () => this.#lost('stream ended'));
      await this.#rpc('SetForwardingPipelineConfig', {
        device_id: this.#cfg.deviceId,
        client_id: this.#cfg.clientId,
        action: 'BIND',
        config: [{ p4_name: this.#cfg.program }],
      });
      const cfg = await this.#rpc<{ config: { p4_name: string; bfruntime_info: Buffer }[]; non_p4_config?: { bfruntime_info: Buffer } }>(
        'GetForwardingPipelineConfig',
        { device_id: this.#cfg.deviceId, client_id: this.#cfg.clientId },
      );
      const prog = cfg.config.find((c) => c.p4_name === this.#cfg.program);
      if (!prog)
        throw new PallasError(
          'BAD_CONFIG',
          `the switch runs no program '${this.#cfg.program}' (it has: ${cfg.config.map((c) => c.p4_name).join(', ') || 'none'})`,
        );
      const docs: Buffer[] = [prog.bfruntime_info];
      if (cfg.non_p4_config?.bfruntime_info?.length) docs.push(cfg.non_p4_config.bfruntime_info);
      this.#info = new BfrtInfo(...docs);
      this.#info.table(P4.typeToGroup); // the right program?
      this.#ready = true;
      this.#backoff = this.#cfg.backoffMs[0];
      // What does not change with the plan: clones' mirror session and recirculation port, client routes.
      await this.#setup();
      // After a reconnect: the last good tables and server slots, whole (the switch may have restarted).
      // (Default entries and register cells are modified; match entries inserted or modified.)
      if (this.#entries)
        await this.#write(
          this.#entries.concat(this.#servers.flatMap((s) => s ?? [])).map((entry) => ({
            type: entry.action === null || entry.isDefault ? ('MODIFY' as const) : ('INSERT_OR_MODIFY' as const),
            entry,
          })),
        );
      if (this.#everUp) this.#reconnects++;
      this.#everUp = true;
      this.#up = true;
    })().finally(() => {
      this.#connecting = null;
    });
    try {
      await this.#connecting;
    } catch (e) {
      this.#teardown();
      throw e;
    }
  }

  async #setup(): Promise<void> {
    const info = this.#info!;
    const ups: object[] = [];
    const vs = info.table('PallasIngressParser.recirc_ports');
    const f1 = vs.keys.get('f1')!;
    ups.push({
      type: 'INSERT_OR_MODIFY',
      entity: {
        table_entry: {
          table_id: vs.id,
          key: {
            fields: [
              {
                field_id: f1.id,
                ternary: {
                  value: encode(this.#cfg.recircPort, f1.width!, 'recirc port'),
                  mask: encode(2 ** f1.width! - 1, f1.width!, 'mask'),
                },
              },
            ],
          },
        },
      },
    });
    const mirror = info.tables.get('$mirror.cfg');
    if (mirror) {
      const normal = mirror.actions.get('$normal');
      const sid = mirror.keys.get('$sid');
      const df = (n: string) => normal?.data.get(n);
      if (!normal || !sid || !df('$direction') || !df('$ucast_egress_port') || !df('$session_enable') || !df('$ucast_egress_port_valid'))
        throw new PallasError('BAD_CONFIG', "the switch's $mirror.cfg table lacks $sid, $normal or its fields");
      ups.push({
        type: 'INSERT_OR_MODIFY',
        entity: {
          table_entry: {
            table_id: mirror.id,
            key: { fields: [{ field_id: sid.id, exact: { value: encode(this.#cfg.cloneSession, sid.width ?? 16, '$sid') } }] },
            data: {
              action_id: normal.id,
              fields: [
                { field_id: df('$direction')!.id, str_val: 'INGRESS' },
                {
                  field_id: df('$ucast_egress_port')!.id,
                  stream: encode(this.#cfg.recircPort, df('$ucast_egress_port')!.width ?? 32, '$ucast_egress_port'),
                },
                { field_id: df('$ucast_egress_port_valid')!.id, bool_val: true },
                { field_id: df('$session_enable')!.id, bool_val: true },
              ],
            },
          },
        },
      });
    } else {
      this.#log('the switch reports no $mirror.cfg: clones cannot be made (is non_p4_config served?)');
    }
    const ps = this.#cfg.portSetup;
    if (ps) {
      // Ports up: every server slot's and client's device port (the recirculation port is internal).
      const port = info.tables.get('$PORT');
      const key = port?.keys.get('$DEV_PORT');
      const f = (n: string) => port?.data.get(n);
      if (!port || !key || !f('$SPEED') || !f('$FEC') || !f('$PORT_ENABLE'))
        throw new PallasError('BAD_CONFIG', "switch.portSetup: the switch's $PORT table lacks $DEV_PORT, $SPEED, $FEC or $PORT_ENABLE");
      for (const dev of [...new Set([...this.#cfg.ports, ...this.#cfg.clients.map((c) => c.port)])].sort((a, b) => a - b)) {
        ups.push({
          type: 'INSERT_OR_MODIFY',
          entity: {
            table_entry: {
              table_id: port.id,
              key: { fields: [{ field_id: key.id, exact: { value: encode(dev, key.width ?? 32, '$DEV_PORT') } }] },
              data: {
                fields: [
                  { field_id: f('$SPEED')!.id, str_val: ps.speed },
                  { field_id: f('$FEC')!.id, str_val: ps.fec },
                  ...(ps.autoNegotiation && f('$AUTO_NEGOTIATION')
                    ? [{ field_id: f('$AUTO_NEGOTIATION')!.id, str_val: ps.autoNegotiation }]
                    : []),
                  { field_id: f('$PORT_ENABLE')!.id, bool_val: true },
                ],
              },
            },
          },
        });
      }
    }
    for (const c of this.#cfg.clients)
      ups.push({
        type: 'INSERT_OR_MODIFY',
        entity: {
          table_entry: entryMessage(info, {
            table: 'PallasIngress.forward.ipv4_host',
            key: { 'hdr.ipv4.dst': ipv4(c.ip, 'client') },
            action: 'PallasIngress.forward.l3',
            data: { port: c.port, mac: macNum(c.mac, 'client') },
          }),
        },
      });
    const seq = info.table(P4.seq);
    if (!this.#entries)
      ups.push({
        type: 'MODIFY',
        entity: {
          table_entry: {
            table_id: seq.id,
            key: { fields: [{ field_id: seq.keys.get('$REGISTER_INDEX')!.id, exact: { value: encode(0, 32, 'index') } }] },
            data: { fields: [{ field_id: [...seq.data.values()][0]!.id, stream: encode(1, 32, 'seq') }] },
          },
        },
      });
    await this.#send(ups);
  }

  async #send(updates: object[]): Promise<void> {
    if (updates.length === 0) return;
    try {
      const r = await this.#rpc<{ status?: { canonical_code: number; message: string }[] }>('Write', {
        target: this.#target(),
        client_id: this.#cfg.clientId,
        updates,
        atomicity: 'ROLLBACK_ON_ERROR',
        p4_name: this.#cfg.program,
      });
      const bad = (r.status ?? []).filter((s) => s.canonical_code !== 0);
      if (bad.length) throw new PallasError('BAD_POLICY', `the switch refused the update: ${bad.map((s) => s.message).join('; ')}`);
    } catch (e) {
      if (e instanceof PallasError) throw e;
      const err = e as ServiceError;
      if (err.code === Status.UNAVAILABLE || err.code === Status.DEADLINE_EXCEEDED || err.code === Status.CANCELLED) {
        this.#lost(err.message);
        throw new PallasError('UNREACHABLE', `the switch is unreachable: ${err.details || err.message}`);
      }
      throw new PallasError('BAD_POLICY', `the switch refused the update (${Status[err.code] ?? err.code}): ${err.details || err.message}`);
    }
  }

  #write(ups: P4Update[] | { type: 'INSERT_OR_MODIFY' | 'MODIFY'; entry: P4Entry }[]): Promise<void> {
    const info = this.#info;
    if (!info || !this.#ready) return Promise.reject(new PallasError('UNREACHABLE', 'not connected to the switch (reconnecting)'));
    return this.#send(ups.map((u) => ({ type: u.type, entity: { table_entry: entryMessage(info, u.entry) } })));
  }

  async writeTables(tables: SwitchTables): Promise<TableOp[]> {
    const vip = ipv4(this.#cfg.vip, 'switch.vip');
    const entries = p4Entries(tables, { vip, cloneSession: this.#cfg.cloneSession });
    for (const g of tables.groups)
      for (const e of g.wrr)
        if (e.server >= this.capacity)
          throw new PallasError('BAD_POLICY', `server ${e.server} has no port on this switch (${this.capacity} slots)`);
    await this.#write(diffP4(this.#entries, entries));
    const ops = diffTables(this.#tables, tables);
    this.#entries = entries;
    this.#tables = tables;
    return ops;
  }

  tables(): SwitchTables | null {
    return this.#tables;
  }

  async setServer(index: number, addr: { ip: string; port: number; mac?: string } | null): Promise<void> {
    if (!Number.isInteger(index) || index < 0 || index >= this.capacity)
      throw new PallasError('BAD_CONFIG', `server slot ${index} is not 0-${this.capacity - 1}`);
    const port = this.#cfg.ports[index]!;
    let next: P4Entry[] | null = null;
    if (addr) {
      if (!addr.mac)
        throw new PallasError('BAD_CONFIG', `server ${index}: a Tofino rewrites the destination MAC, so the server's MAC is needed`);
      next = [
        {
          table: P4.servers,
          key: { server: index },
          action: 'PallasIngress.forward.to_server_port',
          data: { port, mac: macNum(addr.mac, `server ${index}`), ipv4: ipv4(addr.ip, `server ${index}`) },
        },
        { table: P4.serverPorts, key: { port }, action: 'PallasIngress.server_ports.server_port', data: {} },
      ];
    }
    const prev = this.#servers[index];
    // The port entry is shared when two slots sit behind one port: delete it only when no other slot uses it.
    const shared = (e: P4Entry) =>
      e.table === P4.serverPorts &&
      this.#servers.some((s, i) => i !== index && s?.some((x) => x.table === P4.serverPorts && x.key.port === e.key.port));
    const ups = diffP4(prev ?? [], next ?? [])
      .filter((u) => !(u.type === 'DELETE' && shared(u.entry)))
      .map((u) => (u.type === 'INSERT' && u.entry.table === P4.serverPorts ? { ...u, type: 'INSERT_OR_MODIFY' as const } : u));
    await this.#write(ups as P4Update[]);
    this.#servers[index] = next;
  }

  /** One Read of several tables (registers, counters), from hardware: the rows of each, by name. */
  async #readTables(names: string[]): Promise<Map<string, Row[]>> {
    const info = this.#info;
    if (!info || !this.#ready) throw new PallasError('UNREACHABLE', 'not connected to the switch (reconnecting)');
    const tables = names.map((n) => info.table(n));
    let rows: object[];
    try {
      rows = await this.#read(tables.map((t) => ({ table_id: t.id, table_flags: { from_hw: true } })));
    } catch (e) {
      const err = e as ServiceError;
      if (err.code === Status.UNAVAILABLE || err.code === Status.DEADLINE_EXCEEDED) this.#lost(err.message);
      throw new PallasError('UNREACHABLE', `reading ${names.join(', ')}: ${err.details || err.message}`);
    }
    const out = new Map<string, Row[]>(names.map((n) => [n, []]));
    for (const row of rows as Row[]) {
      const k = tables.findIndex((t) => t.id === row.table_id);
      if (k >= 0) out.get(names[k]!)!.push(row);
    }
    return out;
  }

  /** Every cell of each register, summed over pipes (a register is per pipe; each counts its own packets). One Read. */
  async #registerCells(...names: string[]): Promise<Map<number, Map<string, number>>[]> {
    const rows = await this.#readTables(names);
    return names.map((name) => {
      const t = this.#info!.table(name);
      const idx = t.keys.get('$REGISTER_INDEX')!;
      const fields = new Map([...t.data.values()].map((f) => [f.id, f.name.slice(f.name.lastIndexOf('.') + 1)]));
      const out = new Map<number, Map<string, number>>();
      for (const row of rows.get(name)!) {
        const i = decode(row.key?.fields.find((f) => f.field_id === idx.id)?.exact?.value);
        const cell = out.get(i) ?? new Map<string, number>();
        for (const f of row.data?.fields ?? []) {
          const n = fields.get(f.field_id);
          if (n) cell.set(n, ((cell.get(n) ?? 0) + decode(f.stream)) >>> 0);
        }
        out.set(i, cell);
      }
      return out;
    });
  }

  async readMonitor(): Promise<MonitorRead> {
    const [req, mon, notices] = (await this.#registerCells(
      'PallasIngress.monitor_requests.mon_requests',
      'PallasEgress.monitor_replies.mon',
      'PallasEgress.monitor_notices.mon_notices',
    )) as [Cells, Cells, Cells];
    const col = (m: Cells, f: string) => Array.from({ length: 256 }, (_, t) => m.get(t)?.get(f) ?? 0);
    const raw: MonitorRead = { requests: col(req, 'f1'), replies: col(mon, 'lo'), timeUnits: col(mon, 'hi'), notices: col(notices, 'f1') };
    // One continuous cumulative view: differences of the raw registers modulo 2^32 added to what was
    // presented before; the first read after a reconnect is a new baseline (nothing is added).
    const base = this.#monBase;
    if (base) {
      for (const k of ['requests', 'replies', 'timeUnits', 'notices'] as const)
        this.#monView[k] = this.#monView[k].map((v, t) => (v + ((raw[k][t]! - base[k][t]!) >>> 0)) >>> 0);
    }
    this.#monBase = raw;
    return {
      requests: this.#monView.requests.slice(),
      replies: this.#monView.replies.slice(),
      timeUnits: this.#monView.timeUnits.slice(),
      notices: this.#monView.notices.slice(),
    };
  }

  async readRegisters(): Promise<PipelineRegisters> {
    const [seq, wc, cc, b] = (await this.#registerCells(P4.seq, P4.wrrCounter, P4.cloneCounter, 'PallasIngress.burst.burst')) as [
      Cells,
      Cells,
      Cells,
      Cells,
    ];
    const row = (m: Cells, f: string) => Array.from({ length: SWITCH.maxGroups }, (_, g) => m.get(g)?.get(f) ?? 0);
    return {
      seq: seq.get(0)?.get('f1') ?? 0,
      wrrCounter: row(wc, 'f1'),
      cloneCounter: row(cc, 'f1'),
      burstWindow: row(b, 'lo'),
      burstCount: row(b, 'hi'),
    };
  }

  async counters(): Promise<Record<string, number>> {
    const info = this.#info;
    if (!info || !this.#ready) throw new PallasError('UNREACHABLE', 'not connected to the switch (reconnecting)');
    const names = [...info.tables]
      .filter(([name, t]) => t.type === 'Counter' && !name.startsWith('pipe.') && name.slice(name.lastIndexOf('.') + 1).startsWith('n_'))
      .map(([name]) => name);
    const rows = await this.#readTables(names);
    const out: Record<string, number> = {};
    for (const name of names) {
      const spec = info.table(name).data.get('$COUNTER_SPEC_PKTS');
      out[name.slice(name.lastIndexOf('.') + 1)] = rows
        .get(name)!
        .reduce((a, r) => a + (r.data?.fields ?? []).filter((f) => f.field_id === spec?.id).reduce((x, f) => x + decode(f.stream), 0), 0);
    }
    out.reconnects = this.#reconnects;
    return out;
  }
}
