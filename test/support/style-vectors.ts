import { EmbeddingRepository } from '../../src/db/repositories/embedding.repository.ts'
import { ModelRepository } from '../../src/db/repositories/model.repository.ts'
import { SeededRandom } from '../../src/random/seeded-random.ts'
import { refitSearchVectors } from '../../src/services/search-vectors.ts'
import type { TestDatabase } from './database.ts'

export const STYLE_VECTOR_DIMS = 16

/**
 * Registers a model (`name`) and gives every track of the catalog (type 'track') a vector that carries the
 * catalog's structure: one direction per release style (its first by name), plus noise per track; seeded, so
 * the same catalog gets the same vectors. Then does what `embed` does after writing: search vectors (raw:
 * these need no centring to be compared), the HNSW index and the centroids.
 */
export async function embedFixtureTracks(
  t: TestDatabase,
  name = 'test-vectors',
): Promise<{ modelId: number; trackIds: number[] }> {
  const dims = STYLE_VECTOR_DIMS
  const { model } = await new ModelRepository(t.db.pool).register({
    name,
    kind: 'onnx',
    config: {},
    dims: { projection: dims },
    fingerprint: 'test',
  })
  const { rows } = await t.db.pool.query<{ id: string; style: string | null }>(
    `SELECT t.id, (SELECT style FROM release_style s WHERE s.release_id = t.release_id ORDER BY style LIMIT 1) AS style
       FROM track t WHERE t.type = 'track' ORDER BY t.id`,
  )
  const rng = new SeededRandom(7)
  const centres = new Map<string, Float32Array>()
  const centre = (style: string) => {
    if (!centres.has(style))
      centres.set(
        style,
        Float32Array.from({ length: dims }, () => rng.next() * 2 - 1),
      )
    return centres.get(style)!
  }
  const vectors = rows.map((r) => {
    const c = centre(r.style ?? 'none')
    const v = Float32Array.from(c, (x) => x + (rng.next() - 0.5) * 0.6)
    const norm = Math.hypot(...v)
    return { trackId: Number(r.id), vector: v.map((x) => x / norm), patches: 1 }
  })
  const repo = new EmbeddingRepository(t.db.pool, t.db.kind)
  await repo.write(model.id, 'projection', vectors)
  await refitSearchVectors(t.db, model.id, 'projection', { kind: 'raw' })
  await repo.ensureIndex(model.id, 'projection', dims)
  await repo.recomputeCentroids(model.id, 'projection')
  return { modelId: model.id, trackIds: vectors.map((v) => v.trackId) }
}
