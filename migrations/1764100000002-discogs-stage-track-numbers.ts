import type { MigrationInterface, QueryRunner } from 'typeorm'

/**
 * Tracks are staged by a batch-relative number instead of (release_id, track_key) text keys, so that the
 * same encoded rows serve both ways of loading a batch (src/db/repositories/catalog-writer.repository.ts):
 *
 * - a batch whose records are all new is COPYed straight into the catalog tables; the numbers become
 *   track ids from a range reserved on the track id sequence, so sub-tracks and track credits can be
 *   written without first reading back the ids the database chose;
 * - any other batch goes through these staging tables and the merge, which resolves a number to its
 *   (release_id, track_key) identity and that to the stored track id, so ids of known tracks stay put.
 *
 * Staging tables never hold rows between transactions, so they are simply recreated (column order is the
 * COPY order; src/db/repositories/catalog-staging.ts holds the same layout).
 */
export class DiscogsStageTrackNumbers1764100000002 implements MigrationInterface {
  name = 'DiscogsStageTrackNumbers1764100000002'

  async up(q: QueryRunner): Promise<void> {
    const credit = `ord smallint, artist_id integer, name text, anv text, join_string text, role text, tracks text`
    await q.query(`DROP TABLE stage_track, stage_track_artist, stage_track_credit`)
    await q.query(`
      CREATE UNLOGGED TABLE stage_track (track_no integer, parent_no integer, release_id integer, track_key text,
        sequence integer, position text, title text, duration_text text, duration_s integer, type text)`)
    await q.query(`CREATE UNLOGGED TABLE stage_track_artist (track_no integer, ${credit})`)
    await q.query(`CREATE UNLOGGED TABLE stage_track_credit (track_no integer, ${credit})`)
  }

  async down(q: QueryRunner): Promise<void> {
    const credit = `ord smallint, artist_id integer, name text, anv text, join_string text, role text, tracks text`
    await q.query(`DROP TABLE stage_track, stage_track_artist, stage_track_credit`)
    await q.query(`
      CREATE UNLOGGED TABLE stage_track (release_id integer, track_key text, parent_key text, sequence integer,
        position text, title text, duration_text text, duration_s integer, type text)`)
    await q.query(`CREATE UNLOGGED TABLE stage_track_artist (release_id integer, track_key text, ${credit})`)
    await q.query(`CREATE UNLOGGED TABLE stage_track_credit (release_id integer, track_key text, ${credit})`)
  }
}
