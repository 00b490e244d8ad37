import { setImmediate as yieldToLoop } from 'node:timers/promises'
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

/** Search vectors of a map's tracks, packed row after row (n × dims) so they can be moved to a worker whole. */
export interface MapSample {
  trackIds: number[]
  dims: number
  vectors: Float32Array
}

/** Rows decoded between two turns of the event loop (vector_send → floats). */
const DECODE_SLICE = 500

export class EmbeddingMapRepository {
  constructor(private readonly pool: pg.Pool) {}

  /**
   * What a map of (model, space) was made from: when the search transform was last fitted (every embed pass
   * that writes vectors refits it and rewrites the search vectors) and how many vectors there are (a pass
   * stopped before its refit, or tracks deleted). A map is current while both are unchanged.
   */
  async version(modelId: number, space: ModelSpace): Promise<string> {
    const { rows } = await this.pool.query<{ fitted_at: Date | null; n: number }>(
      `SELECT (SELECT fitted_at FROM search_transform WHERE model_id = $1 AND space = $2) AS fitted_at,
              (SELECT count(*)::int FROM track_embedding WHERE model_id = $1 AND space = $2) AS n`,
      [modelId, space],
    )
    return `${rows[0].fitted_at?.toISOString() ?? 'unfitted'}|${rows[0].n}`
  }

  /**
   * Up to `max` search vectors of (model, space) — what similarity serves, not the raw embeddings — in an
   * order spread over the catalog by hashing track ids (not the first N by id) and the same on every call,
   * so that any prefix of it is itself an even sample.
   */
  async sample(modelId: number, space: ModelSpace, max: number): Promise<MapSample> {
    const { rows } = await this.pool.query<{ track_id: string; v: Buffer }>(
      `SELECT track_id, vector_send(search) AS v FROM track_embedding
        WHERE model_id = $1 AND space = $2 AND search IS NOT NULL
        ORDER BY md5(track_id::text) LIMIT $3`,
      [modelId, space, max],
    )
    const dims = rows.length ? rows[0].v.readInt16BE(0) : 0
    const vectors = new Float32Array(rows.length * dims)
    for (let i = 0; i < rows.length; i++) {
      // Wide vectors (a backbone's 1280 floats × 5000 rows) take tens of ms to decode: not in one turn.
      if (i > 0 && i % DECODE_SLICE === 0) await yieldToLoop()
      vectors.set(decodeVectorSend(rows[i].v), i * dims)
    }
    return { trackIds: rows.map((r) => Number(r.track_id)), dims, vectors }
  }

  /** The group each of `trackIds` is coloured by (null: the track has none, or is gone). */
  async groups(trackIds: readonly number[], color: MapColor): Promise<Map<number, string | null>> {
    const { rows } = await this.pool.query<{ id: string; grp: string | null }>(
      `SELECT t.id, ${GROUP_SQL[color]} AS grp FROM track t WHERE t.id = ANY($1::bigint[])`,
      [trackIds],
    )
    return new Map(rows.map((r) => [Number(r.id), r.grp]))
  }
}
