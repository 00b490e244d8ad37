import type pg from 'pg'
import type { ModelSpace } from './model.repository.ts'
import { decodeVectorSend } from './embedding.repository.ts'

export type MapColor = 'STYLE' | 'GENRE' | 'ARTIST' | 'LABEL'

/** The group a track is coloured by: its release's first style/genre, its (track or release) artist, its label. */
const GROUP_SQL: Record<MapColor, string> = {
  STYLE: `(SELECT style FROM release_style s WHERE s.release_id = t.release_id ORDER BY style LIMIT 1)`,
  GENRE: `(SELECT genre FROM release_genre g WHERE g.release_id = t.release_id ORDER BY genre LIMIT 1)`,
  ARTIST: `coalesce((SELECT name FROM track_artist a WHERE a.track_id = t.id ORDER BY ord LIMIT 1),
                    (SELECT name FROM release_artist a WHERE a.release_id = t.release_id ORDER BY ord LIMIT 1))`,
  LABEL: `(SELECT name FROM release_label l WHERE l.release_id = t.release_id ORDER BY ord LIMIT 1)`,
}

export interface MapSample {
  trackId: number
  vector: Float32Array
  group: string | null
}

export class EmbeddingMapRepository {
  constructor(private readonly pool: pg.Pool) {}

  /**
   * Up to `limit` of a model's vectors with each track's group. The sample is spread over the catalog by
   * hashing track ids (not the first N by id), and the same for every call.
   */
  async sample(modelId: number, space: ModelSpace, color: MapColor, limit: number): Promise<MapSample[]> {
    const { rows } = await this.pool.query<{ track_id: string; v: Buffer; grp: string | null }>(
      `SELECT e.track_id, vector_send(e.embedding) AS v, ${GROUP_SQL[color]} AS grp
         FROM track_embedding e JOIN track t ON t.id = e.track_id
        WHERE e.model_id = $1 AND e.space = $2
        ORDER BY md5(e.track_id::text) LIMIT $3`,
      [modelId, space, limit],
    )
    return rows.map((r) => ({ trackId: Number(r.track_id), vector: decodeVectorSend(r.v), group: r.grp }))
  }
}
