import type pg from 'pg'
import { EmbeddingMapRepository, type MapColor } from '../db/repositories/embedding-map.repository.ts'
import type { ModelSpace } from '../db/repositories/model.repository.ts'
import { projectTo2d } from '../ml/projection.ts'

export interface EmbeddingMapPoint {
  trackId: number
  x: number
  y: number
  group: string | null
}

const MAX_CACHED = 16

/**
 * 2-D maps of a model's vectors for the UI. UMAP costs seconds, and a model's vectors don't change once
 * embedded (a re-embedding registers a new model), so maps are cached per (model, space, size, vector
 * count); the colouring is looked up fresh each time.
 */
export class EmbeddingMapService {
  private readonly repo: EmbeddingMapRepository
  private readonly cache = new Map<string, Promise<Map<number, [number, number]>>>()

  constructor(pool: pg.Pool) {
    this.repo = new EmbeddingMapRepository(pool)
  }

  async map(modelId: number, space: ModelSpace, color: MapColor, limit: number): Promise<EmbeddingMapPoint[]> {
    const sample = await this.repo.sample(modelId, space, color, limit)
    const key = `${modelId}|${space}|${limit}|${sample.length}`
    let coords = this.cache.get(key)
    if (!coords) {
      coords = Promise.resolve().then(() => {
        const xy = projectTo2d(sample.map((s) => s.vector))
        return new Map(sample.map((s, i) => [s.trackId, [xy[2 * i], xy[2 * i + 1]] as [number, number]]))
      })
      this.cache.set(key, coords)
      coords.catch(() => this.cache.delete(key))
      if (this.cache.size > MAX_CACHED) this.cache.delete(this.cache.keys().next().value!)
    }
    const xy = await coords
    return sample.filter((s) => xy.has(s.trackId)).map((s) => ({ trackId: s.trackId, x: xy.get(s.trackId)![0], y: xy.get(s.trackId)![1], group: s.group }))
  }
}
