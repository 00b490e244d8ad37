import type pg from 'pg'

/** What decoding found: copied, not recomputed, to another file with the same content. */
export interface DecodedInfo {
  format: string | null
  sourceSampleRate: number | null
  channels: number | null
  durationS: number | null
  nFrames: number | null
}

export type MatchMethod = 'manifest' | 'discogs-id' | 'tags'
export type MatchStatus = 'matched' | 'ambiguous' | 'unmatched'

/** The matcher's verdict on one file; `claimTrackId` is set when it found the track. */
export interface MatchRecord {
  claimTrackId: number | null
  status: MatchStatus | null
  method: MatchMethod | null
  score: number | null
  reason: string | null
  note: string | null
}

export interface AudioFileRecord extends DecodedInfo {
  path: string
  size: number
  mtimeMs: number
  sha256: string | null
  status: 'ok' | 'error'
  error: string | null
  tags: object | null
  match: MatchRecord
}

export interface StoredAudioFile extends AudioFileRecord {
  id: number
  trackId: number | null
}

/** A file's state after claims are resolved, with the file that holds the track it lost (if it did). */
export interface AudioFileReportRow {
  path: string
  status: 'ok' | 'error'
  error: string | null
  durationS: number | null
  nFrames: number | null
  trackId: number | null
  claimTrackId: number | null
  matchStatus: MatchStatus | null
  matchMethod: MatchMethod | null
  matchReason: string | null
  matchNote: string | null
  linkedTo: string | null
}

const STORED_COLUMNS = `id, path, size, mtime_ms AS "mtimeMs", sha256, status, error, format,
  source_sample_rate AS "sourceSampleRate", channels, duration_s AS "durationS", n_frames AS "nFrames", tags,
  track_id AS "trackId", claim_track_id AS "claimTrackId", match_status, match_method, match_score, match_reason, match_note`

/** Paths under `dir` compare by prefix (not LIKE: a folder name may hold % or _). */
function dirPrefix(dir: string): string {
  return dir.endsWith('/') ? dir : `${dir}/`
}

export interface TrackAudio {
  trackId: number
  sha256: string
  nFrames: number
}

/**
 * SQL on `audio_file`: reading features back (training, embedding), and the audio import's writes. A file
 * states which track it claims; `resolveClaims` turns claims into links (`track_id`, UNIQUE) by one fixed
 * order, so the outcome does not depend on the order files were read in.
 */
export class AudioFileRepository {
  constructor(private readonly pool: pg.Pool) {}

  /** Every track with decoded audio: which content (and how many frames) it has. */
  async tracksWithAudio(): Promise<TrackAudio[]> {
    const { rows } = await this.pool.query(
      `SELECT track_id AS "trackId", sha256, n_frames AS "nFrames" FROM audio_file
        WHERE track_id IS NOT NULL AND status = 'ok' AND n_frames > 0 ORDER BY track_id`,
    )
    return rows.map((r) => ({ trackId: Number(r.trackId), sha256: r.sha256, nFrames: r.nFrames }))
  }

  async pathOfTrack(trackId: number): Promise<{ path: string; format: string | null } | null> {
    const { rows } = await this.pool.query(
      `SELECT path, format FROM audio_file WHERE track_id = $1 AND status = 'ok'`,
      [trackId],
    )
    return rows[0] ?? null
  }

  /** Every file recorded under `dir` (recursively), by path. */
  /** A track's title and the path of its audio file, to name them in errors (nulls when unknown). */
  async describeTrack(trackId: number): Promise<{ title: string | null; path: string | null }> {
    const { rows } = await this.pool.query(
      `SELECT t.title, af.path FROM track t LEFT JOIN audio_file af ON af.track_id = t.id AND af.status = 'ok'
        WHERE t.id = $1`,
      [trackId],
    )
    return { title: rows[0]?.title ?? null, path: rows[0]?.path ?? null }
  }

  async filesUnder(dir: string): Promise<StoredAudioFile[]> {
    const prefix = dirPrefix(dir)
    const { rows } = await this.pool.query(
      `SELECT ${STORED_COLUMNS} FROM audio_file WHERE left(path, length($1)) = $1 ORDER BY path`,
      [prefix],
    )
    return rows.map((r) => ({
      id: Number(r.id),
      path: r.path,
      size: Number(r.size),
      mtimeMs: r.mtimeMs,
      sha256: r.sha256,
      status: r.status,
      error: r.error,
      format: r.format,
      sourceSampleRate: r.sourceSampleRate,
      channels: r.channels,
      durationS: r.durationS,
      nFrames: r.nFrames,
      tags: r.tags,
      trackId: r.trackId === null ? null : Number(r.trackId),
      match: {
        claimTrackId: r.claimTrackId === null ? null : Number(r.claimTrackId),
        status: r.match_status,
        method: r.match_method,
        score: r.match_score,
        reason: r.match_reason,
        note: r.match_note,
      },
    }))
  }

  async deleteByIds(ids: number[]): Promise<void> {
    if (ids.length) await this.pool.query(`DELETE FROM audio_file WHERE id = ANY($1::bigint[])`, [ids])
  }

  /** Inserts or replaces the row for `path`. The link (`track_id`) is left to resolveClaims. */
  async upsert(f: AudioFileRecord): Promise<void> {
    await this.pool.query(
      `INSERT INTO audio_file (path, size, mtime_ms, sha256, status, error, format, source_sample_rate, channels,
                               duration_s, n_frames, tags, claim_track_id, match_status, match_method, match_score,
                               match_reason, match_note)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18)
       ON CONFLICT (path) DO UPDATE SET
         size = EXCLUDED.size, mtime_ms = EXCLUDED.mtime_ms, sha256 = EXCLUDED.sha256, status = EXCLUDED.status,
         error = EXCLUDED.error, format = EXCLUDED.format, source_sample_rate = EXCLUDED.source_sample_rate,
         channels = EXCLUDED.channels, duration_s = EXCLUDED.duration_s, n_frames = EXCLUDED.n_frames,
         tags = EXCLUDED.tags, claim_track_id = EXCLUDED.claim_track_id, match_status = EXCLUDED.match_status,
         match_method = EXCLUDED.match_method, match_score = EXCLUDED.match_score,
         match_reason = EXCLUDED.match_reason, match_note = EXCLUDED.match_note, updated_at = now()`,
      [
        f.path,
        f.size,
        f.mtimeMs,
        f.sha256,
        f.status,
        f.error,
        f.format,
        f.sourceSampleRate,
        f.channels,
        f.durationS,
        f.nFrames,
        f.tags === null ? null : JSON.stringify(f.tags),
        f.match.claimTrackId,
        f.match.status,
        f.match.method,
        f.match.score,
        f.match.reason,
        f.match.note,
      ],
    )
  }

  /** A new verdict for an unchanged file (re-matched against a manifest or a newer catalog). */
  async updateMatch(id: number, m: MatchRecord): Promise<void> {
    await this.pool.query(
      `UPDATE audio_file SET claim_track_id = $2, match_status = $3, match_method = $4, match_score = $5,
              match_reason = $6, match_note = $7, updated_at = now()
        WHERE id = $1`,
      [id, m.claimTrackId, m.status, m.method, m.score, m.reason, m.note],
    )
  }

  /** What an earlier decode of this content found, if any file with it decoded. */
  async decodedByHash(sha256: string): Promise<DecodedInfo | null> {
    const { rows } = await this.pool.query(
      `SELECT format, source_sample_rate AS "sourceSampleRate", channels, duration_s AS "durationS", n_frames AS "nFrames"
         FROM audio_file WHERE sha256 = $1 AND status = 'ok' AND n_frames IS NOT NULL LIMIT 1`,
      [sha256],
    )
    return rows[0] ?? null
  }

  /**
   * Links each claimed track to one file: the best claim by method (manifest, then a Discogs id written by a
   * tagger, then fuzzy tags), then score, then path. Files that lose keep their claim and no link. Runs over
   * the whole table, in one transaction, unlinking before linking so the UNIQUE link never collides.
   */
  async resolveClaims(): Promise<{ linked: number; unlinked: number }> {
    const client = await this.pool.connect()
    try {
      await client.query('BEGIN')
      await client.query(`
        CREATE TEMP TABLE audio_claim_winner ON COMMIT DROP AS
        SELECT DISTINCT ON (claim_track_id) id, claim_track_id
          FROM audio_file
         WHERE status = 'ok' AND match_status = 'matched' AND claim_track_id IS NOT NULL
         ORDER BY claim_track_id,
                  CASE match_method WHEN 'manifest' THEN 0 WHEN 'discogs-id' THEN 1 ELSE 2 END,
                  match_score DESC NULLS LAST, path`)
      const unlinked = await client.query(`
        UPDATE audio_file a SET track_id = NULL, updated_at = now()
         WHERE a.track_id IS NOT NULL
           AND NOT EXISTS (SELECT 1 FROM audio_claim_winner w WHERE w.id = a.id AND w.claim_track_id = a.track_id)`)
      const linked = await client.query(`
        UPDATE audio_file a SET track_id = w.claim_track_id, updated_at = now()
          FROM audio_claim_winner w
         WHERE a.id = w.id AND a.track_id IS DISTINCT FROM w.claim_track_id`)
      await client.query('COMMIT')
      return { linked: linked.rowCount ?? 0, unlinked: unlinked.rowCount ?? 0 }
    } catch (err) {
      await client.query('ROLLBACK').catch(() => {})
      throw err
    } finally {
      client.release()
    }
  }

  /** Every file under `dir` with its final state; `linkedTo` names the file that holds a lost claim's track. */
  async reportUnder(dir: string): Promise<AudioFileReportRow[]> {
    const { rows } = await this.pool.query(
      `SELECT a.path, a.status, a.error, a.duration_s AS "durationS", a.n_frames AS "nFrames",
              a.track_id AS "trackId", a.claim_track_id AS "claimTrackId", a.match_status AS "matchStatus",
              a.match_method AS "matchMethod", a.match_reason AS "matchReason", a.match_note AS "matchNote",
              w.path AS "linkedTo"
         FROM audio_file a
         LEFT JOIN audio_file w ON a.track_id IS NULL AND w.track_id = a.claim_track_id
        WHERE left(a.path, length($1)) = $1
        ORDER BY a.path`,
      [dirPrefix(dir)],
    )
    return rows.map((r) => ({
      ...r,
      trackId: r.trackId === null ? null : Number(r.trackId),
      claimTrackId: r.claimTrackId === null ? null : Number(r.claimTrackId),
    }))
  }
}
