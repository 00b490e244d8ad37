import * as tf from '@tensorflow/tfjs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { registerNativeBackend } from '../../src/ml/engine/native-backend.ts'
import { colaLossFromLogits } from '../../src/ml/models/cola.ts'
import { createContrastiveModel } from '../../src/ml/models/contrastive.ts'
import { ENCODER_SIZES, MEL_BANDS, PATCH_FRAMES } from '../../src/ml/models/efficientnet.ts'
import { stepGradients } from '../../src/ml/training/step.ts'

describe('stepGradients on the tiny EfficientNet (native backend)', () => {
  beforeAll(async () => {
    registerNativeBackend({ threads: 2 })
    await tf.setBackend('native')
  })
  afterAll(async () => {
    await tf.setBackend('cpu')
  })

  const model = () => createContrastiveModel({ encoder: ENCODER_SIZES.tiny, heads: 2, seed: 4 })
  const views = () =>
    [0, 1, 2, 3].map((i) => tf.randomNormal([4, PATCH_FRAMES, MEL_BANDS], 0, 1, 'float32', 20 + i))
  const lossOf = (m: ReturnType<typeof model>) => (reps: tf.Tensor2D[]) =>
    tf.addN([0, 1].map((h) => colaLossFromLogits(m.logits(reps[2 * h], reps[2 * h + 1], h)))) as tf.Scalar

  it('without gradient caching: both views in one pass equal the hand-written computation', () => {
    const m = model()
    const v = views()
    const before = tf.memory().numTensors
    const { loss, grads } = stepGradients({ model: m, views: v, loss: lossOf(m), seed: 7, chunkSize: 4 })
    const reference = tf.variableGrads(() => {
      const reps: tf.Tensor2D[] = []
      for (const h of [0, 1]) {
        const both = m.encode(tf.concat([v[2 * h], v[2 * h + 1]]), { training: true, seed: 7 + h })
        reps.push(...(tf.split(both, [4, 4]) as tf.Tensor2D[]))
      }
      return lossOf(m)(reps)
    }, [...m.encoderVariables, ...m.headVariables])
    expect(loss).toBeCloseTo(reference.value.dataSync()[0], 5)
    for (const [name, g] of Object.entries(reference.grads)) {
      const d = tf.tidy(() => tf.max(tf.abs(tf.sub(g, grads[name]))).dataSync()[0])
      expect(d, name).toBe(0)
    }
    tf.dispose([reference.value, ...Object.values(reference.grads), ...Object.values(grads)])
    expect(tf.memory().numTensors).toBe(before)
    tf.dispose(v)
    m.dispose()
  })

  it('with chunks smaller than the batch: gradient caching, every variable gets a finite gradient, no leak', () => {
    const m = model()
    const v = views()
    const before = tf.memory().numTensors
    const { loss, grads } = stepGradients({ model: m, views: v, loss: lossOf(m), seed: 7, chunkSize: 2 })
    expect(Number.isFinite(loss)).toBe(true)
    expect(Object.keys(grads).sort()).toEqual(
      [...m.encoderVariables, ...m.headVariables].map((x) => x.name).sort(),
    )
    for (const [name, g] of Object.entries(grads))
      expect(Number.isFinite(tf.tidy(() => tf.sum(tf.abs(g)).dataSync()[0])), name).toBe(true)
    tf.dispose(Object.values(grads))
    expect(tf.memory().numTensors).toBe(before)
    tf.dispose(v)
    m.dispose()
  })
})
