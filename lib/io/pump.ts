// pump(): drive a transport as fast as it goes, for tests and bench/io (not the open-loop client).
import { bad, int, ipv4, obj, oneOf, only } from '../config.js';
import { native } from '../errors.js';
import { loadNative } from '../native.js';
import { prepareTransport, type TransportConfig } from './transport.js';

export interface PumpConfig {
  transport: TransportConfig;
  dst: { ip: string; port: number; mac?: string };
  /**
   * round-trip (default), tx-only, or rx-only: take what arrives and send nothing (the transport's
   * RX path alone; frames it drops while parsing them count as taken, see rxDropped).
   */
  mode?: 'tx-only' | 'rx-only' | 'round-trip';
  /** Pin the pump's thread to this CPU for the run (as testpmd pins its forwarding lcore). */
  core?: number;
  durationMs?: number;
  burst?: number;
  window?: number;
  type?: number;
  /** Request payload (at most 64 bytes); default zeros of the type's size. */
  payload?: Uint8Array;
  /** Round-trip: count echoed requests too (testpmd's 5tswap echoes frames unchanged). */
  acceptRequests?: boolean;
}

export interface PumpResult {
  sent: number;
  /** Valid replies (round-trip), or datagrams handed out by the transport (rx-only). */
  received: number;
  /** Frames the transport took off the link and dropped while parsing them (not ours, not UDP, ...). */
  rxDropped: number;
  /** The pump's thread ran pinned to `core`. */
  pinned: boolean;
  elapsedNs: number;
  pps: number;
  rttP50Ns: number;
  rttP99Ns: number;
}

export async function pump(cfg: PumpConfig): Promise<PumpResult> {
  const o = obj(cfg, 'pump');
  only(o, 'pump', ['transport', 'dst', 'mode', 'core', 'durationMs', 'burst', 'window', 'type', 'payload', 'acceptRequests']);
  if (o.payload !== undefined && (!(o.payload instanceof Uint8Array) || o.payload.length > 64))
    bad('pump.payload', 'must be a Uint8Array of at most 64 bytes');
  const d = obj(o.dst, 'pump.dst');
  const dst: { ip: string; port: number; mac?: string } = { ip: ipv4(d, 'ip', 'pump.dst'), port: int(d, 'port', 'pump.dst', 1, 65535) };
  if (d.mac !== undefined) {
    if (typeof d.mac !== 'string') bad('pump.dst.mac', 'must be a string');
    dst.mac = d.mac;
  }
  const mode = oneOf(o, 'mode', 'pump', ['tx-only', 'rx-only', 'round-trip'] as const, 'round-trip');
  const core = o.core === undefined ? undefined : int(o, 'core', 'pump', 0, 1023);
  const transport = prepareTransport(o.transport, 'pump.transport');
  const r = await native(() =>
    loadNative().runPump({
      transport,
      dst,
      mode,
      ...(core !== undefined ? { core } : {}),
      durationMs: int(o, 'durationMs', 'pump', 1, 600_000, 1000),
      burst: int(o, 'burst', 'pump', 1, 64, 32),
      window: int(o, 'window', 'pump', 1, 1 << 20, 256),
      type: int(o, 'type', 'pump', 0, 255, 1),
      ...(o.payload ? { payload: o.payload as Uint8Array } : {}),
      acceptRequests: o.acceptRequests === true,
    }),
  );
  // rx-only: every frame taken off the link, handed out or dropped by the transport's parser.
  const n = mode === 'tx-only' ? r.sent : mode === 'rx-only' ? r.received + r.rxDropped : r.received;
  return { ...r, pps: r.elapsedNs > 0 ? n / (r.elapsedNs / 1e9) : 0 };
}
