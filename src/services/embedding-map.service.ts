import { LRUCache } from 'lru-cache'
import type pg from 'pg'
import { EmbeddingMapRepository, type MapColor } from '../db/repositories/embedding-map.repository.ts'
import type { ModelSpace } from '../db/repositories/model.repository.ts'
import { UnavailableError } from '../errors.ts'
import { projectTo2dInWorker } from '../ml/projection-thread.ts'

export type { MapColor }

export interface EmbeddingMapPoint {
  trackId: number
  x: number
  y: number
  group: string | null
}

/**
 * Tracks a map is computed for: an even sample (by hashed track id) of at most this many of the model's
 * vectors. UMAP's cost grows faster than linearly (3000 × 64-d: about 10 s of CPU on the dev machine), and
 * a picture of 5000 points already shows the clusters.
 */
export const MAP_POINTS = 5000

/** Maps kept, one per (model, space); each is at most MAP_POINTS ids and coordinates. */
const MAX_CACHED = 16

export interface EmbeddingMapOptions {
  /** How long a request waits for a map being computed before answering UNAVAILABLE (the computation goes on). */
  waitMs?: number
  /** Called after each map computed (the API counts them in /metrics and logs them). */
  onComputed?: (info: { modelId: number; space: ModelSpace; points: number; ms: number }) => void
}

interface Projection {
  trackIds: number[]
  /** x, y of trackIds[i] at 2i, 2i + 1, in 0..1 */
  xy: Float32Array
}

interface CachedMap {
  version: string
  projection: Promise<Projection>
}

/**
 * 2-D maps of a model's search vectors for the UI. UMAP costs seconds of CPU, so it runs on a worker thread
 * (the API's event loop stays free), one map at a time (on a small machine two would only slow each other
 * and the API), and its result is kept per (model, space) until the vectors change: the key is the search
 * transform's fit time and the vector count, which every embed pass that writes vectors changes. A map is
 * computed once for MAP_POINTS tracks; `limit` takes the first of them (the sample's order is itself an even
 * sample), so clients asking for different sizes share one computation, as do concurrent requests. The
 * colouring does not move the points: groups are read fresh for the points returned.
 */
export class EmbeddingMapService {
  private readonly repo: EmbeddingMapRepository
  private readonly cache = new LRUCache<string, CachedMap>({ max: MAX_CACHED })
  private readonly waitMs: number
  private readonly stopping = new AbortController()
  /** The computations, one after another. */
  private queue: Promise<unknown> = Promise.resolve()

  constructor(
    pool: pg.Pool,
    private readonly options: EmbeddingMapOptions = {},
  ) {
    this.repo = new EmbeddingMapRepository(pool)
    this.waitMs = options.waitMs ?? 20_000
  }

  async map(
    modelId: number,
    space: ModelSpace,
    color: MapColor,
    limit: number,
  ): Promise<EmbeddingMapPoint[]> {
    const projection = await this.projection(modelId, space)
    const trackIds = projection.trackIds.slice(0, limit)
    const groups = await this.repo.groups(trackIds, color)
    return trackIds.map((trackId, i) => ({
      trackId,
      x: projection.xy[2 * i],
      y: projection.xy[2 * i + 1],
      group: groups.get(trackId) ?? null,
    }))
  }

  /** Stops a computation under way (the server is closing); requests waiting for it fail. */
  close(): void {
    this.stopping.abort()
  }

  private async projection(modelId: number, space: ModelSpace): Promise<Projection> {
    const key = `${modelId}|${space}`
    const version = await this.repo.version(modelId, space)
    let entry = this.cache.get(key)
    if (!entry || entry.version !== version) {
      const fresh: CachedMap = { version, projection: this.compute(modelId, space) }
      fresh.projection.catch(() => {
        if (this.cache.peek(key) === fresh) this.cache.delete(key)
      })
      this.cache.set(key, fresh)
      entry = fresh
    }
    return withinMs(
      entry.projection,
      this.waitMs,
      () =>
        new UnavailableError(`the map of model ${modelId} (${space}) is being computed; ask again shortly`),
    )
  }

  private compute(modelId: number, space: ModelSpace): Promise<Projection> {
    const run = this.queue.then(async () => {
      const started = performance.now()
      const sample = await this.repo.sample(modelId, space, MAP_POINTS)
      const xy = sample.trackIds.length
        ? await projectTo2dInWorker(sample.vectors, sample.dims, { signal: this.stopping.signal })
        : new Float32Array(0)
      this.options.onComputed?.({
        modelId,
        space,
        points: sample.trackIds.length,
        ms: Math.round(performance.now() - started),
      })
      return { trackIds: sample.trackIds, xy }
    })
    this.queue = run.catch(() => undefined)
    return run
  }
}

/** `promise`, or `timeout()` as a rejection once `ms` have passed without it settling. */
function withinMs<T>(promise: Promise<T>, ms: number, timeout: () => Error): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const expired = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(timeout()), ms)))
  return Promise.race([promise, expired]).finally(() => clearTimeout(timer))
}
