import * as tf from '@tensorflow/tfjs'
import { batchNormAct, channelMean, channelScale, swish, type BatchNormState } from '../engine/ops.ts'
import { ModelShapeError } from '../../errors.ts'

/**
 * EfficientNet (Tan & Le, 2019) as used by the paper: 1-channel mel patches of 128 frames × 96 bands, the
 * B0 stage table, squeeze-excitation 0.25 with swish, batch norm (momentum 0.99, ε 1e-3), TF "SAME"
 * padding, drop-connect on residual blocks, head 1×1 conv → BN → swish → global average pool. Width and
 * depth multipliers give the smaller variants (tests, CPU demo) from the same code, with Keras' rounding, so
 * B0 has exactly Keras' 4,006,972 trainable backbone parameters (with a 1-channel stem).
 *
 * Written with plain TensorFlow.js variables and functions (no tf.layers) so that the engine's fused ops
 * (src/ml/engine/ops.ts) are used and the forward pass is one readable function.
 */

export const PATCH_FRAMES = 128
export const MEL_BANDS = 96

export interface EncoderSpec {
  /** Channel multiplier (B0: 1). */
  width: number
  /** Repeat multiplier (B0: 1). */
  depth: number
  /** Drop-connect rate of the last block; block b of B gets rate·b/B (B0: 0.2). */
  dropConnectRate?: number
}

export const EFFICIENTNET_B0: EncoderSpec = { width: 1, depth: 1, dropConnectRate: 0.2 }
/** The small variant used by tests and the CPU demo. */
export const EFFICIENTNET_TINY: EncoderSpec = { width: 0.25, depth: 0.34, dropConnectRate: 0.2 }

/** Model sizes by name: the paper's B0, and width/depth-scaled variants of the same code for CPUs and tests. */
export const ENCODER_SIZES = {
  b0: EFFICIENTNET_B0,
  small: { width: 0.5, depth: 0.5, dropConnectRate: 0.2 },
  tiny: EFFICIENTNET_TINY,
} as const satisfies Record<string, EncoderSpec>
export type EncoderSize = keyof typeof ENCODER_SIZES

/** (repeats, kernel, stride, expansion, output channels) of B0's seven stages. */
export const B0_STAGES: readonly (readonly [number, number, number, number, number])[] = [
  [1, 3, 1, 1, 16],
  [2, 3, 2, 6, 24],
  [2, 5, 2, 6, 40],
  [3, 3, 2, 6, 80],
  [3, 5, 1, 6, 112],
  [4, 5, 2, 6, 192],
  [1, 3, 1, 6, 320],
]

const BN_MOMENTUM = 0.99
const BN_EPSILON = 1e-3
const SE_RATIO = 0.25
const STATISTIC_UPDATES = 'batch_norm/statistic_updates'

/** Keras' round_filters: scale, round to a multiple of 8, never below 90 % of the scaled value. */
export function roundFilters(filters: number, width: number, divisor = 8): number {
  const scaled = filters * width
  let rounded = Math.max(divisor, Math.floor((scaled + divisor / 2) / divisor) * divisor)
  if (rounded < 0.9 * scaled) rounded += divisor
  return rounded
}

export function roundRepeats(repeats: number, depth: number): number {
  return Math.ceil(depth * repeats)
}

export interface EmbedOptions {
  training: boolean
  /** Seeds drop-connect masks: the same seed gives the same masks (resume, gradient caching). */
  seed?: number
  /** Update batch-norm moving statistics (training only; default true). */
  updateStatistics?: boolean
  /** Also return the head's activations before the global pool (inference-time pooling other than the mean). */
  featureMap?: boolean
}

/** What the encoder returns: the mean-pooled embedding, and the map it pooled when asked for. */
export interface EncoderOutput {
  backbone: tf.Tensor2D
  /** [N, frames / 32, bands / 32, outputDim]: the head's activations (after its swish), when asked for. */
  featureMap?: tf.Tensor4D
}

export interface Encoder {
  readonly spec: Required<EncoderSpec>
  /** Width of the backbone embedding (1280 for B0). */
  readonly outputDim: number
  readonly trainableVariables: tf.Variable[]
  /** Batch-norm moving means and variances: saved with the weights, not trained. */
  readonly stateVariables: tf.Variable[]
  /** x: [N, 128, 96] (or [N, 128, 96, 1]) mel patches → backbone embeddings [N, outputDim]. */
  embed(x: tf.Tensor, options: EmbedOptions): EncoderOutput
  /** Copies of every weight (trainable and state), keyed by names stable across processes and instances. */
  weights(): tf.NamedTensorMap
  /** Assigns every weight from a map made by weights(); checks names and shapes. */
  setWeights(weights: tf.NamedTensorMap): void
  dispose(): void
}

interface Conv {
  kernel: tf.Variable
  bias?: tf.Variable
}
interface BatchNorm extends BatchNormState {
  gamma: tf.Variable
  beta: tf.Variable
}
interface Block {
  kernel: number
  stride: number
  inputs: number
  outputs: number
  expand?: { conv: Conv; bn: BatchNorm }
  depthwise: Conv
  depthwiseBn: BatchNorm
  seReduce: Conv
  seExpand: Conv
  project: Conv
  projectBn: BatchNorm
  dropRate: number
}

let instances = 0

/** Derives a per-variable seed from the model seed and the variable's ordinal (splitmix-style mixing). */
function variableSeed(seed: number, ordinal: number): number {
  let h = (Math.imul(seed ^ 0x9e3779b9, 0x85ebca6b) + Math.imul(ordinal + 1, 0xc2b2ae35)) >>> 0
  h = Math.imul(h ^ (h >>> 16), 0x7feb352d) >>> 0
  h = Math.imul(h ^ (h >>> 15), 0x846ca68b) >>> 0
  return (h ^ (h >>> 16)) >>> 0
}

export function createEncoder(specIn: EncoderSpec, options: { seed?: number } = {}): Encoder {
  const spec: Required<EncoderSpec> = { dropConnectRate: 0.2, ...specIn }
  if (!(spec.width > 0) || !(spec.depth > 0)) {
    throw new ModelShapeError(
      'encoder spec',
      `width and depth must be positive (got ${spec.width}, ${spec.depth})`,
    )
  }
  const seed = options.seed ?? 0
  const prefix = `efficientnet${++instances}/`
  const named: { name: string; variable: tf.Variable }[] = []
  let ordinal = 0

  const variable = (name: string, init: () => tf.Tensor, trainable = true) => {
    const v = tf.tidy(() => tf.variable(init(), trainable, prefix + name))
    named.push({ name, variable: v })
    return v
  }
  // Keras' EfficientNet initialiser: VarianceScaling(2.0, fan_out, untruncated normal).
  const convKernel = (name: string, shape: [number, number, number, number], fanOut: number) => {
    const s = variableSeed(seed, ordinal++)
    return variable(name, () => tf.randomNormal(shape, 0, Math.sqrt(2 / fanOut), 'float32', s))
  }
  const conv = (name: string, k: number, cin: number, cout: number, bias = false): Conv => ({
    kernel: convKernel(`${name}/kernel`, [k, k, cin, cout], k * k * cout),
    bias: bias ? variable(`${name}/bias`, () => tf.zeros([cout])) : undefined,
  })
  const depthwise = (name: string, k: number, c: number): Conv => ({
    kernel: convKernel(`${name}/depthwise_kernel`, [k, k, c, 1], k * k),
  })
  const batchNorm = (name: string, c: number): BatchNorm => ({
    gamma: variable(`${name}/gamma`, () => tf.ones([c])),
    beta: variable(`${name}/beta`, () => tf.zeros([c])),
    movingMean: variable(`${name}/moving_mean`, () => tf.zeros([c]), false),
    movingVariance: variable(`${name}/moving_variance`, () => tf.ones([c]), false),
  })

  // How many times the moving statistics were updated (one per training forward pass): inference divides
  // out the bias of their initial values, 0 and 1, as Adam does for its moments. Keras does not; after
  // the paper's long runs it makes no difference (0.99^1000 ≈ 4e-5), but a short run (the demo's 150 steps:
  // 0.99^150 ≈ 0.22) would otherwise embed with statistics a fifth made of the initial values.
  const statisticUpdates = variable(STATISTIC_UPDATES, () => tf.scalar(0), false)

  const stemChannels = roundFilters(32, spec.width)
  const stem = { conv: conv('stem/conv', 3, 1, stemChannels), bn: batchNorm('stem/bn', stemChannels) }

  const totalBlocks = B0_STAGES.reduce((n, [r]) => n + roundRepeats(r, spec.depth), 0)
  const blocks: Block[] = []
  let inputs = stemChannels
  B0_STAGES.forEach(([repeats, kernel, stride, expansion, out], stage) => {
    const outputs = roundFilters(out, spec.width)
    for (let r = 0; r < roundRepeats(repeats, spec.depth); r++) {
      const name = `block${stage + 1}${String.fromCharCode(97 + r)}`
      const expanded = inputs * expansion
      const se = Math.max(1, Math.floor(inputs * SE_RATIO))
      blocks.push({
        kernel,
        stride: r === 0 ? stride : 1,
        inputs,
        outputs,
        expand:
          expansion === 1
            ? undefined
            : {
                conv: conv(`${name}/expand_conv`, 1, inputs, expanded),
                bn: batchNorm(`${name}/expand_bn`, expanded),
              },
        depthwise: depthwise(`${name}/dwconv`, kernel, expanded),
        depthwiseBn: batchNorm(`${name}/bn`, expanded),
        seReduce: conv(`${name}/se_reduce`, 1, expanded, se, true),
        seExpand: conv(`${name}/se_expand`, 1, se, expanded, true),
        project: conv(`${name}/project_conv`, 1, expanded, outputs),
        projectBn: batchNorm(`${name}/project_bn`, outputs),
        dropRate: (spec.dropConnectRate * blocks.length) / totalBlocks,
      })
      inputs = outputs
    }
  })
  const headChannels = roundFilters(1280, spec.width)
  const head = { conv: conv('top_conv', 1, inputs, headChannels), bn: batchNorm('top_bn', headChannels) }

  const conv2d = (x: tf.Tensor4D, c: Conv, stride = 1) =>
    tf.conv2d(x, c.kernel as tf.Tensor4D, stride, 'same')
  // SE on pooled vectors: tiny dense layers, so plain matmuls.
  const dense = (x: tf.Tensor2D, c: Conv): tf.Tensor2D => {
    const [, , cin, cout] = c.kernel.shape
    const y = tf.matMul(x, tf.reshape(c.kernel, [cin, cout]) as tf.Tensor2D) as tf.Tensor2D
    return c.bias ? (tf.add(y, c.bias) as tf.Tensor2D) : y
  }

  const embed = (xIn: tf.Tensor, o: EmbedOptions): EncoderOutput => {
    const shape = xIn.shape
    const ok =
      (shape.length === 3 || (shape.length === 4 && shape[3] === 1)) &&
      shape[1] === PATCH_FRAMES &&
      shape[2] === MEL_BANDS
    if (!ok) {
      throw new ModelShapeError(
        'encoder input',
        `expected [N, ${PATCH_FRAMES}, ${MEL_BANDS}] mel patches, got [${shape.join(', ')}]`,
      )
    }
    const bnOptions = {
      training: o.training,
      momentum: BN_MOMENTUM,
      epsilon: BN_EPSILON,
      updateStatistics: o.training && (o.updateStatistics ?? true),
      initialWeight: o.training ? 0 : initialStatisticsWeight(statisticUpdates.dataSync()[0], BN_MOMENTUM),
    }
    if (bnOptions.updateStatistics) tf.tidy(() => statisticUpdates.assign(tf.add(statisticUpdates, 1)))
    const dropSeed = o.seed ?? 0
    return tf.tidy(() => {
      const n = shape[0]
      let x = tf.reshape(xIn, [n, PATCH_FRAMES, MEL_BANDS, 1]) as tf.Tensor4D
      x = batchNormAct(conv2d(x, stem.conv, 2), stem.bn, { ...bnOptions, activation: 'swish' })
      blocks.forEach((b, i) => {
        const input = x
        let h = x
        if (b.expand)
          h = batchNormAct(conv2d(h, b.expand.conv), b.expand.bn, { ...bnOptions, activation: 'swish' })
        h = tf.depthwiseConv2d(h, b.depthwise.kernel as tf.Tensor4D, b.stride, 'same')
        h = batchNormAct(h, b.depthwiseBn, { ...bnOptions, activation: 'swish' })
        const gate = tf.sigmoid(
          dense(swish(dense(channelMean(h), b.seReduce) as tf.Tensor2D), b.seExpand),
        ) as tf.Tensor2D
        h = channelScale(h, gate)
        h = batchNormAct(conv2d(h, b.project), b.projectBn, { ...bnOptions, activation: 'none' })
        if (b.stride === 1 && b.inputs === b.outputs) {
          if (o.training && b.dropRate > 0) {
            // Drop-connect: drop the whole residual branch per sample, scale survivors by 1/keep.
            const keep = 1 - b.dropRate
            const u = tf.randomUniform([n, 1], 0, 1, 'float32', variableSeed(dropSeed, i))
            const mask = tf.div(tf.floor(tf.add(u, keep)), keep)
            h = channelScale(h, tf.tile(mask, [1, b.outputs]) as tf.Tensor2D)
          }
          h = tf.add(h, input)
        }
        x = h
      })
      x = batchNormAct(conv2d(x, head.conv), head.bn, { ...bnOptions, activation: 'swish' })
      return o.featureMap ? { backbone: channelMean(x), featureMap: x } : { backbone: channelMean(x) }
    })
  }

  const byName = new Map(named.map((n) => [n.name, n.variable]))
  return {
    spec,
    outputDim: headChannels,
    trainableVariables: named.filter((n) => n.variable.trainable).map((n) => n.variable),
    stateVariables: named
      .filter((n) => !n.variable.trainable && n.name !== STATISTIC_UPDATES)
      .map((n) => n.variable),
    embed,
    weights: () => Object.fromEntries(named.map((n) => [n.name, n.variable.clone()])),
    // Weights saved before the update count existed load with 0 (statistics used as stored).
    setWeights: (weights) =>
      assignWeights(
        byName,
        STATISTIC_UPDATES in weights ? weights : { ...weights, [STATISTIC_UPDATES]: tf.scalar(0) },
        'encoder',
      ),
    dispose: () => named.forEach((n) => n.variable.dispose()),
  }
}

/**
 * The weight the initial moving statistics (mean 0, variance 1) still carry after `updates` updates with
 * `momentum`: momentum^updates. 0 when there were none, since then the initial values are all there is
 * (a random-weights model) and nothing is divided out.
 */
export function initialStatisticsWeight(updates: number, momentum: number): number {
  return updates > 0 ? momentum ** updates : 0
}

/** Assigns each named variable from `weights`, naming the weight when one is missing or has the wrong shape. */
export function assignWeights(
  variables: Map<string, tf.Variable>,
  weights: tf.NamedTensorMap,
  what: string,
): void {
  for (const [name, v] of variables) {
    const w = weights[name]
    if (!w) throw new ModelShapeError(what, `weight ${name} is missing`)
    if (!tf.util.arraysEqual(w.shape, v.shape)) {
      throw new ModelShapeError(
        what,
        `weight ${name} has shape [${w.shape.join(', ')}], expected [${v.shape.join(', ')}]`,
      )
    }
  }
  for (const [name, v] of variables) v.assign(weights[name])
}

export function countParameters(variables: tf.Variable[]): number {
  return variables.reduce((n, v) => n + v.size, 0)
}
