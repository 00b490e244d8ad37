import crypto from 'node:crypto'
import type { Database } from '../../src/db/database.ts'
import { EmbeddingRepository, type EmbeddingRow } from '../../src/db/repositories/embedding.repository.ts'
import { ModelRepository } from '../../src/db/repositories/model.repository.ts'
import { refitSearchVectors } from '../../src/services/search-vectors.ts'
import { syntheticVectors } from '../knn.ts'

/**
 * Registers model `name` and gives `trackIds` its clustered synthetic `projection` vectors of `dims` (bench:knn's),
 * their search vectors (`raw`: the vectors are already unit directions around a centred library) and the
 * HNSW index, as embed leaves a model; bench:mix and bench:load's catalog both serve one.
 */
export async function embedSynthetic(
  db: Database,
  name: string,
  trackIds: number[],
  dims: number,
  log: (msg: string) => void = () => {},
): Promise<void> {
  const vectors = syntheticVectors(trackIds.length, dims)
  const { model } = await new ModelRepository(db.pool).register({
    name,
    kind: 'random',
    config: { synthetic: true },
    dims: { projection: dims },
    fingerprint: `${name}:${crypto.randomUUID()}`,
  })
  const repo = new EmbeddingRepository(db.pool, db.kind)
  for (let i = 0; i < trackIds.length; i += 10_000) {
    const rows: EmbeddingRow[] = []
    for (let r = i; r < Math.min(trackIds.length, i + 10_000); r++)
      rows.push({ trackId: trackIds[r], vector: vectors.data.subarray(r * dims, (r + 1) * dims), patches: 1 })
    await repo.write(model.id, 'projection', rows)
  }
  await refitSearchVectors(db, model.id, 'projection', { kind: 'raw' })
  await db.pool.query('VACUUM ANALYZE')
  log('building HNSW')
  await repo.ensureIndex(model.id, 'projection', dims, { maintenanceWorkMem: '512MB' })
  await db.pool.query('VACUUM ANALYZE')
}
