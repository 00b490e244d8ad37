import type { SearchHit, SearchPlan, SearchType } from '../../db/repositories/search.repository.ts'
import { bySearchRank } from './ranking.ts'

/**
 * Texts equal to the query, when thousands of texts are ("Untitled", "Intro"). Such a title defeats the
 * bands: its own band settles the page, but the band's statement fetches, rechecks and scores every text in
 * it holding the words, every equal one included (380 ms for "untitled" at a million releases). No text
 * scores above 1 and ties go by id, so when a type has a page of texts scoring 1, its first ones by id are
 * its best hits exactly, and reading rows in id order finds them within a few thousand rows
 * (SearchRepository.equalTexts).
 */

/**
 * A text that a band's statement fetches costs about as much as this many rows read in id order (at a
 * million releases: 5 µs per "untitled" fetched, rechecked and scored; 0.5–1 µs per row read and
 * filtered), so the rows are read only when the band would fetch at least 1/this as many texts; on a small
 * catalog the band is cheaper ("intro" at 5,000 releases: 40 tracks, 1.7 ms, against 12 ms reading 12,000 rows).
 */
export const BAND_TEXT_COST = 4

/**
 * The types whose texts equal to the query are read in id order before their bands: those whose statistics
 * (SearchPlan.equalTexts: the share and count of texts equal to the query) say that `take` of them turn up
 * within `scanRows` / 2 rows (the statement reads at most `scanRows`), and many enough that the band would
 * fetch at least 1/`bandTextCost` as many texts as those rows. A type without statistics is left to its
 * bands.
 */
export function typesReadInIdOrder(
  equalTexts: SearchPlan['equalTexts'],
  types: readonly SearchType[],
  take: number,
  costs: { scanRows: number; bandTextCost: number },
): SearchType[] {
  return types.filter((type) => {
    const equal = equalTexts[type]
    if (!equal) return false
    const rows = take / equal.share // to read in id order until `take` turn up
    return rows <= costs.scanRows / 2 && equal.count * costs.bandTextCost >= rows
  })
}

/**
 * Of the texts read in id order, those of the types where a whole page (`take`) turned up, ranked: those
 * types are done. A type with fewer (its statistics were off, or the page lies beyond the rows read) is
 * left to its bands, and its few are dropped: the bands find them again.
 */
export function wholePages(hits: readonly SearchHit[], take: number): SearchHit[] {
  const found = new Map<SearchType, SearchHit[]>()
  for (const hit of hits) found.set(hit.type, [...(found.get(hit.type) ?? []), hit])
  return [...found.values()]
    .filter((page) => page.length >= take)
    .flat()
    .sort(bySearchRank)
}
