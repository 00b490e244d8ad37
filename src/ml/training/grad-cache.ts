import * as tf from '@tensorflow/tfjs'
import { variableGrads } from '../engine/gradients.ts'

/**
 * Gradient caching (Gao et al., 2021, "Scaling Deep Contrastive Learning Batch Size under Memory Limited
 * Setup"): the contrastive loss couples every item of a batch, but its gradient w.r.t. the encoder factors
 * through the representations. So:
 *   1. encode every chunk WITHOUT recording gradients → representations R (small: N × d);
 *   2. loss(R) and its gradients: dL/dR, and dL/dθ_head for the head's own variables;
 *   3. re-encode chunk by chunk WITH gradients and back-propagate the cached dL/dR_chunk (a vector–Jacobian
 *      product: ∂/∂θ Σ R_chunk ⊙ g_chunk), accumulating encoder gradients.
 * Activation memory is bounded by the chunk, not the batch, so the number of in-batch negatives is free.
 * The result equals the plain full-batch gradient whenever `encode` is a deterministic function of its chunk
 * (the caller makes dropout/drop-connect masks depend on `chunkIndex`; batch-norm statistics are per chunk,
 * as in data-parallel training).
 */
export interface GradCacheInput {
  /**
   * Encodes one chunk of one view; must not dispose its input. Called twice per chunk: first without the
   * gradient tape (`withGradient` false), then with it; side effects such as batch-norm moving statistics
   * should happen in one of the two calls only.
   */
  encode: (x: tf.Tensor, chunkIndex: number, withGradient: boolean) => tf.Tensor2D
  /** The contrastive loss over the full batch of representations (may use head variables). */
  loss: (views: tf.Tensor2D[]) => tf.Scalar
  encoderVariables: tf.Variable[]
  headVariables: tf.Variable[]
  /** One tensor per view, batch first (e.g. two views of 32 patches each). */
  views: tf.Tensor[]
  chunkSize: number
}

export interface GradCacheResult {
  loss: number
  /** By variable name; the caller applies them (optimizer.applyGradients) and disposes them. */
  grads: tf.NamedTensorMap
}

export function gradCacheStep(input: GradCacheInput): GradCacheResult {
  const { views, chunkSize } = input
  const chunksOf = (x: tf.Tensor) => {
    const n = x.shape[0]
    const sizes: number[] = []
    for (let i = 0; i < n; i += chunkSize) sizes.push(Math.min(chunkSize, n - i))
    return sizes.length === 1 ? [x] : tf.split(x, sizes, 0)
  }
  const chunkedViews = views.map(chunksOf)

  // 1. Representations without gradient tape.
  const reps = chunkedViews.map((chunks, v) =>
    tf.tidy(
      () =>
        tf.concat(
          chunks.map((c, i) => input.encode(c, v * 1000 + i, false)),
          0,
        ) as tf.Tensor2D,
    ),
  )

  // 2. Loss and gradients w.r.t. the representations (as temporary variables) and the head.
  const repVars = reps.map((r, v) =>
    tf.variable(r, true, `__gradcache_rep_${v}_${Date.now()}_${Math.random()}`),
  )
  const { value, grads: headAndRepGrads } = variableGrads(
    () => input.loss(repVars as unknown as tf.Tensor2D[]),
    [...input.headVariables, ...repVars],
  )
  const loss = value.dataSync()[0]
  value.dispose()
  const repGrads = repVars.map((rv) => {
    const g = headAndRepGrads[rv.name]
    delete headAndRepGrads[rv.name]
    rv.dispose()
    return g
  })
  reps.forEach((r) => r.dispose())

  // 3. Back-propagate the cached representation gradients chunk by chunk, accumulating.
  const acc: tf.NamedTensorMap = {}
  chunkedViews.forEach((chunks, v) => {
    const gChunks = chunksOf(repGrads[v])
    chunks.forEach((c, i) => {
      const { value: s, grads } = variableGrads(
        () => tf.sum(tf.mul(input.encode(c, v * 1000 + i, true), gChunks[i])) as tf.Scalar,
        input.encoderVariables,
      )
      s.dispose()
      for (const [name, g] of Object.entries(grads)) {
        if (acc[name]) {
          const sum = tf.add(acc[name], g)
          acc[name].dispose()
          g.dispose()
          acc[name] = sum
        } else {
          acc[name] = g
        }
      }
    })
    if (gChunks.length > 1) gChunks.forEach((g) => g.dispose())
    repGrads[v].dispose()
    if (chunks.length > 1) chunks.forEach((c) => c.dispose())
  })
  return { loss, grads: { ...acc, ...headAndRepGrads } }
}
