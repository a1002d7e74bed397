import { readdirSync, readFileSync } from 'node:fs';

/** Processes whose command line contains `args` in order (from /proc: no procps needed). */
export function pidsOf(args: string[]): number[] {
  const want = args.join('\0');
  return readdirSync('/proc')
    .filter((d) => /^\d+$/.test(d))
    .filter((d) => {
      try {
        return readFileSync(`/proc/${d}/cmdline`, 'utf8').includes(want);
      } catch {
        return false; // gone meanwhile
      }
    })
    .map(Number);
}
