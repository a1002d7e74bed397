// Hosts made of network namespaces on one bridge, for tests that need several machines on a
// network: each namespace has its own `eth0` with an address in a /24 of the benchmarking range
// 198.19.0.0/16, its own loopback and its own port space; this machine (root namespace) sits on
// the bridge at .1 and reaches every host. The file system and the users are this machine's.
// Needs root and iproute2. `remove()` kills every process left in the namespaces, then deletes
// them and the bridge; it is safe to call twice, and leftovers of a crashed run with the same pid
// are removed first.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

export interface NetHost {
  name: string;
  ns: string;
  address: string;
}
export interface HostNet {
  bridge: string;
  /** This machine's address on the bridge. */
  gateway: string;
  hosts: NetHost[];
  /** Pids of the processes running in a host's namespace, with their command lines. */
  processes(h: NetHost): { pid: number; cmd: string }[];
  remove(): void;
}

const ip = (...args: string[]) => execFileSync('ip', args, { stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8' });

function cmdline(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ').trim();
  } catch {
    return '';
  }
}

export function createHostNet(tag: string, names: string[]): HostNet {
  const id = `${tag}${process.pid % 10000}`;
  const net = `198.19.${process.pid % 250}`;
  const bridge = `plb${id}`.slice(0, 15);
  const hosts = names.map((name, i) => ({ name, ns: `pallas-${id}-${name}`, address: `${net}.${10 + i}` }));
  const pids = (h: NetHost) => {
    try {
      return ip('netns', 'pids', h.ns).split('\n').filter(Boolean).map(Number);
    } catch {
      return [];
    }
  };
  const hn: HostNet = {
    bridge,
    gateway: `${net}.1`,
    hosts,
    processes: (h) =>
      pids(h)
        .map((pid) => ({ pid, cmd: cmdline(pid) }))
        .filter((p) => p.cmd !== ''),
    remove() {
      for (const h of hosts) {
        for (const pid of pids(h)) {
          try {
            process.kill(pid, 'SIGKILL');
          } catch {
            /* gone */
          }
        }
        try {
          ip('netns', 'del', h.ns);
        } catch {
          /* already gone */
        }
      }
      try {
        ip('link', 'del', bridge);
      } catch {
        /* already gone */
      }
    },
  };
  hn.remove();
  try {
    ip('link', 'add', bridge, 'type', 'bridge');
    ip('addr', 'add', `${hn.gateway}/24`, 'dev', bridge);
    ip('link', 'set', bridge, 'up');
    hosts.forEach((h, i) => {
      const outer = `pv${id}x${i}`.slice(0, 15),
        inner = `pn${id}x${i}`.slice(0, 15);
      ip('netns', 'add', h.ns);
      ip('link', 'add', outer, 'type', 'veth', 'peer', 'name', inner);
      ip('link', 'set', inner, 'netns', h.ns);
      ip('-n', h.ns, 'link', 'set', inner, 'name', 'eth0');
      ip('-n', h.ns, 'addr', 'add', `${h.address}/24`, 'dev', 'eth0');
      for (const dev of ['lo', 'eth0']) ip('-n', h.ns, 'link', 'set', dev, 'up');
      ip('link', 'set', outer, 'master', bridge);
      ip('link', 'set', outer, 'up');
    });
    return hn;
  } catch (e) {
    hn.remove();
    throw e;
  }
}
