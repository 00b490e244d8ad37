import type pg from 'pg'

export interface LibraryCounts {
  releases: number
  artists: number
  tracks: number
  tracksWithAudio: number
  /** false when a count is the planner's estimate (a table of a million rows or more) */
  exact: boolean
}

/** Tables at least this large are counted from pg_class's estimate: an exact count(*) of a full dump's 100M tracks takes tens of seconds. */
const ESTIMATE_FROM = 1_000_000

/** The library at a glance: how much of the catalog there is and which tracks can be played. */
export class LibraryRepository {
  constructor(private readonly pool: pg.Pool) {}

  async counts(): Promise<LibraryCounts> {
    const { rows: est } = await this.pool.query<{ relname: string; n: number }>(
      `SELECT relname, reltuples::float8 AS n FROM pg_class WHERE relname IN ('release', 'artist', 'track') AND relkind = 'r'
          AND relnamespace = current_schema()::regnamespace`,
    )
    const estimate = new Map(est.map((r) => [r.relname, r.n]))
    let exact = true
    const count = async (table: 'release' | 'artist' | 'track') => {
      const e = estimate.get(table) ?? -1
      if (e >= ESTIMATE_FROM) {
        exact = false
        return Math.round(e)
      }
      return (await this.pool.query(`SELECT count(*)::int AS n FROM ${table}`)).rows[0].n as number
    }
    const [releases, artists, tracks, audio] = await Promise.all([
      count('release'),
      count('artist'),
      count('track'),
      this.pool.query(
        `SELECT count(DISTINCT track_id)::int AS n FROM audio_file WHERE track_id IS NOT NULL AND status = 'ok'`,
      ),
    ])
    return { releases, artists, tracks, tracksWithAudio: audio.rows[0].n, exact }
  }

  /** Up to `n` tracks with playable audio, picked at random. */
  async randomTracksWithAudio(n: number): Promise<number[]> {
    const { rows } = await this.pool.query<{ track_id: string }>(
      `SELECT track_id FROM (SELECT DISTINCT track_id FROM audio_file WHERE track_id IS NOT NULL AND status = 'ok') a
        ORDER BY random() LIMIT $1`,
      [n],
    )
    return rows.map((r) => Number(r.track_id))
  }
}
