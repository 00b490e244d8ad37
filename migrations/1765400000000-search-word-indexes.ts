import type { MigrationInterface, QueryRunner } from 'typeorm'
// the searchable texts and the bands as of those migrations: a migration never changes, so they hold here too
import { bandPredicate, SEARCHABLE } from './1765000000000-search-trigram-bands.ts'
import { BANDS } from './1765300000000-finer-search-bands.ts'

/**
 * Search finds its candidates by words (src/db/search-words.ts, wordsVectorSql says why): each band of a
 * search view gets a GIN index of its texts' words, in place of its trigram index. The expression is the
 * one search writes, letter for letter, or the planner would not use the index. At 8M releases this took
 * 489 s (1.6 GB of indexes), holding the views: search answers UNAVAILABLE meanwhile.
 */
export class SearchWordIndexes1765400000000 implements MigrationInterface {
  name = 'SearchWordIndexes1765400000000'

  async up(q: QueryRunner): Promise<void> {
    await replaceBandIndexes(q, 'trgm', 'words')
  }

  async down(q: QueryRunner): Promise<void> {
    await replaceBandIndexes(q, 'words', 'trgm')
  }
}

const INDEXED = {
  trgm: (column: string) => `${column} gin_trgm_ops`,
  words: (column: string) =>
    `to_tsvector('simple'::regconfig, regexp_replace(lower(${column}), '[^[:alnum:]]+', ' ', 'g'))`,
}

async function replaceBandIndexes(
  q: QueryRunner,
  from: keyof typeof INDEXED,
  to: keyof typeof INDEXED,
): Promise<void> {
  await q.query(`SET LOCAL maintenance_work_mem = '256MB'`)
  for (const { table, column } of SEARCHABLE) {
    const view = `${table}_search`
    for (const [i, band] of BANDS.entries()) {
      await q.query(`DROP INDEX IF EXISTS ${view}_${column}_${from}_${i}`)
      // an import that died with them deferred would otherwise build them again
      await q.query(`DELETE FROM discogs_deferred_index WHERE index_name = $1`, [
        `${view}_${column}_${from}_${i}`,
      ])
      await q.query(
        `CREATE INDEX ${view}_${column}_${to}_${i} ON ${view} USING gin (${INDEXED[to](column)}) WHERE ${bandPredicate(`${column}_trigrams`, band)}`,
      )
    }
  }
}
