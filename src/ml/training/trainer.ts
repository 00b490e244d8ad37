import { setImmediate as yieldToEventLoop } from 'node:timers/promises'
import * as tf from '@tensorflow/tfjs'
import type { ContrastiveModel } from './contrastive-model.ts'
import type { TrainingConfig } from './config.ts'
import { createAdam } from '../engine/optimizer.ts'
import { colaLossFromLogits, cosineLogits } from '../models/cola.ts'
import { augmentPatches, augments } from './augment.ts'
import { disposeCheckpoint, latestCheckpoint, saveCheckpoint } from './checkpoints.ts'
import { epochBatches, type AssociationGroups, type Pair } from './pair-sampler.ts'
import { defaultWarmupSteps, learningRateAt } from './schedule.ts'
import { SeededRandom, hash32 } from '../../random/seeded-random.ts'
import { stepGradients } from './step.ts'
import { heldOutItems, validateRetrieval, type HeldOutItem } from './validation.ts'

/** One logged training step: its loss, the held-out figures when validated, and the throughput. */
export interface HistoryEntry {
  step: number
  epoch: number
  loss?: number
  valLoss?: number
  /** runs before held-out retrieval validation: in-batch top-1 on held-out pairs (chance 1 / valBatch) */
  valTop1?: number
  valBatch?: number
  /** precision@valK of same-group neighbours among the held-out groups' tracks, projection space */
  valPrecision?: number
  /** its chance rate: the share of a query's candidates that share its group */
  valChance?: number
  /** the same in the backbone space */
  valPrecisionBackbone?: number
  valChanceBackbone?: number
  valK?: number
  /** held-out queries the figures average over */
  valQueries?: number
  samplesPerS?: number
  at: string
}

export const PATCH_FRAMES = 128
export const MEL_BANDS = 96

/** Where patches come from (the feature store in production, arrays in tests). */
export interface PatchSource {
  patchCount(trackId: number): number
  /** [refs.length, 128, 96] float32, in the order asked. */
  read(refs: { trackId: number; patch: number }[]): Promise<Float32Array>
}

/** One objective: an association's groups (train and validation), on its own head. */
export interface Objective {
  name: string
  train: AssociationGroups
  validation: AssociationGroups
  /** The track association: a pair is two patches of one track. */
  samePatchTrack: boolean
  /**
   * The key whose tracks a held-out query does not rank (its release, for the artist and label
   * associations: tracks of one release share its production, not just the artist or label).
   */
  trackExclude?: (trackId: number) => string | undefined
}

/** Neighbours checked per held-out query (precision@k). */
export const VALIDATION_K = 10

export interface TrainerHooks {
  signal?: AbortSignal
  onLog?(entry: HistoryEntry): void
  /** Called after each checkpoint with the entries logged since the previous one. */
  onCheckpoint?(step: number, entries: HistoryEntry[]): Promise<void>
}

export interface TrainingOutcome {
  step: number
  totalSteps: number
  resumedFrom: number
  history: HistoryEntry[]
  metrics: Record<string, number>
}

/**
 * Batches of one objective as a pure function of (seed, step): epochs are generated in order and cached, so
 * a resumed run asks for step k and gets exactly the batch the uninterrupted run used.
 */
export class BatchStream {
  private epochs: Pair[][][] = []
  private starts: number[] = []

  constructor(
    private readonly groups: AssociationGroups,
    private readonly options: { batchSize: number; seed: number; samePatchTrack: boolean },
  ) {}

  batchesPerEpoch(): number {
    return this.epoch(0).length
  }

  /** Steps are asked for in increasing order (training, or resuming at a later step). */
  at(step: number): { batch: Pair[]; epoch: number } {
    for (let e = Math.max(0, this.epochs.length - 1); ; e++) {
      const batches = this.epoch(e)
      if (!batches.length) throw new Error('not enough groups with two or more tracks to fill one batch')
      const start = this.starts[e]
      if (step < start) return this.restart(step)
      if (step < start + batches.length) return { batch: batches[step - start], epoch: e }
    }
  }

  private restart(step: number): { batch: Pair[]; epoch: number } {
    this.epochs = []
    this.starts = []
    return this.at(step)
  }

  private epoch(e: number): Pair[][] {
    while (this.epochs.length <= e) {
      const i = this.epochs.length
      this.starts[i] = i === 0 ? 0 : this.starts[i - 1] + this.epochCounts[i - 1]
      const batches = epochBatches(this.groups, { ...this.options, epoch: i })
      this.epochCounts[i] = batches.length
      this.epochs.push(batches)
      if (i >= 1) this.epochs[i - 1] = [] // only the current epoch is kept: memory stays flat
    }
    return this.epochs[e]
  }

  private epochCounts: number[] = []
}

/** Patch indices of the two views of a pair, seeded by (seed, step, slot). */
export function choosePatches(
  pair: Pair,
  counts: { anchor: number; positive: number },
  seed: number,
  step: number,
  slot: number,
  selection: TrainingConfig['patchSelection'],
): [number, number] {
  if (selection === 'first') return pair.anchor === pair.positive && counts.anchor > 1 ? [0, 1] : [0, 0]
  const rng = new SeededRandom(hash32(`${step}:${slot}`, seed))
  const a = rng.int(counts.anchor)
  if (pair.anchor !== pair.positive || counts.anchor < 2) return [a, rng.int(counts.positive)]
  let b = rng.int(counts.anchor - 1)
  if (b >= a) b++
  return [a, b]
}

export async function runTraining(args: {
  model: ContrastiveModel
  config: TrainingConfig
  objectives: Objective[]
  patches: PatchSource
  checkpointDir: string
  resume: boolean
  hooks?: TrainerHooks
}): Promise<TrainingOutcome> {
  const { model, config, objectives, patches, hooks } = args
  if (objectives.length !== model.heads)
    throw new Error(`${objectives.length} objectives for a model with ${model.heads} heads`)
  const streams = objectives.map(
    (o) =>
      new BatchStream(o.train, {
        batchSize: config.batchSize,
        seed: config.seed,
        samePatchTrack: o.samePatchTrack,
      }),
  )
  const perEpoch = streams[0].batchesPerEpoch()
  const totalSteps = config.steps ?? (config.epochs ?? 1) * perEpoch
  const optimizer = createAdam(config.learningRate)
  const heldOut = objectives.map((o) =>
    heldOutItems(o.validation, (t) => patches.patchCount(t), {
      samePatchTrack: o.samePatchTrack,
      trackExclude: o.trackExclude,
    }),
  )
  const chunkSize = Math.min(config.chunkSize ?? config.batchSize, config.batchSize)

  let step = 0
  const history: HistoryEntry[] = []
  let resumedFrom = 0
  // Adam's moments and bias-correction powers are variables: a run that fails or is aborted must free
  // them as a finished one does.
  try {
    if (args.resume) {
      const ckpt = latestCheckpoint(args.checkpointDir)
      if (ckpt) {
        try {
          model.setWeights(ckpt.model)
          await optimizer.setWeights(ckpt.optimizer)
        } finally {
          disposeCheckpoint(ckpt)
        }
        step = ckpt.step
      }
    }
    resumedFrom = step
    let sinceCheckpoint: HistoryEntry[] = []
    let lossSum = 0
    let lossCount = 0
    let timer = performance.now()
    let samples = 0

    const loadViews = async (objectiveIndex: number, batch: Pair[], at: number) => {
      const refsA: { trackId: number; patch: number }[] = []
      const refsB: { trackId: number; patch: number }[] = []
      batch.forEach((pair, slot) => {
        const [a, b] = choosePatches(
          pair,
          { anchor: patches.patchCount(pair.anchor), positive: patches.patchCount(pair.positive) },
          config.seed + objectiveIndex,
          at,
          slot,
          config.patchSelection,
        )
        refsA.push({ trackId: pair.anchor, patch: a })
        refsB.push({ trackId: pair.positive, patch: b })
      })
      const views = await Promise.all([patches.read(refsA), patches.read(refsB)])
      const seen = views.map((x, v) =>
        augments(config.augment)
          ? augmentPatches(
              x,
              batch.length,
              SHAPE,
              config.augment,
              new SeededRandom(hash32(`augment:${at}:${objectiveIndex}:${v}`, config.seed)),
            )
          : x,
      )
      return tf.tidy(() => seen.map((x) => tf.tensor3d(x, [batch.length, PATCH_FRAMES, MEL_BANDS])))
    }

    while (step < totalSteps) {
      // A step awaits only already-resolved reads, so without this the event loop would starve: log lines
      // (written asynchronously) would pile up until the end, and a worker or server sharing the process
      // would miss its heartbeats and requests.
      await yieldToEventLoop()
      hooks?.signal?.throwIfAborted()
      let epoch = 0
      let loss: number
      const views: tf.Tensor[] = []
      try {
        for (let o = 0; o < objectives.length; o++) {
          const { batch, epoch: e } = streams[o].at(step)
          if (o === 0) epoch = e
          views.push(...(await loadViews(o, batch, step)))
        }
        const stepSeed = hash32(`step:${step}`, config.seed)
        const result = stepGradients({
          model,
          views,
          loss: (reps) =>
            tf.addN(
              objectives.map((_, o) =>
                colaLossFromLogits(pairLogits(model, config, reps[2 * o], reps[2 * o + 1], o)),
              ),
            ) as tf.Scalar,
          seed: stepSeed,
          chunkSize,
        })
        loss = result.loss
        try {
          optimizer.setLearningRate(
            learningRateAt(step, {
              base: config.learningRate,
              totalSteps,
              warmupSteps: config.warmupSteps ?? defaultWarmupSteps(totalSteps),
              schedule: config.schedule,
            }),
          )
          optimizer.applyGradients(result.grads as unknown as Record<string, tf.Variable>) // typed as Variables; it reads the values only
        } finally {
          Object.values(result.grads).forEach((g) => g.dispose())
        }
      } finally {
        views.forEach((v) => v.dispose())
      }
      if (!Number.isFinite(loss))
        throw new Error(`loss became ${loss} at step ${step}; lower the learning rate`)
      step++
      lossSum += loss
      lossCount++
      samples += 2 * config.batchSize * objectives.length

      const last = step === totalSteps
      const validateNow = last || step % config.validateEvery === 0
      if (step % config.logEvery === 0 || last || validateNow) {
        const now = performance.now()
        const entry: HistoryEntry = {
          step,
          epoch,
          loss: lossSum / lossCount,
          samplesPerS: samples / ((now - timer) / 1000),
          at: new Date().toISOString(),
        }
        if (validateNow) Object.assign(entry, await validate(model, objectives, heldOut, patches))
        history.push(entry)
        sinceCheckpoint.push(entry)
        hooks?.onLog?.(entry)
        lossSum = lossCount = samples = 0
        timer = performance.now()
      }
      if (step % config.checkpointEvery === 0 || last) {
        const optimizerWeights = await optimizer.getWeights()
        const modelWeights = model.weights()
        try {
          await saveCheckpoint(args.checkpointDir, {
            step,
            model: modelWeights,
            optimizer: optimizerWeights,
            meta: { config },
          })
        } finally {
          Object.values(modelWeights).forEach((t) => t.dispose())
          // getWeights() returns the live moment variables plus a fresh 'iter' scalar: only the latter is ours
          optimizerWeights.filter((w) => w.name === 'iter').forEach((w) => w.tensor.dispose())
        }
        await hooks?.onCheckpoint?.(step, sinceCheckpoint)
        sinceCheckpoint = []
      }
    }
  } finally {
    optimizer.dispose()
  }
  const final = history.at(-1)
  return {
    step,
    totalSteps,
    resumedFrom,
    history,
    metrics: {
      loss: final?.loss ?? NaN,
      valPrecision: final?.valPrecision ?? NaN,
      valChance: final?.valChance ?? NaN,
      valPrecisionBackbone: final?.valPrecisionBackbone ?? NaN,
    },
  }
}

const SHAPE = { frames: PATCH_FRAMES, bands: MEL_BANDS }

/** The loss's logits between anchors and positives (backbone embeddings) on head `head`, as the config says. */
export function pairLogits(
  model: ContrastiveModel,
  config: TrainingConfig,
  anchors: tf.Tensor2D,
  positives: tf.Tensor2D,
  head: number,
): tf.Tensor2D {
  if (config.similarity === 'bilinear') return model.logits(anchors, positives, head)
  return tf.tidy(() =>
    cosineLogits(model.project(anchors, head), model.project(positives, head), config.temperature),
  )
}

/**
 * Retrieval on the held-out groups (./validation.ts): precision@10 of same-group neighbours in the projection
 * space (what similarity search serves) and in the backbone, with chance, averaged over the objectives'
 * queries (the multi-task model: each objective on its own head).
 */
export async function validate(
  model: ContrastiveModel,
  objectives: Objective[],
  heldOut: HeldOutItem[][],
  patches: PatchSource,
): Promise<
  Pick<
    HistoryEntry,
    'valPrecision' | 'valChance' | 'valPrecisionBackbone' | 'valChanceBackbone' | 'valK' | 'valQueries'
  >
> {
  const sums = { precision: 0, chance: 0, backbone: 0, backboneChance: 0, queries: 0, backboneQueries: 0 }
  for (let o = 0; o < objectives.length; o++) {
    if (heldOut[o].length < 2) continue
    const f = await validateRetrieval(model, o, heldOut[o], (refs) => patches.read(refs), VALIDATION_K, SHAPE)
    sums.precision += f.projection.precision * f.projection.queries || 0
    sums.chance += f.projection.chance * f.projection.queries || 0
    sums.queries += f.projection.queries
    sums.backbone += f.backbone.precision * f.backbone.queries || 0
    sums.backboneChance += f.backbone.chance * f.backbone.queries || 0
    sums.backboneQueries += f.backbone.queries
  }
  if (!sums.queries) return {}
  return {
    valPrecision: sums.precision / sums.queries,
    valChance: sums.chance / sums.queries,
    valPrecisionBackbone: sums.backbone / sums.backboneQueries,
    valChanceBackbone: sums.backboneChance / sums.backboneQueries,
    valK: VALIDATION_K,
    valQueries: sums.queries,
  }
}
