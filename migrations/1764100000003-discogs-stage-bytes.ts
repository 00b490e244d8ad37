import type { MigrationInterface, QueryRunner } from 'typeorm'

/**
 * Staging rows in the exact shape of the catalog rows, so that one encoding serves both ways of loading
 * a batch (straight into the catalog for new records, through staging and the merge otherwise):
 *
 * - core staging tables gain the dump date columns the catalog rows carry (the merge ignores them and
 *   applies its own rules);
 * - staged track numbers become bigint: the writer rewrites them into track ids in place, and a batch
 *   whose direct load failed on a conflict goes through staging with those ids as its numbers.
 */
export class DiscogsStageBytes1764100000003 implements MigrationInterface {
  name = 'DiscogsStageBytes1764100000003'

  async up(q: QueryRunner): Promise<void> {
    for (const t of ['stage_artist', 'stage_label', 'stage_master', 'stage_release'])
      await q.query(
        `ALTER TABLE ${t} ADD COLUMN first_seen_dump text, ADD COLUMN last_seen_dump text, ADD COLUMN missing_since_dump text`,
      )
    await q.query(
      `ALTER TABLE stage_track ALTER COLUMN track_no TYPE bigint, ALTER COLUMN parent_no TYPE bigint`,
    )
    await q.query(`ALTER TABLE stage_track_artist ALTER COLUMN track_no TYPE bigint`)
    await q.query(`ALTER TABLE stage_track_credit ALTER COLUMN track_no TYPE bigint`)
  }

  async down(q: QueryRunner): Promise<void> {
    for (const t of ['stage_artist', 'stage_label', 'stage_master', 'stage_release'])
      await q.query(
        `ALTER TABLE ${t} DROP COLUMN first_seen_dump, DROP COLUMN last_seen_dump, DROP COLUMN missing_since_dump`,
      )
    await q.query(
      `ALTER TABLE stage_track ALTER COLUMN track_no TYPE integer, ALTER COLUMN parent_no TYPE integer`,
    )
    await q.query(`ALTER TABLE stage_track_artist ALTER COLUMN track_no TYPE integer`)
    await q.query(`ALTER TABLE stage_track_credit ALTER COLUMN track_no TYPE integer`)
  }
}
