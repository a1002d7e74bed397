// A subcommand's parsed options as the command functions read them: keyed by the long flag's name
// (`server-id`, `json`), strings exactly as typed (each command validates its numbers and names,
// with messages of its own), switches as booleans. Built by the commander program (program.ts).
import { PallasError } from '../errors.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- each command reads its own flags
export type Opts = { readonly [flag: string]: any };

/**
 * A numeric flag: undefined when not given, else an integer in [min, max], or a USAGE error that
 * names the flag.
 */
export function intFlag(flag: string, v: string | undefined, min: number, max = Number.MAX_SAFE_INTEGER): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isSafeInteger(n) || n < min || n > max) {
    const range = max < Number.MAX_SAFE_INTEGER ? `in [${min}, ${max}]` : `>= ${min}`;
    throw new PallasError('USAGE', `--${flag} must be an integer ${range}`);
  }
  return n;
}
