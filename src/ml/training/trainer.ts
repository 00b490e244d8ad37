import { setImmediate as yieldToEventLoop } from 'node:timers/promises'
import * as tf from '@tensorflow/tfjs'
import type { HistoryEntry } from '../../db/repositories/training-run.repository.ts'
import type { ContrastiveModel } from './contrastive-model.ts'
import type { TrainingConfig } from './config.ts'
import { createAdam } from '../engine/optimizer.ts'
import { colaLossFromLogits } from '../models/cola.ts'
import { disposeCheckpoint, latestCheckpoint, saveCheckpoint } from './checkpoints.ts'
import { epochBatches, largestFittingBatch, type AssociationGroups, type Pair } from './pair-sampler.ts'
import { SeededRandom, hash32 } from '../../random/seeded-random.ts'
import { stepGradients } from './step.ts'

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
}

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
  if (objectives.length !== model.heads) throw new Error(`${objectives.length} objectives for a model with ${model.heads} heads`)
  const streams = objectives.map(
    (o) => new BatchStream(o.train, { batchSize: config.batchSize, seed: config.seed, samePatchTrack: o.samePatchTrack }),
  )
  const perEpoch = streams[0].batchesPerEpoch()
  const totalSteps = config.steps ?? (config.epochs ?? 1) * perEpoch
  const optimizer = createAdam(config.learningRate)
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
      const [a, b] = await Promise.all([patches.read(refsA), patches.read(refsB)])
      return tf.tidy(() => [tf.tensor3d(a, [batch.length, PATCH_FRAMES, MEL_BANDS]), tf.tensor3d(b, [batch.length, PATCH_FRAMES, MEL_BANDS])])
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
          loss: (reps) => tf.addN(objectives.map((_, o) => colaLossFromLogits(model.logits(reps[2 * o], reps[2 * o + 1], o)))) as tf.Scalar,
          seed: stepSeed,
          chunkSize,
        })
        loss = result.loss
        try {
          optimizer.applyGradients(result.grads as unknown as Record<string, tf.Variable>) // typed as Variables; it reads the values only
        } finally {
          Object.values(result.grads).forEach((g) => g.dispose())
        }
      } finally {
        views.forEach((v) => v.dispose())
      }
      if (!Number.isFinite(loss)) throw new Error(`loss became ${loss} at step ${step}; lower the learning rate`)
      step++
      lossSum += loss
      lossCount++
      samples += 2 * config.batchSize * objectives.length

      const last = step === totalSteps
      const validateNow = last || step % Math.max(perEpoch, 1) === 0
      if (step % config.logEvery === 0 || last || validateNow) {
        const now = performance.now()
        const entry: HistoryEntry = {
          step,
          epoch,
          loss: lossSum / lossCount,
          samplesPerS: samples / ((now - timer) / 1000),
          at: new Date().toISOString(),
        }
        if (validateNow) Object.assign(entry, await validate(model, objectives, patches, config))
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
          await saveCheckpoint(args.checkpointDir, { step, model: modelWeights, optimizer: optimizerWeights, meta: { config } })
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
    metrics: { loss: final?.loss ?? NaN, valLoss: final?.valLoss ?? NaN, valTop1: final?.valTop1 ?? NaN },
  }
}

/**
 * In-batch retrieval on held-out groups: for each anchor, is its own positive the most similar of the batch?
 * (top-1 accuracy; chance is 1 / valBatch), plus the COLA loss on the same batches. With fewer held-out
 * groups than the training batch (a small catalog's artists or labels) the batch shrinks to what they
 * fill, down to 2, rather than reporting nothing.
 */
export async function validate(
  model: ContrastiveModel,
  objectives: Objective[],
  patches: PatchSource,
  config: TrainingConfig,
  maxBatches = 4,
): Promise<{ valLoss?: number; valTop1?: number; valBatch?: number }> {
  let hits = 0
  let total = 0
  let lossSum = 0
  let batches = 0
  let smallest = Infinity
  for (let o = 0; o < objectives.length; o++) {
    const val = validationBatches(objectives[o], config).slice(0, maxBatches)
    for (const [b, batch] of val.entries()) {
      const refs = batch.map((pair, slot) => {
        const [a, p] = choosePatches(pair, { anchor: patches.patchCount(pair.anchor), positive: patches.patchCount(pair.positive) }, config.seed + 7919, b, slot, 'random')
        return [{ trackId: pair.anchor, patch: a }, { trackId: pair.positive, patch: p }] as const
      })
      const [xa, xb] = await Promise.all([patches.read(refs.map((r) => r[0])), patches.read(refs.map((r) => r[1]))])
      const { loss, correct } = tf.tidy(() => {
        const ea = model.encode(tf.tensor3d(xa, [batch.length, PATCH_FRAMES, MEL_BANDS]), { training: false, seed: 0 })
        const eb = model.encode(tf.tensor3d(xb, [batch.length, PATCH_FRAMES, MEL_BANDS]), { training: false, seed: 0 })
        const logits = model.logits(ea, eb, o)
        const argmax = tf.argMax(logits, 1)
        return {
          loss: colaLossFromLogits(logits).dataSync()[0],
          correct: tf.sum(tf.cast(tf.equal(argmax, tf.range(0, batch.length, 1, 'int32')), 'int32')).dataSync()[0],
        }
      })
      hits += correct
      total += batch.length
      smallest = Math.min(smallest, batch.length)
      lossSum += loss
      batches++
    }
  }
  return batches ? { valLoss: lossSum / batches, valTop1: hits / total, valBatch: smallest } : {}
}

function validationBatches(objective: Objective, config: TrainingConfig) {
  // No batch can hold more pairs than there are held-out groups: the largest that fits, down to 2.
  return largestFittingBatch(objective.validation, {
    batchSize: config.batchSize,
    seed: config.seed,
    samePatchTrack: objective.samePatchTrack,
  }).batches
}
