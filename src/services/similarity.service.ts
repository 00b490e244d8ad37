import { LRUCache } from 'lru-cache'
import type { Database } from '../db/database.ts'
import { EmbeddingRepository } from '../db/repositories/embedding.repository.ts'
import { ModelRepository, type ModelRow, type ModelSpace } from '../db/repositories/model.repository.ts'
import {
  ARTIST_TRACKS_BY_ID,
  SimilarityRepository,
  type CandidateFilter,
  type IndexScanOptions,
  type KnnHit,
  type KnnQuery,
  type KnnTarget,
} from '../db/repositories/similarity.repository.ts'
import { SearchVectorRepository, type StoredTransform } from '../db/repositories/search-vector.repository.ts'
import { BadInputError, NotFoundError } from '../errors.ts'
import { similarityFromDistance } from '../ml/embedding/pooling.ts'
import { applySearchTransform } from '../ml/retrieval/transform.ts'

/**
 * Similarity search for the API: tracks near some tracks (or a vector), artists and labels near an artist
 * or label (through their centroids) with the track pairs that connect them, and a track's vector.
 *
 * Everything is compared as search vectors: each model vector after its (model, space)'s fitted transform
 * (centred, by default whitened; search-vectors.ts), L2-normalised. A vector given to `similarTracks` is in
 * the model's own space and goes through the same transform. Similarity is (1 + cosine) / 2 of search
 * vectors: 1 = same direction, 0.5 = unrelated (what two random tracks of the library score on average,
 * since the transform centres the library), 0 = opposite.
 */

export interface TrackSimilarityFilter {
  excludeSameArtist?: boolean
  excludeSameRelease?: boolean
  excludeSameLabel?: boolean
  styles?: string[]
  genres?: string[]
  yearFrom?: number
  yearTo?: number
  countries?: string[]
}

export interface SimilarTracksInput {
  /** seed tracks: the query is the mean of their vectors; they are never in the results */
  trackIds?: number[]
  /** or a query vector of the model's width in that space (raw, as `embeddingOf` returns it) */
  embedding?: ArrayLike<number>
  /** or a query vector already in the search space (unit length, `searchVectors`) */
  searchVector?: Float32Array
  /** model id or name */
  model: string | number
  /** default: projection when the model has one, else backbone */
  space?: ModelSpace
  first?: number
  filter?: TrackSimilarityFilter
  /** tracks never returned besides the seeds (what a radio has already played); ids, checked by the caller */
  exclude?: readonly number[]
  /** artists whose tracks are never returned (a mix's artists at their cap); ids, checked by the caller */
  excludeArtists?: readonly number[]
}

export interface SimilarTrack {
  trackId: number
  /** 0..1: (1 + cosine) / 2 of the search vectors; 1 = same direction, 0.5 = as related as random tracks */
  similarity: number
  /** pgvector cosine distance, 0..2 */
  distance: number
}

export interface SimilarTracksResult {
  model: { id: number; name: string }
  space: ModelSpace
  tracks: SimilarTrack[]
  /** `index`: HNSW (iterative scan); `exact`: sequential scan, after the index found fewer than `first` */
  method: 'index' | 'exact'
}

export interface ConnectingPair {
  /** a track of the queried artist or label */
  trackId: number
  /** a track of the similar one */
  otherTrackId: number
  similarity: number
}

export interface SimilarOwner {
  id: number
  similarity: number
  /** tracks with a vector behind the centroid */
  tracks: number
  pairs: ConnectingPair[]
}

export interface SimilarOwnersInput {
  id: number
  model: string | number
  space?: ModelSpace
  first?: number
  /** connecting track pairs per result (0 = none) */
  pairs?: number
  /** leave out artists/labels with fewer tracks than this behind their centroid */
  minTracks?: number
}

export const MAX_FIRST = 200
const MAX_SEEDS = 100
const MODEL_CACHE_MS = 30_000
const TRANSFORM_CACHE_MS = 5_000
/** Model references (names, ids) and (model, space) transforms kept: more than a library has, fewer than a flood. */
const MAX_CACHED = 256

export interface SimilarityOptions {
  scan?: Partial<IndexScanOptions>
  /** Up to this many tracks of the seeds' artists are excluded by id (default ARTIST_TRACKS_BY_ID), past it by artist. */
  artistTracksById?: number
}

export class SimilarityService {
  private readonly similarity: SimilarityRepository
  private readonly embeddings: EmbeddingRepository
  private readonly models: ModelRepository
  private readonly searchVectors_: SearchVectorRepository
  private readonly modelCache = new LRUCache<string, ModelRow>({ max: MAX_CACHED, ttl: MODEL_CACHE_MS })
  private readonly transformCache = new LRUCache<string, StoredTransform>({
    max: MAX_CACHED,
    ttl: TRANSFORM_CACHE_MS,
  })
  private readonly scan: IndexScanOptions
  private readonly artistTracksById: number

  constructor(db: Database, options: SimilarityOptions = {}) {
    this.similarity = new SimilarityRepository(db.pool)
    this.embeddings = new EmbeddingRepository(db.pool, db.kind)
    this.models = new ModelRepository(db.pool)
    this.searchVectors_ = new SearchVectorRepository(db.pool)
    this.artistTracksById = options.artistTracksById ?? ARTIST_TRACKS_BY_ID
    this.scan = {
      efSearch: options.scan?.efSearch ?? 100,
      maxScanTuples: options.scan?.maxScanTuples ?? 50_000,
      overfetch: options.scan?.overfetch ?? 4,
    }
  }

  /** A model by id or name; rows are immutable, so a short cache saves a round trip per query. */
  async model(ref: string | number): Promise<ModelRow> {
    const key = String(ref).trim()
    const hit = this.modelCache.get(key)
    if (hit) return hit
    const row = /^\d+$/.test(key) ? await this.models.byId(Number(key)) : await this.models.byName(key)
    if (!row) throw new NotFoundError('model', key)
    this.modelCache.set(key, row)
    return row
  }

  private space(model: ModelRow, space: ModelSpace | undefined): ModelSpace {
    const s = space ?? (model.dims.projection ? 'projection' : 'backbone')
    if (!model.dims[s]) throw new BadInputError(`model ${model.name} has no ${s} space`, 'space')
    return s
  }

  /**
   * The fitted search transform of (model, space). A re-embedding refits it; the short cache means a query
   * vector may meet the previous transform for a few seconds after, never a half-written one.
   */
  async transform(model: ModelRow, space: ModelSpace): Promise<StoredTransform> {
    const key = `${model.id}:${space}`
    const hit = this.transformCache.get(key)
    if (hit) return hit
    const t = await this.searchVectors_.transform(model.id, space)
    if (!t)
      throw new NotFoundError(
        `search vectors of model ${model.name} (${space}); run \`discograph embed --model ${model.name}\``,
        model.id,
      )
    this.transformCache.set(key, t)
    return t
  }

  private async target(
    model: ModelRow,
    space: ModelSpace | undefined,
  ): Promise<KnnTarget & { transform: StoredTransform }> {
    const s = this.space(model, space)
    const transform = await this.transform(model, s)
    return { modelId: model.id, space: s, dims: transform.outDims, transform }
  }

  /** Search vectors (unit length, the transform applied) of some tracks; tracks without one are absent. */
  async searchVectors(
    trackIds: readonly number[],
    modelRef: string | number,
    space?: ModelSpace,
  ): Promise<{ model: ModelRow; space: ModelSpace; vectors: Map<number, Float32Array> }> {
    const model = await this.model(modelRef)
    const s = this.space(model, space)
    const ids = trackIds.map((id) => checkId(id, 'trackIds'))
    return { model, space: s, vectors: await this.searchVectors_.vectors(model.id, s, ids) }
  }

  /** Validates a similar-tracks question and resolves its filter to ids (one query when excluding). */
  private async prepare(input: SimilarTracksInput) {
    const first = checkFirst(input.first ?? 10)
    const model = await this.model(input.model)
    const target = await this.target(model, input.space)
    const f = input.filter ?? {}
    const seeds = input.trackIds
      ? [...new Set(input.trackIds.map((id) => checkId(id, 'trackIds')))]
      : undefined
    if ([seeds, input.embedding, input.searchVector].filter(Boolean).length !== 1)
      throw new BadInputError('give either seed tracks or an embedding', 'trackIds')
    if (seeds && (!seeds.length || seeds.length > MAX_SEEDS))
      throw new BadInputError(`give 1 to ${MAX_SEEDS} tracks`, 'trackIds')

    const excluded = input.exclude?.length ? [...(seeds ?? []), ...input.exclude] : seeds
    const filter: CandidateFilter = {
      excludeTracks: excluded,
      styles: nonEmpty(f.styles),
      genres: nonEmpty(f.genres),
      countries: nonEmpty(f.countries),
      excludeArtists: nonEmpty(input.excludeArtists ? [...input.excludeArtists] : undefined),
      yearFrom:
        f.yearFrom === undefined || f.yearFrom === null
          ? undefined
          : checkYear(f.yearFrom, 'filter.yearFrom'),
      yearTo: f.yearTo === undefined || f.yearTo === null ? undefined : checkYear(f.yearTo, 'filter.yearTo'),
    }
    let query: KnnQuery
    if (seeds) {
      query = { trackIds: seeds }
      if (f.excludeSameArtist || f.excludeSameRelease || f.excludeSameLabel) {
        const ctx = await this.similarity.seedContext(seeds, this.artistTracksById)
        if (f.excludeSameArtist && ctx.artistTracks)
          filter.excludeTracks = [...(excluded ?? []), ...ctx.artistTracks]
        else if (f.excludeSameArtist && ctx.artists.length)
          filter.excludeArtists = [...(filter.excludeArtists ?? []), ...ctx.artists]
        if (f.excludeSameRelease) filter.excludeReleases = ctx.releases
        if (f.excludeSameLabel) filter.excludeLabels = ctx.labels
      }
    } else {
      for (const k of ['excludeSameArtist', 'excludeSameRelease', 'excludeSameLabel'] as const) {
        if (f[k]) throw new BadInputError('needs seed tracks, not an embedding', `filter.${k}`)
      }
      query = {
        vector: input.searchVector
          ? checkVector(input.searchVector, target.dims, 'searchVector')
          : toSearchVector(
              checkVector(input.embedding!, target.transform.inDims, 'embedding'),
              target.transform,
            ),
      }
    }
    const filtered =
      Boolean(filter.excludeArtists) ||
      Object.values(f).some(
        (v) => v !== undefined && v !== null && v !== false && !(Array.isArray(v) && !v.length),
      )
    return { first, model, target, seeds, query, filter, filtered }
  }

  async similarTracks(input: SimilarTracksInput): Promise<SimilarTracksResult> {
    const { first, model, target, seeds, query, filter, filtered } = await this.prepare(input)
    let method: SimilarTracksResult['method'] = 'index'
    // Over-fetching only pays behind a filter: unfiltered, the first candidates already are the answer.
    const scan = filtered ? this.scan : { ...this.scan, overfetch: 1 }
    let hits: KnnHit[] = await this.similarity.knn(target, query, first, filter, scan)
    if (hits.length < first) {
      if (seeds) {
        const missing = await this.similarity.missingTracks(target.modelId, target.space, seeds)
        if (missing.length)
          throw new NotFoundError(
            `${target.space} vector of model ${model.name} for track`,
            missing.join(', '),
          )
      }
      // The iterative scan stopped (max_scan_tuples) before finding `first` matches: the filter is
      // selective, so an exact scan of what it lets through is both affordable and complete.
      hits = await this.similarity.exactKnn(target, query, first, filter)
      method = 'exact'
    }
    return {
      model: { id: model.id, name: model.name },
      space: target.space,
      tracks: hits.map((h) => ({
        trackId: h.trackId,
        distance: h.distance,
        similarity: similarityFromDistance(h.distance),
      })),
      method,
    }
  }

  /** The exact answer (sequential scan) to the same question: the reference recall is measured against. */
  async exactSimilarTracks(input: SimilarTracksInput): Promise<SimilarTrack[]> {
    const { first, target, query, filter } = await this.prepare(input)
    const hits = await this.similarity.exactKnn(target, query, first, filter)
    return hits.map((h) => ({
      trackId: h.trackId,
      distance: h.distance,
      similarity: similarityFromDistance(h.distance),
    }))
  }

  similarArtists(input: SimilarOwnersInput): Promise<SimilarOwner[]> {
    return this.similarOwners('artist', input)
  }

  similarLabels(input: SimilarOwnersInput): Promise<SimilarOwner[]> {
    return this.similarOwners('label', input)
  }

  private async similarOwners(owner: 'artist' | 'label', input: SimilarOwnersInput): Promise<SimilarOwner[]> {
    const first = checkFirst(input.first ?? 10)
    const pairs = input.pairs ?? 3
    if (!Number.isInteger(pairs) || pairs < 0 || pairs > 20)
      throw new BadInputError('must be an integer from 0 to 20', 'pairs')
    const model = await this.model(input.model)
    const modelId = model.id
    const space = this.space(model, input.space)
    const id = checkId(input.id, owner)
    if (!(await this.embeddings.centroid(owner, id, modelId, space))) {
      throw new NotFoundError(`${owner} centroid of model ${model.name} (${space}) for ${owner}`, id)
    }
    const near = await this.similarity.similarOwners(owner, id, modelId, space, first, input.minTracks ?? 1)
    const connections = pairs
      ? await this.similarity.connectingPairs(
          owner,
          id,
          near.map((n) => n.id),
          modelId,
          space,
          pairs,
        )
      : new Map<number, { fromTrackId: number; toTrackId: number; distance: number }[]>()
    return near.map((n) => ({
      id: n.id,
      similarity: similarityFromDistance(n.distance),
      tracks: n.tracks,
      pairs: (connections.get(n.id) ?? []).map((p) => ({
        trackId: p.fromTrackId,
        otherTrackId: p.toTrackId,
        similarity: similarityFromDistance(p.distance),
      })),
    }))
  }

  /** A track's vector in a model's space, or null when it has none. */
  async embeddingOf(
    trackId: number,
    modelRef: string | number,
    space?: ModelSpace,
  ): Promise<{ model: ModelRow; space: ModelSpace; vector: Float32Array } | null> {
    const model = await this.model(modelRef)
    const s = this.space(model, space)
    const v = (await this.embeddings.vectors(model.id, s, [checkId(trackId, 'track')])).get(trackId)
    return v ? { model, space: s, vector: v } : null
  }
}

function checkFirst(first: number): number {
  if (!Number.isInteger(first) || first < 1 || first > MAX_FIRST)
    throw new BadInputError(`must be an integer from 1 to ${MAX_FIRST}`, 'first')
  return first
}

function checkId(id: number, field: string): number {
  if (!Number.isSafeInteger(id) || id < 1) throw new BadInputError(`not a valid id: ${id}`, field)
  return id
}

function checkYear(y: number, field: string): number {
  if (!Number.isInteger(y) || y < 0 || y > 9999) throw new BadInputError(`not a year: ${y}`, field)
  return y
}

function checkVector(v: ArrayLike<number>, dims: number, field: string): Float32Array {
  if (v.length !== dims)
    throw new BadInputError(`has ${v.length} values; this model's space has ${dims}`, field)
  const out = Float32Array.from(v)
  if (out.some((x) => !Number.isFinite(x))) throw new BadInputError('has a non-finite value', field)
  if (out.every((x) => x === 0)) throw new BadInputError('is all zeros (it has no direction)', field)
  return out
}

function toSearchVector(v: Float32Array, transform: StoredTransform): Float32Array {
  try {
    return applySearchTransform(transform, v)
  } catch (err) {
    throw new BadInputError(`has no direction in the search space: ${(err as Error).message}`, 'embedding')
  }
}

function nonEmpty<T>(a: T[] | undefined | null): T[] | undefined {
  return a && a.length ? a : undefined
}
