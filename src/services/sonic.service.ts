import type { Config } from '../config/config.ts'
import type { Database } from '../db/database.ts'
import type { ModelRow } from '../db/repositories/model.repository.ts'
import { LibraryRepository } from '../db/repositories/library.repository.ts'
import { BadInputError, NotFoundError } from '../errors.ts'
import { cosineDistance, similarityFromDistance } from '../ml/embedding/pooling.ts'
import { pathWaypoints } from '../ml/retrieval/mix.ts'
import { ModelService } from './model.service.ts'
import type { SimilarityService } from './similarity.service.ts'

/**
 * Sonic similarity for players: songs of the library that sound like some songs, and paths from one song to
 * another, in the vectors of the default model (ModelService.defaultModel). Similarity is the one
 * SimilarityService reports: 1 − cosine distance / 2.
 */

export interface SonicMatch {
  trackId: number
  /** 0..1: to the seeds (similar songs) or to the path's first song (paths) */
  similarity: number
}

export const MAX_SONIC_COUNT = 200
const MAX_SEEDS = 100
const MODEL_CACHE_MS = 30_000

export class SonicService {
  private readonly library: LibraryRepository
  private readonly models: ModelService
  private cached: { model: ModelRow; at: number } | null = null

  constructor(
    db: Database,
    config: Config,
    private readonly similarity: SimilarityService,
  ) {
    this.library = new LibraryRepository(db.pool)
    this.models = new ModelService(db, config)
  }

  /** The default model, cached briefly: finding it counts every model's vectors. */
  async model(): Promise<ModelRow> {
    if (this.cached && performance.now() - this.cached.at < MODEL_CACHE_MS) return this.cached.model
    const model = await this.models.defaultModel()
    this.cached = { model, at: performance.now() }
    return model
  }

  /**
   * Library songs nearest the mean of the seeds' vectors (seeds without a vector are left out, at most
   * 100 kept), best first; `otherArtists` leaves out the seeds' artists' songs, as the web UI does.
   */
  async similarSongs(
    seeds: readonly number[],
    count: number,
    options: { otherArtists: boolean },
  ): Promise<SonicMatch[]> {
    checkCount(count)
    const model = await this.model()
    const { vectors } = await this.similarity.searchVectors(seeds, model.id)
    const withVectors = seeds.filter((id) => vectors.has(id)).slice(0, MAX_SEEDS)
    if (!withVectors.length)
      throw new NotFoundError(`vector of model ${model.name} for song`, seeds.join(', ') || '(none)')
    // a few more than asked: a track with a vector may have lost its audio since
    const first = Math.min(MAX_SONIC_COUNT, count + 10)
    const { tracks } = await this.similarity.similarTracks({
      trackIds: withVectors,
      model: model.id,
      first,
      filter: { excludeSameArtist: options.otherArtists },
    })
    const inLibrary = await this.library.inLibrary(tracks.map((t) => t.trackId))
    return tracks
      .filter((t) => inLibrary.has(t.trackId))
      .slice(0, count)
      .map((t) => ({ trackId: t.trackId, similarity: t.similarity }))
  }

  /**
   * A path of `count` songs from `from` to `to`: the two ends, and between them, for each of count − 2 even
   * steps along the great circle between their search vectors (slerp, pathWaypoints), the library song nearest that point that
   * the path does not hold yet. Each entry's similarity is to `from`. A MixService may replace this.
   */
  async trackPath(from: number, to: number, count: number): Promise<SonicMatch[]> {
    checkCount(count)
    if (count < 2) throw new BadInputError('a path holds at least its two ends', 'count')
    if (from === to) throw new BadInputError('a path needs two different songs', 'endSongId')
    const model = await this.model()
    const ends = await this.similarity.searchVectors([from, to], model.id)
    const [va, vb] = [ends.vectors.get(from), ends.vectors.get(to)]
    const missing = [from, to].filter((id) => !ends.vectors.has(id))
    if (!va || !vb) throw new NotFoundError(`vector of model ${model.name} for song`, missing.join(', '))
    let waypoints: Float32Array[]
    try {
      waypoints = pathWaypoints(va, vb, count)
    } catch {
      throw new BadInputError(
        'the two songs point exactly opposite ways: no single path between them',
        'endSongId',
      )
    }
    const used = new Set([from, to])
    const path: number[] = [from]
    for (const target of waypoints) {
      const first = Math.min(MAX_SONIC_COUNT, used.size + 10)
      const { tracks } = await this.similarity.similarTracks({
        searchVector: target,
        model: model.id,
        space: ends.space,
        first,
      })
      const inLibrary = await this.library.inLibrary(tracks.map((t) => t.trackId))
      const next = tracks.find((t) => !used.has(t.trackId) && inLibrary.has(t.trackId))
      if (!next) break // the library ran out of songs with vectors
      used.add(next.trackId)
      path.push(next.trackId)
    }
    path.push(to)
    const { vectors } = await this.similarity.searchVectors(path, model.id, ends.space)
    return path.map((trackId) => ({
      trackId,
      similarity: similarityFromDistance(cosineDistance(va, vectors.get(trackId)!)),
    }))
  }
}

function checkCount(count: number): void {
  if (!Number.isInteger(count) || count < 1 || count > MAX_SONIC_COUNT)
    throw new BadInputError(`must be an integer from 1 to ${MAX_SONIC_COUNT}`, 'count')
}
