import { UnavailableError } from '../../errors.ts'
import { GENERIC_PLAN_SETTINGS, isLockNotAvailable, withSettings, type Queryable } from '../sql.ts'
import { MAX_WORD_LENGTH, MIN_WORD_LENGTH, WORD_SEPARATOR_SQL, wordsVectorSql } from '../search-words.ts'
import { bandCondition, searchView, trigramCountColumn, type TrigramBand } from '../trigram-bands.ts'

/**
 * The catalog search's statements, and nothing else: how a query is searched (searchPlan), the
 * dictionary's words like a query's (wordAlternatives), one pass's best hits in one band of text length or
 * in all of them, and the texts equal to the query in id order, each run as it is asked. Which passes run,
 * in which order the bands are read and when search stops is the search service's
 * (src/services/search.service.ts); only the settings search's statements need, and the error a locked
 * search view becomes, are here.
 */

export type SearchType = 'ARTIST' | 'LABEL' | 'MASTER' | 'RELEASE' | 'TRACK'

/**
 * Each searchable text: its table and column, and the view search reads it from in bands of its trigram
 * count (trigramCountColumn(text)): a narrow copy sorted by that count (migration 1765200000000), so a
 * band's candidates lie together instead of one per page of the table. The importer rebuilds the views
 * (SearchMaintenanceRepository.rebuildSearchViews, or refreshSearchViews in a bulk import); rows written
 * otherwise are found once the views are rebuilt.
 */
export const SEARCHABLE: Record<SearchType, { table: string; text: string; view: string }> = {
  ARTIST: { table: 'artist', text: 'name', view: searchView('artist') },
  LABEL: { table: 'label', text: 'name', view: searchView('label') },
  MASTER: { table: 'master', text: 'title', view: searchView('master') },
  RELEASE: { table: 'release', text: 'title', view: searchView('release') },
  TRACK: { table: 'track', text: 'title', view: searchView('track') },
}

/** Every searchable type, what a search without a type filter searches. */
export const SEARCH_TYPES = Object.keys(SEARCHABLE) as SearchType[]

export interface SearchHit {
  type: SearchType
  id: number
  text: string
  score: number
}

export interface SearchPlan {
  /** pg_trgm's count of the query's trigrams */
  trigrams: number
  /** the query's words (3 to 100 letters and digits, lower-cased), each once, in order; at most MAX_QUERY_WORDS */
  words: string[]
  /** every word is in the dictionary */
  known: boolean
  /** the words the dictionary lacks (in `words`' order) */
  unknown: string[]
  /** the query's words shorter than the dictionary's, each once: what a query without `words` wants */
  shortWords: string[]
  /**
   * Per type, how many of its texts equal the query (score 1) as far as the planner's statistics know: the
   * summed frequencies of its most common values scoring 1 (share), times its rows (count). Absent where
   * none does, or before an ANALYZE; only asked where the words as typed are searched.
   */
  equalTexts: Partial<Record<SearchType, { share: number; count: number }>>
}

/**
 * At most this many of a query's words are matched, the longest (the likeliest to be rare). A 200-character
 * query holds up to 50 words, and a relaxed pass over 50 wants 50 sets of 49 expressions per band and
 * type: tens of thousands of conditions in one search. 8 words at most make 56 sets of 5.
 */
export const MAX_QUERY_WORDS = 8

/** How like a query's word a dictionary word must be to be searched for it (pg_trgm similarity). */
export const TYPO_SIMILARITY = 0.5
/** At most this many of the dictionary's words like a query's word are searched for it, the likest. */
export const TYPO_ALTERNATIVES = 5

/**
 * Only words of this many letters or more are looked up for their likes. One typo (a letter inserted,
 * left out, replaced or swapped) leaves a shorter word TYPO_SIMILARITY from the word meant in 1.4% (3
 * letters) and 2.7% (4 letters) of cases, against 14% for 5 letters and 53% for 6 (every single edit of 3,000
 * random words each); and a short word's trigrams are the dictionary's longest lists: with 4.6M words,
 * "can" took 239 ms, "love" 146, "enough" 5.
 */
export const TYPO_MIN_LENGTH = 5

/**
 * How long search waits for a search view that an import locks before it answers UnavailableError: an
 * import swaps a rebuilt view in within a moment (SearchMaintenanceRepository.swapSearchView gives way to
 * searches after SWAP_LOCK_TIMEOUT_MS), but a bulk import refreshes its views in place, for seconds at a
 * million releases and minutes at the full dump; each waiting search holds a pooled connection, and a pool
 * of waiting searches would stall every other request too.
 */
export const SEARCH_LOCK_TIMEOUT_MS = 2000

/**
 * The memory a search statement's bitmap of candidates may take before it goes lossy: a lossy bitmap holds
 * pages instead of rows, and every text on those pages is read and its words computed again to recheck
 * them. At 8M releases "deep house" took 255–268 ms with PostgreSQL's default (4 MB), where a band of
 * 137k candidates went half lossy and 27k texts were rechecked to score 500, and 99–115 ms with this.
 * Each type's scan of a band statement may take this much, five at most, per searching connection.
 */
export const SEARCH_WORK_MEM = '16MB'

/**
 * What search's statements run with (withSettings). Generic plans: a search's statements differ only in
 * their values, and a custom plan of one estimates every word's condition for every band's index, which
 * cost more than running it (GENERIC_PLAN_SETTINGS). `%`'s threshold at TYPO_SIMILARITY:
 * the dictionary's index then hands over only words that can be that like, where at its default (0.3) it
 * handed over 20 times as many to recheck (876k words: "love" 53 → 19 ms, "again" 21 → 7 ms). No statement
 * outside search uses `%` (on the embedded database the setting is the session's while search runs).
 */
const SEARCH_SETTINGS = [
  ...GENERIC_PLAN_SETTINGS,
  `work_mem = '${SEARCH_WORK_MEM}'`,
  `pg_trgm.similarity_threshold = ${TYPO_SIMILARITY}`,
  `lock_timeout = '${SEARCH_LOCK_TIMEOUT_MS}ms'`,
]

/** Search's score of `text` against the query $1: the mean of trigram similarity and word similarity, 1 for an equal text. */
export function scoreSql(text: string): string {
  return `round(((similarity(${text}, $1) + word_similarity($1, ${text})) / 2)::numeric, 4)::float8`
}

/** `text` holds every one of the given words (indexes into $3…, each a tsquery: a word or its likes, wordQuery). */
function containsSql(text: string, words: readonly number[]): string {
  return words.map((i) => `${wordsVectorSql(text)} @@ $${i + 3}::tsquery`).join(' AND ')
}

/**
 * Per type asked for ($2), SearchPlan.equalTexts from the planner's statistics (pg_stats, one lookup per
 * type: joined on the names instead, the view scanned all of pg_attribute, 7 ms).
 */
function equalTextsSql(): string {
  return SEARCH_TYPES.map(
    (type) => `SELECT '${type}' AS type, sum(m.f)::float8 AS share,
            sum(m.f)::float8 * (SELECT reltuples FROM pg_class WHERE oid = '${SEARCHABLE[type].table}'::regclass) AS count
       FROM pg_stats p CROSS JOIN LATERAL unnest(p.most_common_vals::text::text[], p.most_common_freqs) AS m (v, f)
      WHERE '${type}' = ANY($2::text[]) AND p.schemaname = current_schema() AND p.tablename = '${SEARCHABLE[type].table}'
        AND p.attname = '${SEARCHABLE[type].text}' AND ${scoreSql('m.v')} = 1
     HAVING count(*) > 0`,
  ).join(' UNION ALL ')
}

/**
 * At most this many rows of a type are read in id order looking for texts equal to the query
 * (exactTextsSql); a type is read so only when its statistics say that a page of them should turn up
 * within half as many.
 */
export const EXACT_SCAN_ROWS = 30_000

/**
 * One type's texts that equal the query (score 1, which needs as many trigrams as the query's, $N) and
 * contain every word ($3…, the words as typed), the first $2 by id among its first EXACT_SCAN_ROWS rows.
 * When $2 turn up, they are that type's best $2 hits exactly: no text scores above 1, and ties go by id.
 * This is for titles that thousands of texts equal ("Untitled", "Intro"): their band holds every one of
 * them, and the band's statement fetched, rechecked and sorted them all (a million releases: 380 ms for
 * "untitled"), where reading rows in id order finds the first ten within a few thousand rows.
 */
function exactTextsSql(type: SearchType, words: number): string {
  const s = SEARCHABLE[type]
  // a text equal to the query contains each word (letters and digits: a regular expression of itself), a
  // cheaper test than its score, which decides
  const contains = Array.from({ length: words }, (_, i) => `${s.text} ~* $${i + 3}`).join(' AND ')
  return `(SELECT '${type}' AS type, id::float8 AS id, ${s.text} AS text, 1::float8 AS score
    FROM (SELECT id, ${s.text}, ${trigramCountColumn(s.text)} FROM ${s.table} ORDER BY id LIMIT ${EXACT_SCAN_ROWS}) first_rows
    WHERE ${trigramCountColumn(s.text)} = $${words + 3} AND ${contains} AND ${scoreSql(s.text)} = 1
    ORDER BY first_rows.id LIMIT $2)`
}

/**
 * One type's best hits within one band (all bands when `band` is null: the unbanded search the tests
 * compare with) as `type, id, text, score`, best first, at most $2. $1 is the query, $3… one tsquery per
 * word (wordQuery: the word, or it and its likes): the text must hold every word of one of `wordSets`
 * (indexes into them). `cap`: at most this many candidates are scored (SearchPass.capped), the first the
 * index hands over.
 */
function searchTypeSql(
  type: SearchType,
  band: TrigramBand | null,
  wordSets: readonly (readonly number[])[],
  cap: number | null = null,
): string {
  const s = SEARCHABLE[type]
  const inBand = band === null ? 'true' : bandCondition(trigramCountColumn(s.text), band)
  const limit = cap === null ? '' : ` LIMIT ${cap}`
  const match = `(${wordSets.map((set) => `(${containsSql(s.text, set)})`).join(' OR ')})`
  const candidates = `SELECT id, ${s.text} AS text FROM ${s.view} WHERE ${inBand} AND ${match}${limit}`
  return `(SELECT '${type}' AS type, id::float8 AS id, text, ${scoreSql('text')} AS score
    FROM (${candidates}) candidates
    ORDER BY score DESC, id LIMIT $2)`
}

/** One search pass's statement: what its candidates must hold, and how many of them are scored. */
export interface PassStatement {
  /** the query as typed ($1), what every candidate is scored against */
  query: string
  /** at most this many hits per type ($2) */
  take: number
  /** one tsquery per word of the plan ($3…): a word, or it and its likes (src/services/search/passes.ts) */
  queries: readonly string[]
  /** a text must hold every word of one of these sets (indexes into `queries`) */
  wordSets: readonly (readonly number[])[]
  /** at most this many candidates are scored per band and type, the first the index hands over; null: all */
  cap: number | null
}

export class SearchRepository {
  constructor(private readonly db: Queryable) {}

  /**
   * Runs `fn` with search's settings (SEARCH_SETTINGS) on one connection of the pool, in a read-only
   * transaction where statements are prepared (withSettings), with a repository on that connection. A
   * search view that an import holds past SEARCH_LOCK_TIMEOUT_MS makes it UnavailableError.
   */
  async withSearchSettings<T>(fn: (repo: SearchRepository) => Promise<T>): Promise<T> {
    try {
      return await withSettings(this.db, SEARCH_SETTINGS, (db) =>
        fn(db === this.db ? this : new SearchRepository(db)),
      )
    } catch (err) {
      if (!isLockNotAvailable(err)) throw err
      throw new UnavailableError(
        `search is unavailable while an import rebuilds the search views (waited ${SEARCH_LOCK_TIMEOUT_MS} ms); try again when it ends`,
        { cause: err },
      )
    }
  }

  /**
   * How a query is searched: its trigram count (for the bands' bounds), its words (the MAX_QUERY_WORDS
   * longest: the score still weighs the whole query), whether the dictionary has them all, and for the
   * `types` searched, how common texts equal to it are (equalTexts).
   */
  async searchPlan(query: string, types: readonly SearchType[] = SEARCH_TYPES): Promise<SearchPlan> {
    const { rows } = await this.db.query<SearchPlan>(
      `WITH words AS (
         SELECT w FROM (SELECT DISTINCT w FROM regexp_split_to_table(lower($1), ${WORD_SEPARATOR_SQL}) AS w
                         WHERE length(w) BETWEEN ${MIN_WORD_LENGTH} AND ${MAX_WORD_LENGTH}) d
          ORDER BY length(w) DESC, w LIMIT ${MAX_QUERY_WORDS}),
       unknown AS (SELECT coalesce(array_agg(w ORDER BY w), '{}') AS words FROM words WHERE NOT EXISTS (SELECT 1 FROM search_word d WHERE d.word = words.w)),
       known AS (SELECT cardinality(unknown.words) = 0 AS known, unknown.words AS unknown FROM unknown)
       SELECT cardinality(show_trgm($1))::int AS trigrams,
              coalesce((SELECT array_agg(w ORDER BY w) FROM words), '{}') AS words,
              known.known, known.unknown,
              coalesce((SELECT array_agg(DISTINCT w) FROM regexp_split_to_table(lower($1), ${WORD_SEPARATOR_SQL}) AS w
                         WHERE length(w) BETWEEN 1 AND ${MIN_WORD_LENGTH - 1}), '{}') AS "shortWords",
              -- only where the words as typed are searched (an initplan runs when its value is needed)
              CASE WHEN known.known AND EXISTS (SELECT 1 FROM words)
                   THEN (SELECT json_object_agg(type, json_build_object('share', share, 'count', count)) FROM (${equalTextsSql()}) equal) END AS "equalTexts"
         FROM known`,
      [query, types],
    )
    rows[0].equalTexts ??= {}
    return rows[0]
  }

  /**
   * Per word, the word and the dictionary's words like it (trigram similarity ≥ TYPO_SIMILARITY, at most
   * TYPO_ALTERNATIVES, the likest first); a word shorter than TYPO_MIN_LENGTH has no likes. Asked only
   * when a pass needs it: on the full dump the dictionary's trigram lists are long enough that a query of
   * correctly spelt words should not pay for them.
   */
  async wordAlternatives(words: readonly string[]): Promise<string[][]> {
    const { rows } = await this.db.query<{ alternatives: string[] }>(
      `SELECT ARRAY[w] || ARRAY(
                SELECT d.word FROM search_word d
                 WHERE length(w) >= ${TYPO_MIN_LENGTH} AND d.word % w AND similarity(d.word, w) >= ${TYPO_SIMILARITY} AND d.word <> w
                 ORDER BY similarity(d.word, w) DESC, d.word LIMIT ${TYPO_ALTERNATIVES}) AS alternatives
         FROM unnest($1::text[]) WITH ORDINALITY AS u (w, i) ORDER BY i`,
      [words],
    )
    return rows.map((r) => r.alternatives)
  }

  /** Each of `types`' best hits of `pass` within `band` (unordered across types; each type's best first). */
  async bandHits(pass: PassStatement, types: readonly SearchType[], band: TrigramBand): Promise<SearchHit[]> {
    const sql = types.map((type) => searchTypeSql(type, band, pass.wordSets, pass.cap)).join(' UNION ALL ')
    return (await this.db.query<SearchHit>(sql, [pass.query, pass.take, ...pass.queries])).rows
  }

  /**
   * The best `pass.take` hits of `pass` in one statement over all bands, scoring every candidate, ranked:
   * what the banded search must equal (the tests' reference, bench:search's baseline).
   */
  async passHits(pass: PassStatement, types: readonly SearchType[]): Promise<SearchHit[]> {
    const sql = `SELECT * FROM (${types.map((type) => searchTypeSql(type, null, pass.wordSets, pass.cap)).join(' UNION ALL ')}) hits ORDER BY score DESC, type, id LIMIT $2`
    return (await this.db.query<SearchHit>(sql, [pass.query, pass.take, ...pass.queries])).rows
  }

  /**
   * Per type of `types`, its first `take` texts by id among its first EXACT_SCAN_ROWS rows that equal the
   * query (exactTextsSql), `words` being the plan's words as typed and `trigrams` the query's count.
   */
  async equalTexts(
    query: string,
    take: number,
    words: readonly string[],
    trigrams: number,
    types: readonly SearchType[],
  ): Promise<SearchHit[]> {
    const sql = types.map((type) => exactTextsSql(type, words.length)).join(' UNION ALL ')
    return (await this.db.query<SearchHit>(sql, [query, take, ...words, trigrams])).rows
  }
}
