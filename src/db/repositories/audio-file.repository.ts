import type pg from 'pg'

export interface TrackAudio {
  trackId: number
  sha256: string
  nFrames: number
}

/** SQL on `audio_file` needed to read features back (the import writes through its own statements). */
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
    const { rows } = await this.pool.query(`SELECT path, format FROM audio_file WHERE track_id = $1 AND status = 'ok'`, [trackId])
    return rows[0] ?? null
  }
}
