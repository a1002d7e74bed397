// Two network namespaces joined by a veth pair, made for one test or benchmark and always removed
// afterwards. Needs root and iproute2. Addresses from 198.18.0.0/24 (the benchmarking range), inside
// the namespaces only. The DPDK side gets no kernel address: DPDK owns that interface.
import { execFileSync } from 'node:child_process';

export interface VethPair {
  nsA: string;
  nsB: string;
  ifA: string;
  ifB: string;
  macA: string;
  macB: string;
  ipA: string;
  ipB: string;
  remove(): void;
}

const ip = (...args: string[]) => execFileSync('ip', args, { stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8' });

export function createVethPair(tag: string): VethPair {
  const id = `${tag}${process.pid % 100000}`;
  const nsA = `pallas-${id}-a`,
    nsB = `pallas-${id}-b`;
  const ifA = `pa${id}`.slice(0, 15),
    ifB = `pb${id}`.slice(0, 15);
  const pair: VethPair = {
    nsA,
    nsB,
    ifA,
    ifB,
    macA: '',
    macB: '',
    ipA: '198.18.0.1',
    ipB: '198.18.0.2',
    remove() {
      for (const ns of [nsA, nsB]) {
        try {
          ip('netns', 'del', ns);
        } catch {
          /* already gone */
        }
      }
    },
  };
  pair.remove(); // leftovers of a crashed run with the same pid
  try {
    ip('netns', 'add', nsA);
    ip('netns', 'add', nsB);
    ip('link', 'add', ifA, 'type', 'veth', 'peer', 'name', ifB);
    ip('link', 'set', ifA, 'netns', nsA);
    ip('link', 'set', ifB, 'netns', nsB);
    for (const [ns, dev] of [
      [nsA, ifA],
      [nsB, ifB],
      [nsA, 'lo'],
      [nsB, 'lo'],
    ] as const)
      ip('-n', ns, 'link', 'set', dev, 'up');
    ip('-n', nsB, 'addr', 'add', `${pair.ipB}/24`, 'dev', ifB);
    const macOf = (ns: string, dev: string) => (JSON.parse(ip('-n', ns, '-j', 'link', 'show', dev)) as { address: string }[])[0]!.address;
    pair.macA = macOf(nsA, ifA);
    pair.macB = macOf(nsB, ifB);
    // DPDK answers ARP itself, but a static entry keeps the test independent of that.
    ip('-n', nsB, 'neigh', 'add', pair.ipA, 'lladdr', pair.macA, 'dev', ifB, 'nud', 'permanent');
    return pair;
  } catch (e) {
    pair.remove();
    throw e;
  }
}
