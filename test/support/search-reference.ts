import type { Queryable } from '../../src/db/sql.ts'
import {
  scoreSql,
  SEARCHABLE,
  type SearchHit,
  type SearchType,
} from '../../src/db/repositories/search.repository.ts'
import { SearchService } from '../../src/services/search.service.ts'
import { trigramCountColumn } from '../../src/db/trigram-bands.ts'

/** Each searchable text, as the repository searches it (its table, column and view), with the column of its trigram count. */
export const SEARCH_TEXTS = (
  Object.entries(SEARCHABLE) as [SearchType, { table: string; text: string; view: string }][]
).map(([type, s]) => ({
  type,
  ...s,
  count: trigramCountColumn(s.text),
}))

/**
 * Search with each pass as one statement scoring every candidate, without bands: what the banded search
 * must equal, and bench:search's baseline of the same search.
 */
export function oneStatementSearch(
  db: Queryable,
  query: string,
  types: readonly SearchType[],
  limit: number,
  offset: number,
): Promise<SearchHit[]> {
  return new SearchService(db, { banded: false }).search(query, types, limit, offset)
}

/**
 * Search as it was before words and bands: one statement scoring every trigram candidate (`%` similarity
 * or `<%` word similarity) over one trigram index per text; bench:search's "before". $1 query, $2 limit.
 */
export function trigramSearchSql(types: readonly SearchType[]): string {
  const parts = SEARCH_TEXTS.filter((s) => types.includes(s.type)).map(
    (s) => `(SELECT '${s.type}' AS type, id::float8 AS id, ${s.text} AS text,
        ${scoreSql(s.text)} AS score
      FROM ${s.view} WHERE ${s.text} % $1 OR $1 <% ${s.text} ORDER BY score DESC, id LIMIT $2)`,
  )
  return `SELECT * FROM (${parts.join(' UNION ALL ')}) hits ORDER BY score DESC, type, id LIMIT $2`
}
