import type { MigrationInterface, QueryRunner } from 'typeorm'
// the searchable texts and their bands as of that migration: a migration never changes, so they hold here too
import { BANDS, bandPredicate, SEARCHABLE } from './1765000000000-search-trigram-bands.ts'

/**
 * Search reads its texts from a narrow copy of each searchable table, sorted by trigram count: a
 * materialized view `<table>_search` of (id, text, trigram count), with the bands' partial GIN indexes
 * (moved here from the tables) and a unique index on id. A band's candidates were rows scattered over
 * the whole wide table, a page read for each ("the" at a million releases: 16,000 candidates of one band
 * on 15,000 pages, 142 ms); sorted by count, a band's rows are together and narrow (3,900 pages, 71 ms),
 * and the gap widens with the catalog, once the tables outgrow memory. The importer refreshes the views
 * of the types a file wrote, at its end (src/db/repositories/catalog-writer.repository.ts).
 */
export class SearchViews1765200000000 implements MigrationInterface {
  name = 'SearchViews1765200000000'

  async up(q: QueryRunner): Promise<void> {
    for (const { table, column } of SEARCHABLE) {
      const count = `${column}_trigrams`
      for (const i of BANDS.keys()) {
        await q.query(`DROP INDEX IF EXISTS ${table}_${column}_trgm_${i}`)
        // an import that died with them deferred would otherwise build them again on the table
        await q.query(`DELETE FROM discogs_deferred_index WHERE index_name = $1`, [
          `${table}_${column}_trgm_${i}`,
        ])
      }
      await q.query(
        `CREATE MATERIALIZED VIEW ${table}_search AS
           SELECT id, ${column}, ${count} FROM ${table} WHERE ${count} IS NOT NULL ORDER BY ${count}, id`,
      )
      await q.query(`CREATE UNIQUE INDEX ${table}_search_id ON ${table}_search (id)`)
      for (const [i, b] of BANDS.entries())
        await q.query(
          `CREATE INDEX ${table}_search_${column}_trgm_${i} ON ${table}_search USING gin (${column} gin_trgm_ops) WHERE ${bandPredicate(count, b)}`,
        )
    }
  }

  async down(q: QueryRunner): Promise<void> {
    for (const { table, column } of SEARCHABLE) {
      await q.query(`DROP MATERIALIZED VIEW IF EXISTS ${table}_search`)
      for (const [i, b] of BANDS.entries())
        await q.query(
          `CREATE INDEX IF NOT EXISTS ${table}_${column}_trgm_${i} ON ${table} USING gin (${column} gin_trgm_ops) WHERE ${bandPredicate(`${column}_trigrams`, b)}`,
        )
    }
  }
}
