// "Did you mean …?" for names typed by hand (scenario names, check names): the candidates within
// a small edit distance of what was typed, nearest first.

/** Levenshtein distance between a and b (insertions, deletions and substitutions cost 1). */
export function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = cur;
  }
  return prev[b.length]!;
}

/** The candidates at most max(2, a third of the typed length) edits away, nearest first (at most `n`). */
export function closest(typed: string, candidates: readonly string[], n = 3): string[] {
  const limit = Math.max(2, Math.floor(typed.length / 3));
  return candidates
    .map((c) => ({ c, d: editDistance(typed.toLowerCase(), c.toLowerCase()) }))
    .filter((x) => x.d <= limit)
    .sort((x, y) => x.d - y.d || x.c.localeCompare(y.c))
    .slice(0, n)
    .map((x) => x.c);
}
