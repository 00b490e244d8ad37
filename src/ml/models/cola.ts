import * as tf from '@tensorflow/tfjs'
import { assignWeights } from './efficientnet.ts'

/**
 * The COLA head (Saeed et al., 2021) of the paper: a projection Dense(512) → LayerNorm → tanh, and a bilinear
 * similarity a·W·bᵀ with a learned W; the loss is softmax cross-entropy over the in-batch negatives (row i of
 * the logits has its positive on the diagonal).
 */

export const COLA_DIM = 512
const LAYER_NORM_EPSILON = 1e-3

export interface ColaHead {
  readonly inputDim: number
  readonly dim: number
  readonly variables: tf.Variable[]
  /** Backbone embeddings [N, inputDim] → projections [N, dim]. */
  project(x: tf.Tensor2D): tf.Tensor2D
  /** The bilinear similarity matrix W [dim, dim]. */
  readonly bilinear: tf.Variable
  /** Logits [N, N] between anchors and positives (both backbone embeddings): project, then a·W·bᵀ. */
  logits(anchors: tf.Tensor2D, positives: tf.Tensor2D): tf.Tensor2D
  weights(): tf.NamedTensorMap
  setWeights(weights: tf.NamedTensorMap): void
  dispose(): void
}

let instances = 0

export function createColaHead(
  inputDim: number,
  options: { seed?: number; dim?: number; name?: string } = {},
): ColaHead {
  const dim = options.dim ?? COLA_DIM
  const seed = options.seed ?? 0
  const prefix = `cola${++instances}/`
  const named: [string, tf.Variable][] = []
  const variable = (name: string, init: () => tf.Tensor) => {
    const v = tf.tidy(() => tf.variable(init(), true, prefix + name))
    named.push([name, v])
    return v
  }
  // Glorot-uniform, as Keras' Dense default.
  const glorot = (shape: [number, number], s: number) => {
    const limit = Math.sqrt(6 / (shape[0] + shape[1]))
    return tf.randomUniform(shape, -limit, limit, 'float32', s)
  }
  const kernel = variable('dense/kernel', () => glorot([inputDim, dim], seed * 7 + 1))
  const bias = variable('dense/bias', () => tf.zeros([dim]))
  const gamma = variable('layer_norm/gamma', () => tf.ones([dim]))
  const beta = variable('layer_norm/beta', () => tf.zeros([dim]))
  const bilinear = variable('bilinear/W', () => glorot([dim, dim], seed * 7 + 2))

  const project = (x: tf.Tensor2D) =>
    tf.tidy(() => {
      const h = tf.add(tf.matMul(x, kernel), bias)
      const { mean, variance } = tf.moments(h, -1, true)
      const normed = tf.add(
        tf.mul(tf.div(tf.sub(h, mean), tf.sqrt(tf.add(variance, LAYER_NORM_EPSILON))), gamma),
        beta,
      )
      return tf.tanh(normed) as tf.Tensor2D
    })
  const byName = new Map(named)
  return {
    inputDim,
    dim,
    variables: named.map(([, v]) => v),
    project,
    bilinear,
    logits: (anchors, positives) =>
      tf.tidy(() => bilinearLogits(project(anchors), project(positives), bilinear as tf.Tensor2D)),
    weights: () => Object.fromEntries(named.map(([n, v]) => [n, v.clone()])),
    setWeights: (w) => assignWeights(byName, w, 'COLA head'),
    dispose: () => named.forEach(([, v]) => v.dispose()),
  }
}

/** a·W·bᵀ: [N, d] × [d, d] × [d, N] → [N, N]. */
export function bilinearLogits(a: tf.Tensor2D, b: tf.Tensor2D, W: tf.Tensor2D): tf.Tensor2D {
  // (a·W)·bᵀ with b transposed explicitly: transposed matmuls are the slow path of some backends.
  return tf.tidy(() => tf.matMul(tf.matMul(a, W), tf.transpose(b)))
}

/**
 * Cosine similarity over a temperature (SimCLR's NT-Xent logits, Chen et al., 2020): [N, d] × [N, d] → [N, N].
 * Bounded (±1/τ), so the loss starts near log N instead of at the bilinear form's arbitrary scale, and the
 * space it trains is the one search reads (cosine).
 */
export function cosineLogits(a: tf.Tensor2D, b: tf.Tensor2D, temperature: number): tf.Tensor2D {
  return tf.tidy(() => {
    const unit = (x: tf.Tensor2D) => tf.div(x, tf.add(tf.norm(x, 'euclidean', 1, true), 1e-12))
    return tf.div(tf.matMul(unit(a), tf.transpose(unit(b))), temperature) as tf.Tensor2D
  })
}

/** Mean softmax cross-entropy of each row against its diagonal entry (the positive). */
export function colaLossFromLogits(logits: tf.Tensor2D): tf.Scalar {
  return tf.tidy(() => {
    const n = logits.shape[0]
    const logp = tf.logSoftmax(logits)
    const diag = tf.sum(tf.mul(logp, tf.eye(n)), 1)
    return tf.neg(tf.mean(diag)) as tf.Scalar
  })
}

/** COLA loss of projected anchors a and positives b [N, d] under the bilinear W [d, d]. */
export function colaLoss(a: tf.Tensor2D, b: tf.Tensor2D, W: tf.Tensor2D): tf.Scalar {
  return tf.tidy(() => colaLossFromLogits(bilinearLogits(a, b, W)))
}
