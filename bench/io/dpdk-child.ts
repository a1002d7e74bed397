// bench helper process: initialises EAL, pumps on one DPDK vdev for a duration and prints the
// result as JSON. A process of its own because EAL initialises once per process and because the
// veth case runs inside a network namespace (ip netns exec).
//   node dist/bench/io/dpdk-child.js <vdev> <durationMs> <dstIp> <dstMac> [tx-only|round-trip|echo] [srcIp]
//   echo: round trip that also counts echoed requests (testpmd's 5tswap), for bench/runtime
import { pump } from '../../lib/io/pump.js';

const [vdev, durationMs, dstIp, dstMac, mode = 'tx-only', srcIp = '198.18.0.1'] = process.argv.slice(2);
const r = await pump({
  transport: { kind: 'dpdk', device: vdev!, ip: srcIp, udpPort: 9011, peerMac: dstMac! },
  dst: { ip: dstIp!, port: 9011 },
  mode: mode === 'tx-only' ? 'tx-only' : 'round-trip',
  durationMs: Number(durationMs),
  ...(mode === 'echo' ? { acceptRequests: true, window: 512 } : {}),
});
process.stdout.write(`${JSON.stringify(r)}\n`);
