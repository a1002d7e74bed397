// A MOCK BFRuntime gRPC server, for the Tofino driver's tests (no switch, no SDE here). It serves
// the bf-rt.json the compiler produced for p4/pallas.p4 and enforces it as a switch would: only a
// subscribed and bound client may read or write; table, key, action and field ids must exist; key
// and data byte strings must have the width's length and fit it; an insert of an existing key, a
// modify or delete of a missing one, or a table over its size is refused; a batch with
// ROLLBACK_ON_ERROR is applied whole or not at all. Registers hold one value per pipe (two pipes),
// read back as one field per pipe, as a switch returns them. It forwards no packet: the test sets
// register values itself. `$mirror.cfg` comes from a small non-P4 description written here (the
// real one is in the SDE's switch daemon).
import {
  loadPackageDefinition,
  Server,
  ServerCredentials,
  status,
  type ServerDuplexStream,
  type ServerUnaryCall,
  type ServerWritableStream,
  type sendUnaryData,
} from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import { join } from 'node:path';

import { packageRoot } from '../../lib/native.js';
import { BfrtInfo, decode, type BfrtTable } from '../../lib/switch/bfrt.js';

const PIPES = 2;

/** The mock's stand-in for the switch daemon's non-P4 bf-rt.json: $mirror.cfg and $PORT. */
export const MOCK_NON_P4 = {
  tables: [
    {
      id: 4278255619,
      name: '$PORT',
      table_type: 'PortConfigure',
      size: 512,
      key: [{ id: 1, name: '$DEV_PORT', match_type: 'Exact', type: { type: 'uint32', width: 32 } }],
      data: [
        { singleton: { id: 2, name: '$SPEED', type: { type: 'string' } } },
        { singleton: { id: 3, name: '$FEC', type: { type: 'string' } } },
        { singleton: { id: 4, name: '$PORT_ENABLE', type: { type: 'bool' } } },
        { singleton: { id: 5, name: '$AUTO_NEGOTIATION', type: { type: 'string' } } },
      ],
    },
    {
      id: 4278255617,
      name: '$mirror.cfg',
      table_type: 'MirrorCfg',
      size: 1024,
      key: [{ id: 1, name: '$sid', match_type: 'Exact', type: { type: 'uint16', width: 16 } }],
      action_specs: [
        {
          id: 1,
          name: '$normal',
          data: [
            { id: 2, name: '$direction', type: { type: 'string' } },
            { id: 3, name: '$session_enable', type: { type: 'bool' } },
            { id: 4, name: '$ucast_egress_port', type: { type: 'uint32', width: 32 } },
            { id: 5, name: '$ucast_egress_port_valid', type: { type: 'bool' } },
          ],
        },
      ],
      data: [],
    },
  ],
};

interface KeyFieldMsg {
  field_id: number;
  exact?: { value: Buffer };
  ternary?: { value: Buffer; mask: Buffer };
  range?: { low: Buffer; high: Buffer };
  match_type?: string;
}
interface DataFieldMsg {
  field_id: number;
  stream?: Buffer;
  str_val?: string;
  bool_val?: boolean;
  value?: string;
}
interface TableEntryMsg {
  table_id: number;
  key?: { fields: KeyFieldMsg[] };
  data?: { action_id: number; fields: DataFieldMsg[] };
  is_default_entry?: boolean;
  table_flags?: { from_hw?: boolean };
}
interface UpdateMsg {
  type: string;
  entity: { table_entry?: TableEntryMsg };
}

/** A stored entry: its key (decoded, by field name) and data (action and fields). */
export interface MockEntry {
  key: Record<string, number | [number, number]>;
  action: string | null;
  data: Record<string, number | string | boolean>;
}

class Refusal extends Error {
  constructor(
    readonly code: status,
    msg: string,
  ) {
    super(msg);
  }
}

export class MockBfrt {
  readonly info: BfrtInfo;
  readonly program: string;
  /** Table name → key string → entry; default entries under 'default'. */
  tables = new Map<string, Map<string, MockEntry>>();
  /** Register name → index → field → per-pipe values. */
  registers = new Map<string, Map<number, Map<string, number[]>>>();
  writes: UpdateMsg[][] = [];
  #server: Server | null = null;
  #bound = new Set<number>();
  #subscribed = new Set<number>();
  #streams = new Set<ServerDuplexStream<unknown, unknown>>();
  #refuse: string | null = null;
  readonly #raw: Buffer;

  constructor(bfrtJson: Buffer, program = 'pallas') {
    this.#raw = bfrtJson;
    this.info = new BfrtInfo(bfrtJson, MOCK_NON_P4);
    this.program = program;
  }

  /** Listens on 127.0.0.1:port (0: any); resolves to the port. */
  async listen(port = 0): Promise<number> {
    const dir = join(packageRoot, 'lib', 'switch');
    const def = loadSync(join(dir, 'bfruntime.proto'), { keepCase: true, longs: Number, enums: String, defaults: true, oneofs: true });
    const svc = (loadPackageDefinition(def) as unknown as { bfrt_proto: { BfRuntime: { service: never } } }).bfrt_proto.BfRuntime.service;
    const server = new Server();
    server.addService(svc, {
      StreamChannel: (call: ServerDuplexStream<{ client_id: number; subscribe?: { device_id: number } }, object>) => {
        this.#streams.add(call as ServerDuplexStream<unknown, unknown>);
        call.on('data', (m) => {
          if (m.subscribe) {
            this.#subscribed.add(m.client_id);
            call.write({ subscribe: { device_id: m.subscribe.device_id, status: { code: 0, message: '' } } });
          }
        });
        call.on('end', () => {
          this.#streams.delete(call as ServerDuplexStream<unknown, unknown>);
          call.end();
        });
        call.on('error', () => this.#streams.delete(call as ServerDuplexStream<unknown, unknown>));
      },
      SetForwardingPipelineConfig: (
        call: ServerUnaryCall<{ client_id: number; action: string; config: { p4_name: string }[] }, object>,
        cb: sendUnaryData<object>,
      ) => {
        const r = call.request;
        if (!this.#subscribed.has(r.client_id))
          return cb({ code: status.FAILED_PRECONDITION, details: `client ${r.client_id} has not subscribed` });
        if (r.action !== 'BIND') return cb({ code: status.UNIMPLEMENTED, details: `the mock only binds (${r.action})` });
        if (r.config.length !== 1 || r.config[0]!.p4_name !== this.program)
          return cb({ code: status.INVALID_ARGUMENT, details: `no program ${r.config[0]?.p4_name}` });
        this.#bound.add(r.client_id);
        cb(null, {});
      },
      GetForwardingPipelineConfig: (_call: ServerUnaryCall<object, object>, cb: sendUnaryData<object>) => {
        cb(null, {
          config: [{ p4_name: this.program, bfruntime_info: this.#raw }],
          non_p4_config: { bfruntime_info: Buffer.from(JSON.stringify(MOCK_NON_P4)) },
        });
      },
      Write: (
        call: ServerUnaryCall<{ client_id: number; updates: UpdateMsg[]; atomicity: string; p4_name: string }, object>,
        cb: sendUnaryData<object>,
      ) => {
        const r = call.request;
        if (!this.#bound.has(r.client_id))
          return cb({ code: status.FAILED_PRECONDITION, details: `client ${r.client_id} is not bound to a program` });
        if (this.#refuse) {
          const why = this.#refuse;
          this.#refuse = null;
          return cb({ code: status.RESOURCE_EXHAUSTED, details: why });
        }
        const snapshot = this.#copy();
        try {
          for (const u of r.updates) this.#apply(u);
          this.writes.push(r.updates);
          cb(null, { status: [] });
        } catch (e) {
          if (r.atomicity === 'ROLLBACK_ON_ERROR' || r.atomicity === 'DATAPLANE_ATOMIC') this.#restore(snapshot);
          const ref = e instanceof Refusal ? e : new Refusal(status.INTERNAL, (e as Error).message);
          cb({ code: ref.code, details: ref.message });
        }
      },
      Read: (call: ServerWritableStream<{ client_id: number; entities: { table_entry?: TableEntryMsg }[] }, object>) => {
        if (!this.#bound.has(call.request.client_id)) {
          call.emit('error', { code: status.FAILED_PRECONDITION, details: 'not bound' });
          return;
        }
        try {
          const out: object[] = [];
          for (const ent of call.request.entities) out.push(...this.#readEntries(ent.table_entry!));
          call.write({ entities: out.map((table_entry) => ({ table_entry })) });
          call.end();
        } catch (e) {
          const ref = e instanceof Refusal ? e : new Refusal(status.INTERNAL, (e as Error).message);
          call.emit('error', { code: ref.code, details: ref.message });
        }
      },
    });
    const bound = await new Promise<number>((resolve, reject) =>
      server.bindAsync(`127.0.0.1:${port}`, ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))),
    );
    this.#server = server;
    return bound;
  }

  /** Kills the server as a crashing switch daemon would: every call and stream fails at once. */
  kill(): void {
    for (const s of this.#streams) s.destroy(new Error('switch gone'));
    this.#streams.clear();
    this.#server?.forceShutdown();
    this.#server = null;
    this.#bound.clear();
    this.#subscribed.clear();
  }

  /** The next write is refused whole (as a switch refuses one that does not fit). */
  refuseNextWrite(why: string): void {
    this.#refuse = why;
  }

  /** Sets a register cell's field on one pipe (what the data plane would have counted). */
  setRegister(name: string, index: number, field: string, value: number, pipe = 0): void {
    const t = this.info.table(name);
    if (index < 0 || index >= t.size) throw new Error(`${name}: index ${index} out of range`);
    const cells = this.registers.get(t.name) ?? new Map<number, Map<string, number[]>>();
    const cell = cells.get(index) ?? new Map<string, number[]>();
    const vals = cell.get(field) ?? new Array<number>(PIPES).fill(0);
    vals[pipe] = value >>> 0;
    cell.set(field, vals);
    cells.set(index, cell);
    this.registers.set(t.name, cells);
  }

  /** The entries of a match table (program name without "pipe."). */
  entries(name: string): MockEntry[] {
    return [...(this.tables.get(this.info.table(name).name)?.values() ?? [])];
  }

  #copy(): { t: Map<string, Map<string, MockEntry>>; r: Map<string, Map<number, Map<string, number[]>>> } {
    return {
      t: new Map([...this.tables].map(([k, v]) => [k, new Map(v)])),
      r: new Map(
        [...this.registers].map(([k, v]) => [k, new Map([...v].map(([i, c]) => [i, new Map([...c].map(([f, a]) => [f, a.slice()]))]))]),
      ),
    };
  }

  #restore(s: { t: Map<string, Map<string, MockEntry>>; r: Map<string, Map<number, Map<string, number[]>>> }): void {
    this.tables = s.t;
    this.registers = s.r;
  }

  #table(id: number): BfrtTable {
    const t = this.info.byId.get(id);
    if (!t) throw new Refusal(status.NOT_FOUND, `no table id ${id}`);
    return t;
  }

  #bytes(b: Buffer | undefined, width: number | null, what: string): number {
    if (!b) throw new Refusal(status.INVALID_ARGUMENT, `${what}: no value`);
    const w = width ?? 32;
    if (b.length !== Math.ceil(w / 8)) throw new Refusal(status.INVALID_ARGUMENT, `${what}: ${b.length} bytes for a ${w}-bit field`);
    const v = decode(b);
    if (v >= 2 ** w) throw new Refusal(status.INVALID_ARGUMENT, `${what}: ${v} does not fit ${w} bits`);
    return v;
  }

  #key(t: BfrtTable, e: TableEntryMsg): { str: string; key: Record<string, number | [number, number]> } {
    const key: Record<string, number | [number, number]> = {};
    const byId = new Map([...t.keys.values()].map((k) => [k.id, k]));
    for (const f of e.key?.fields ?? []) {
      const k = byId.get(f.field_id);
      if (!k) throw new Refusal(status.INVALID_ARGUMENT, `${t.name}: no key field id ${f.field_id}`);
      const what = `${t.name}.${k.name}`;
      if (k.match === 'Exact') {
        if (!f.exact) throw new Refusal(status.INVALID_ARGUMENT, `${what}: an exact key needs an exact value`);
        key[k.name] = this.#bytes(f.exact.value, k.width, what);
      } else if (k.match === 'Range') {
        if (!f.range) throw new Refusal(status.INVALID_ARGUMENT, `${what}: a range key needs low and high`);
        const lo = this.#bytes(f.range.low, k.width, what),
          hi = this.#bytes(f.range.high, k.width, what);
        if (lo > hi) throw new Refusal(status.INVALID_ARGUMENT, `${what}: low ${lo} above high ${hi}`);
        key[k.name] = [lo, hi];
      } else if (k.match === 'Ternary') {
        if (!f.ternary) throw new Refusal(status.INVALID_ARGUMENT, `${what}: a ternary key needs value and mask`);
        key[k.name] = [this.#bytes(f.ternary.value, k.width, what), this.#bytes(f.ternary.mask, k.width, what)];
      } else {
        throw new Refusal(status.UNIMPLEMENTED, `${what}: the mock has no ${k.match} match`);
      }
    }
    for (const k of t.keys.values())
      if (!(k.name in key) && k.name !== '$MATCH_PRIORITY')
        throw new Refusal(status.INVALID_ARGUMENT, `${t.name}: key field ${k.name} missing`);
    return { str: JSON.stringify(Object.entries(key).sort((a, b) => a[0].localeCompare(b[0]))), key };
  }

  #apply(u: UpdateMsg): void {
    const e = u.entity.table_entry;
    if (!e) throw new Refusal(status.UNIMPLEMENTED, 'the mock takes table entries only');
    const t = this.#table(e.table_id);
    if (t.type === 'Register') return this.#writeRegister(t, u.type, e);
    if (!['MatchAction_Direct', 'ParserValueSet', 'MirrorCfg', 'PortConfigure'].includes(t.type))
      throw new Refusal(status.UNIMPLEMENTED, `the mock does not write ${t.type} tables`);
    const rows = this.tables.get(t.name) ?? new Map<string, MockEntry>();
    this.tables.set(t.name, rows);
    if (e.is_default_entry) {
      if (u.type !== 'MODIFY') throw new Refusal(status.INVALID_ARGUMENT, `${t.name}: a default entry is modified, not ${u.type}`);
      if (e.key?.fields.length) throw new Refusal(status.INVALID_ARGUMENT, `${t.name}: a default entry has no key`);
      rows.set('default', { key: {}, ...this.#data(t, e) });
      return;
    }
    if (t.keys.size === 0) throw new Refusal(status.INVALID_ARGUMENT, `${t.name} is keyless: only its default entry can be written`);
    const { str, key } = this.#key(t, e);
    const has = rows.has(str);
    switch (u.type) {
      case 'INSERT':
        if (has) throw new Refusal(status.ALREADY_EXISTS, `${t.name}: entry ${str} exists`);
        break;
      case 'MODIFY':
        if (!has) throw new Refusal(status.NOT_FOUND, `${t.name}: no entry ${str} to modify`);
        break;
      case 'DELETE':
        if (!has) throw new Refusal(status.NOT_FOUND, `${t.name}: no entry ${str} to delete`);
        rows.delete(str);
        return;
      case 'INSERT_OR_MODIFY':
        break;
      default:
        throw new Refusal(status.UNIMPLEMENTED, `the mock has no ${u.type}`);
    }
    if (!has && rows.size - (rows.has('default') ? 1 : 0) >= t.size)
      throw new Refusal(status.RESOURCE_EXHAUSTED, `${t.name} is full (${t.size} entries)`);
    rows.set(str, { key, ...this.#data(t, e) });
  }

  #data(t: BfrtTable, e: TableEntryMsg): { action: string | null; data: Record<string, number | string | boolean> } {
    if (t.type === 'ParserValueSet') return { action: null, data: {} };
    if (t.type === 'PortConfigure') {
      const byId = new Map([...t.data.values()].map((f) => [f.id, f]));
      const data: Record<string, number | string | boolean> = {};
      for (const f of e.data?.fields ?? []) {
        const d = byId.get(f.field_id);
        if (!d) throw new Refusal(status.INVALID_ARGUMENT, `$PORT: no field id ${f.field_id}`);
        data[d.name] = d.kind === 'bool' ? (f.bool_val ?? false) : (f.str_val ?? '');
      }
      if (typeof data.$SPEED !== 'string' || !data.$SPEED.startsWith('BF_SPEED_'))
        throw new Refusal(status.INVALID_ARGUMENT, `$PORT: bad $SPEED ${String(data.$SPEED)}`);
      return { action: null, data };
    }
    const a = [...t.actions.values()].find((x) => x.id === e.data?.action_id);
    if (!a) throw new Refusal(status.INVALID_ARGUMENT, `${t.name}: no action id ${e.data?.action_id}`);
    const byId = new Map([...a.data.values()].map((f) => [f.id, f]));
    const data: Record<string, number | string | boolean> = {};
    for (const f of e.data!.fields) {
      const d = byId.get(f.field_id);
      if (!d) throw new Refusal(status.INVALID_ARGUMENT, `${a.name}: no data field id ${f.field_id}`);
      if (d.kind === 'string') data[d.name] = f.str_val ?? '';
      else if (d.kind === 'bool') data[d.name] = f.bool_val ?? false;
      else data[d.name] = this.#bytes(f.stream, d.width, `${a.name}.${d.name}`);
    }
    if (t.type === 'MatchAction_Direct')
      for (const d of a.data.values())
        if (!(d.name in data)) throw new Refusal(status.INVALID_ARGUMENT, `${a.name}: data field ${d.name} missing`);
    return { action: a.name, data };
  }

  #writeRegister(t: BfrtTable, type: string, e: TableEntryMsg): void {
    if (type !== 'MODIFY') throw new Refusal(status.INVALID_ARGUMENT, `${t.name}: a register cell is modified, not ${type}`);
    const { key } = this.#key(t, e);
    const index = key.$REGISTER_INDEX as number;
    if (index >= t.size) throw new Refusal(status.OUT_OF_RANGE, `${t.name}: index ${index} of ${t.size}`);
    const byId = new Map([...t.data.values()].map((f) => [f.id, f]));
    for (const f of e.data?.fields ?? []) {
      const d = byId.get(f.field_id);
      if (!d) throw new Refusal(status.INVALID_ARGUMENT, `${t.name}: no field id ${f.field_id}`);
      const v = this.#bytes(f.stream, d.width, `${t.name}.${d.name}`);
      for (let p = 0; p < PIPES; p++) this.setRegister(t.name, index, d.name.slice(d.name.lastIndexOf('.') + 1), v, p);
    }
  }

  #readEntries(e: TableEntryMsg): object[] {
    const t = this.#table(e.table_id);
    if (t.type === 'Register') {
      const cells = this.registers.get(t.name) ?? new Map<number, Map<string, number[]>>();
      const idx = t.keys.get('$REGISTER_INDEX')!;
      const fields = [...t.data.values()];
      return [...cells.entries()]
        .sort((a, b) => a[0] - b[0])
        .map(([i, cell]) => ({
          table_id: t.id,
          key: { fields: [{ field_id: idx.id, exact: { value: Buffer.from([i >>> 24, (i >>> 16) & 255, (i >>> 8) & 255, i & 255]) } }] },
          data: {
            fields: fields.flatMap((f) =>
              (cell.get(f.name.slice(f.name.lastIndexOf('.') + 1)) ?? new Array<number>(PIPES).fill(0)).map((v) => ({
                field_id: f.id,
                stream: Buffer.from([v >>> 24, (v >>> 16) & 255, (v >>> 8) & 255, v & 255]),
              })),
            ),
          },
        }));
    }
    if (t.type === 'Counter') {
      const spec = t.data.get('$COUNTER_SPEC_PKTS');
      const v = this.counters.get(t.name.replace(/^pipe\./, '')) ?? 0;
      return [
        {
          table_id: t.id,
          key: { fields: [] },
          data: { fields: spec ? [{ field_id: spec.id, stream: Buffer.from(BigInt(v).toString(16).padStart(16, '0'), 'hex') }] : [] },
        },
      ];
    }
    throw new Refusal(status.UNIMPLEMENTED, `the mock reads registers and counters only (${t.name})`);
  }

  /** Counter values the test sets (name without "pipe."). */
  counters = new Map<string, number>();
}
