import type pg from 'pg'
import { VARIOUS_ARTIST_ID } from '../../discogs.ts'

/** What mixes need to know of a track besides its vector: its title, release and artists. */
export interface TrackFacts {
  id: number
  title: string
  releaseId: number
  /** the track's own artist credits, else its release's (artistsOfTrackSql's rule); Various Artists left out */
  artists: number[]
}

export class TrackFactsRepository {
  constructor(private readonly pool: pg.Pool) {}

  /** Facts of some tracks; ids the catalog lacks are absent. One statement, whatever the number of ids. */
  async facts(trackIds: readonly number[]): Promise<Map<number, TrackFacts>> {
    if (!trackIds.length) return new Map()
    const { rows } = await this.pool.query<{
      id: string
      title: string | null
      release_id: number
      artists: number[]
    }>(
      `SELECT t.id, t.title, t.release_id,
              COALESCE(
                (SELECT array_agg(DISTINCT ta.artist_id) FROM track_artist ta
                  WHERE ta.track_id = t.id AND ta.artist_id > 0 AND ta.artist_id <> ${VARIOUS_ARTIST_ID}),
                (SELECT array_agg(DISTINCT ra.artist_id) FROM release_artist ra
                  WHERE ra.release_id = t.release_id AND ra.artist_id > 0 AND ra.artist_id <> ${VARIOUS_ARTIST_ID}),
                '{}') AS artists
         FROM track t WHERE t.id = ANY($1::bigint[])`,
      [trackIds],
    )
    return new Map(
      rows.map((r) => [
        Number(r.id),
        { id: Number(r.id), title: r.title ?? '', releaseId: r.release_id, artists: r.artists.map(Number) },
      ]),
    )
  }
}
