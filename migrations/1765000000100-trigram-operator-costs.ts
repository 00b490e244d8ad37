import type { MigrationInterface, QueryRunner } from 'typeorm'

/** The functions behind pg_trgm's `%`, `<%` and `%>` operators. */
const OPERATOR_FUNCTIONS = [
  'similarity_op(text, text)',
  'word_similarity_op(text, text)',
  'word_similarity_commutator_op(text, text)',
]

/**
 * Tells the planner what pg_trgm's match operators cost. pg_trgm declares them at the default cost of a C
 * function (1, a plain comparison), but each call extracts the trigrams of a title and compares them
 * with the query's — about a hundred times that. Search reads one band of titles at a time
 * (src/db/trigram-bands.ts); each band is a small share of its table, so at the default cost the planner
 * scanned the whole table and matched every title rather than use the band's index: on a catalog of
 * 5,000 releases a rare word took 170–270 ms instead of 15. At cost 100 it uses the index.
 *
 * These are the extension's functions: a role that does not own them cannot change them, and the
 * migration then leaves them (search stays correct, only slower on small catalogs). pg_dump does not
 * keep the setting of an extension's function; running the migrations again after a restore is harmless.
 */
export class TrigramOperatorCosts1765000000100 implements MigrationInterface {
  name = 'TrigramOperatorCosts1765000000100'

  async up(q: QueryRunner): Promise<void> {
    await this.setCost(q, 100)
  }

  async down(q: QueryRunner): Promise<void> {
    await this.setCost(q, 1)
  }

  private async setCost(q: QueryRunner, cost: number): Promise<void> {
    for (const fn of OPERATOR_FUNCTIONS)
      await q.query(`
        DO $$ BEGIN
          ALTER FUNCTION ${fn} COST ${cost};
        EXCEPTION WHEN insufficient_privilege THEN
          RAISE NOTICE 'pg_trgm''s ${fn} keeps its cost: not its owner';
        END $$`)
  }
}
