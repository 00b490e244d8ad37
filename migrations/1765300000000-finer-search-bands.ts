import type { MigrationInterface, QueryRunner } from 'typeorm'
// the searchable texts and their bands as of those migrations: a migration never changes, so they hold here too
import { BANDS as COARSE_BANDS, bandPredicate, SEARCHABLE } from './1765000000000-search-trigram-bands.ts'

/** The bands of trigram counts, as of this migration (src/db/trigram-bands.ts holds the ones the queries use). */
export const BANDS: [number, number | null][] = [
  [0, 4],
  [5, 5],
  [6, 6],
  [7, 7],
  [8, 8],
  [9, 9],
  [10, 10],
  [11, 11],
  [12, 12],
  [13, 13],
  [14, 15],
  [16, 17],
  [18, 20],
  [21, 23],
  [24, null],
]

/**
 * One band per trigram count from 5 to 13, where a common word's best hits are (src/db/trigram-bands.ts): a
 * band's statement scores every candidate it holds, and "the" at a million releases scored the 17,859
 * tracks of counts 7 and 8 to settle its page at count 7 (4,307 of them). The views' band indexes are
 * built again, one per band: each build reads its view once more.
 */
export class FinerSearchBands1765300000000 implements MigrationInterface {
  name = 'FinerSearchBands1765300000000'

  async up(q: QueryRunner): Promise<void> {
    await replaceBands(q, COARSE_BANDS, BANDS)
  }

  async down(q: QueryRunner): Promise<void> {
    await replaceBands(q, BANDS, COARSE_BANDS)
  }
}

async function replaceBands(
  q: QueryRunner,
  from: [number, number | null][],
  to: [number, number | null][],
): Promise<void> {
  for (const { table, column } of SEARCHABLE) {
    const view = `${table}_search`
    for (const i of from.keys()) {
      await q.query(`DROP INDEX IF EXISTS ${view}_${column}_trgm_${i}`)
      // an import that died with them deferred would otherwise build the old bands again
      await q.query(`DELETE FROM discogs_deferred_index WHERE index_name = $1`, [
        `${view}_${column}_trgm_${i}`,
      ])
    }
    for (const [i, b] of to.entries())
      await q.query(
        `CREATE INDEX ${view}_${column}_trgm_${i} ON ${view} USING gin (${column} gin_trgm_ops) WHERE ${bandPredicate(`${column}_trigrams`, b)}`,
      )
  }
}
