// bench/io helper process: initialises EAL, pumps tx-only on one DPDK vdev for a duration and
// prints the result as JSON. A process of its own because EAL initialises once per process and
// because the veth case runs inside a network namespace (ip netns exec).
//   node dist/bench/io/dpdk-child.js <vdev> <durationMs> <dstIp> <dstMac>
import { pump } from '../../lib/io/pump.js';

const [vdev, durationMs, dstIp, dstMac] = process.argv.slice(2);
const r = await pump({
  transport: { kind: 'dpdk', device: vdev!, ip: '198.18.0.1', udpPort: 9011, peerMac: dstMac! },
  dst: { ip: dstIp!, port: 9011 }, mode: 'tx-only', durationMs: Number(durationMs),
});
process.stdout.write(`${JSON.stringify(r)}\n`);
