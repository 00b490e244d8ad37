import type { MigrationInterface, QueryRunner } from 'typeorm'

/** Each searchable text, as of this migration: its table, column, and view. */
const SEARCHABLE = [
  { table: 'artist', column: 'name' },
  { table: 'label', column: 'name' },
  { table: 'master', column: 'title' },
  { table: 'release', column: 'title' },
  { table: 'track', column: 'title' },
]

/** The bands of trigram counts, as of this migration (as in 1765000000000). */
const BANDS: [number, number | null][] = [[0, 4], [5, 6], [7, 8], [9, 10], [11, 13], [14, 17], [18, 23], [24, null]]

const band = (count: string, [lo, hi]: [number, number | null]) => (hi === null ? `${count} >= ${lo}` : `${count} BETWEEN ${lo} AND ${hi}`)

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
        await q.query(`DELETE FROM discogs_deferred_index WHERE index_name = $1`, [`${table}_${column}_trgm_${i}`])
      }
      await q.query(
        `CREATE MATERIALIZED VIEW ${table}_search AS
           SELECT id, ${column}, ${count} FROM ${table} WHERE ${count} IS NOT NULL ORDER BY ${count}, id`,
      )
      await q.query(`CREATE UNIQUE INDEX ${table}_search_id ON ${table}_search (id)`)
      for (const [i, b] of BANDS.entries())
        await q.query(`CREATE INDEX ${table}_search_${column}_trgm_${i} ON ${table}_search USING gin (${column} gin_trgm_ops) WHERE ${band(count, b)}`)
    }
  }

  async down(q: QueryRunner): Promise<void> {
    for (const { table, column } of SEARCHABLE) {
      await q.query(`DROP MATERIALIZED VIEW IF EXISTS ${table}_search`)
      for (const [i, b] of BANDS.entries())
        await q.query(`CREATE INDEX IF NOT EXISTS ${table}_${column}_trgm_${i} ON ${table} USING gin (${column} gin_trgm_ops) WHERE ${band(`${column}_trigrams`, b)}`)
    }
  }
}
