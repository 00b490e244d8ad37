import * as tf from '@tensorflow/tfjs'
import { variableGrads } from '../engine/gradients.ts'
import type { ContrastiveModel } from './contrastive-model.ts'
import { gradCacheStep, type GradCacheResult } from './grad-cache.ts'

export interface StepInput {
  model: ContrastiveModel
  /** Per objective, its anchors then its positives: [n, 128, 96] each (2 × objectives tensors). */
  views: tf.Tensor[]
  /** The summed loss over objectives, from their representations in the order of `views`. */
  loss: (reps: tf.Tensor2D[]) => tf.Scalar
  /** Seeds drop-connect masks: the same seed gives the same step (resume). */
  seed: number
  /** Pairs encoded at once; below the batch size the step uses gradient caching. */
  chunkSize: number
}

/**
 * Loss and gradients of one contrastive step, not yet applied. When a whole batch fits (chunkSize ≥ pairs),
 * each objective's two views go through the encoder in ONE pass with the gradient tape on: batch-norm
 * statistics over both views, one forward per patch (as the PyTorch reference does). Otherwise gradient
 * caching (./grad-cache.ts): a forward without gradients, then a forward and backward per chunk.
 */
export function stepGradients(input: StepInput): GradCacheResult {
  const { model, views, seed } = input
  const pairs = views[0].shape[0]
  if (input.chunkSize < pairs) {
    return gradCacheStep({
      encode: (x, chunk, withGradient) =>
        model.encode(x, { training: true, seed: seed + chunk, updateStatistics: withGradient }),
      loss: input.loss,
      encoderVariables: model.encoderVariables,
      headVariables: model.headVariables,
      views,
      chunkSize: input.chunkSize,
    })
  }
  const { value, grads } = variableGrads(() => {
    const reps: tf.Tensor2D[] = []
    for (let o = 0; o < views.length / 2; o++) {
      const [a, b] = [views[2 * o], views[2 * o + 1]]
      const both = model.encode(tf.concat([a, b], 0), { training: true, seed: seed + o })
      reps.push(...(tf.split(both, [a.shape[0], b.shape[0]], 0) as tf.Tensor2D[]))
    }
    return input.loss(reps)
  }, [...model.encoderVariables, ...model.headVariables])
  const loss = value.dataSync()[0]
  value.dispose()
  return { loss, grads }
}
