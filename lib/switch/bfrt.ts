// BFRuntime's view of a program: the bf-rt.json the compiler writes (and the switch serves), turned
// into the ids a Write or Read names, and the byte strings its fields take (big-endian, ⌈width/8⌉
// bytes). Shared by the Tofino driver and by the tests' mock BFRuntime server, so that both read
// one file the same way.
import { PallasError } from '../errors.js';
import type { P4Entry, RangeKey } from './p4-entries.js';

export interface BfrtField {
  id: number;
  name: string;
  width: number | null;
  match?: string;
  kind: string;
}
export interface BfrtAction {
  id: number;
  name: string;
  data: Map<string, BfrtField>;
}
export interface BfrtTable {
  id: number;
  name: string;
  type: string;
  size: number;
  keys: Map<string, BfrtField>;
  actions: Map<string, BfrtAction>;
  /** Data fields outside actions (registers' fields, counters' specs), by name. */
  data: Map<string, BfrtField>;
}

interface RawField {
  id: number;
  name: string;
  match_type?: string;
  type?: { type: string; width?: number };
}
interface RawTable {
  id: number;
  name: string;
  table_type: string;
  size: number;
  key?: RawField[];
  action_specs?: { id: number; name: string; data?: RawField[] }[];
  data?: { singleton?: RawField }[];
}

const field = (f: RawField): BfrtField => ({
  id: f.id,
  name: f.name,
  width: f.type?.width ?? (f.type?.type === 'uint32' ? 32 : f.type?.type === 'uint64' ? 64 : null),
  ...(f.match_type ? { match: f.match_type } : {}),
  kind: f.type?.type ?? 'unknown',
});

export class BfrtInfo {
  readonly tables = new Map<string, BfrtTable>();
  readonly byId = new Map<number, BfrtTable>();

  /** Parses a bf-rt.json (program tables, or non-P4 tables); names without the "pipe." prefix too. */
  constructor(...docs: (string | Buffer | object)[]) {
    for (const doc of docs) {
      let o: { tables?: RawTable[] };
      try {
        o = (typeof doc === 'string' || Buffer.isBuffer(doc) ? JSON.parse(doc.toString()) : doc) as { tables?: RawTable[] };
      } catch (e) {
        throw new PallasError('BAD_CONFIG', `bf-rt.json is not JSON: ${(e as Error).message}`);
      }
      if (!Array.isArray(o.tables)) throw new PallasError('BAD_CONFIG', 'bf-rt.json has no tables');
      for (const t of o.tables) {
        const table: BfrtTable = {
          id: t.id,
          name: t.name,
          type: t.table_type,
          size: t.size,
          keys: new Map((t.key ?? []).map((k) => [k.name, field(k)])),
          actions: new Map(
            (t.action_specs ?? []).map((a) => [
              a.name,
              { id: a.id, name: a.name, data: new Map((a.data ?? []).map((d) => [d.name, field(d)])) },
            ]),
          ),
          data: new Map((t.data ?? []).flatMap((d) => (d.singleton ? [[d.singleton.name, field(d.singleton)] as const] : []))),
        };
        this.tables.set(t.name, table);
        if (t.name.startsWith('pipe.')) this.tables.set(t.name.slice(5), table);
        this.byId.set(t.id, table);
      }
    }
  }

  table(name: string): BfrtTable {
    const t = this.tables.get(name);
    if (!t) throw new PallasError('BAD_CONFIG', `the program has no table ${name} (is it the Pallas program? compare with p4/pallas.p4)`);
    return t;
  }
}

/** A non-negative integer as ⌈width/8⌉ big-endian bytes; BAD_POLICY when it does not fit. */
export function encode(v: number | bigint, width: number, what: string): Buffer {
  const n = BigInt(v);
  if (n < 0n || n >= 1n << BigInt(width)) throw new PallasError('BAD_POLICY', `${what}: ${v} does not fit ${width} bits`);
  const len = Math.ceil(width / 8);
  const b = Buffer.alloc(len);
  let x = n;
  for (let i = len - 1; i >= 0; i--) {
    b[i] = Number(x & 0xffn);
    x >>= 8n;
  }
  return b;
}

export function decode(b: Uint8Array | Buffer | null | undefined): number {
  if (!b) return 0;
  let x = 0n;
  for (const byte of b) x = (x << 8n) | BigInt(byte);
  return Number(x);
}

/** The wire form of an entry (TableEntry of bfruntime.proto, as @grpc/proto-loader objects take it). */
export function entryMessage(info: BfrtInfo, e: P4Entry): object {
  const t = info.table(e.table);
  const keyFields = Object.entries(e.key).map(([name, v]) => {
    const f = t.keys.get(name);
    if (!f) throw new PallasError('BAD_POLICY', `${e.table}: no key field ${name}`);
    const w = f.width ?? 32;
    if (typeof v === 'number') return { field_id: f.id, exact: { value: encode(v, w, `${e.table}.${name}`) } };
    const r = v as RangeKey;
    return { field_id: f.id, range: { low: encode(r.low, w, `${e.table}.${name}`), high: encode(r.high, w, `${e.table}.${name}`) } };
  });
  let data: object;
  if (e.action === null) {
    data = {
      fields: Object.entries(e.data).map(([name, v]) => {
        const f = t.data.get(name);
        if (!f) throw new PallasError('BAD_POLICY', `${e.table}: no field ${name}`);
        return { field_id: f.id, stream: encode(v, f.width ?? 32, `${e.table}.${name}`) };
      }),
    };
  } else {
    const a = t.actions.get(e.action);
    if (!a) throw new PallasError('BAD_POLICY', `${e.table}: no action ${e.action}`);
    data = {
      action_id: a.id,
      fields: Object.entries(e.data).map(([name, v]) => {
        const f = a.data.get(name);
        if (!f) throw new PallasError('BAD_POLICY', `${e.action}: no field ${name}`);
        return { field_id: f.id, stream: encode(v, f.width ?? 32, `${e.action}.${name}`) };
      }),
    };
  }
  return { table_id: t.id, ...(e.isDefault ? { is_default_entry: true } : { key: { fields: keyFields } }), data };
}
