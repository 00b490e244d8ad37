import {
  EXACT_SCAN_ROWS,
  SEARCH_TYPES,
  SearchRepository,
  type PassStatement,
  type SearchHit,
  type SearchPlan,
  type SearchType,
} from '../db/repositories/search.repository.ts'
import type { Queryable } from '../db/sql.ts'
import { BadInputError } from '../errors.ts'
import { bandsByBound, isSettled } from './search/band-order.ts'
import { BAND_TEXT_COST, typesReadInIdOrder, wholePages } from './search/equal-texts.ts'
import {
  CAPPED_CANDIDATES,
  ENOUGH_HITS,
  isLastPass,
  passQueries,
  searchPasses,
  type SearchPass,
} from './search/passes.ts'
import { bySearchRank, mergeHits } from './search/ranking.ts'

export { SEARCH_TYPES, type SearchHit, type SearchType }

export interface SearchOptions {
  /** candidates scored per band and type by a capped search pass (SearchPass.capped; CAPPED_CANDIDATES) */
  candidateCap?: number
  /**
   * false: each search pass is one statement over all bands, scoring every candidate (what the banded
   * search must equal: the tests' reference, and bench:search's baseline)
   */
  banded?: boolean
  /** BAND_TEXT_COST (a test sets it high to take texts equal to the query in id order from a small catalog) */
  bandTextCost?: number
}

/** A page asks for at most this many hits. */
export const SEARCH_PAGE_MAX = 50

/**
 * Search results end here: a page's statements fetch every hit before it (offset + page per band and type),
 * so a deep offset into a common word would make one request score and hold a large share of the catalog.
 */
export const SEARCH_DEPTH = 1000

/** A query's length in characters, once trimmed. */
export const SEARCH_QUERY_LENGTH = { min: 2, max: 200 }

/**
 * How many hits a page of `first` hits after `offset` reads: the page, cut at SEARCH_DEPTH, and one hit
 * more where results go on past it, which tells whether a next page exists.
 */
export function searchWindow(first: number, offset: number): { first: number; read: number } {
  const cut = Math.min(first, SEARCH_DEPTH - offset)
  return { first: cut, read: cut + (offset + cut < SEARCH_DEPTH ? 1 : 0) }
}

/**
 * The catalog's ranked, typo-tolerant search over artist and label names, master, release and track
 * titles (docs/architecture.md, "Catalog search"). The policy is here and in src/services/search/: the
 * passes and when to stop (passes.ts), the order of the bands of text length and when a pass is settled
 * (band-order.ts), when texts equal to the query are read in id order (equal-texts.ts), how hits are ranked
 * and merged (ranking.ts). SearchRepository runs the statements.
 *
 * Built over the Queryable its statements are to run on: the API gives it each request's counting one, so a
 * search's statements are counted with the request's and prepared on its connection.
 */
export class SearchService {
  private readonly repo: SearchRepository

  constructor(
    db: Queryable,
    private readonly options: SearchOptions = {},
  ) {
    this.repo = new SearchRepository(db)
  }

  /**
   * A page of search: `first` hits after the first `offset`, of the `types` asked for (all when none),
   * and whether another page follows. The query is trimmed; it needs SEARCH_QUERY_LENGTH characters,
   * the page at most SEARCH_PAGE_MAX hits, and results end at SEARCH_DEPTH.
   */
  async page(input: {
    query: string
    types?: readonly SearchType[] | null
    first: number
    offset: number
  }): Promise<{ hits: SearchHit[]; hasNextPage: boolean }> {
    const query = input.query.trim()
    if (query.length < SEARCH_QUERY_LENGTH.min)
      throw new BadInputError(`must have at least ${SEARCH_QUERY_LENGTH.min} characters`, 'query')
    if (query.length > SEARCH_QUERY_LENGTH.max)
      throw new BadInputError(`must have at most ${SEARCH_QUERY_LENGTH.max} characters`, 'query')
    if (input.first < 1 || input.first > SEARCH_PAGE_MAX)
      throw new BadInputError(`must be between 1 and ${SEARCH_PAGE_MAX}`, 'first')
    if (input.offset >= SEARCH_DEPTH)
      throw new BadInputError(`search results end at ${SEARCH_DEPTH}: narrow the query or its types`, 'after')
    const { first, read } = searchWindow(input.first, input.offset)
    const types = input.types?.length ? [...new Set(input.types)] : SEARCH_TYPES
    const hits = await this.search(query, types, read, input.offset)
    return { hits: hits.slice(0, first), hasNextPage: hits.length > first }
  }

  /**
   * Ranked, typo-tolerant search, in passes (src/services/search/passes.ts) until one finds ENOUGH_HITS: a
   * text is a candidate when it contains every word of the query as typed (src/db/search-words.ts says
   * why words); then every word or a dictionary word like it (SearchRepository.wordAlternatives); then most
   * of the words. A query of only short words ("dj", "x") wants them all. Passes wanting fewer words, and
   * short words, score at most `candidateCap` candidates per band and type, so on a large catalog they rank
   * a sample. Candidates are scored by the mean of trigram similarity and word similarity (1 = exact
   * match), so a whole-title match outranks a title that merely contains the words, and ranked by score,
   * type, id. Hits `offset` to `offset + limit`.
   */
  search(query: string, types: readonly SearchType[], limit: number, offset: number): Promise<SearchHit[]> {
    return this.repo.withSearchSettings((repo) => this.inPasses(repo, query, types, limit, offset))
  }

  private async inPasses(
    repo: SearchRepository,
    query: string,
    types: readonly SearchType[],
    limit: number,
    offset: number,
  ): Promise<SearchHit[]> {
    const plan = await repo.searchPlan(query, types)
    if (plan.words.length === 0 && plan.shortWords.length === 0) return [] // no letter or digit
    const take = Math.max(limit + offset, ENOUGH_HITS)
    let likes: string[][] | null = null
    let hits: SearchHit[] = []
    for (const pass of searchPasses(plan.words.length, plan.known)) {
      if (pass.likes !== 'none') likes ??= await repo.wordAlternatives(plan.words)
      const queries = passQueries(pass, plan, likes ?? [])
      if (queries === null) continue
      hits = mergeHits(hits, await this.searchPass(repo, plan, { query, take, queries, pass }, types), take)
      if (isLastPass(pass, hits)) break
    }
    return hits.slice(offset, offset + limit)
  }

  /**
   * The best `take` candidates of one pass: the same hits as scoring every candidate, found band by band
   * (src/services/search/band-order.ts). Each round reads the next band of every type, until the best so
   * far beat all a band left could hold; only those make the page, whatever their type, so a common word
   * reads a band or two of short titles instead of every title that contains it.
   */
  private async searchPass(
    repo: SearchRepository,
    plan: SearchPlan,
    p: { query: string; take: number; queries: string[]; pass: SearchPass },
    types: readonly SearchType[],
  ): Promise<SearchHit[]> {
    const { query, take, pass } = p
    const statement: PassStatement = {
      query,
      take,
      queries: p.queries,
      wordSets: pass.wordSets,
      cap: pass.capped ? (this.options.candidateCap ?? CAPPED_CANDIDATES) : null,
    }
    if (this.options.banded === false) return repo.passHits(statement, types)
    // the words as typed: types whose texts often equal the query take their page in id order
    let best =
      pass.likes === 'none' && !pass.capped ? await this.equalTexts(repo, query, plan, types, take) : []
    const settled = new Set(best.map((h) => h.type))
    const rest = types.filter((type) => !settled.has(type))
    for (const { band, bound } of bandsByBound(plan.trigrams)) {
      if (rest.length === 0 || isSettled(best, take, bound)) break
      best = [...best, ...(await repo.bandHits(statement, rest, band))].sort(bySearchRank).slice(0, take)
    }
    return best
  }

  /**
   * The best `take` hits of each type whose statistics say that texts equal to the query are common
   * enough to read in id order (typesReadInIdOrder), for the types where that many did turn up; the other
   * types are left to the bands.
   */
  private async equalTexts(
    repo: SearchRepository,
    query: string,
    plan: SearchPlan,
    types: readonly SearchType[],
    take: number,
  ): Promise<SearchHit[]> {
    const dense = typesReadInIdOrder(plan.equalTexts, types, take, {
      scanRows: EXACT_SCAN_ROWS,
      bandTextCost: this.options.bandTextCost ?? BAND_TEXT_COST,
    })
    if (dense.length === 0) return [] // also without words: the plan then has no equal texts
    return wholePages(await repo.equalTexts(query, take, plan.words, plan.trigrams, dense), take)
  }
}
