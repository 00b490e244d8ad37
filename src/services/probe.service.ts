import fs from 'node:fs'
import path from 'node:path'
import type * as tf from '@tensorflow/tfjs'
import type { Config } from '../config/config.ts'
import type { Database } from '../db/database.ts'
import { AssociationRepository } from '../db/repositories/association.repository.ts'
import {
  ProbeRepository,
  type CatalogTask,
  type ProbeModelRef,
  type ProbeRow,
  type ProbeSpace,
} from '../db/repositories/probe.repository.ts'
import { BadInputError, NotFoundError } from '../errors.ts'
import type { Logger } from '../logger.ts'
import { accuracy, macroAveragePrecision, macroRocAuc } from '../ml/metrics.ts'
import { parseLabelFile, resolveLabelRows } from '../ml/probes/label-file.ts'
import {
  DEFAULT_MLP_OPTIONS,
  predictScores,
  trainProbeMlp,
  type EpochLog,
  type Matrix,
  type MlpOptions,
} from '../ml/probes/mlp.ts'
import { loadLayersModel, saveLayersModel } from '../ml/probes/probe-files.ts'
import {
  artistSplit,
  DEFAULT_SPLIT,
  SPLIT_NAMES,
  type SplitFractions,
  type SplitName,
} from '../ml/probes/split.ts'
import {
  decadeOf,
  multiLabelTargets,
  restrictTargets,
  singleLabelTargets,
  type ProbeTargets,
} from '../ml/probes/targets.ts'
import { isImportedProbe, probeKind } from '../ml/probes/probe-kind.ts'
import { embedTracks } from './embedding.service.ts'

export type { ProbeRow, ProbeSpace }

export const CATALOG_TASKS: readonly CatalogTask[] = ['styles', 'genres', 'label', 'decade']
export const PROBE_SPACES: readonly ProbeSpace[] = ['backbone', 'projection']

/** Classes kept per catalog task when `top` is not given: Discogs has ~15 genres, ~600 styles, millions of labels. */
const DEFAULT_TOP: Record<CatalogTask, number | undefined> = {
  styles: 50,
  genres: undefined,
  label: 50,
  decade: undefined,
}

export function isCatalogTask(task: string): task is CatalogTask {
  return (CATALOG_TASKS as readonly string[]).includes(task)
}

export interface TrainProbeOptions {
  /** Model names or ids; two or more train on their stacked (concatenated) vectors. */
  models: readonly string[]
  /** A catalog task (styles, genres, label, decade) or the path of a label file (TSV). */
  task: string
  space?: ProbeSpace
  seed?: number
  /** Classes kept: the most frequent labels (catalog tasks; default per task). */
  top?: number
  /** Default: `<task>@<model>[+<model>…]`, `/projection` appended for that space. */
  name?: string
  mlp?: Partial<Omit<MlpOptions, 'seed'>>
  fractions?: SplitFractions
  /** Only these tracks (evaluation: the tracks every compared model embedded, so rows are comparable). */
  tracks?: readonly number[]
  backend?: string
  logger?: Logger
  signal?: AbortSignal
  onEpoch?(log: EpochLog): void
}

export interface ProbeMetrics {
  /** Macro ROC-AUC on the test split. */
  rocAuc: number
  /** Macro PR-AUC (average precision) on the test split. */
  prAuc: number
  /** Single-label tasks: share of test tracks whose top class is right. */
  accuracy?: number
  classesEvaluated: number
  /** Classes with no positive (or no negative) test track, left out of the macro averages. */
  classesSkipped: number
  trainTracks: number
  validationTracks: number
  testTracks: number
  epochs: number
  bestEpoch: number
  validationLoss: number
}

export interface TrainedProbe {
  probe: ProbeRow
  metrics: ProbeMetrics
  models: string[]
}

export function defaultProbeName(task: string, modelNames: readonly string[], space: ProbeSpace): string {
  return `${task}@${modelNames.join('+')}${space === 'backbone' ? '' : `/${space}`}`
}

/** The task's name as stored and shown: a catalog task as is, a label file by its base name. */
export function taskName(task: string): string {
  return isCatalogTask(task) ? task : path.basename(task).replace(/\.(tsv|txt|csv)$/i, '')
}

/**
 * Trains a probe on frozen embeddings and stores it: weights under DATA_DIR/probes (TensorFlow.js format),
 * the row with classes, configuration and test metrics. A probe of the same name is replaced (its stale
 * predictions go with it), so training twice leaves one probe.
 */
export async function trainProbe(
  db: Pick<Database, 'pool'>,
  config: Config,
  options: TrainProbeOptions,
): Promise<TrainedProbe> {
  const repo = new ProbeRepository(db.pool)
  const space = options.space ?? 'backbone'
  const seed = options.seed ?? 1
  const models = await resolveModels(repo, options.models, space)
  const modelIds = models.map((m) => m.id)
  let embedded = await repo.tracksEmbeddedByAll(modelIds, space)
  if (options.tracks) {
    const only = new Set(options.tracks)
    embedded = embedded.filter((t) => only.has(t))
  }
  const task = taskName(options.task)
  const name =
    options.name ??
    defaultProbeName(
      task,
      models.map((m) => m.name),
      space,
    )
  // training replaces a probe of the same name: never an imported one, whose scores come from its own graph
  const existing = await repo.probe(name)
  if (existing && isImportedProbe(existing)) {
    throw new BadInputError(
      `probe ${name} is an imported ${probeKind(existing)} probe; choose another name`,
      '--name',
    )
  }
  const targets = await loadTargets(repo, options.task, embedded, options.top)
  if (targets.classes.length < 2) {
    throw new BadInputError(
      `${task} has ${targets.classes.length} class(es) among the ${embedded.length} embedded tracks; a probe needs two or more`,
      '--task',
    )
  }

  const { trackGroups } = await new AssociationRepository(db.pool).groups('artist')
  const c = targets.classes.length
  const classesOf = new Map(
    targets.trackIds.map((t, i) => [
      t,
      [...targets.labels.subarray(i * c, (i + 1) * c)].flatMap((v, k) => (v ? [k] : [])),
    ]),
  )
  const split = artistSplit(targets.trackIds, trackGroups, {
    seed,
    fractions: options.fractions ?? DEFAULT_SPLIT,
    classesOf,
  })
  const rowsOf: Record<SplitName, number[]> = { train: [], validation: [], test: [] }
  targets.trackIds.forEach((t, i) => rowsOf[split.get(t)!].push(i))
  for (const s of SPLIT_NAMES) {
    if (rowsOf[s].length === 0) {
      throw new BadInputError(
        `the ${s} split of ${task} is empty: ${targets.trackIds.length} tracks by too few distinct artists to split by artist`,
        '--task',
      )
    }
  }
  options.logger?.info(
    {
      task,
      models: models.map((m) => m.name),
      space,
      classes: targets.classes.length,
      train: rowsOf.train.length,
      validation: rowsOf.validation.length,
      test: rowsOf.test.length,
    },
    'training probe',
  )

  const x = await repo.stackedEmbeddings(modelIds, space, targets.trackIds)
  const part = (s: SplitName) => sliceRows(x.data, x.cols, targets.labels, targets.classes.length, rowsOf[s])
  const mlp: MlpOptions = { ...DEFAULT_MLP_OPTIONS, ...options.mlp, seed }
  const trained = await trainProbeMlp(
    part('train'),
    part('validation'),
    targets.classes.length,
    targets.multiLabel,
    mlp,
    {
      signal: options.signal,
      onEpoch: options.onEpoch,
    },
  )
  try {
    const test = part('test')
    const scores = predictScores(trained.model, test.x)
    const metrics = testMetrics(scores, test.y, targets, rowsOf.test, {
      trainTracks: rowsOf.train.length,
      validationTracks: rowsOf.validation.length,
      testTracks: rowsOf.test.length,
      epochs: trained.epochs,
      bestEpoch: trained.bestEpoch,
      validationLoss: trained.bestValLoss,
    })
    const probesDir = path.join(config.dataDir, 'probes')
    // a fresh folder per training: a reader of the previous weights is never handed a half-replaced model
    const weightsPath = path.join(
      probesDir,
      `${name.replace(/[^A-Za-z0-9._-]+/g, '_')}-${Date.now().toString(36)}`,
    )
    await saveLayersModel(trained.model, weightsPath)
    const { probe, previousWeightsPath } = await repo.saveProbe({
      name,
      task,
      multiLabel: targets.multiLabel,
      modelIds,
      space,
      classes: targets.classes,
      config: {
        models: models.map((m) => m.name),
        source: isCatalogTask(options.task) ? 'catalog' : path.resolve(options.task),
        top: options.top ?? (isCatalogTask(options.task) ? DEFAULT_TOP[options.task] : undefined) ?? null,
        seed,
        split: options.fractions ?? DEFAULT_SPLIT,
        splitBy: 'artist',
        inputDims: x.cols,
        mlp,
        backend: options.backend ?? null,
        restrictedTo: options.tracks ? embedded.length : null,
      },
      metrics: finite(metrics),
      weightsPath,
    })
    if (
      previousWeightsPath &&
      previousWeightsPath !== weightsPath &&
      path.dirname(previousWeightsPath) === probesDir
    ) {
      fs.rmSync(previousWeightsPath, { recursive: true, force: true })
    }
    return { probe, metrics, models: models.map((m) => m.name) }
  } finally {
    trained.model.dispose()
  }
}

export interface PredictSummary {
  probe: string
  tracks: number
  classes: number
  seconds: number
}

/**
 * Scores every track the probe's models embedded and writes them to probe_prediction (upserts: running it
 * again after new tracks were embedded rewrites all, adds the new, duplicates nothing). An imported probe
 * (a model's own output, an ONNX head) is scored from the audio's patches, so its model's embedded tracks
 * that lack its predictions are encoded again (`config` is needed for the feature store); the others keep
 * theirs.
 */
export async function predictAll(
  db: Database,
  probeRef: string,
  hooks: {
    onProgress?(done: number, total: number): void
    signal?: AbortSignal
    batch?: number
    config?: Config
  } = {},
): Promise<PredictSummary> {
  const started = performance.now()
  const repo = new ProbeRepository(db.pool)
  const probe = await getProbe(repo, probeRef)
  if (isImportedProbe(probe)) {
    if (!hooks.config)
      throw new TypeError(
        'predictAll: an imported probe needs the configuration (its audio patches are read)',
      )
    const summary = await embedTracks(db, hooks.config, {
      model: String(probe.modelIds[0]),
      scoresOnly: true,
      signal: hooks.signal,
      onProgress: (p) => hooks.onProgress?.(p.tracksDone, p.tracksTotal),
    })
    return {
      probe: probe.name,
      tracks: summary.predictions.find((p) => p.probe === probe.name)?.written ?? 0,
      classes: probe.classes.length,
      seconds: (performance.now() - started) / 1000,
    }
  }
  const tracks = await repo.tracksEmbeddedByAll(probe.modelIds, probe.space)
  const batch = hooks.batch ?? 2000
  const model = await loadProbeModel(probe)
  try {
    for (let start = 0; start < tracks.length; start += batch) {
      if (hooks.signal?.aborted) throw hooks.signal.reason
      const ids = tracks.slice(start, start + batch)
      const x = await repo.stackedEmbeddings(probe.modelIds, probe.space, ids)
      checkInputWidth(probe, x.cols)
      const scores = predictScores(model, { data: x.data, rows: ids.length, cols: x.cols })
      await repo.writePredictions(probe.id, probe.classes.length, ids, scores)
      hooks.onProgress?.(start + ids.length, tracks.length)
    }
  } finally {
    model.dispose()
  }
  return {
    probe: probe.name,
    tracks: tracks.length,
    classes: probe.classes.length,
    seconds: (performance.now() - started) / 1000,
  }
}

export interface ClassScore {
  class: string
  score: number
}

export interface TrackPredictions {
  probe: string
  task: string
  multiLabel: boolean
  /** `stored`: from the last batch prediction; `computed`: from the track's vectors just now. */
  source: 'stored' | 'computed'
  /** Every class, highest score first. */
  scores: ClassScore[]
}

/** Probes loaded for predictionsFor, by probe id; a retrained probe (new weights folder) replaces its entry. */
const loadedModels = new Map<number, { weightsPath: string; model: Promise<tf.LayersModel> }>()

/**
 * Per-class scores of one track by one probe: the stored prediction when the batch job wrote one, else
 * computed from the track's vectors (the loaded probe is cached per weights folder). Null when the track
 * lacks a vector of one of the probe's models.
 */
export async function predictionsFor(
  db: Pick<Database, 'pool'>,
  trackId: number,
  probeRef: string | number,
): Promise<TrackPredictions | null> {
  const repo = new ProbeRepository(db.pool)
  const probe = await getProbe(repo, String(probeRef))
  const result = (source: TrackPredictions['source'], scores: ArrayLike<number>): TrackPredictions => ({
    probe: probe.name,
    task: probe.task,
    multiLabel: probe.multiLabel,
    source,
    scores: probe.classes.map((c, i) => ({ class: c, score: scores[i] })).sort((a, b) => b.score - a.score),
  })
  const stored = await repo.prediction(probe.id, trackId)
  if (stored) return result('stored', stored)
  // an imported probe scores patches, which a stored vector cannot give back
  if (isImportedProbe(probe)) return null
  if ((await repo.tracksEmbeddedByAll(probe.modelIds, probe.space, [trackId])).length === 0) return null
  const x = await repo.stackedEmbeddings(probe.modelIds, probe.space, [trackId])
  checkInputWidth(probe, x.cols)
  let cached = loadedModels.get(probe.id)
  if (cached?.weightsPath !== probe.weightsPath) {
    cached?.model.then((m) => m.dispose()).catch(() => {})
    const model = loadProbeModel(probe)
    cached = { weightsPath: probe.weightsPath, model }
    loadedModels.set(probe.id, cached)
    model.catch(() => loadedModels.get(probe.id)?.model === model && loadedModels.delete(probe.id))
  }
  return result('computed', predictScores(await cached.model, { data: x.data, rows: 1, cols: x.cols }))
}

export async function listProbes(
  db: Pick<Database, 'pool'>,
): Promise<(ProbeRow & { predictions: number; models: string[] })[]> {
  const repo = new ProbeRepository(db.pool)
  const [probes, models] = await Promise.all([repo.probes(), repo.models()])
  const nameOf = new Map(models.map((m) => [m.id, m.name]))
  return probes.map((p) => ({ ...p, models: p.modelIds.map((id) => nameOf.get(id) ?? `#${id}`) }))
}

export async function resolveModels(
  repo: ProbeRepository,
  refs: readonly string[],
  space: ProbeSpace,
): Promise<ProbeModelRef[]> {
  if (refs.length === 0) throw new BadInputError('name at least one model', '--model')
  if (new Set(refs).size !== refs.length)
    throw new BadInputError(`a model is listed twice in ${refs.join(', ')}`, '--model')
  const found = await repo.models(refs)
  return refs.map((ref) => {
    const m = found.find((x) => x.name === ref) ?? found.find((x) => String(x.id) === ref)
    if (!m) throw new NotFoundError('model', ref)
    if (!m.embedded[space]) {
      const other = PROBE_SPACES.find((s) => m.embedded[s])
      throw new BadInputError(
        `model ${m.name} has no ${space} vectors${other ? ` (it has ${other} ones: --space ${other})` : `; run \`discograph embed --model ${m.name}\` first`}`,
        '--model',
      )
    }
    return m
  })
}

async function loadTargets(
  repo: ProbeRepository,
  task: string,
  trackIds: number[],
  top?: number,
): Promise<ProbeTargets> {
  if (isCatalogTask(task)) {
    const k = top ?? DEFAULT_TOP[task]
    switch (task) {
      case 'styles':
      case 'genres':
        return multiLabelTargets(await repo.releaseTags(task, trackIds), k)
      case 'label': {
        const labels = await repo.primaryLabels(trackIds)
        // label names are not unique in Discogs: add the id where two labels share one
        const idsOfName = new Map<string, Set<number>>()
        for (const l of labels.values()) idsOfName.set(l.name, (idsOfName.get(l.name) ?? new Set()).add(l.id))
        const named = new Map(
          [...labels].map(([t, l]) => [t, idsOfName.get(l.name)!.size > 1 ? `${l.name} [${l.id}]` : l.name]),
        )
        return singleLabelTargets(named, k)
      }
      case 'decade': {
        const decades = new Map<number, string>()
        for (const [t, year] of await repo.releaseYears(trackIds)) {
          const d = decadeOf(year)
          if (d) decades.set(t, d)
        }
        return singleLabelTargets(decades, k)
      }
    }
  }
  let text: string
  try {
    text = fs.readFileSync(task, 'utf8')
  } catch {
    throw new BadInputError(
      `"${task}" is neither a catalog task (${CATALOG_TASKS.join(', ')}) nor a readable label file`,
      '--task',
    )
  }
  const parsed = parseLabelFile(text, task)
  const refIds = parsed.rows.flatMap((r) => ('trackId' in r.track ? [r.track.trackId] : []))
  const labels = resolveLabelRows(parsed, task, {
    existingTrackIds: await repo.existingTracks(refIds),
    audioPaths: parsed.rows.some((r) => 'path' in r.track) ? await repo.audioPaths() : [],
  })
  const full = parsed.multiLabel
    ? multiLabelTargets(labels, top)
    : singleLabelTargets(new Map([...labels].map(([t, l]) => [t, l[0]])), top)
  return restrictTargets(full, new Set(trackIds))
}

function sliceRows(
  x: Float32Array,
  cols: number,
  y: Uint8Array,
  classes: number,
  rows: number[],
): { x: Matrix; y: Uint8Array } {
  const data = new Float32Array(rows.length * cols)
  const labels = new Uint8Array(rows.length * classes)
  rows.forEach((r, i) => {
    data.set(x.subarray(r * cols, (r + 1) * cols), i * cols)
    labels.set(y.subarray(r * classes, (r + 1) * classes), i * classes)
  })
  return { x: { data, rows: rows.length, cols }, y: labels }
}

function testMetrics(
  scores: Float32Array,
  labels: Uint8Array,
  targets: ProbeTargets,
  testRows: number[],
  counts: Omit<ProbeMetrics, 'rocAuc' | 'prAuc' | 'accuracy' | 'classesEvaluated' | 'classesSkipped'>,
): ProbeMetrics {
  const c = targets.classes.length
  const roc = macroRocAuc(scores, labels, c)
  const pr = macroAveragePrecision(scores, labels, c)
  const acc = targets.classIndex
    ? accuracy(
        scores,
        Int32Array.from(testRows, (r) => targets.classIndex![r]),
        c,
      )
    : undefined
  return {
    rocAuc: roc.value,
    prAuc: pr.value,
    ...(acc === undefined ? {} : { accuracy: acc }),
    classesEvaluated: roc.evaluated,
    classesSkipped: roc.skipped,
    ...counts,
  }
}

/** JSON has no NaN: an undefined metric (no class could be evaluated) is left out rather than stored as null. */
function finite(m: ProbeMetrics): Record<string, number> {
  return Object.fromEntries(Object.entries(m).filter(([, v]) => typeof v === 'number' && Number.isFinite(v)))
}

async function getProbe(repo: ProbeRepository, ref: string): Promise<ProbeRow> {
  const probe = await repo.probe(ref)
  if (!probe) throw new NotFoundError('probe', ref)
  return probe
}

function loadProbeModel(probe: ProbeRow): Promise<tf.LayersModel> {
  return loadLayersModel(probe.weightsPath, {
    classes: probe.classes.length,
    inputDims: Number(probe.config.inputDims) || undefined,
  })
}

function checkInputWidth(probe: ProbeRow, cols: number): void {
  const expected = Number(probe.config.inputDims)
  if (expected && expected !== cols) {
    throw new BadInputError(
      `probe ${probe.name} was trained on ${expected}-d inputs, its models' vectors now have ${cols}`,
      '--probe',
    )
  }
}
