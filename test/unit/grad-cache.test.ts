import * as tf from '@tensorflow/tfjs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { gradCacheStep } from '../../src/ml/training/grad-cache.ts'

/** A small encoder (two dense layers, tanh) and a bilinear contrastive head, as plain variables. */
function setup(seed: number) {
  const w1 = tf.variable(tf.randomNormal([12, 16], 0, 0.3, 'float32', seed), true, `w1_${seed}`)
  const b1 = tf.variable(tf.zeros([16]), true, `b1_${seed}`)
  const w2 = tf.variable(tf.randomNormal([16, 8], 0, 0.3, 'float32', seed + 1), true, `w2_${seed}`)
  const W = tf.variable(tf.randomNormal([8, 8], 0, 0.3, 'float32', seed + 2), true, `W_${seed}`)
  const encode = (x: tf.Tensor) =>
    tf.matMul(tf.tanh(tf.add(tf.matMul(x as tf.Tensor2D, w1), b1)), w2) as tf.Tensor2D
  // COLA-style: similarity a·W·bᵀ, softmax cross-entropy with the diagonal as targets
  const loss = ([a, b]: tf.Tensor2D[]) => {
    const logits = tf.matMul(tf.matMul(a, W), b, false, true)
    const labels = tf.oneHot(tf.range(0, a.shape[0], 1, 'int32'), a.shape[0])
    return tf.losses.softmaxCrossEntropy(labels, logits) as tf.Scalar
  }
  return { encoderVariables: [w1, b1, w2], headVariables: [W], encode, loss }
}

describe('gradient caching', () => {
  beforeAll(async () => {
    await tf.setBackend('cpu')
  })
  afterAll(() => tf.disposeVariables())

  it('gives the plain full-batch loss and gradients, chunk size notwithstanding, without leaking', () => {
    const m = setup(3)
    const a = tf.randomNormal([10, 12], 0, 1, 'float32', 11)
    const b = tf.randomNormal([10, 12], 0, 1, 'float32', 12)
    const plain = tf.variableGrads(
      () => m.loss([m.encode(a), m.encode(b)]),
      [...m.encoderVariables, ...m.headVariables],
    )
    const before = tf.memory().numTensors
    for (const chunkSize of [10, 4, 3]) {
      const cached = gradCacheStep({ ...m, views: [a, b], chunkSize })
      expect(cached.loss).toBeCloseTo(plain.value.dataSync()[0], 5)
      expect(Object.keys(cached.grads).sort()).toEqual(Object.keys(plain.grads).sort())
      for (const [name, g] of Object.entries(plain.grads)) {
        const d = tf.tidy(() => tf.max(tf.abs(tf.sub(g, cached.grads[name]))).dataSync()[0])
        expect(d, `${name} at chunk ${chunkSize}`).toBeLessThan(1e-5)
      }
      Object.values(cached.grads).forEach((g) => g.dispose())
      expect(tf.memory().numTensors).toBe(before)
    }
  })
})
