import type * as tf from '@tensorflow/tfjs'

/**
 * What the trainer needs from a model: an encoder (mel patches → backbone embedding) and one or more COLA
 * heads (projection + bilinear similarity). The multi-task association uses two heads whose losses are summed.
 * Randomness inside the model (drop-connect) must depend only on `seed`, so that a resumed run and an
 * uninterrupted one compute the same thing.
 */
export interface ContrastiveModel {
  readonly encoderVariables: tf.Variable[]
  readonly headVariables: tf.Variable[]
  readonly heads: number
  /** x: [n, 128, 96] mel patches → [n, d] backbone embeddings. */
  /** `updateStatistics` (default true when training) lets the trainer update batch-norm statistics once per step. */
  encode(x: tf.Tensor, options: { training: boolean; seed: number; updateStatistics?: boolean }): tf.Tensor2D
  /** COLA logits between anchors and positives through head `head`: [n, n], the diagonal are the positives. */
  logits(anchors: tf.Tensor2D, positives: tf.Tensor2D, head: number): tf.Tensor2D
  /** Head `head`'s projection of backbone embeddings (the `projection` space search reads). */
  project(backbone: tf.Tensor2D, head: number): tf.Tensor2D
  /** Copies of the named weights for checkpoints (variables and non-trainable state such as batch-norm
   *  statistics), keyed by names stable across processes; the caller disposes them. */
  weights(): tf.NamedTensorMap
  setWeights(weights: tf.NamedTensorMap): void
  dispose(): void
}
