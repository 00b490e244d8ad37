import type pg from 'pg'

export interface PlayRow {
  trackId: number
  playedAt: Date
  /** false: a "now playing" notice */
  submission: boolean
}

/** All SQL on `play`: what each API key's clients reported as played (Subsonic scrobble). */
export class PlayRepository {
  constructor(private readonly pool: pg.Pool) {}

  async insert(
    ownerKeyId: number,
    plays: readonly { trackId: number; playedAt: Date }[],
    submission: boolean,
    client: string | null,
  ): Promise<number> {
    const { rowCount } = await this.pool.query(
      `INSERT INTO play (owner_key_id, track_id, played_at, submission, client)
       SELECT $1, u.track_id, u.at, $4, $5 FROM unnest($2::int8[], $3::timestamptz[]) AS u (track_id, at)`,
      [ownerKeyId, plays.map((p) => p.trackId), plays.map((p) => p.playedAt), submission, client],
    )
    return rowCount ?? 0
  }

  /** The key's plays since `since`, newest first; "now playing" notices too unless `submissionsOnly`. */
  async since(ownerKeyId: number, since: Date, limit: number, submissionsOnly: boolean): Promise<PlayRow[]> {
    const { rows } = await this.pool.query<PlayRow>(
      `SELECT track_id::float8 AS "trackId", played_at AS "playedAt", submission FROM play
        WHERE owner_key_id = $1 AND played_at >= $2 AND (submission OR NOT $4) ORDER BY played_at DESC, id DESC LIMIT $3`,
      [ownerKeyId, since, limit, submissionsOnly],
    )
    return rows
  }
}
