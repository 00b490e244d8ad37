import type { MigrationInterface, QueryRunner } from 'typeorm'

/**
 * What the audio matcher concluded for each file, kept apart from the link itself:
 * - `claim_track_id`: the track the file's manifest row or tags point to. Several files may claim one
 *   track; `track_id` (UNIQUE) holds the link and goes to exactly one of them, chosen by a fixed order
 *   (manifest over Discogs id over fuzzy tags, then score, then path), so the outcome depends only on
 *   the set of files and never on the order they were read in (docs/audio-store.md).
 * - `match_status`: the matcher's verdict; a 'matched' file whose `track_id` is NULL lost its claim.
 * - `match_reason`: a short code (low-confidence, close-candidates, manifest-track-not-found, …) that
 *   summaries count; `match_note` keeps the human sentence.
 */
export class AudioFileClaims1764960000000 implements MigrationInterface {
  name = 'AudioFileClaims1764960000000'

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      ALTER TABLE audio_file
        ADD COLUMN claim_track_id bigint REFERENCES track (id) ON DELETE SET NULL,
        ADD COLUMN match_status   text CHECK (match_status IN ('matched', 'ambiguous', 'unmatched')),
        ADD COLUMN match_reason   text`)
    await q.query(
      `CREATE INDEX audio_file_claim ON audio_file (claim_track_id) WHERE claim_track_id IS NOT NULL`,
    )
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX IF EXISTS audio_file_claim`)
    await q.query(
      `ALTER TABLE audio_file DROP COLUMN IF EXISTS match_reason, DROP COLUMN IF EXISTS match_status, DROP COLUMN IF EXISTS claim_track_id`,
    )
  }
}
