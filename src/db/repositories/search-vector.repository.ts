import type pg from 'pg'
import type { SearchTransform, TransformKind } from '../../ml/retrieval/transform.ts'
import { checkKey, decodeVectorSend, vectorLiteral } from './embedding.repository.ts'
import type { ModelSpace } from './model.repository.ts'

/**
 * The search side of track vectors: each (model, space)'s fitted transform (`search_transform`) and the
 * transformed vectors (`track_embedding.search`) that kNN, the HNSW index and the centroids use. The raw
 * `embedding` stays for the probes.
 */

/** Rows read per round trip when rewriting a model's search vectors. */
const BATCH = 2000

export interface StoredTransform extends SearchTransform {
  fittedAt: Date
}

export class SearchVectorRepository {
  constructor(private readonly pool: pg.Pool) {}

  async transform(modelId: number, space: ModelSpace): Promise<StoredTransform | null> {
    const { rows } = await this.pool.query(
      `SELECT kind, in_dims, out_dims, mean, components, variances, fitted_on, fitted_at
         FROM search_transform WHERE model_id = $1 AND space = $2`,
      [modelId, space],
    )
    const r = rows[0]
    if (!r) return null
    return {
      kind: r.kind as TransformKind,
      inDims: r.in_dims,
      outDims: r.out_dims,
      mean: floats(r.mean),
      components: floats(r.components),
      variances: floats(r.variances),
      fittedOn: r.fitted_on,
      fittedAt: r.fitted_at,
    }
  }

  /** Vectors of (model, space) written but not yet given a search vector (a pass stopped before its refit). */
  async missingCount(modelId: number, space: ModelSpace): Promise<number> {
    const { rows } = await this.pool.query(
      `SELECT count(*)::int AS n FROM track_embedding WHERE model_id = $1 AND space = $2 AND search IS NULL`,
      [modelId, space],
    )
    return rows[0].n
  }

  /**
   * Up to `max` raw vectors of (model, space) to fit a transform on: all of them when there are fewer, else a
   * sample that depends only on the track ids (the same library gives the same transform).
   */
  async sample(modelId: number, space: ModelSpace, max: number): Promise<Float32Array[]> {
    const { rows } = await this.pool.query<{ v: Buffer }>(
      `SELECT vector_send(embedding) AS v FROM track_embedding WHERE model_id = $1 AND space = $2
        ORDER BY md5(track_id::text) LIMIT $3`,
      [modelId, space, max],
    )
    return rows.map((r) => decodeVectorSend(r.v))
  }

  /**
   * Stores `transform` for (model, space) and rewrites every search vector of it with `map` (raw → search),
   * in one transaction: readers see the old transform and vectors until it commits, then the new ones, never
   * a mix. The HNSW index is the caller's to drop before (its width may change) and build after.
   */
  async replace(
    modelId: number,
    space: ModelSpace,
    transform: SearchTransform,
    map: (raw: Float32Array, trackId: number) => Float32Array,
  ): Promise<number> {
    checkKey(modelId, space, transform.outDims)
    const c = await this.pool.connect()
    try {
      await c.query('BEGIN')
      await c.query(
        `INSERT INTO search_transform (model_id, space, kind, in_dims, out_dims, mean, components, variances, fitted_on, fitted_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, now())
         ON CONFLICT (model_id, space) DO UPDATE SET kind = EXCLUDED.kind, in_dims = EXCLUDED.in_dims,
           out_dims = EXCLUDED.out_dims, mean = EXCLUDED.mean, components = EXCLUDED.components,
           variances = EXCLUDED.variances, fitted_on = EXCLUDED.fitted_on, fitted_at = now()`,
        [
          modelId,
          space,
          transform.kind,
          transform.inDims,
          transform.outDims,
          bytes(transform.mean),
          bytes(transform.components),
          bytes(transform.variances),
          transform.fittedOn,
        ],
      )
      let after = 0
      let updated = 0
      for (;;) {
        const { rows } = await c.query<{ track_id: string; v: Buffer }>(
          `SELECT track_id, vector_send(embedding) AS v FROM track_embedding
            WHERE model_id = $1 AND space = $2 AND track_id > $3 ORDER BY track_id LIMIT ${BATCH}`,
          [modelId, space, after],
        )
        if (!rows.length) break
        const ids = rows.map((r) => Number(r.track_id))
        const vectors = rows.map((r, i) => vectorLiteral(map(decodeVectorSend(r.v), ids[i])))
        const r = await c.query(
          `UPDATE track_embedding te SET search = u.search::vector
             FROM unnest($3::bigint[], $4::text[]) AS u(track_id, search)
            WHERE te.model_id = $1 AND te.space = $2 AND te.track_id = u.track_id`,
          [modelId, space, ids, vectors],
        )
        updated += r.rowCount ?? 0
        after = ids[ids.length - 1]
      }
      await c.query('COMMIT')
      return updated
    } catch (err) {
      await c.query('ROLLBACK').catch(() => undefined)
      throw err
    } finally {
      c.release()
    }
  }

  /** Search vectors of (model, space) for `trackIds`, or for every embedded track when omitted. */
  async vectors(
    modelId: number,
    space: ModelSpace,
    trackIds?: readonly number[],
  ): Promise<Map<number, Float32Array>> {
    const { rows } = await this.pool.query<{ track_id: string; v: Buffer }>(
      `SELECT track_id, vector_send(search) AS v FROM track_embedding
        WHERE model_id = $1 AND space = $2 AND search IS NOT NULL
          ${trackIds ? 'AND track_id = ANY($3::bigint[])' : ''} ORDER BY track_id`,
      trackIds ? [modelId, space, trackIds] : [modelId, space],
    )
    return new Map(rows.map((r) => [Number(r.track_id), decodeVectorSend(r.v)]))
  }
}

function bytes(a: Float32Array | null): Buffer | null {
  if (!a) return null
  const b = Buffer.alloc(a.length * 4)
  for (let i = 0; i < a.length; i++) b.writeFloatLE(a[i], i * 4)
  return b
}

function floats(b: Buffer | null): Float32Array | null {
  if (!b) return null
  const out = new Float32Array(b.length / 4)
  for (let i = 0; i < out.length; i++) out[i] = b.readFloatLE(i * 4)
  return out
}
