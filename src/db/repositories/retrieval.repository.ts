import type pg from 'pg'
import type { RetrievalItem } from '../../ml/retrieval/metrics.ts'
import { artistsOfTrackSql, labelsOfTrackSql } from './embedding.repository.ts'

/**
 * What retrieval evaluation needs to know of tracks: their artists (the artist association's rule), release,
 * labels and their release's styles and genres.
 */
export class RetrievalRepository {
  constructor(private readonly pool: pg.Pool) {}

  async items(trackIds: readonly number[]): Promise<RetrievalItem[]> {
    const { rows } = await this.pool.query(
      // the track is `q.id`: the helpers' own subqueries call their tracks `t`
      `SELECT q.id, tr.release_id,
              ARRAY(SELECT a.artist_id FROM (${artistsOfTrackSql('q.id')}) a ORDER BY 1) AS artists,
              ARRAY(SELECT DISTINCT l.label_id FROM (${labelsOfTrackSql('q.id')}) l ORDER BY 1) AS labels,
              ARRAY(SELECT rs.style FROM release_style rs WHERE rs.release_id = tr.release_id ORDER BY 1) AS styles,
              ARRAY(SELECT rg.genre FROM release_genre rg WHERE rg.release_id = tr.release_id ORDER BY 1) AS genres
         FROM unnest($1::bigint[]) AS q(id) JOIN track tr ON tr.id = q.id
        ORDER BY q.id`,
      [trackIds],
    )
    return rows.map((r) => ({
      id: Number(r.id),
      release: Number(r.release_id),
      artists: r.artists.map(Number),
      labels: r.labels.map(Number),
      styles: r.styles,
      genres: r.genres,
    }))
  }
}
