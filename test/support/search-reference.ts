import { SEARCHABLE, type SearchType } from '../../src/db/repositories/catalog-read.repository.ts'
import { trigramCountColumn } from '../../src/db/trigram-bands.ts'

/** Each searchable text, as the repository searches it, with the column of its trigram count. */
export const SEARCH_TEXTS = (Object.entries(SEARCHABLE) as [SearchType, { table: string; text: string }][]).map(([type, s]) => ({
  type,
  ...s,
  count: trigramCountColumn(s.text),
}))

/**
 * Search as one statement that scores every trigram candidate (what search did before bands): the
 * reference its results must equal, and the baseline of bench:search. $1 query, $2 limit + offset, $3 offset.
 */
export function singleStatementSearchSql(types: readonly SearchType[]): string {
  const parts = SEARCH_TEXTS.filter((s) => types.includes(s.type)).map(
    (s) => `(SELECT '${s.type}' AS type, id::float8 AS id, ${s.text} AS text,
        round(((similarity(${s.text}, $1) + word_similarity($1, ${s.text})) / 2)::numeric, 4)::float8 AS score
      FROM ${s.table} WHERE ${s.text} % $1 OR $1 <% ${s.text} ORDER BY score DESC, id LIMIT $2)`,
  )
  return `SELECT * FROM (${parts.join(' UNION ALL ')}) hits ORDER BY score DESC, type, id LIMIT $2 - $3 OFFSET $3`
}
