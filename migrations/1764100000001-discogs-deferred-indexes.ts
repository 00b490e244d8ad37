import type { MigrationInterface, QueryRunner } from 'typeorm'

/**
 * Secondary indexes set aside during a bulk Discogs import. Loading millions of rows into empty tables
 * and building each index once at the end is several times faster than maintaining the indexes (trigram
 * GIN above all) row by row. The definitions are kept here, not in memory, so that an import that dies
 * half-way still gets its indexes back: the next import (or `restoreDeferredIndexes`) recreates them.
 */
export class DiscogsDeferredIndexes1764100000001 implements MigrationInterface {
  name = 'DiscogsDeferredIndexes1764100000001'

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE discogs_deferred_index (
        index_name text PRIMARY KEY,
        table_name text NOT NULL,
        definition text NOT NULL,
        deferred_at timestamptz NOT NULL DEFAULT now()
      )`)
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE IF EXISTS discogs_deferred_index`)
  }
}
