// Transport configs: the schema (defaults, ranges, errors) for the three transports, normalised
// into what the addon expects. See native/io/transport.hpp for the transports themselves.
import { bad, int, ipv4, mac, obj, oneOf, only, str, strList, type Obj } from '../config.js';
import { PallasError, native } from '../errors.js';
import { loadNative, type NativeMemLink, type NativeTransportConfig } from '../native.js';
import { DEFAULT_UDP_PORT } from '../wire/gen.js';

export type TransportConfig =
  | { kind: 'udp'; bindIp?: string; port?: number; socketBuf?: number }
  | {
      kind: 'dpdk';
      device: string;
      ip: string;
      udpPort?: number;
      peerMac?: string;
      rxDesc?: number;
      txDesc?: number;
      mbufs?: number;
      eal?: string[];
    }
  | { kind: 'mem'; link: MemLink; side: 0 | 1 };

/**
 * EAL arguments for a shared development machine: no hugepages, no PCI scan, the main lcore
 * floating on cores 0-1 so that EAL pins nothing. Deployment passes its own (`-a <pci>`, lcores).
 */
export const DEFAULT_EAL_ARGS: readonly string[] = [
  '--lcores=0@(0,1)',
  '--no-huge',
  '-m',
  '256',
  '--no-pci',
  '--no-shconf',
  '--no-telemetry',
  '--log-level=lib.eal:error',
];

const PCI_ADDRESS = /^([0-9a-fA-F]{4}:)?[0-9a-fA-F]{2}:[0-9a-fA-F]{2}\.[0-7]$/;

/**
 * The EAL arguments for a device when a config gives none: the defaults above, and for a PCI
 * address, that device allowed in with -a instead of --no-pci (a vdev is hot-plugged by the transport).
 */
export function defaultEalFor(device: string): string[] {
  return PCI_ADDRESS.test(device) ? [...DEFAULT_EAL_ARGS.filter((a) => a !== '--no-pci'), '-a', device] : [...DEFAULT_EAL_ARGS];
}

/** An in-memory link: two transports joined back to back. Each side can be used once. */
export class MemLink {
  /** @internal */ readonly handle: NativeMemLink;
  constructor(slots = 1024) {
    if (!Number.isInteger(slots) || slots < 2 || slots > 1 << 20) bad('memLink.slots', 'must be an integer in [2, 1048576]');
    this.handle = native(() => new (loadNative().MemLink)(slots));
  }
}

export interface NormalisedTransport {
  native: NativeTransportConfig;
  eal?: string[];
}

export function normaliseTransport(v: unknown, path = 'transport'): NormalisedTransport {
  const o: Obj = obj(v, path);
  const kind = oneOf(o, 'kind', path, ['udp', 'dpdk', 'mem'] as const);
  if (kind === 'udp') {
    only(o, path, ['kind', 'bindIp', 'port', 'socketBuf']);
    return {
      native: {
        kind,
        bindIp: ipv4(o, 'bindIp', path, '127.0.0.1'),
        port: int(o, 'port', path, 0, 65535, 0),
        socketBuf: int(o, 'socketBuf', path, 4096, 1 << 30, 4 << 20),
      },
    };
  }
  if (kind === 'dpdk') {
    only(o, path, ['kind', 'device', 'ip', 'udpPort', 'peerMac', 'rxDesc', 'txDesc', 'mbufs', 'eal']);
    const device = str(o, 'device', path);
    return {
      native: {
        kind,
        device,
        ip: ipv4(o, 'ip', path),
        udpPort: int(o, 'udpPort', path, 1, 65535, DEFAULT_UDP_PORT),
        peerMac: mac(o, 'peerMac', path, ''),
        rxDesc: int(o, 'rxDesc', path, 64, 16384, 1024),
        txDesc: int(o, 'txDesc', path, 64, 16384, 1024),
        mbufs: int(o, 'mbufs', path, 1023, 1 << 22, 8191),
      },
      eal: strList(o, 'eal', path, defaultEalFor(device)),
    };
  }
  only(o, path, ['kind', 'link', 'side']);
  if (!(o.link instanceof MemLink)) bad(`${path}.link`, 'must be a MemLink');
  const side = int(o, 'side', path, 0, 1);
  return { native: { kind, link: (o.link as MemLink).handle, side: side as 0 | 1 } };
}

/** Initialises DPDK's EAL once for this process; NO_DPDK when the addon was built without it. */
export function ensureDpdk(eal: readonly string[] = DEFAULT_EAL_ARGS): void {
  const addon = loadNative();
  if (!addon.buildInfo().features.dpdk) {
    throw new PallasError(
      'NO_DPDK',
      'this build of Pallas has no DPDK support: install it with ' +
        '`apt-get install dpdk-dev libdpdk-dev pkg-config` and rebuild (`npm run build`)',
    );
  }
  native(() => addon.dpdkInit([...eal]));
}

/** Validates a transport config and, for DPDK, initialises EAL: what every opener does first. */
export function prepareTransport(v: unknown, path = 'transport'): NativeTransportConfig {
  const t = normaliseTransport(v, path);
  if (t.native.kind === 'dpdk') ensureDpdk(t.eal);
  return t.native;
}
