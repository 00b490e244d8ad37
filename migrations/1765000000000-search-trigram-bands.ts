import type { MigrationInterface, QueryRunner } from 'typeorm'

/** Each searchable text: its table, column, and the stored count of its trigrams. */
const SEARCHABLE = [
  { table: 'artist', column: 'name' },
  { table: 'label', column: 'name' },
  { table: 'master', column: 'title' },
  { table: 'release', column: 'title' },
  { table: 'track', column: 'title' },
]

/**
 * The bands of trigram counts, as of this migration (src/db/trigram-bands.ts holds the ones the queries
 * use; a change there needs a new migration, and the search test fails until it exists).
 */
const BANDS: [number, number | null][] = [[0, 4], [5, 6], [7, 8], [9, 10], [11, 13], [14, 17], [18, 23], [24, null]]

/**
 * Search in bands of text length (src/db/trigram-bands.ts explains why): every searchable text gets a
 * stored count of its distinct trigrams, and its one GIN trigram index becomes one partial index per
 * band of that count. Each row is in exactly one band, so the indexes together hold what the one did;
 * each band's build reads the table once more, but the bands build side by side after a bulk import
 * (the one index was the import's longest single step). Adding a stored column rewrites the table.
 *
 * TypeORM keeps generated columns' expressions in typeorm_metadata to compare entities with the schema;
 * the rows are written here as its own migrations write them.
 */
export class SearchTrigramBands1765000000000 implements MigrationInterface {
  name = 'SearchTrigramBands1765000000000'

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE IF NOT EXISTS typeorm_metadata (
        type varchar NOT NULL, database varchar, schema varchar, "table" varchar, name varchar, value text)`)
    for (const { table, column } of SEARCHABLE) {
      const count = `${column}_trigrams`
      const expression = `cardinality(show_trgm(${column}))`
      await q.query(`ALTER TABLE ${table} ADD COLUMN ${count} smallint GENERATED ALWAYS AS (${expression}) STORED`)
      await q.query(
        `INSERT INTO typeorm_metadata (database, schema, "table", type, name, value) VALUES (current_database(), current_schema(), $1, 'GENERATED_COLUMN', $2, $3)`,
        [table, count, expression],
      )
      await q.query(`DROP INDEX IF EXISTS ${table}_${column}_trgm`)
      for (const [i, [lo, hi]] of BANDS.entries()) {
        const band = hi === null ? `${count} >= ${lo}` : `${count} BETWEEN ${lo} AND ${hi}`
        await q.query(`CREATE INDEX ${table}_${column}_trgm_${i} ON ${table} USING gin (${column} gin_trgm_ops) WHERE ${band}`)
      }
    }
  }

  async down(q: QueryRunner): Promise<void> {
    for (const { table, column } of SEARCHABLE) {
      for (const i of BANDS.keys()) await q.query(`DROP INDEX IF EXISTS ${table}_${column}_trgm_${i}`)
      await q.query(`ALTER TABLE ${table} DROP COLUMN IF EXISTS ${column}_trigrams`)
      await q.query(`DELETE FROM typeorm_metadata WHERE type = 'GENERATED_COLUMN' AND "table" = $1 AND name = $2`, [table, `${column}_trigrams`])
      await q.query(`CREATE INDEX IF NOT EXISTS ${table}_${column}_trgm ON ${table} USING gin (${column} gin_trgm_ops)`)
    }
  }
}
