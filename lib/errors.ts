// PallasError: the one error type that crosses Pallas's public boundary. `code` is stable (tests
// and callers switch on it); the message says what went wrong and what to do about it.

export type PallasErrorCode =
  | 'USAGE' // the command line is wrong: an unknown or malformed flag, a missing argument
  | 'ADDON_MISSING' // the native addon is not built
  | 'BAD_CONFIG' // a config failed validation
  | 'BAD_POLICY' // switch tables or a scheduling policy are malformed
  | 'NO_DPDK' // DPDK asked for, but the addon was built without it
  | 'NO_ROCKSDB' // RocksDB asked for, but the addon was built without it
  | 'EAL_INIT' // DPDK's EAL failed to initialise (or was initialised with other arguments)
  | 'PORT_START' // a DPDK port could not be attached or started
  | 'SOCKET' // a kernel socket could not be opened or bound
  | 'ROCKSDB' // RocksDB returned an error
  | 'CLOSED' // the object was already shut down
  | 'KV_OPEN' // the RocksDB database is missing or not one the loader built
  | 'PIN' // a thread could not be pinned to the CPU configured for it
  | 'STOPPED' // a stopped server was asked to start again
  | 'TIMEOUT' // a native thread did not answer in time
  | 'AUTH' // a control-channel message without a valid signature (or no shared secret configured)
  | 'UNREACHABLE' // a peer (control channel, BFRuntime on a switch) did not answer, or refused a message
  | 'ACCOUNTING' // a load-generator run lost track of requests (sent != replies + drops + timeouts)
  | 'INTERNAL'; // a native error without a code: a bug

const KNOWN = new Set<string>([
  'USAGE',
  'ADDON_MISSING',
  'BAD_CONFIG',
  'BAD_POLICY',
  'NO_DPDK',
  'NO_ROCKSDB',
  'EAL_INIT',
  'PORT_START',
  'SOCKET',
  'ROCKSDB',
  'CLOSED',
  'KV_OPEN',
  'PIN',
  'STOPPED',
  'TIMEOUT',
  'AUTH',
  'UNREACHABLE',
  'ACCOUNTING',
  'INTERNAL',
]);

export class PallasError extends Error {
  readonly code: PallasErrorCode;
  constructor(code: PallasErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'PallasError';
    this.code = code;
  }
}

/** Runs a native call and turns what it throws into a PallasError with the native code. */
export function native<T>(fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    throw toPallasError(e);
  }
}

/** The same for a native call that returns a promise: its rejection becomes a PallasError too. */
export async function nativeAsync<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    throw toPallasError(e);
  }
}

export function toPallasError(e: unknown): PallasError {
  if (e instanceof PallasError) return e;
  const err = e instanceof Error ? e : new Error(String(e));
  const code = (err as { code?: unknown }).code;
  return new PallasError(typeof code === 'string' && KNOWN.has(code) ? (code as PallasErrorCode) : 'INTERNAL', err.message, { cause: err });
}
