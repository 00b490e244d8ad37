import type { MigrationInterface, QueryRunner } from 'typeorm'
// the searchable texts as of that migration: a migration never changes, so they hold here too
import { SEARCHABLE } from './1765000000000-search-trigram-bands.ts'

/**
 * The search dictionary (src/db/search-words.ts): the distinct words of the searchable texts, with a
 * trigram index to find the catalog's words like a misspelt one. The importer adds the words of what it
 * writes; the words of rows already stored are added here, by the same rule (letters and digits,
 * lower-cased, 3 to 100 characters).
 */
export class SearchDictionary1765100000000 implements MigrationInterface {
  name = 'SearchDictionary1765100000000'

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE TABLE search_word (word text PRIMARY KEY)`)
    for (const { table, column } of SEARCHABLE)
      await q.query(`
        INSERT INTO search_word (word)
        SELECT DISTINCT w FROM (SELECT DISTINCT ${column} AS text FROM ${table}) t, regexp_split_to_table(lower(t.text), '[^[:alnum:]]+') AS w
         WHERE length(w) BETWEEN 3 AND 100
        ON CONFLICT DO NOTHING`)
    await q.query(`CREATE INDEX search_word_trgm ON search_word USING gin (word gin_trgm_ops)`)
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE IF EXISTS search_word`)
  }
}
