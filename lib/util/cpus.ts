// The CPUs this process may run on: its affinity (taskset, cgroup cpusets), not all the machine has.
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';

/** The CPUs this process may run on, lowest first (Linux: Cpus_allowed_list; elsewhere the first availableParallelism()). */
export function allowedCpus(): number[] {
  try {
    const line = /^Cpus_allowed_list:\s*(.+)$/m.exec(readFileSync('/proc/self/status', 'utf8'))?.[1];
    if (line) {
      const cpus = line.split(',').flatMap((r) => {
        const [a, b] = r.split('-').map(Number);
        return b === undefined ? [a!] : Array.from({ length: b - a! + 1 }, (_, i) => a! + i);
      });
      if (cpus.length && cpus.every(Number.isInteger)) return cpus;
    }
  } catch {
    // not Linux
  }
  return Array.from({ length: availableParallelism() }, (_, i) => i);
}
