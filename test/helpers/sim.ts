// Runs one simulation (one system, one load) from a partial scenario document, through the same
// validation and native config as `pallas sim`.
import { loadNative, type NativeSimResult } from '../../lib/native.js';
import { nativeConfig, normaliseScenario } from '../../lib/sim/scenario.js';

export async function simulate(doc: Record<string, unknown>, seed = 1): Promise<NativeSimResult> {
  const sc = normaliseScenario({ seed, ...doc });
  return loadNative().runSim(nativeConfig(sc, sc.systems[0]!, sc.loads[0]!));
}

/** The mean over seeds of f(result). */
export async function overSeeds(doc: Record<string, unknown>, seeds: number[], f: (r: NativeSimResult) => number): Promise<number> {
  let sum = 0;
  for (const s of seeds) sum += f(await simulate(doc, s));
  return sum / seeds.length;
}

/** Erlang C: the probability that an arrival waits in M/M/k with offered load a = λ/μ. */
export function erlangC(k: number, a: number): number {
  let term = 1,
    sum = 0;
  for (let i = 0; i < k; i++) {
    sum += term;
    term *= a / (i + 1);
  }
  const top = term * (k / (k - a)); // aᵏ/k! · k/(k−a)
  return top / (sum + top);
}
