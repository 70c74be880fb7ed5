/**
 * Optimal string alignment distance (Levenshtein plus adjacent transpositions): the number of
 * single-character insertions, deletions, substitutions and swaps that turn `a` into `b`.
 */
export function editDistance(a: string, b: string): number {
  // Three rolling rows: the one before last is needed for transpositions.
  let before: number[] = []
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j)
  for (let i = 1; i <= a.length; i++) {
    const current = [i]
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1
      let best = Math.min(
        (previous[j] as number) + 1,
        (current[j - 1] as number) + 1,
        (previous[j - 1] as number) + cost,
      )
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1])
        best = Math.min(best, (before[j - 2] as number) + 1)
      current.push(best)
    }
    before = previous
    previous = current
  }
  return previous[b.length] as number
}

/**
 * The candidate closest to `input`, when it is close enough to be a typo of it: at most one edit
 * for short names, two for names of five characters or more, or `input` is a prefix of exactly
 * one candidate (`--show` for `--show-token`). `undefined` otherwise.
 */
export function closest(input: string, candidates: readonly string[]): string | undefined {
  const lower = input.toLowerCase()
  let best: string | undefined
  let bestDistance = Number.POSITIVE_INFINITY
  for (const candidate of candidates) {
    const distance = editDistance(lower, candidate.toLowerCase())
    if (distance < bestDistance) {
      best = candidate
      bestDistance = distance
    }
  }
  const allowed = lower.length >= 5 ? 2 : 1
  if (best !== undefined && bestDistance <= allowed && bestDistance < lower.length) return best
  const prefixed = lower.length >= 3 ? candidates.filter((c) => c.toLowerCase().startsWith(lower)) : []
  return prefixed.length === 1 ? prefixed[0] : undefined
}
