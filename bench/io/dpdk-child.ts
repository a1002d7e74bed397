// bench helper process: initialises EAL, pumps on one DPDK vdev for a duration and prints the
// result as JSON. A process of its own because EAL initialises once per process and because the
// veth cases run inside a network namespace (ip netns exec).
//   node dist/bench/io/dpdk-child.js '<json>'   with the fields of ChildArgs below
// mode echo: round trip that also counts echoed requests (testpmd's 5tswap), for bench/runtime.
// The EAL main lcore sits on CPU 0 and the pump's thread is pinned to `core` (default 1): the
// same two pinned CPUs as dpdk-testpmd --lcores=0@0,1@1 with one forwarding core.
import { pump } from '../../lib/io/pump.js';
import { DEFAULT_EAL_ARGS } from '../../lib/io/transport.js';

export interface ChildArgs {
  vdev: string;
  durationMs: number;
  dstIp: string;
  dstMac: string;
  mode?: 'tx-only' | 'rx-only' | 'echo';
  srcIp?: string;
  core?: number;
  burst?: number;
}

const a = JSON.parse(process.argv[2]!) as ChildArgs;
const mode = a.mode ?? 'tx-only';
const eal = ['--lcores=0@0', ...DEFAULT_EAL_ARGS.filter((x) => !x.startsWith('--lcores'))];
const r = await pump({
  transport: { kind: 'dpdk', device: a.vdev, ip: a.srcIp ?? '198.18.0.1', udpPort: 9011, peerMac: a.dstMac, eal },
  dst: { ip: a.dstIp, port: 9011 },
  mode: mode === 'echo' ? 'round-trip' : mode,
  core: a.core ?? 1,
  durationMs: a.durationMs,
  ...(a.burst ? { burst: a.burst } : {}),
  ...(mode === 'echo' ? { acceptRequests: true, window: 512 } : {}),
});
process.stdout.write(`${JSON.stringify(r)}\n`);
