// Polling until a condition holds, for tests of things that run on their own threads or processes.
// A loaded machine delays them, not their logic: the bound is generous and the poll cheap.

/** Polls `pred` every `everyMs` until it holds; resolves to the ms it took, or throws naming `what` after `ms`. */
export async function waitFor(pred: () => boolean | Promise<boolean>, what: string, ms = 10_000, everyMs = 2): Promise<number> {
  const t0 = performance.now();
  while (!(await pred())) {
    if (performance.now() - t0 > ms) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
  return performance.now() - t0;
}
