import type { KeysetPage } from '../../api/pagination.ts'
import { UnavailableError } from '../../errors.ts'
import { GENERIC_PLAN_SETTINGS, isLockNotAvailable, withSettings, type Queryable } from '../sql.ts'
import {
  CAPPED_CANDIDATES,
  ENOUGH_HITS,
  isLastPass,
  passExpressions,
  searchPasses,
  type SearchPass,
} from '../search-relaxation.ts'
import {
  MAX_WORD_LENGTH,
  MIN_WORD_LENGTH,
  WORD_SEPARATOR_SQL,
  wordQuery,
  wordsVectorSql,
} from '../search-words.ts'
import {
  bandCondition,
  bandsByBound,
  isSettled,
  searchView,
  trigramCountColumn,
  type TrigramBand,
} from '../trigram-bands.ts'

/**
 * Every read of the catalog the API makes, batched: each function takes many parent keys and answers all
 * of them in one statement, so DataLoader turns N lookups of a request into one query per relation.
 * Lists that can grow without bound (an artist's releases, a style's releases) are paged per parent in
 * SQL with LATERAL + keyset; lists bounded by one record (a release's credits or tracks) are read whole.
 */

export type ArtistRole = 'MAIN' | 'CREDITED' | 'ANY'

export interface ReleaseFilter {
  styles?: string[] | null
  genres?: string[] | null
  yearFrom?: number | null
  yearTo?: number | null
  countries?: string[] | null
  labelId?: number | null
  includeSublabels?: boolean | null
  format?: string | null
  artistId?: number | null
  artistRole?: ArtistRole | null
  masterId?: number | null
}

/** What a paged release list hangs off; `null` for the root list. */
export type ReleaseParent =
  | { kind: 'artist'; role: ArtistRole }
  | { kind: 'label'; includeSublabels: boolean }
  | { kind: 'master' }
  | { kind: 'style' }
  | { kind: 'genre' }
  | null

export type Row = Record<string, unknown>

const ARTIST = `a.id, a.name, a.real_name AS "realName", a.profile, a.data_quality AS "dataQuality", a.urls,
  a.name_variations AS "nameVariations", a.missing_since_dump AS "missingSinceDump"`
const LABEL = `l.id, l.name, l.contact_info AS "contactInfo", l.profile, l.data_quality AS "dataQuality", l.urls,
  l.parent_id AS "parentId", l.parent_name AS "parentName", l.missing_since_dump AS "missingSinceDump"`
const MASTER = `m.id, m.title, m.main_release_id AS "mainReleaseId", m.year, m.notes, m.data_quality AS "dataQuality",
  m.missing_since_dump AS "missingSinceDump"`
const RELEASE = `r.id, r.title, r.status, r.country, r.released, r.year, r.notes, r.data_quality AS "dataQuality",
  r.master_id AS "masterId", r.is_main_release AS "isMainRelease", r.missing_since_dump AS "missingSinceDump"`
const TRACK = `t.id::float8 AS id, t.release_id AS "releaseId", t.track_key AS "trackKey", t.parent_id::float8 AS "parentId",
  t.sequence, t.position, t.title, t.duration_text AS "durationText", t.duration_s AS "durationS", t.type,
  t.missing_since_dump AS "missingSinceDump"`

/** snake_case → camelCase, for the row keys, computed once per table. */
const camelName = (k: string) => k.replace(/_([a-z])/g, (_, ch: string) => ch.toUpperCase())

/**
 * Child tables read whole per parent, in their stated order. Whitelist: table names are never user input.
 * `columns` are the table's columns as the migrations define them: rows travel as JSON arrays in this order
 * (see ROW_OF), so a column added to one of these tables reaches the API only once it is listed here.
 * `ref` names the entity a row links to; it is joined in the same statement (as `ref`), so a credit and its
 * artist cost one query, not two waves of queries.
 */
const ARTIST_REF = { column: 'artist_id', select: ARTIST, alias: 'a', table: 'artist' }
const LABEL_REF = (column: string) => ({ column, select: LABEL, alias: 'l', table: 'label' })
const CREDIT = (parent: string) => [
  parent,
  'ord',
  'artist_id',
  'name',
  'anv',
  'join_string',
  'role',
  'tracks',
]
const VIDEO = (parent: string) => [parent, 'ord', 'src', 'duration_s', 'embed', 'title', 'description']
const CHILDREN: Record<
  string,
  {
    parent: string
    order: string
    columns: string[]
    ref?: { column: string; select: string; alias: string; table: string }
  }
> = {
  release_artist: { parent: 'release_id', order: 'ord', columns: CREDIT('release_id'), ref: ARTIST_REF },
  release_credit: { parent: 'release_id', order: 'ord', columns: CREDIT('release_id'), ref: ARTIST_REF },
  release_label: {
    parent: 'release_id',
    order: 'ord',
    columns: ['release_id', 'ord', 'label_id', 'name', 'catno'],
    ref: LABEL_REF('label_id'),
  },
  release_series: {
    parent: 'release_id',
    order: 'ord',
    columns: ['release_id', 'ord', 'series_id', 'name', 'catno'],
    ref: LABEL_REF('series_id'),
  },
  release_format: {
    parent: 'release_id',
    order: 'ord',
    columns: ['release_id', 'ord', 'name', 'qty', 'text', 'descriptions'],
  },
  release_identifier: {
    parent: 'release_id',
    order: 'ord',
    columns: ['release_id', 'ord', 'type', 'description', 'value'],
  },
  release_company: {
    parent: 'release_id',
    order: 'ord',
    columns: ['release_id', 'ord', 'company_id', 'name', 'catno', 'entity_type', 'entity_type_name'],
    ref: LABEL_REF('company_id'),
  },
  release_video: { parent: 'release_id', order: 'ord', columns: VIDEO('release_id') },
  release_genre: { parent: 'release_id', order: 'genre', columns: ['release_id', 'genre'] },
  release_style: { parent: 'release_id', order: 'style', columns: ['release_id', 'style'] },
  master_artist: { parent: 'master_id', order: 'ord', columns: CREDIT('master_id'), ref: ARTIST_REF },
  master_video: { parent: 'master_id', order: 'ord', columns: VIDEO('master_id') },
  master_genre: { parent: 'master_id', order: 'genre', columns: ['master_id', 'genre'] },
  master_style: { parent: 'master_id', order: 'style', columns: ['master_id', 'style'] },
  track_artist: { parent: 'track_id', order: 'ord', columns: CREDIT('track_id'), ref: ARTIST_REF },
  track_credit: { parent: 'track_id', order: 'ord', columns: CREDIT('track_id'), ref: ARTIST_REF },
  artist_alias: {
    parent: 'artist_id',
    order: 'ord',
    columns: ['artist_id', 'ord', 'alias_id', 'alias_name'],
  },
  artist_member: {
    parent: 'group_id',
    order: 'ord',
    columns: ['group_id', 'ord', 'member_id', 'member_name'],
  },
  artist_group: {
    parent: 'artist_id',
    order: 'ord',
    columns: ['artist_id', 'ord', 'group_id', 'group_name'],
  },
  label_sublabel: {
    parent: 'label_id',
    order: 'ord',
    columns: ['label_id', 'ord', 'sublabel_id', 'sublabel_name'],
  },
  // A release's whole tracklist (top level and sub-tracks), in sequence.
  track: {
    parent: 'release_id',
    order: 'sequence',
    columns: [
      'id',
      'release_id',
      'track_key',
      'parent_id',
      'sequence',
      'position',
      'title',
      'duration_text',
      'duration_s',
      'type',
      'missing_since_dump',
    ],
  },
} satisfies Record<string, unknown>

/**
 * Per child table, a function from the row as a JSON array (its columns, then `ref`) to the row object,
 * compiled once: an object literal of constant keys builds each row in one step with a fixed shape, where a
 * loop over column names would add the keys one by one.
 */
const ROW_OF = Object.fromEntries(
  Object.entries(CHILDREN).map(([table, { columns, ref }]) => {
    const keys = [...columns.map(camelName), ...(ref ? ['ref'] : [])]
    // Keys come from the whitelist above, never from input.
    return [
      table,
      new Function('a', `return { ${keys.map((k, i) => `${k}: a[${i}]`).join(', ')} }`) as (
        a: unknown[],
      ) => Row,
    ]
  }),
) as Record<ChildTable, (a: unknown[]) => Row>

/**
 * A child table's lists as read. `unread` names keys of the linked row (`ref`) that no one will read: they
 * are left out of the JSON (an artist's profile, URLs and name variations are most of a credit's bytes).
 * Interned (see childList): one object per distinct list, `key` naming it.
 */
export interface ChildList {
  readonly table: ChildTable
  readonly unread: readonly string[]
  readonly key: string
}

const INTERNED_LISTS = new Map<string, ChildList>()

export function childList(table: ChildTable, unread: readonly string[] = []): ChildList {
  const key = unread.length ? `${table}-${unread.join(',')}` : table
  let list = INTERNED_LISTS.get(key)
  if (!list) INTERNED_LISTS.set(key, (list = { table, unread, key }))
  return list
}

/**
 * The pieces of SQL that read a list's rows as JSON arrays in ROW_OF's order (`c` is the child table, joined
 * to the entity its `ref` links to): `agg` is one parent's list, `parent` the column that names the parent.
 * Built once per list.
 */
const LIST_SQL = new Map<ChildList, { agg: string; from: string; parent: string }>()

function listSql(list: ChildList): { agg: string; from: string; parent: string } {
  let sql = LIST_SQL.get(list)
  if (!sql) {
    const { parent, order, columns, ref } = CHILDREN[list.table]
    const values = columns.map((c) => `c.${c}`)
    if (ref)
      values.push(
        `CASE WHEN ${ref.alias}.id IS NULL THEN NULL ELSE json_build_object(${jsonPairs(ref.select, list.unread)}) END`,
      )
    const join = ref ? ` LEFT JOIN ${ref.table} ${ref.alias} ON ${ref.alias}.id = c.${ref.column}` : ''
    LIST_SQL.set(
      list,
      (sql = {
        agg: `json_agg(json_build_array(${values.join(', ')}) ORDER BY c.${order})`,
        from: `${list.table} c${join}`,
        parent: `c.${parent}`,
      }),
    )
  }
  return sql
}

/**
 * A column `lists` holding the given child lists of the parent `parentId` names, as a JSON array with one
 * list of row arrays per ChildList (null for a parent without rows): the rows and their lists come in one
 * statement. Nothing when no list is asked for.
 */
function listsColumn(lists: readonly ChildList[], parentId: string): string {
  if (!lists.length) return ''
  const values = lists
    .map(listSql)
    .map(({ agg, from, parent }) => `(SELECT ${agg} FROM ${from} WHERE ${parent} = ${parentId})`)
  return `, json_build_array(${values.join(', ')}) AS lists`
}

/** Rows of child lists per list and parent id. */
export type ChildListMap = Map<ChildList, Map<number, Row[]>>

/**
 * Takes the `lists` column (see listsColumn) off each row into a ChildListMap, with an entry for every
 * list and row, empty lists included, so nothing asks for them again.
 */
function takeLists(rows: Row[], lists: readonly ChildList[]): { rows: Row[]; lists: ChildListMap } {
  const out: ChildListMap = new Map(lists.map((list) => [list, new Map()]))
  if (!lists.length) return { rows, lists: out }
  const taken = rows.map(({ lists: values, ...row }) => {
    lists.forEach((list, i) =>
      out
        .get(list)!
        .set(Number(row.id), ((values as (unknown[][] | null)[])[i] ?? []).map(ROW_OF[list.table])),
    )
    return row
  })
  return { rows: taken, lists: out }
}

export type ChildTable =
  | 'release_artist'
  | 'release_credit'
  | 'release_label'
  | 'release_series'
  | 'release_format'
  | 'release_identifier'
  | 'release_company'
  | 'release_video'
  | 'release_genre'
  | 'release_style'
  | 'master_artist'
  | 'master_video'
  | 'master_genre'
  | 'master_style'
  | 'track_artist'
  | 'track_credit'
  | 'artist_alias'
  | 'artist_member'
  | 'artist_group'
  | 'label_sublabel'
  | 'track'

/**
 * `a.x, a.y AS "z"` → `'x', a.x, 'z', a.y` for json_build_object, so embedded rows match the entity rows;
 * without the keys named in `unread`.
 */
function jsonPairs(select: string, unread: readonly string[]): string {
  return select
    .split(',')
    .map((part) => {
      const m = /^\s*(\w+\.\w+)(?:\s+AS\s+"(\w+)")?\s*$/.exec(part)
      if (!m) throw new Error(`unexpected select item: ${part}`)
      return [m[2] ?? m[1].split('.')[1], m[1]]
    })
    .filter(([key]) => !unread.includes(key))
    .map(([key, column]) => `'${key}', ${column}`)
    .join(', ')
}

function groupBy<K>(
  rows: Row[],
  key: string,
  parents: readonly K[],
  toKey: (v: unknown) => K = (v) => v as K,
): Map<K, Row[]> {
  const out = new Map<K, Row[]>(parents.map((p) => [p, []]))
  for (const row of rows) out.get(toKey(row[key]))?.push(row)
  return out
}

/** release ids an artist appears on, per role; `$p` is the artist id expression. */
function artistReleaseIds(role: ArtistRole, p: string): string {
  const main = `SELECT release_id FROM release_artist WHERE artist_id = ${p}
    UNION SELECT t.release_id FROM track_artist ta JOIN track t ON t.id = ta.track_id WHERE ta.artist_id = ${p}`
  const credited = `SELECT release_id FROM release_credit WHERE artist_id = ${p}
    UNION SELECT t.release_id FROM track_credit tc JOIN track t ON t.id = tc.track_id WHERE tc.artist_id = ${p}`
  return role === 'MAIN' ? main : role === 'CREDITED' ? credited : `${main} UNION ${credited}`
}

/** release ids of a label, optionally with all its sublabels (transitively, through label.parent_id). */
function labelReleaseIds(includeSublabels: boolean, p: string): string {
  if (!includeSublabels) return `SELECT release_id FROM release_label WHERE label_id = ${p}`
  return `SELECT release_id FROM release_label WHERE label_id IN (
    WITH RECURSIVE sub(id) AS (SELECT ${p} UNION SELECT l.id FROM label l JOIN sub ON l.parent_id = sub.id)
    SELECT id FROM sub)`
}

/** WHERE conditions on `release r` for a filter and, when batched, the parent expression `p.parent`. */
function releaseConditions(filter: ReleaseFilter, params: unknown[], parent: ReleaseParent): string[] {
  const add = (v: unknown) => `$${params.push(v)}`
  const c: string[] = []
  if (parent?.kind === 'artist') c.push(`r.id IN (${artistReleaseIds(parent.role, 'p.parent')})`)
  if (parent?.kind === 'label') c.push(`r.id IN (${labelReleaseIds(parent.includeSublabels, 'p.parent')})`)
  if (parent?.kind === 'master') c.push(`r.master_id = p.parent`)
  if (parent?.kind === 'style')
    c.push(`r.id IN (SELECT release_id FROM release_style WHERE style = p.parent)`)
  if (parent?.kind === 'genre')
    c.push(`r.id IN (SELECT release_id FROM release_genre WHERE genre = p.parent)`)
  if (filter.styles?.length)
    c.push(`r.id IN (SELECT release_id FROM release_style WHERE style = ANY(${add(filter.styles)}::text[]))`)
  if (filter.genres?.length)
    c.push(`r.id IN (SELECT release_id FROM release_genre WHERE genre = ANY(${add(filter.genres)}::text[]))`)
  if (filter.yearFrom != null) c.push(`r.year >= ${add(filter.yearFrom)}`)
  if (filter.yearTo != null) c.push(`r.year <= ${add(filter.yearTo)}`)
  if (filter.countries?.length) c.push(`r.country = ANY(${add(filter.countries)}::text[])`)
  if (filter.labelId != null)
    c.push(`r.id IN (${labelReleaseIds(!!filter.includeSublabels, `${add(filter.labelId)}::int`)})`)
  if (filter.artistId != null)
    c.push(`r.id IN (${artistReleaseIds(filter.artistRole ?? 'ANY', `${add(filter.artistId)}::int`)})`)
  if (filter.masterId != null) c.push(`r.master_id = ${add(filter.masterId)}`)
  if (filter.format) {
    c.push(
      `EXISTS (SELECT 1 FROM release_format f WHERE f.release_id = r.id AND (f.name = ${add(filter.format)} OR $${params.length} = ANY(f.descriptions)))`,
    )
  }
  return c
}

function keysetConditions(page: KeysetPage, key: string, params: unknown[]): string[] {
  const c: string[] = []
  if (page.after != null) c.push(`${key} > $${params.push(page.after)}`)
  if (page.before != null) c.push(`${key} < $${params.push(page.before)}`)
  return c
}

function parentArray(parent: ReleaseParent): string {
  return parent?.kind === 'style' || parent?.kind === 'genre' ? 'text[]' : 'int[]'
}

export type SearchType = 'ARTIST' | 'LABEL' | 'MASTER' | 'RELEASE' | 'TRACK'

/**
 * Each searchable text: its table and column, and the view search reads it from in bands of its trigram
 * count (trigramCountColumn(text)): a narrow copy sorted by that count (migration 1765200000000), so a
 * band's candidates lie together instead of one per page of the table. The importer rebuilds the views
 * (CatalogWriterRepository.rebuildSearchViews, or refreshSearchViews in a bulk import); rows written
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
 * import swaps a rebuilt view in within a moment (CatalogWriterRepository.swapSearchView gives way to
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
 * A text that a band's statement fetches costs about as much as this many rows read in id order (at a
 * million releases: 5 µs per "untitled" fetched, rechecked and scored; 0.5–1 µs per row read and
 * filtered), so the rows are read only when the band would fetch at least 1/this as many texts; on a small
 * catalog the band is cheaper ("intro" at 5,000 releases: 40 tracks, 1.7 ms, against 12 ms reading 12,000 rows).
 */
export const BAND_TEXT_COST = 4

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

/** The best `take` of two lists of hits, each hit once. */
function mergeHits(a: readonly SearchHit[], b: readonly SearchHit[], take: number): SearchHit[] {
  const seen = new Set(a.map((h) => `${h.type}:${h.id}`))
  return [...a, ...b.filter((h) => !seen.has(`${h.type}:${h.id}`))].sort(bySearchRank).slice(0, take)
}

/** Search's order: best score first, then by type and id, as SQL orders them (the type names are ASCII capitals). */
function bySearchRank(a: SearchHit, b: SearchHit): number {
  return b.score - a.score || (a.type < b.type ? -1 : a.type > b.type ? 1 : a.id - b.id)
}

export class CatalogReadRepository {
  constructor(
    private readonly db: Queryable,
    private readonly options: {
      /** candidates scored per band and type by a capped search pass (SearchPass.capped) */
      candidateCap?: number
      /**
       * false: each search pass is one statement over all bands, scoring every candidate (what the banded
       * search must equal: the tests' reference, and bench:search's baseline)
       */
      banded?: boolean
      /** BAND_TEXT_COST (a test sets it high to take texts equal to the query in id order from a small catalog) */
      bandTextCost?: number
    } = {},
  ) {}

  /** The release with the lowest id, with its first artist credit and first style: what examples can name. */
  async exampleRelease(): Promise<{ id: number; artist: string | null; style: string | null } | null> {
    const { rows } = await this.db.query<{ id: number; artist: string | null; style: string | null }>(
      `SELECT r.id,
         (SELECT ra.name FROM release_artist ra WHERE ra.release_id = r.id ORDER BY ra.ord LIMIT 1) AS artist,
         (SELECT s.style FROM release_style s WHERE s.release_id = r.id ORDER BY s.style LIMIT 1) AS style
       FROM release r ORDER BY r.id LIMIT 1`,
    )
    return rows[0] ?? null
  }

  async artists(ids: readonly number[]): Promise<Row[]> {
    return (await this.db.query(`SELECT ${ARTIST} FROM artist a WHERE a.id = ANY($1::int[])`, [ids])).rows
  }

  async labels(ids: readonly number[]): Promise<Row[]> {
    return (await this.db.query(`SELECT ${LABEL} FROM label l WHERE l.id = ANY($1::int[])`, [ids])).rows
  }

  async masters(ids: readonly number[]): Promise<Row[]> {
    return (await this.db.query(`SELECT ${MASTER} FROM master m WHERE m.id = ANY($1::int[])`, [ids])).rows
  }

  /** Releases by id, with the child lists `lists` names read in the same statement (see listsColumn). */
  async releases(
    ids: readonly number[],
    lists: readonly ChildList[] = [],
  ): Promise<{ rows: Row[]; lists: ChildListMap }> {
    const { rows } = await this.db.query(
      `SELECT ${RELEASE}${listsColumn(lists, 'r.id')} FROM release r WHERE r.id = ANY($1::int[])`,
      [ids],
    )
    return takeLists(rows, lists)
  }

  async tracks(ids: readonly number[]): Promise<Row[]> {
    return (await this.db.query(`SELECT ${TRACK} FROM track t WHERE t.id = ANY($1::int8[])`, [ids])).rows
  }

  /**
   * Rows of child tables for many parents, for several tables in one statement: a release's artists, labels,
   * styles and tracklist asked for in one tick of GraphQL execution cost one round trip. Each parent's rows
   * come in their stated order, keys in camelCase, with the linked artist or label row under `ref` (null when
   * the link is empty or dangling; without the list's `unread` keys).
   * PostgreSQL builds the whole answer as one JSON object of lists per parent, each row a JSON array in the
   * order of the table's columns: Node parses one value with JSON.parse (not a row per child with its own
   * JSON and key mapping: a 50-release page has ≈ 1,500 child rows), and the arrays keep column names out of
   * the text, which halves the tracklist's bytes. `rowOf` turns an array into the row object.
   */
  async childLists(requests: ReadonlyMap<ChildList, readonly number[]>): Promise<ChildListMap> {
    const params: unknown[] = []
    const lists = [...requests.keys()]
    const parts = lists.map((list, i) => {
      const { agg, from, parent } = listSql(list)
      return `SELECT ${i} AS t, ${parent} AS p, ${agg} AS v FROM ${from} WHERE ${parent} = ANY($${params.push(requests.get(list))}::int8[]) GROUP BY ${parent}`
    })
    const out: ChildListMap = new Map()
    if (!parts.length) return out
    const { rows } = await this.db.query<{ lists: Record<string, Record<string, unknown[][]>> | null }>(
      `SELECT json_object_agg(t, v) AS lists FROM (SELECT t, json_object_agg(p, v) AS v FROM (${parts.join(' UNION ALL ')}) x GROUP BY t) y`,
      params,
    )
    for (const [i, byParent] of Object.entries(rows[0].lists ?? {})) {
      const list = lists[Number(i)]
      const rowOf = ROW_OF[list.table]
      out.set(list, new Map(Object.entries(byParent).map(([p, rows]) => [Number(p), rows.map(rowOf)])))
    }
    return out
  }

  /** Labels whose parent is one of `labelIds` (the parent's view of its sublabels, from label records). */
  async sublabels(labelIds: readonly number[]): Promise<Map<number, Row[]>> {
    const { rows } = await this.db.query(
      `SELECT ${LABEL} FROM label l WHERE l.parent_id = ANY($1::int[]) ORDER BY l.parent_id, l.id`,
      [labelIds],
    )
    return groupBy(rows, 'parentId', labelIds)
  }

  /**
   * One keyset page of releases per parent (or of the root list when `parent` is null), filtered, with the
   * child lists `lists` names of every release read in the same statement (see listsColumn).
   */
  async releasePages(
    parent: ReleaseParent,
    parentKeys: readonly (number | string)[],
    filter: ReleaseFilter,
    page: KeysetPage,
    lists: readonly ChildList[] = [],
  ): Promise<{ pages: Map<number | string, Row[]>; lists: ChildListMap }> {
    const params: unknown[] = [parentKeys]
    const where = [...releaseConditions(filter, params, parent), ...keysetConditions(page, 'r.id', params)]
    const sql = `
      SELECT p.parent AS "parentKey", x.*${listsColumn(lists, 'x.id')} FROM unnest($1::${parentArray(parent)}) AS p(parent)
      CROSS JOIN LATERAL (
        SELECT ${RELEASE} FROM release r ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
        ORDER BY r.id ${page.backward ? 'DESC' : 'ASC'} LIMIT ${page.limit + 1}
      ) x`
    const taken = takeLists((await this.db.query(sql, params)).rows, lists)
    return { pages: groupBy(taken.rows, 'parentKey', parentKeys), lists: taken.lists }
  }

  async releaseCounts(
    parent: ReleaseParent,
    parentKeys: readonly (number | string)[],
    filter: ReleaseFilter,
  ): Promise<Map<number | string, number>> {
    const params: unknown[] = [parentKeys]
    const where = releaseConditions(filter, params, parent)
    const { rows } = await this.db.query<{ parentKey: number | string; n: number }>(
      `SELECT p.parent AS "parentKey", (SELECT count(*)::int FROM release r ${where.length ? `WHERE ${where.join(' AND ')}` : ''}) AS n
       FROM unnest($1::${parentArray(parent)}) AS p(parent)`,
      params,
    )
    return new Map(rows.map((r) => [r.parentKey, r.n]))
  }

  /** Tracks an artist performs (track artist, or main artist of the release when the track names none). */
  private artistTrackConditions(): string {
    return `(t.id IN (SELECT track_id FROM track_artist WHERE artist_id = p.parent)
      OR (t.release_id IN (SELECT release_id FROM release_artist WHERE artist_id = p.parent)
          AND NOT EXISTS (SELECT 1 FROM track_artist x WHERE x.track_id = t.id)))
      AND t.type = 'track'`
  }

  async artistTrackPages(artistIds: readonly number[], page: KeysetPage): Promise<Map<number, Row[]>> {
    const params: unknown[] = [artistIds]
    const where = [this.artistTrackConditions(), ...keysetConditions(page, 't.id', params)]
    const { rows } = await this.db.query(
      `SELECT p.parent AS "parentKey", x.* FROM unnest($1::int[]) AS p(parent)
       CROSS JOIN LATERAL (SELECT ${TRACK} FROM track t WHERE ${where.join(' AND ')}
         ORDER BY t.id ${page.backward ? 'DESC' : 'ASC'} LIMIT ${page.limit + 1}) x`,
      params,
    )
    return groupBy(rows, 'parentKey', artistIds)
  }

  async artistTrackCounts(artistIds: readonly number[]): Promise<Map<number, number>> {
    const { rows } = await this.db.query<{ parentKey: number; n: number }>(
      `SELECT p.parent AS "parentKey", (SELECT count(*)::int FROM track t WHERE ${this.artistTrackConditions()}) AS n
       FROM unnest($1::int[]) AS p(parent)`,
      [artistIds],
    )
    return new Map(rows.map((r) => [r.parentKey, r.n]))
  }

  /** The playable audio file of each track (status ok), for the API's Track.audio. */
  async audioFiles(trackIds: readonly number[]): Promise<Row[]> {
    const { rows } = await this.db.query(
      `SELECT track_id::float8 AS "trackId", duration_s AS "durationSeconds", format, match_method AS "matchMethod", match_score AS "matchScore"
         FROM audio_file WHERE track_id = ANY($1::int8[]) AND status = 'ok'`,
      [trackIds],
    )
    return rows
  }

  /** Styles or genres with how many releases carry them, alphabetical, keyset on the name's rank. */
  async tags(kind: 'style' | 'genre'): Promise<{ name: string; releases: number }[]> {
    const { rows } = await this.db.query<{ name: string; releases: number }>(
      `SELECT ${kind} AS name, count(*)::int AS releases FROM release_${kind} GROUP BY ${kind} ORDER BY ${kind}`,
    )
    return rows
  }

  async tagCounts(kind: 'style' | 'genre', names: readonly string[]): Promise<Map<string, number>> {
    const { rows } = await this.db.query<{ name: string; n: number }>(
      `SELECT p.name, (SELECT count(*)::int FROM release_${kind} WHERE ${kind} = p.name) AS n FROM unnest($1::text[]) AS p(name)`,
      [names],
    )
    return new Map(rows.map((r) => [r.name, r.n]))
  }

  /**
   * How a query is searched: its trigram count (for the bands' bounds), its words (the MAX_QUERY_WORDS
   * longest: the score still weighs the whole query), whether the dictionary has them all, and for the
   * `types` searched, how common texts equal to it are (exactTexts).
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

  /**
   * Ranked, typo-tolerant search, in passes (src/db/search-relaxation.ts) until one finds ENOUGH_HITS: a
   * text is a candidate when it contains every word of the query as typed (src/db/search-words.ts says
   * why words); then every word or a dictionary word like it (wordAlternatives); then most of the words.
   * A query of only short words ("dj", "x") wants them all. Passes wanting fewer words, and short words,
   * score at most `candidateCap` candidates per band and type, so on a large catalog they rank a sample.
   * Candidates are scored by the mean of trigram similarity and word similarity (1 = exact match), so a
   * whole-title match outranks a title that merely contains the words, and ranked by score, type, id.
   */
  async search(
    query: string,
    types: readonly SearchType[],
    limit: number,
    offset: number,
  ): Promise<SearchHit[]> {
    try {
      return await withSettings(this.db, SEARCH_SETTINGS, (db) =>
        (db === this.db ? this : new CatalogReadRepository(db, this.options)).searchInPasses(
          query,
          types,
          limit,
          offset,
        ),
      )
    } catch (err) {
      if (!isLockNotAvailable(err)) throw err
      throw new UnavailableError(
        `search is unavailable while an import rebuilds the search views (waited ${SEARCH_LOCK_TIMEOUT_MS} ms); try again when it ends`,
        { cause: err },
      )
    }
  }

  private async searchInPasses(
    query: string,
    types: readonly SearchType[],
    limit: number,
    offset: number,
  ): Promise<SearchHit[]> {
    const plan = await this.searchPlan(query, types)
    if (plan.words.length === 0 && plan.shortWords.length === 0) return [] // no letter or digit
    const take = Math.max(limit + offset, ENOUGH_HITS)
    let likes: string[][] | null = null
    let hits: SearchHit[] = []
    for (const pass of searchPasses(plan.words.length, plan.known)) {
      if (pass.likes !== 'none') likes ??= await this.wordAlternatives(plan.words)
      const alternatives = passExpressions(pass, plan.words, plan.unknown, likes ?? [])
      // the words as typed, searched again: nothing new
      if (pass.likes === 'all' && plan.known && alternatives.every((a) => a.length === 1)) continue
      const queries =
        plan.words.length > 0
          ? alternatives.map((a, i) => wordQuery(a, plan.unknown.includes(plan.words[i])))
          : [plan.shortWords.join(' & ')]
      // merged: a capped pass scores a sample, which need not hold the few hits an earlier pass found
      hits = mergeHits(hits, await this.searchPass(query, plan, queries, pass, types, take), take)
      if (isLastPass(pass, hits)) break
    }
    return hits.slice(offset, offset + limit)
  }

  /**
   * The best `take` candidates of one pass: the same hits as scoring every candidate, found band by band
   * (src/db/trigram-bands.ts). Each round reads the next band of every type, until the best so far beat all
   * a band left could hold; only those make the page, whatever their type, so a common word reads a band
   * or two of short titles instead of every title that contains it.
   */
  private async searchPass(
    query: string,
    plan: SearchPlan,
    expressions: string[],
    pass: SearchPass,
    types: readonly SearchType[],
    take: number,
  ): Promise<SearchHit[]> {
    const cap = pass.capped ? (this.options.candidateCap ?? CAPPED_CANDIDATES) : null
    if (this.options.banded === false) {
      const sql = `SELECT * FROM (${types.map((type) => searchTypeSql(type, null, pass.wordSets, cap)).join(' UNION ALL ')}) hits ORDER BY score DESC, type, id LIMIT $2`
      return (await this.db.query<SearchHit>(sql, [query, take, ...expressions])).rows
    }
    // the words as typed: types whose texts often equal the query take their page in id order
    let best = pass.likes === 'none' && !pass.capped ? await this.exactTexts(query, plan, types, take) : []
    const settled = new Set(best.map((h) => h.type))
    const rest = types.filter((type) => !settled.has(type))
    for (const { band, bound } of bandsByBound(plan.trigrams)) {
      if (rest.length === 0 || isSettled(best, take, bound)) break
      const sql = rest.map((type) => searchTypeSql(type, band, pass.wordSets, cap)).join(' UNION ALL ')
      const { rows } = await this.db.query<SearchHit>(sql, [query, take, ...expressions])
      best = [...best, ...rows].sort(bySearchRank).slice(0, take)
    }
    return best
  }

  /**
   * The best `take` hits of each type whose statistics say that texts equal to the query are common enough
   * to find `take` of them within EXACT_SCAN_ROWS / 2 rows (exactTextsSql), and many enough that the bands
   * would cost more (BAND_TEXT_COST), for the types where that many did turn up; the other types are left
   * to the bands.
   */
  private async exactTexts(
    query: string,
    plan: SearchPlan,
    types: readonly SearchType[],
    take: number,
  ): Promise<SearchHit[]> {
    const dense = types.filter((type) => {
      const equal = plan.equalTexts[type]
      const rows = equal ? take / equal.share : Infinity // to read in id order until `take` turn up
      return (
        rows <= EXACT_SCAN_ROWS / 2 && equal!.count * (this.options.bandTextCost ?? BAND_TEXT_COST) >= rows
      )
    })
    if (dense.length === 0) return [] // also without words: the plan then has no equal texts
    const sql = dense.map((type) => exactTextsSql(type, plan.words.length)).join(' UNION ALL ')
    const { rows } = await this.db.query<SearchHit>(sql, [query, take, ...plan.words, plan.trigrams])
    const found = new Map<SearchType, SearchHit[]>()
    for (const hit of rows) found.set(hit.type, [...(found.get(hit.type) ?? []), hit])
    return [...found.values()]
      .filter((hits) => hits.length >= take)
      .flat()
      .sort(bySearchRank)
  }
}
