import { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import type pg from 'pg'
import { VARIOUS_ARTIST_ID } from '../../discogs.ts'
import { from as copyFrom } from 'pg-copy-streams'
import pgvector from 'pgvector'
import type { DatabaseKind } from '../database.ts'
import type { ModelSpace } from './model.repository.ts'

/**
 * All SQL on `track_embedding` and the artist/label centroids except kNN search (similarity.repository.ts):
 * bulk writes (binary COPY on a server, INSERT … unnest on the embedded database, which has no COPY), the
 * per-(model, space) HNSW indexes, centroids, and reading vectors back.
 */

export interface EmbeddingRow {
  trackId: number
  vector: Float32Array
  /** how many patches were averaged */
  patches: number
}

/**
 * The artists of track `track` (an SQL expression): its own artists when the tracklist names them, else the
 * release's main artists — the rule of the artist association (association.repository.ts).
 */
export function artistsOfTrackSql(track: string): string {
  return `SELECT ta.artist_id FROM track_artist ta
           WHERE ta.track_id = ${track} AND ta.artist_id > 0 AND ta.artist_id <> ${VARIOUS_ARTIST_ID}
          UNION
          SELECT ra.artist_id FROM track t JOIN release_artist ra ON ra.release_id = t.release_id
           WHERE t.id = ${track} AND ra.artist_id > 0 AND ra.artist_id <> ${VARIOUS_ARTIST_ID}
             AND NOT EXISTS (SELECT 1 FROM track_artist ta2 WHERE ta2.track_id = ${track}
                              AND ta2.artist_id > 0 AND ta2.artist_id <> ${VARIOUS_ARTIST_ID})`
}

/** The labels of track `track`: those printed on its release, without "Not On Label" placeholders. */
export function labelsOfTrackSql(track: string): string {
  return `SELECT rl.label_id FROM track t JOIN release_label rl ON rl.release_id = t.release_id
            LEFT JOIN label l ON l.id = rl.label_id
           WHERE t.id = ${track} AND rl.label_id > 0 AND COALESCE(l.name, rl.name, '') NOT ILIKE 'not on label%'`
}

/** Tracks of artist `artist` (an SQL expression), by the rule of artistsOfTrackSql. */
export function tracksOfArtistSql(artist: string, union: 'UNION' | 'UNION ALL' = 'UNION'): string {
  return `SELECT ta.track_id FROM track_artist ta WHERE ta.artist_id = ${artist}
          ${union}
          SELECT t.id FROM release_artist ra JOIN track t ON t.release_id = ra.release_id
           WHERE ra.artist_id = ${artist}
             AND NOT EXISTS (SELECT 1 FROM track_artist ta2 WHERE ta2.track_id = t.id
                              AND ta2.artist_id > 0 AND ta2.artist_id <> ${VARIOUS_ARTIST_ID})`
}

/** Tracks on label `label`. */
export function tracksOfLabelSql(label: string): string {
  return `SELECT DISTINCT t.id AS track_id FROM release_label rl JOIN track t ON t.release_id = rl.release_id WHERE rl.label_id = ${label}`
}

/**
 * pgvector's text form, by pgvector-node's own codec (it takes plain arrays only). Float32 → double → shortest
 * decimal → float4 round-trips exactly. The same text as joining the Float32Array, in about 0.6× the CPU
 * time (bench/vector-text.ts, docs/BENCHMARKS.md).
 */
export function vectorLiteral(v: Float32Array | number[]): string {
  return pgvector.toSql(Array.isArray(v) ? v : Array.from(v)) as string
}

/**
 * Decodes `vector_send(v)` (int16 dims, int16 unused, float4 big-endian each). Hand-written, as is the binary
 * COPY encoder below: pgvector-node has codecs for the text form only, and binary skips float ↔ decimal text.
 */
export function decodeVectorSend(b: Buffer): Float32Array {
  const dims = b.readInt16BE(0)
  const out = new Float32Array(dims)
  for (let i = 0; i < dims; i++) out[i] = b.readFloatBE(4 + 4 * i)
  return out
}

const COPY_SIGNATURE = Buffer.from('PGCOPY\n\xff\r\n\0', 'latin1')

/** Rows of (model_id, space, track_id, embedding, patches) in COPY's binary format. */
export function encodeEmbeddingCopy(
  modelId: number,
  space: ModelSpace,
  rows: readonly EmbeddingRow[],
): Buffer {
  const spaceBytes = Buffer.from(space, 'utf8')
  let size = COPY_SIGNATURE.length + 8 + 2
  for (const r of rows)
    size += 2 + (4 + 4) + (4 + spaceBytes.length) + (4 + 8) + (4 + 4 + 4 * r.vector.length) + (4 + 4)
  const b = Buffer.allocUnsafe(size)
  let o = COPY_SIGNATURE.copy(b, 0)
  o = b.writeInt32BE(0, o)
  o = b.writeInt32BE(0, o)
  for (const r of rows) {
    o = b.writeInt16BE(5, o)
    o = b.writeInt32BE(4, o)
    o = b.writeInt32BE(modelId, o)
    o = b.writeInt32BE(spaceBytes.length, o)
    o += spaceBytes.copy(b, o)
    o = b.writeInt32BE(8, o)
    o = b.writeBigInt64BE(BigInt(r.trackId), o)
    o = b.writeInt32BE(4 + 4 * r.vector.length, o)
    o = b.writeInt16BE(r.vector.length, o)
    o = b.writeInt16BE(0, o)
    for (let i = 0; i < r.vector.length; i++) o = b.writeFloatBE(r.vector[i], o)
    o = b.writeInt32BE(4, o)
    o = b.writeInt32BE(r.patches, o)
  }
  b.writeInt16BE(-1, o)
  return b
}

/** Name of the HNSW index of one (model, space). */
export function hnswIndexName(modelId: number, space: ModelSpace): string {
  return `track_embedding_hnsw_${modelId}_${space}`
}

const SPACE = new Set<ModelSpace>(['backbone', 'projection'])

/** Model ids, spaces and dims are spliced into SQL (index predicates must be constants): check them. */
export function checkKey(modelId: number, space: ModelSpace, dims?: number): void {
  if (!Number.isInteger(modelId) || modelId < 1) throw new RangeError(`bad model id ${modelId}`)
  if (!SPACE.has(space)) throw new RangeError(`bad embedding space ${String(space)}`)
  if (dims !== undefined && (!Number.isInteger(dims) || dims < 1 || dims > 16000))
    throw new RangeError(`bad dimension count ${dims}`)
}

/**
 * HNSW build parameters. ef_construction 128 rather than pgvector's 64: on catalogue-shaped vectors (tight
 * clusters of a release's tracks inside an artist's, inside a style's) 64 leaves some tracks hard to reach,
 * and recall@10 stalls near 0.96 at 100k whatever ef_search is; 128 gives 0.99 for 1.7× the build time
 * (docs/BENCHMARKS.md, Similarity search).
 */
export const HNSW_DEFAULTS = { m: 16, efConstruction: 128 } as const

export interface HnswOptions {
  m?: number
  efConstruction?: number
  /** maintenance_work_mem for the build (the graph should fit, or the build slows down a lot) */
  maintenanceWorkMem?: string
}

export class EmbeddingRepository {
  constructor(
    private readonly pool: pg.Pool,
    private readonly kind: DatabaseKind,
  ) {}

  /** Tracks that already have a vector of this model in this space. */
  async embeddedTrackIds(modelId: number, space: ModelSpace): Promise<Set<number>> {
    const { rows } = await this.pool.query<{ track_id: string }>(
      `SELECT track_id FROM track_embedding WHERE model_id = $1 AND space = $2`,
      [modelId, space],
    )
    return new Set(rows.map((r) => Number(r.track_id)))
  }

  async count(modelId: number, space: ModelSpace): Promise<number> {
    const { rows } = await this.pool.query(
      `SELECT count(*)::int AS n FROM track_embedding WHERE model_id = $1 AND space = $2`,
      [modelId, space],
    )
    return rows[0].n
  }

  /**
   * Writes vectors, skipping tracks that already have one for (model, space) — a second writer or a
   * resumed pass never duplicates or replaces a vector. One transaction per call. Returns rows inserted.
   */
  async write(modelId: number, space: ModelSpace, rows: readonly EmbeddingRow[]): Promise<number> {
    checkKey(modelId, space)
    if (!rows.length) return 0
    const c = await this.pool.connect()
    try {
      await c.query('BEGIN')
      let inserted: number
      if (this.kind === 'server') {
        await c.query(
          `CREATE TEMP TABLE track_embedding_load (track_id bigint, embedding vector, patches integer, model_id integer, space text) ON COMMIT DROP`,
        )
        const data = encodeEmbeddingCopy(modelId, space, rows)
        await pipeline(
          Readable.from([data]),
          c.query(
            copyFrom(
              `COPY track_embedding_load (model_id, space, track_id, embedding, patches) FROM STDIN (FORMAT binary)`,
            ),
          ),
        )
        const r = await c.query(
          `INSERT INTO track_embedding (model_id, space, track_id, embedding, patches)
           SELECT model_id, space, track_id, embedding, patches FROM track_embedding_load
           ON CONFLICT DO NOTHING`,
        )
        inserted = r.rowCount ?? 0
      } else {
        const r = await c.query(
          `INSERT INTO track_embedding (model_id, space, track_id, embedding, patches)
           SELECT $1, $2, t.track_id, t.embedding::vector, t.patches
             FROM unnest($3::bigint[], $4::text[], $5::integer[]) AS t(track_id, embedding, patches)
           ON CONFLICT DO NOTHING`,
          [
            modelId,
            space,
            rows.map((r) => r.trackId),
            rows.map((r) => vectorLiteral(r.vector)),
            rows.map((r) => r.patches),
          ],
        )
        inserted = r.rowCount ?? 0
      }
      await c.query('COMMIT')
      return inserted
    } catch (err) {
      await c.query('ROLLBACK').catch(() => undefined)
      throw err
    } finally {
      c.release()
    }
  }

  async indexDefinition(modelId: number, space: ModelSpace): Promise<string | null> {
    const { rows } = await this.pool.query(
      `SELECT indexdef FROM pg_indexes WHERE tablename = 'track_embedding' AND indexname = $1`,
      [hnswIndexName(modelId, space)],
    )
    return rows[0]?.indexdef ?? null
  }

  async dropIndex(modelId: number, space: ModelSpace): Promise<void> {
    checkKey(modelId, space)
    await this.pool.query(`DROP INDEX IF EXISTS ${hnswIndexName(modelId, space)}`)
  }

  /**
   * The HNSW index (cosine) of one (model, space): a partial index on `search::vector(dims)` (the search
   * vectors, `dims` wide: the transform's output), so one dimensionless table serves every model and a query
   * sees only its model's graph. kNN queries must use exactly this expression and predicate
   * (similarity.repository.ts). Returns whether it was built now.
   */
  async ensureIndex(
    modelId: number,
    space: ModelSpace,
    dims: number,
    options: HnswOptions = {},
  ): Promise<boolean> {
    checkKey(modelId, space, dims)
    if (await this.indexDefinition(modelId, space)) return false
    const m = options.m ?? HNSW_DEFAULTS.m
    const ef = options.efConstruction ?? HNSW_DEFAULTS.efConstruction
    if (!Number.isInteger(m) || !Number.isInteger(ef))
      throw new RangeError('HNSW m and ef_construction must be integers')
    const c = await this.pool.connect()
    try {
      if (options.maintenanceWorkMem) {
        if (!/^\d+\s*(kB|MB|GB)$/.test(options.maintenanceWorkMem))
          throw new RangeError(`bad maintenance_work_mem ${options.maintenanceWorkMem}`)
        await c.query(`SET maintenance_work_mem = '${options.maintenanceWorkMem}'`)
      }
      await c.query(
        `CREATE INDEX IF NOT EXISTS ${hnswIndexName(modelId, space)} ON track_embedding
           USING hnsw ((search::vector(${dims})) vector_cosine_ops) WITH (m = ${m}, ef_construction = ${ef})
           WHERE model_id = ${modelId} AND space = '${space}'`,
      )
      return true
    } finally {
      if (options.maintenanceWorkMem) await c.query('RESET maintenance_work_mem').catch(() => undefined)
      c.release()
    }
  }

  /**
   * Replaces the artist and label centroids of (model, space): the unit-length mean of their tracks'
   * search vectors (the space similarity is served in), with the track count. Artists by artistsOfTrackSql, labels by labelsOfTrackSql.
   */
  async recomputeCentroids(modelId: number, space: ModelSpace): Promise<{ artists: number; labels: number }> {
    checkKey(modelId, space)
    const c = await this.pool.connect()
    try {
      await c.query('BEGIN')
      await c.query(`DELETE FROM artist_centroid WHERE model_id = $1 AND space = $2`, [modelId, space])
      await c.query(`DELETE FROM label_centroid WHERE model_id = $1 AND space = $2`, [modelId, space])
      const artists = await c.query(
        `INSERT INTO artist_centroid (model_id, space, artist_id, embedding, tracks)
         SELECT $1, $2, a.artist_id, l2_normalize(avg(te.search)), count(*)
           FROM track_embedding te CROSS JOIN LATERAL (${artistsOfTrackSql('te.track_id')}) a
          WHERE te.model_id = $1 AND te.space = $2 AND te.search IS NOT NULL
          GROUP BY a.artist_id`,
        [modelId, space],
      )
      const labels = await c.query(
        `INSERT INTO label_centroid (model_id, space, label_id, embedding, tracks)
         SELECT $1, $2, l.label_id, l2_normalize(avg(te.search)), count(*)
           FROM track_embedding te CROSS JOIN LATERAL (SELECT DISTINCT x.label_id FROM (${labelsOfTrackSql('te.track_id')}) x) l
          WHERE te.model_id = $1 AND te.space = $2 AND te.search IS NOT NULL
          GROUP BY l.label_id`,
        [modelId, space],
      )
      await c.query('COMMIT')
      return { artists: artists.rowCount ?? 0, labels: labels.rowCount ?? 0 }
    } catch (err) {
      await c.query('ROLLBACK').catch(() => undefined)
      throw err
    } finally {
      c.release()
    }
  }

  async centroidCounts(modelId: number, space: ModelSpace): Promise<{ artists: number; labels: number }> {
    const { rows } = await this.pool.query(
      `SELECT (SELECT count(*) FROM artist_centroid WHERE model_id = $1 AND space = $2)::int AS artists,
              (SELECT count(*) FROM label_centroid WHERE model_id = $1 AND space = $2)::int AS labels`,
      [modelId, space],
    )
    return rows[0]
  }

  /** Vectors of (model, space) for `trackIds`, or for every embedded track when omitted. */
  async vectors(
    modelId: number,
    space: ModelSpace,
    trackIds?: readonly number[],
  ): Promise<Map<number, Float32Array>> {
    const { rows } = await this.pool.query<{ track_id: string; v: Buffer }>(
      `SELECT track_id, vector_send(embedding) AS v FROM track_embedding
        WHERE model_id = $1 AND space = $2 ${trackIds ? 'AND track_id = ANY($3::bigint[])' : ''} ORDER BY track_id`,
      trackIds ? [modelId, space, trackIds] : [modelId, space],
    )
    return new Map(rows.map((r) => [Number(r.track_id), decodeVectorSend(r.v)]))
  }

  async centroid(
    owner: 'artist' | 'label',
    ownerId: number,
    modelId: number,
    space: ModelSpace,
  ): Promise<{ vector: Float32Array; tracks: number } | null> {
    const { rows } = await this.pool.query<{ v: Buffer; tracks: number }>(
      `SELECT vector_send(embedding) AS v, tracks FROM ${owner === 'artist' ? 'artist' : 'label'}_centroid
        WHERE model_id = $1 AND space = $2 AND ${owner}_id = $3`,
      [modelId, space, ownerId],
    )
    return rows[0] ? { vector: decodeVectorSend(rows[0].v), tracks: rows[0].tracks } : null
  }
}
