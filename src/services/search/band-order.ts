/**
 * In which order search reads the bands of text length (src/db/trigram-bands.ts), and when it stops, so
 * that the best matches of a common word are found without scoring every title that contains it.
 *
 * A title of n trigrams can be only so similar to a query of q trigrams: pg_trgm's similarity is
 * shared / (q + n − shared) ≤ min(q, n) / max(q, n), and its word similarity counts the query's trigrams
 * found in the title, ≤ min(q, n) / q. So the bands can be searched in order of the best score they could
 * hold, stopping as soon as the k best found beat every band left: "love" reads the band of short titles
 * first and usually stops there, where one index over all titles had to fetch and score every title
 * holding "love" before it could take ten.
 */

import { TRIGRAM_BANDS, type TrigramBand } from '../../db/trigram-bands.ts'

/**
 * The highest search score (the mean of similarity and word similarity) a text of `n` trigrams can reach
 * against a query of `q`: n / q below q (both similarities at most n / q), (1 + q / n) / 2 from q on.
 */
export function searchScoreBound(q: number, n: number): number {
  if (q <= 0) return 0
  return n < q ? n / q : (1 + q / n) / 2
}

/** The band's best possible score: the bound rises up to n = q and falls after, so its peak is at q clamped into the band. */
export function bandScoreBound(q: number, band: TrigramBand): number {
  return searchScoreBound(q, Math.max(band.lo, band.hi === null ? q : Math.min(q, band.hi)))
}

/** The bands in the order to search them: best possible score first. */
export function bandsByBound(q: number): { band: TrigramBand; bound: number }[] {
  return TRIGRAM_BANDS.map((band) => ({ band, bound: bandScoreBound(q, band) }))
    .filter((b) => b.bound > 0)
    .sort((a, b) => b.bound - a.bound || a.band.lo - b.band.lo)
}

/**
 * Scores are rounded to 4 decimals and computed in float4, so a row whose exact score is at the bound may
 * show up to this much above it.
 */
const SCORE_SLACK = 1e-4

/** True when the `want` best hits so far (sorted best first) beat anything a band bounded by `bound` could hold. */
export function isSettled(best: readonly { score: number }[], want: number, bound: number): boolean {
  return best.length >= want && best[want - 1].score > bound + SCORE_SLACK
}
