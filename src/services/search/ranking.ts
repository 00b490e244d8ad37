import type { SearchHit } from '../../db/repositories/search.repository.ts'

/**
 * Search's order: best score first, then by type and id, as its statements order them (`ORDER BY score
 * DESC, type, id`; the type names are ASCII capitals, so JavaScript's string order is SQL's here).
 */
export function bySearchRank(a: SearchHit, b: SearchHit): number {
  return b.score - a.score || (a.type < b.type ? -1 : a.type > b.type ? 1 : a.id - b.id)
}

/**
 * The best `take` of two lists of hits, each hit once (by type and id): a capped pass scores a sample,
 * which need not hold the few hits an earlier pass found, so a pass's hits are merged with the earlier ones.
 */
export function mergeHits(a: readonly SearchHit[], b: readonly SearchHit[], take: number): SearchHit[] {
  const seen = new Set(a.map((h) => `${h.type}:${h.id}`))
  return [...a, ...b.filter((h) => !seen.has(`${h.type}:${h.id}`))].sort(bySearchRank).slice(0, take)
}
