// The RocksDB database behind the GET and SCAN handlers (native/runtime/kv.hpp): the loader, the
// direct-call benchmark, and the reply payload's decoder.
import { nativeAsync, PallasError } from '../errors.js';
import { loadNative } from '../native.js';

export interface KvLoadResult {
  built: boolean;
  keys: number;
  valueBytes: number;
}

function needRocksdb(): void {
  if (!loadNative().buildInfo().features.rocksdb) {
    throw new PallasError(
      'NO_ROCKSDB',
      'this build of Pallas has no RocksDB support: install it with ' +
        '`apt-get install librocksdb-dev pkg-config` and rebuild (npm run build)',
    );
  }
}

/** Builds the database at `path` unless one with these keys and value size is already there. */
export async function loadKv(cfg: { path: string; keys: number; valueBytes: number }): Promise<KvLoadResult> {
  needRocksdb();
  return nativeAsync(() => loadNative().kvLoad(cfg));
}

/** The value the loader stores for key i. */
export function kvValue(i: number, valueBytes: number): Buffer {
  return loadNative().kvValue(i, valueBytes);
}

/** Runs the handlers' store call `iterations` times directly (no runtime): per-call ns. */
export async function kvBench(cfg: {
  path: string;
  op: 'get' | 'scan';
  count: number;
  iterations: number;
  key?: number;
}): Promise<{ ns: Float64Array; found: number }> {
  needRocksdb();
  return nativeAsync(() => loadNative().kvBench(cfg));
}

export interface KvReply {
  /** Keys found (GET) or walked (SCAN). */
  count: number;
  bytes: number;
  /** FNV-1a 32 over the values in key order. */
  hash: number;
  /** The values carried in the reply (GET: as many as fit; SCAN: none). */
  values: Buffer[];
}

/** Decodes the payload of a GET or SCAN reply (docs/runtime.md). */
export function decodeKvReply(payload: Uint8Array): KvReply {
  const b = Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength);
  if (b.length < 14) throw new PallasError('BAD_CONFIG', `a kv reply payload has at least 14 bytes, not ${b.length}`);
  const out: KvReply = { count: b.readUInt32BE(0), bytes: b.readUInt32BE(4), hash: b.readUInt32BE(8), values: [] };
  const shown = b.readUInt16BE(12);
  let off = 14;
  for (let i = 0; i < shown && off + 2 <= b.length; i++) {
    const n = b.readUInt16BE(off);
    out.values.push(Buffer.from(b.subarray(off + 2, off + 2 + n)));
    off += 2 + n;
  }
  return out;
}

/** FNV-1a 32, as the kv reply's hash. */
export function fnv1a(chunks: Iterable<Uint8Array>): number {
  let h = 0x811c9dc5;
  for (const c of chunks) {
    for (const x of c) {
      h ^= x;
      h = Math.imul(h, 16777619) >>> 0;
    }
  }
  return h >>> 0;
}
