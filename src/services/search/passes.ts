import type { SearchPlan } from '../../db/repositories/search.repository.ts'

/**
 * Which of a query's words a title must contain, pass by pass, and the tsqueries that say so. Search first
 * wants every word as typed; a query that finds fewer than ENOUGH_HITS that way is searched again letting
 * each word match the dictionary's words like it too (a typo: "persuadr" finds "persuader"), then wanting
 * all words but one, then all but two, down to half of them (a pasted title whose version differs: "Can't
 * Get Enough (Extended Version)" where the catalog has "Can't Get Enough"), the words the dictionary lacks
 * still with their likes. Whether to go on depends only on the first hits found (isLastPass), not on the
 * page asked for, so the pages of one query are pages of one ranking.
 */

/** A pass that finds at least this many hits is the last (for a capped pass, hits scoring RELAXED_ENOUGH_SCORE). */
export const ENOUGH_HITS = 10

/**
 * A capped pass (one wanting fewer words than the query has) is the last only when the page's
 * ENOUGH_HITS-th hit scores at least this. Its hits hold most of the words, not all: when even ten of them
 * score this low, they are long texts that happen to hold those words, and the text the query names may
 * hold fewer of them. A pasted "Can't Get Enough (Extended Version)" found ten copies of a medley holding
 * "Can … Get Enough … Version" (0.30) and stopped; the next pass finds the song (0.52). Good hits of a
 * pasted title score 0.5 and more.
 */
export const RELAXED_ENOUGH_SCORE = 0.4

/**
 * Whether search stops after `pass`, given the page so far (hits of every pass until now, best first).
 * Depends on the first ENOUGH_HITS hits only, never on the page asked for, so that the pages of one query
 * are pages of one ranking.
 */
export function isLastPass(pass: SearchPass, hits: readonly { score: number }[]): boolean {
  if (hits.length < ENOUGH_HITS) return false
  return !pass.capped || hits[ENOUGH_HITS - 1].score >= RELAXED_ENOUGH_SCORE
}

/**
 * A pass is the OR of its word sets (each an AND of words); one with more sets than this is not tried:
 * each set is an index scan per band and type.
 */
export const MAX_WORD_SETS = 64

export interface SearchPass {
  /** a title must contain every word of one of these sets (indexes into the query's words) */
  wordSets: number[][]
  /** which words also match the dictionary's words like them (passExpressions) */
  likes: WordLikes
  /**
   * Whether the pass scores only the first CAPPED_CANDIDATES candidates per band and type: the passes that
   * match fewer words than the query has, and short words. Their candidates are the titles holding any of
   * a few words, common ones too, and their best scores are low, so the bands do not stop them early:
   * uncapped, "deep house" (no title holds both) scored every title holding either, 467 ms on a million
   * releases, and a query of short words ("dj") every title with a word starting with d (by trigrams).
   */
  capped: boolean
}

/**
 * See SearchPass.capped. 500 per band since the bands of migration 1765300000000 split the earlier ones about
 * in two: at a million releases (the fixture's titles) the pasted title took 152–160 ms and "deep house"
 * 102–104 with 1,000 per band, 119–121 and 66–68 with 500, against 145 and 74 with the earlier bands.
 */
export const CAPPED_CANDIDATES = 500

/**
 * The passes for a query of `n` words. `known`: every word is in the dictionary (otherwise the words as
 * typed find nothing the next pass would not, and that pass is skipped). The word sets' sizes go from n
 * down to ⌈n / 2⌉ (at least 1). A query without words (all shorter than the dictionary's: "dj", "DJ K")
 * has one capped pass wanting its short words, all of them, which the caller gives as word 0.
 */
export function searchPasses(n: number, known: boolean): SearchPass[] {
  if (n === 0) return [{ wordSets: [[0]], likes: 'none', capped: true }]
  const passes: SearchPass[] = []
  if (known) passes.push({ wordSets: combinations(n, n), likes: 'none', capped: false })
  passes.push({ wordSets: combinations(n, n), likes: 'all', capped: false })
  for (let keep = n - 1; keep >= Math.max(1, Math.ceil(n / 2)); keep--) {
    const wordSets = combinations(n, keep)
    if (wordSets.length > MAX_WORD_SETS) break
    passes.push({ wordSets, likes: 'unknown', capped: true })
  }
  return passes
}

/**
 * Which words match the dictionary's words like them too: none (the words as typed), all (the typo
 * pass), or only those the dictionary lacks (the passes wanting fewer words). A word the dictionary has
 * is spelt as some title spells it, and the typo pass has already looked for its likes with every word
 * kept; with likes, each kept word reads the index lists of its likes too, and the relaxed passes are the
 * costliest (a million releases, with the trigram indexes of the time: the 3-of-5 pass of "I Will Love
 * Again (Radio Edit)" read the long titles' band in 112–122 ms with likes, 61–64 without; the search took
 * 385 ms, 254 without, with the same hits).
 */
export type WordLikes = 'none' | 'all' | 'unknown'

/**
 * What each of the query's `words` matches in `pass`: the word alone, or its alternatives in `likes` (the
 * word and the dictionary's words like it, per word in the same order) where the pass wants likes for it;
 * `unknown`: the words the dictionary lacks.
 */
export function passExpressions(
  pass: SearchPass,
  words: readonly string[],
  unknown: readonly string[],
  likes: readonly (readonly string[])[],
): string[][] {
  return words.map((w, i) =>
    pass.likes === 'all' || (pass.likes === 'unknown' && unknown.includes(w)) ? [...likes[i]] : [w],
  )
}

/**
 * A word the dictionary lacks, of at least this many letters, also matches the words it begins: it may be
 * a word being typed ("horiz" finds "Horizons"). Only such words: a prefix costs the whole lists of the
 * words it begins, since GIN collects them into a bitmap before it intersects anything (it skips through a
 * whole word's list led by a rarer word's), and a common word's lists are long. At 8M releases, with a
 * prefix for every word of 5 letters or more, "I Will Love Again (Radio Edit)" took 11.9 s: "radio:*" in
 * the long titles' band collected more than work_mem held, the bitmap went lossy and 1.6M titles were
 * rechecked. A word the dictionary has is matched whole; its longer forms come with its likes when it
 * finds too few ("horizons" for "horizon").
 */
export const PREFIX_MIN_LENGTH = 5

/**
 * The tsquery text matching any of `alternatives` (a query word first, then its likes; letters and digits
 * only, so nothing to quote), the first also as a prefix when `prefix` and it is long enough.
 */
export function wordQuery(alternatives: readonly string[], prefix: boolean): string {
  return alternatives
    .map((w, i) => (i === 0 && prefix && w.length >= PREFIX_MIN_LENGTH ? `${w}:*` : w))
    .join(' | ')
}

/**
 * The tsqueries of `pass` ($3… of its statements, one per word of the plan; wordQuery), given the words'
 * `likes` (the dictionary's words like each, SearchRepository.wordAlternatives; empty until a pass wants
 * them); null when the pass would search the words as typed again, which finds nothing new (the typo pass
 * when no word has a like). A query of short words only wants them all, as one word (searchPasses).
 */
export function passQueries(
  pass: SearchPass,
  plan: Pick<SearchPlan, 'words' | 'known' | 'unknown' | 'shortWords'>,
  likes: readonly (readonly string[])[],
): string[] | null {
  if (plan.words.length === 0) return [plan.shortWords.join(' & ')]
  const alternatives = passExpressions(pass, plan.words, plan.unknown, likes)
  if (pass.likes === 'all' && plan.known && alternatives.every((a) => a.length === 1)) return null
  return alternatives.map((a, i) => wordQuery(a, plan.unknown.includes(plan.words[i])))
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
