import fs from 'node:fs'
import path from 'node:path'
import * as tf from '@tensorflow/tfjs'
import { ModelShapeError } from '../../errors.ts'
import type { ContrastiveModel } from '../training/contrastive-model.ts'
import { createColaHead, type ColaHead } from './cola.ts'
import { createEncoder, MEL_BANDS, PATCH_FRAMES, type Encoder, type EncoderSpec } from './efficientnet.ts'

/**
 * The paper's trainable model: one EfficientNet encoder and one COLA head per objective (two for the
 * multi-task association, whose losses are summed). Implements the trainer's ContrastiveModel.
 */

export type NamedTensor = { name: string; tensor: tf.Tensor }

export interface ContrastiveSpec {
  encoder: EncoderSpec
  /** One per objective (1, or 2 for `multi`). */
  heads: number
  seed: number
  projectionDim?: number
}

export interface ColaModel extends ContrastiveModel {
  readonly spec: ContrastiveSpec
  readonly encoder: Encoder
  readonly colaHeads: ColaHead[]
  encode(x: tf.Tensor, options: { training: boolean; seed: number; updateStatistics?: boolean }): tf.Tensor2D
}

export function createContrastiveModel(spec: ContrastiveSpec): ColaModel {
  if (!Number.isInteger(spec.heads) || spec.heads < 1)
    throw new ModelShapeError('contrastive model', `heads must be ≥ 1 (got ${spec.heads})`)
  const encoder = createEncoder(spec.encoder, { seed: spec.seed })
  const colaHeads = Array.from({ length: spec.heads }, (_, h) =>
    createColaHead(encoder.outputDim, { seed: spec.seed * 31 + h + 1, dim: spec.projectionDim }),
  )
  return {
    spec,
    encoder,
    colaHeads,
    encoderVariables: encoder.trainableVariables,
    headVariables: colaHeads.flatMap((h) => h.variables),
    heads: spec.heads,
    encode: (x, o) => encoder.embed(x, o).backbone,
    logits: (a, b, head) => colaHeads[head].logits(a, b),
    project: (x, head) => colaHeads[head].project(x),
    weights: () => ({
      ...prefixed('encoder/', encoder.weights()),
      ...Object.assign({}, ...colaHeads.map((h, i) => prefixed(`head${i}/`, h.weights()))),
    }),
    setWeights: (w) => {
      encoder.setWeights(unprefixed('encoder/', w))
      colaHeads.forEach((h, i) => h.setWeights(unprefixed(`head${i}/`, w)))
    },
    dispose: () => {
      encoder.dispose()
      colaHeads.forEach((h) => h.dispose())
    },
  }
}

function prefixed(prefix: string, m: tf.NamedTensorMap): tf.NamedTensorMap {
  return Object.fromEntries(Object.entries(m).map(([k, v]) => [prefix + k, v]))
}
function unprefixed(prefix: string, m: tf.NamedTensorMap): tf.NamedTensorMap {
  return Object.fromEntries(
    Object.entries(m)
      .filter(([k]) => k.startsWith(prefix))
      .map(([k, v]) => [k.slice(prefix.length), v]),
  )
}

/** Inference: mel patches (n × 128 × 96, row-major) → backbone embeddings (n × outputDim), `batch` at a time. */
export function embedPatches(encoder: Encoder, patches: Float32Array, batch: number): Float32Array {
  const size = PATCH_FRAMES * MEL_BANDS
  if (patches.length % size !== 0) {
    throw new ModelShapeError(
      'patches',
      `length ${patches.length} is not a multiple of ${PATCH_FRAMES}×${MEL_BANDS}`,
    )
  }
  const n = patches.length / size
  const out = new Float32Array(n * encoder.outputDim)
  for (let i = 0; i < n; i += batch) {
    const m = Math.min(batch, n - i)
    const e = tf.tidy(() => {
      const x = tf.tensor3d(patches.subarray(i * size, (i + m) * size), [m, PATCH_FRAMES, MEL_BANDS])
      return encoder.embed(x, { training: false }).backbone
    })
    out.set(e.dataSync(), i * encoder.outputDim)
    e.dispose()
  }
  return out
}

/**
 * A tf.io handler over a directory in TensorFlow.js' own layout (model.json + weights.bin), what tfjs-node's
 * `file://` handler writes; usable with tf.io.* functions and any tfjs backend.
 */
export function directoryHandler(dir: string): tf.io.IOHandler {
  const json = path.join(dir, 'model.json')
  return {
    save: async (artifacts) => {
      fs.mkdirSync(dir, { recursive: true })
      const data = artifacts.weightData
      const buffer =
        data === undefined
          ? new ArrayBuffer(0)
          : Array.isArray(data)
            ? tf.io.concatenateArrayBuffers(data)
            : data
      // Write the data first and the manifest last, each through a rename: a reader never sees a half file.
      writeAtomic(path.join(dir, 'weights.bin'), Buffer.from(buffer))
      writeAtomic(
        json,
        JSON.stringify({
          format: artifacts.format ?? 'discograph-weights',
          generatedBy: artifacts.generatedBy ?? `TensorFlow.js ${tf.version.tfjs}`,
          modelTopology: artifacts.modelTopology ?? null,
          userDefinedMetadata: artifacts.userDefinedMetadata,
          weightsManifest: [{ paths: ['weights.bin'], weights: artifacts.weightSpecs ?? [] }],
        }),
      )
      return { modelArtifactsInfo: tf.io.getModelArtifactsInfoForJSON(artifacts) }
    },
    load: async () => {
      if (!fs.existsSync(json)) throw new ModelShapeError(json, 'no saved weights here (model.json missing)')
      const manifest = JSON.parse(fs.readFileSync(json, 'utf8'))
      const group = manifest.weightsManifest[0]
      const b = fs.readFileSync(path.join(dir, group.paths[0]))
      return {
        format: manifest.format,
        generatedBy: manifest.generatedBy,
        modelTopology: manifest.modelTopology ?? undefined,
        userDefinedMetadata: manifest.userDefinedMetadata,
        weightSpecs: group.weights,
        weightData: b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength),
      }
    },
  }
}

function writeAtomic(file: string, data: string | Buffer): void {
  const tmp = `${file}.tmp-${process.pid}`
  fs.writeFileSync(tmp, data)
  fs.renameSync(tmp, file)
}

/** Saves named tensors (model weights, or optimizer.getWeights() in its order) to `dir` with metadata. */
export async function saveNamedTensors(
  dir: string,
  tensors: tf.NamedTensorMap | NamedTensor[],
  metadata: Record<string, unknown> = {},
): Promise<void> {
  const { data, specs } = await tf.io.encodeWeights(tensors)
  await directoryHandler(dir).save!({
    modelTopology: { discograph: metadata },
    userDefinedMetadata: metadata as Record<string, object>,
    weightSpecs: specs,
    weightData: data,
  })
}

/** Reads tensors saved by saveNamedTensors, in saved order; the caller disposes them. */
export async function loadNamedTensors(
  dir: string,
): Promise<{ tensors: NamedTensor[]; metadata: Record<string, unknown> }> {
  const a = await directoryHandler(dir).load!()
  const map = tf.io.decodeWeights(a.weightData!, a.weightSpecs!)
  return {
    tensors: a.weightSpecs!.map((s) => ({ name: s.name, tensor: map[s.name] })),
    metadata: (a.userDefinedMetadata ?? {}) as Record<string, unknown>,
  }
}

/** Model weights (encoder, heads, batch-norm statistics) and its spec, to `dir`. */
export async function saveModelWeights(dir: string, model: ColaModel): Promise<void> {
  const w = model.weights()
  try {
    await saveNamedTensors(dir, w, { spec: model.spec })
  } finally {
    Object.values(w).forEach((t) => t.dispose())
  }
}

/** Loads weights saved by saveModelWeights into `model` (which must have the same spec). */
export async function loadModelWeights(dir: string, model: ColaModel): Promise<void> {
  const { tensors } = await loadNamedTensors(dir)
  try {
    model.setWeights(Object.fromEntries(tensors.map((t) => [t.name, t.tensor])))
  } finally {
    tensors.forEach((t) => t.tensor.dispose())
  }
}

/** The spec a model directory was saved with (to build the model before loading its weights). */
export function savedModelSpec(dir: string): ContrastiveSpec {
  const file = path.join(dir, 'model.json')
  if (!fs.existsSync(file)) throw new ModelShapeError(file, 'no saved model here')
  const spec = JSON.parse(fs.readFileSync(file, 'utf8')).userDefinedMetadata?.spec
  if (!spec?.encoder) throw new ModelShapeError(file, 'no model spec in the metadata')
  return spec as ContrastiveSpec
}

/** Optimizer state (Adam's iteration count and moments), positional as tfjs' getWeights/setWeights use it. */
export async function saveOptimizerState(dir: string, optimizer: tf.Optimizer): Promise<void> {
  const weights = await optimizer.getWeights()
  await saveNamedTensors(dir, weights, { optimizer: optimizer.getClassName() })
}

export async function loadOptimizerState(dir: string, optimizer: tf.Optimizer): Promise<void> {
  const { tensors, metadata } = await loadNamedTensors(dir)
  if (metadata.optimizer !== optimizer.getClassName()) {
    tensors.forEach((t) => t.tensor.dispose())
    throw new ModelShapeError(
      dir,
      `optimizer state is for ${String(metadata.optimizer)}, not ${optimizer.getClassName()}`,
    )
  }
  await optimizer.setWeights(tensors)
  tensors.forEach((t) => t.tensor.dispose()) // setWeights made its own variables from them
}
