import { featureStorePatchSource } from './patch-source.ts'
import { DEFAULT_PATCH_HOP } from '../audio/patches.ts'
import type { Config } from '../config/config.ts'
import type { Database } from '../db/database.ts'
import {
  EmbeddingRepository,
  type EmbeddingRow,
  type HnswOptions,
} from '../db/repositories/embedding.repository.ts'
import type { ModelRow, ModelSpace } from '../db/repositories/model.repository.ts'
import { AudioFileRepository } from '../db/repositories/audio-file.repository.ts'
import { ProbeRepository } from '../db/repositories/probe.repository.ts'
import { BadInputError, NonFiniteEmbeddingError } from '../errors.ts'
import type { Logger } from '../logger.ts'
import { initBackend } from '../ml/engine/backend.ts'
import { firstNonFiniteRow } from '../ml/embedding/finite.ts'
import { EMBEDDING_SPACES, type PatchEncoder } from '../ml/embedding/patch-encoder.ts'
import { isTrackPooling, TrackPooler, type TrackPooling } from '../ml/embedding/pooling.ts'
import { ModelService } from './model.service.ts'
import { openPatchScorers, type PatchScorers } from './onnx-probe.service.ts'
import {
  checkTransformChoice,
  DEFAULT_SEARCH_TRANSFORM,
  refitSearchVectors,
  type SearchTransformChoice,
} from './search-vectors.ts'
import { SearchVectorRepository } from '../db/repositories/search-vector.repository.ts'

/**
 * `discograph embed`: one vector per track with audio, per model and space — the mean of the track's patch
 * embeddings, L2-normalised — written in batches, then one HNSW index per (model, space) built over the
 * loaded rows, then the artist and label centroids recomputed. Resumable: tracks that already have a vector
 * of the model (in every asked space) are skipped, and each written batch is committed, so an interrupted
 * pass continues where it stopped and a repeated one writes nothing.
 *
 * An imported model's imported probes (its own class output, classifier heads; see onnx-probe.service.ts)
 * are scored in the same pass, per patch, and their mean over the track's patches stored as the track's
 * prediction. A track that has its vectors but lacks one of those predictions (a head imported later) is
 * encoded again for the scores alone; `scoresOnly` does only that.
 */

export type SpaceChoice = ModelSpace | 'both'

export interface EmbedProgress {
  tracksDone: number
  tracksTotal: number
  patches: number
  patchesPerS: number
}

export interface EmbedOptions {
  /** model id or name, `random[-size]`, or a training run id or name */
  model: string
  space?: SpaceChoice
  /** patches per forward pass (default: what the encoder prefers) */
  batch?: number
  /** tracks per database write (each write is one transaction) */
  writeEvery?: number
  /** TensorFlow.js backend for trained and random models */
  backend?: string
  hnsw?: HnswOptions
  /** Only score the imported probes of tracks already embedded that lack their predictions; no new vectors. */
  scoresOnly?: boolean
  /**
   * The transform search vectors get (default: the one (model, space) already has, else
   * DEFAULT_SEARCH_TRANSFORM). Refitted whenever vectors were written, or when this differs from the stored one.
   */
  searchTransform?: { kind?: string; dims?: number }
  logger?: Logger
  signal?: AbortSignal
  onProgress?(p: EmbedProgress): void
}

export type EmbeddingSummarySpace = EmbedSummary['spaces'][number]

export interface EmbedSummary {
  model: { id: number; name: string; kind: string }
  spaces: {
    space: ModelSpace
    dims: number
    written: number
    total: number
    index: 'built' | 'kept'
    indexSeconds: number
    /** the search transform: refitted in this pass, or kept */
    search: { kind: string; dims: number; fittedOn: number; refit: boolean; seconds: number }
    artists: number
    labels: number
  }[]
  /** embedded: tracks encoded by this pass (new vectors, or only missing scores of imported probes) */
  tracks: { withAudio: number; embedded: number; skipped: number }
  /** Predictions written per imported probe of the model. */
  predictions: { probe: string; written: number }[]
  patches: number
  seconds: number
  patchesPerS: number
}

/** The spaces to embed: `both` means every space the model has. */
export function spacesFor(model: ModelRow, choice: SpaceChoice = 'both'): ModelSpace[] {
  const available = EMBEDDING_SPACES.filter((s) => model.dims[s])
  if (choice === 'both') return available
  if (!(EMBEDDING_SPACES as readonly string[]).includes(choice))
    throw new BadInputError(`must be backbone, projection or both, got ${choice}`, '--space')
  if (!model.dims[choice])
    throw new BadInputError(
      `model ${model.name} has no ${choice} output (it has ${available.join(', ')})`,
      '--space',
    )
  return [choice]
}

export async function embedTracks(
  db: Database,
  config: Config,
  options: EmbedOptions,
): Promise<EmbedSummary> {
  const started = performance.now()
  const models = new ModelService(db, config)
  const model = await models.resolve(options.model)
  const spaces = spacesFor(model, options.space)
  const repo = new EmbeddingRepository(db.pool, db.kind)
  const hop = typeof model.config.patchHop === 'number' ? model.config.patchHop : DEFAULT_PATCH_HOP
  const source = await featureStorePatchSource(db, config.dataDir, hop)
  let encoder: PatchEncoder | undefined
  let scorers: PatchScorers | null = null
  const written = Object.fromEntries(spaces.map((s) => [s, 0])) as Record<ModelSpace, number>
  let patchesDone = 0
  let tracksDone = 0
  try {
    const done = await Promise.all(spaces.map((s) => repo.embeddedTrackIds(model.id, s)))
    scorers = await openPatchScorers(db.pool, model)
    const probeRepo = new ProbeRepository(db.pool)
    const probes = scorers?.probes ?? []
    const predicted = await Promise.all(probes.map((p) => probeRepo.predictedTrackIds(p.id)))
    const predictionsWritten = probes.map(() => 0)
    const lacksScores = (id: number) => predicted.some((d) => !d.has(id))
    const todo = source.trackIds.filter((id) =>
      options.scoresOnly
        ? done.every((d) => d.has(id)) && lacksScores(id)
        : done.some((d) => !d.has(id)) || lacksScores(id),
    )
    options.logger?.info(
      { model: model.name, spaces, withAudio: source.trackIds.length, todo: todo.length },
      'embedding',
    )

    if (todo.length) {
      // A large load into an existing graph is slower than building the graph again afterwards.
      for (const [i, s] of spaces.entries()) {
        const adding = todo.filter((id) => !done[i].has(id)).length
        if (adding > done[i].size && (await repo.indexDefinition(model.id, s)))
          await repo.dropIndex(model.id, s)
      }
      if (model.kind !== 'onnx') await initBackend(options.backend, { logger: options.logger })
      encoder = await models.openEncoder(model, { activations: scorers?.activations })
      // heads read the per-patch backbone even when only the projection is stored
      const encoded: ModelSpace[] =
        scorers?.needsBackbone && !spaces.includes('backbone') ? [...spaces, 'backbone'] : spaces
      const batch = options.batch ?? encoder.preferredBatch
      if (!Number.isInteger(batch) || batch < 1)
        throw new BadInputError(`must be a positive integer, got ${batch}`, '--batch')
      const writeEvery = options.writeEvery ?? 256
      const pooling = trackPoolingOf(model)
      const poolers = new Map(spaces.map((s) => [s, new TrackPooler(encoder!.dims[s]!, { pooling })]))
      const pending = new Map<ModelSpace, EmbeddingRow[]>(spaces.map((s) => [s, []]))
      // scores are averaged over a track's patches as they are, as Essentia does
      const scorePoolers = probes.map((p) => new TrackPooler(p.classes.length, { normalize: false }))
      const pendingScores = probes.map(() => ({ trackIds: [] as number[], scores: [] as Float32Array[] }))
      let finishedSinceFlush = 0
      const counts = new Map<number, number>()
      const flush = async () => {
        // Every space's rows are checked before any is written: a bad vector fails its batch whole.
        for (const s of spaces) {
          const bad = firstNonFiniteRow(pending.get(s)!)
          if (bad) {
            const track = await new AudioFileRepository(db.pool).describeTrack(bad.row.trackId)
            throw new NonFiniteEmbeddingError(
              model.name,
              s,
              { id: bad.row.trackId, ...track },
              bad.index,
              bad.value,
            )
          }
        }
        for (const s of spaces) {
          const rows = pending.get(s)!
          if (rows.length) written[s] += await repo.write(model.id, s, rows)
          pending.set(s, [])
        }
        for (const [k, p] of probes.entries()) {
          const { trackIds, scores } = pendingScores[k]
          if (!trackIds.length) continue
          const flat = new Float32Array(trackIds.length * p.classes.length)
          scores.forEach((v, i) => flat.set(v, i * p.classes.length))
          await probeRepo.writePredictions(p.id, p.classes.length, trackIds, flat)
          predictionsWritten[k] += trackIds.length
          pendingScores[k] = { trackIds: [], scores: [] }
        }
        finishedSinceFlush = 0
        options.onProgress?.({
          tracksDone,
          tracksTotal: todo.length,
          patches: patchesDone,
          patchesPerS: patchesDone / ((performance.now() - started) / 1000),
        })
      }

      let refs: { trackId: number; patch: number }[] = []
      const run = async () => {
        options.signal?.throwIfAborted()
        const data = await source.read(refs)
        const out = await encoder!.encode(data, refs.length, encoded, { activations: !!scorers?.activations })
        const scores = scorers ? await scorers.score(out, refs.length) : []
        for (const [i, r] of refs.entries()) {
          let finished = false
          for (const [k, s] of spaces.entries()) {
            const v = poolers.get(s)!.add(r.trackId, out[s]!, i)
            if (v) {
              // a track encoded again for its scores keeps the vector it has
              if (!done[k].has(r.trackId))
                pending.get(s)!.push({ trackId: r.trackId, vector: v, patches: counts.get(r.trackId)! })
              finished = true
            }
          }
          for (const [k, pooler] of scorePoolers.entries()) {
            const v = pooler.add(r.trackId, scores[k], i)
            if (v && !predicted[k].has(r.trackId)) {
              pendingScores[k].trackIds.push(r.trackId)
              pendingScores[k].scores.push(v)
            }
          }
          if (finished) {
            counts.delete(r.trackId)
            tracksDone++
            finishedSinceFlush++
          }
        }
        patchesDone += refs.length
        refs = []
        if (finishedSinceFlush >= writeEvery) await flush()
      }
      for (const trackId of todo) {
        const n = source.patchCount(trackId)
        counts.set(trackId, n)
        for (const s of spaces) poolers.get(s)!.expect(trackId, n)
        for (const pooler of scorePoolers) pooler.expect(trackId, n)
        for (let p = 0; p < n; p++) {
          refs.push({ trackId, patch: p })
          if (refs.length === batch) await run()
        }
      }
      if (refs.length) await run()
      await flush()
    }

    const predictions = probes.map((p, k) => ({ probe: p.name, written: predictionsWritten[k] }))
    const result: EmbeddingSummarySpace[] = []
    const searchRepo = new SearchVectorRepository(db.pool)
    const asked = options.searchTransform?.kind || options.searchTransform?.dims !== undefined
    for (const s of spaces) {
      const dims = model.dims[s]!
      const stored = await searchRepo.transform(model.id, s)
      const choice: SearchTransformChoice = asked
        ? checkTransformChoice(options.searchTransform?.kind, options.searchTransform?.dims)
        : stored && stored.kind !== 'raw'
          ? { kind: stored.kind, dims: stored.kind === 'whiten' ? stored.outDims : undefined }
          : DEFAULT_SEARCH_TRANSFORM
      const differs =
        !stored || stored.kind !== choice.kind || (choice.kind === 'whiten' && choice.dims !== stored.outDims)
      // A pass that wrote vectors moves the library's mean; a pass stopped between its writes and this refit
      // left vectors without a search vector: both refit, as does asking for another transform.
      const refit = written[s] > 0 || differs || (await searchRepo.missingCount(model.id, s)) > 0
      const search = refit
        ? { ...(await refitSearchVectors(db, model.id, s, choice)), refit: true }
        : {
            kind: stored!.kind,
            outDims: stored!.outDims,
            fittedOn: stored!.fittedOn,
            seconds: 0,
            refit: false,
          }
      if (refit) options.logger?.info({ model: model.name, space: s, ...search }, 'search transform fitted')
      const t0 = performance.now()
      const built = await repo.ensureIndex(model.id, s, search.outDims, options.hnsw)
      const indexSeconds = (performance.now() - t0) / 1000
      const total = await repo.count(model.id, s)
      let centroids = await repo.centroidCounts(model.id, s)
      // After a crash between loading and this point the counts may be stale: any change, or none at all, recomputes.
      if (written[s] > 0 || built || refit || (!centroids.artists && !centroids.labels))
        centroids = await repo.recomputeCentroids(model.id, s)
      result.push({
        space: s,
        dims,
        written: written[s],
        total,
        index: built ? 'built' : 'kept',
        indexSeconds,
        search: {
          kind: search.kind,
          dims: search.outDims,
          fittedOn: search.fittedOn,
          refit: search.refit,
          seconds: search.seconds,
        },
        ...centroids,
      })
    }
    const seconds = (performance.now() - started) / 1000
    return {
      model: { id: model.id, name: model.name, kind: model.kind },
      spaces: result,
      tracks: {
        withAudio: source.trackIds.length,
        embedded: tracksDone,
        skipped: source.trackIds.length - todo.length,
      },
      predictions,
      patches: patchesDone,
      seconds,
      patchesPerS: patchesDone / seconds,
    }
  } finally {
    await encoder?.dispose()
    await scorers?.dispose()
    source.close()
  }
}

/** How a model pools its tracks' patch vectors: as registered (models registered before the option: mean). */
export function trackPoolingOf(model: ModelRow): TrackPooling {
  const p = model.config.trackPooling
  return isTrackPooling(p) ? p : 'mean'
}
