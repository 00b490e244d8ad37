/**
 * Which of a query's words a title must contain, pass by pass. Search first wants every word; a query
 * that finds fewer than ENOUGH_HITS that way (a pasted title whose version differs: "Can't Get Enough
 * (Extended Version)" where the catalog has "Can't Get Enough") is searched again wanting all words but
 * one, then all but two, down to half of them. Each pass's candidates include the previous pass's, and
 * whether to relax depends only on how many titles hold all the words, not on the page asked for, so the
 * pages of one query are pages of one ranking.
 */

/** A pass that finds at least this many hits is the last. */
export const ENOUGH_HITS = 10

/**
 * A pass is the OR of its word sets (each an AND of words); one with more sets than this is not tried:
 * each set is an index scan per band and type.
 */
export const MAX_WORD_SETS = 64

/**
 * The passes for a query of `n` words: each pass is a list of word sets (indexes into the words), every
 * set of its size; the sizes go from n down to ⌈n / 2⌉ (at least 1). A query without words (all shorter
 * than the dictionary's words) has one pass of one empty set: search then matches trigrams instead.
 */
export function relaxedPasses(n: number): number[][][] {
  if (n === 0) return [[[]]]
  const passes: number[][][] = []
  for (let keep = n; keep >= Math.max(1, Math.ceil(n / 2)); keep--) {
    const sets = combinations(n, keep)
    if (sets.length > MAX_WORD_SETS) break
    passes.push(sets)
  }
  return passes
}

/** Every k-element subset of 0…n−1, each ascending, in lexicographic order. */
export function combinations(n: number, k: number): number[][] {
  const out: number[][] = []
  const pick = (from: number, set: number[]) => {
    if (set.length === k) {
      out.push([...set])
      return
    }
    for (let i = from; i <= n - (k - set.length); i++) {
      set.push(i)
      pick(i + 1, set)
      set.pop()
    }
  }
  pick(0, [])
  return out
}
