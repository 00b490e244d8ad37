import * as tf from '@tensorflow/tfjs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ModelShapeError } from '../../src/errors.ts'
import { registerNativeBackend } from '../../src/ml/engine/native-backend.ts'
import { colaLossFromLogits } from '../../src/ml/models/cola.ts'
import { createContrastiveModel, embedPatches, type ColaModel } from '../../src/ml/models/contrastive.ts'
import {
  B0_STAGES,
  countParameters,
  createEncoder,
  ENCODER_SIZES,
  MEL_BANDS,
  PATCH_FRAMES,
  roundFilters,
  roundRepeats,
} from '../../src/ml/models/efficientnet.ts'
import { stepGradients } from '../../src/ml/training/step.ts'
import { poolFeatureMap } from '../../src/ml/embedding/pooling.ts'

function patches(n: number, seed: number): tf.Tensor3D {
  return tf.randomNormal([n, PATCH_FRAMES, MEL_BANDS], 0, 1, 'float32', seed) as tf.Tensor3D
}

beforeAll(async () => {
  registerNativeBackend({ threads: 2 })
  await tf.setBackend('cpu')
})
afterAll(async () => {
  await tf.setBackend('cpu')
})

describe('EfficientNet shapes and sizes', () => {
  it('B0 has Keras’ 4,006,972 trainable backbone parameters (1-channel stem), 16 blocks and a 1280-d output', () => {
    const enc = createEncoder(ENCODER_SIZES.b0)
    expect(countParameters(enc.trainableVariables)).toBe(4_006_972)
    expect(enc.outputDim).toBe(1280)
    const blocks = new Set(
      Object.keys(enc.weights())
        .map((n) => n.split('/')[0])
        .filter((n) => n.startsWith('block')),
    )
    expect(blocks.size).toBe(B0_STAGES.reduce((s, [r]) => s + r, 0))
    // 49 batch norms, each with a moving mean and variance
    expect(enc.stateVariables).toHaveLength(2 * 49)
    enc.dispose()
  })

  it('width/depth variants come from the same code with Keras’ rounding', () => {
    expect([
      roundFilters(32, 0.25),
      roundFilters(1280, 0.25),
      roundFilters(16, 0.5),
      roundFilters(40, 0.5),
    ]).toEqual([8, 320, 8, 24])
    expect([roundRepeats(4, 0.34), roundRepeats(1, 0.34), roundRepeats(3, 0.5)]).toEqual([2, 1, 2])
    const sizes = (['tiny', 'small', 'b0'] as const).map((s) => {
      const enc = createEncoder(ENCODER_SIZES[s])
      const r = { params: countParameters(enc.trainableVariables), out: enc.outputDim }
      enc.dispose()
      return r
    })
    expect(sizes.map((s) => s.out)).toEqual([320, 640, 1280])
    expect(sizes[0].params).toBeLessThan(sizes[1].params)
    expect(sizes[1].params).toBeLessThan(sizes[2].params)
  })

  it('embeds [N, 128, 96] patches to [N, outputDim] in both modes and names a wrong input shape', () => {
    const enc = createEncoder(ENCODER_SIZES.tiny, { seed: 2 })
    const x = patches(3, 1)
    const before = tf.memory().numTensors
    for (const training of [true, false]) {
      const { backbone } = enc.embed(x, { training, seed: 1, updateStatistics: false })
      expect(backbone.shape).toEqual([3, enc.outputDim])
      backbone.dispose()
    }
    expect(tf.memory().numTensors).toBe(before)
    expect(() => enc.embed(tf.zeros([2, 100, 96]), { training: false })).toThrow(ModelShapeError)
    expect(() => enc.embed(tf.zeros([2, 100, 96]), { training: false })).toThrow(/expected \[N, 128, 96\]/)
    x.dispose()
    enc.dispose()
  })

  it('returns the map it pooled when asked: [N, 4, 3, outputDim], whose mean over positions is the embedding', async () => {
    const enc = createEncoder(ENCODER_SIZES.tiny, { seed: 2 })
    const x = patches(2, 3)
    const before = tf.memory().numTensors
    const { backbone, featureMap } = enc.embed(x, { training: false, featureMap: true })
    expect(featureMap!.shape).toEqual([2, PATCH_FRAMES / 32, MEL_BANDS / 32, enc.outputDim])
    const pooled = poolFeatureMap((await featureMap!.data()) as Float32Array, 2, enc.outputDim, 'mean')
    const want = (await backbone.data()) as Float32Array
    let worst = 0
    for (let i = 0; i < want.length; i++) worst = Math.max(worst, Math.abs(pooled[i] - want[i]))
    expect(worst).toBeLessThan(1e-5)
    backbone.dispose()
    featureMap!.dispose()
    expect(tf.memory().numTensors).toBe(before)
    x.dispose()
    enc.dispose()
  })

  it('inference on the native backend (folded batch norm + swish kernels) equals the CPU backend', async () => {
    const embed = async (backend: string) => {
      await tf.setBackend(backend)
      const enc = createEncoder(ENCODER_SIZES.tiny, { seed: 6 })
      // Moving statistics away from their initial 0 and 1, so the folded batch norm does something.
      for (const v of enc.stateVariables) v.assign(tf.randomUniform(v.shape, 0.5, 1.5, 'float32', 3))
      const x = patches(3, 8)
      const y = tf.tidy(() => enc.embed(x, { training: false }).backbone.dataSync().slice())
      x.dispose()
      enc.dispose()
      return y
    }
    const cpu = await embed('cpu')
    const native = await embed('native')
    await tf.setBackend('cpu')
    let scale = 0
    cpu.forEach((v) => (scale = Math.max(scale, Math.abs(v))))
    cpu.forEach((v, i) => expect(Math.abs(v - native[i])).toBeLessThan(1e-4 * Math.max(scale, 1)))
  })

  it('inference after a short run divides out the initial moving statistics (debiased, as Adam’s moments)', async () => {
    await tf.setBackend('native') // the plain CPU backend takes ~10 s for these passes
    const enc = createEncoder({ ...ENCODER_SIZES.tiny, dropConnectRate: 0 }, { seed: 3 })
    const x = tf.add(tf.mul(patches(16, 5), 3), 2) // far from the initial mean 0 / variance 1
    const trained = tf.tidy(() => enc.embed(x, { training: true, seed: 1 }).backbone.dataSync().slice())
    // One update: the debiased statistics are exactly this batch's (the variance times n/(n−1), which
    // compounds over the last layers' few positions), so inference comes close to training mode.
    const inferred = tf.tidy(() => enc.embed(x, { training: false }).backbone.dataSync().slice())
    const maxDiff = (a: ArrayLike<number>) => Math.max(...trained.map((v, i) => Math.abs(v - a[i])))
    const scale = Math.max(...trained.map(Math.abs))
    expect(maxDiff(inferred)).toBeLessThan(0.2 * scale)
    // The same weights without the update count (as saved before it existed) use the stored statistics,
    // 99 % initial values: off by the whole scale of the output (measured: 8× the debiased difference).
    const { 'batch_norm/statistic_updates': count, ...older } = enc.weights()
    expect(count.dataSync()[0]).toBe(1)
    enc.setWeights(older)
    const raw = tf.tidy(() => enc.embed(x, { training: false }).backbone.dataSync().slice())
    expect(maxDiff(raw)).toBeGreaterThan(5 * maxDiff(inferred))
    tf.dispose([x, count, ...Object.values(older)])
    enc.dispose()
    await tf.setBackend('cpu')
  })

  it('embedPatches (inference in batches) equals one inference pass', () => {
    const enc = createEncoder(ENCODER_SIZES.tiny, { seed: 4 })
    const x = patches(5, 2)
    const batched = embedPatches(enc, x.dataSync() as Float32Array, 2)
    const whole = tf.tidy(() => enc.embed(x, { training: false }).backbone.dataSync())
    expect(batched.length).toBe(5 * enc.outputDim)
    batched.forEach((v, i) => expect(Math.abs(v - whole[i])).toBeLessThan(1e-5))
    x.dispose()
    enc.dispose()
  })
})

describe('a training step of the whole model on the native backend', () => {
  const step = (model: ColaModel, a: tf.Tensor, b: tf.Tensor) =>
    stepGradients({
      model,
      views: [a, b],
      loss: ([x, y]) => colaLossFromLogits(model.logits(x, y, 0)),
      seed: 5,
      chunkSize: 2,
    })

  async function gradientsOn(backend: string) {
    await tf.setBackend(backend)
    const model = createContrastiveModel({ encoder: ENCODER_SIZES.tiny, heads: 1, seed: 9 })
    const [a, b] = [patches(2, 11), patches(2, 12)]
    const before = tf.memory().numTensors
    const { loss, grads } = step(model, a, b)
    const out = {
      loss,
      grads: Object.fromEntries(
        Object.entries(grads).map(([k, g]) => [k.slice(k.indexOf('/') + 1), g.dataSync().slice()]),
      ),
    }
    tf.dispose([...Object.values(grads)])
    expect(tf.memory().numTensors).toBe(before)
    tf.dispose([a, b])
    model.dispose()
    return out
  }

  it('gives the loss and gradients of the plain CPU backend (every op of EfficientNet + COLA, natively or by fallback)', async () => {
    const cpu = await gradientsOn('cpu')
    const native = await gradientsOn('native')
    expect(native.loss).toBeCloseTo(cpu.loss, 3)
    expect(Object.keys(native.grads).sort()).toEqual(Object.keys(cpu.grads).sort())
    // Gradients that are zero in exact arithmetic (a batch-norm shift that the next batch norm removes) are
    // float noise on both backends: compare every gradient against at least 1e-3 of the largest one.
    let largest = 0
    for (const g of Object.values(cpu.grads)) g.forEach((v) => (largest = Math.max(largest, Math.abs(v))))
    let worst = 0
    for (const [name, g] of Object.entries(cpu.grads)) {
      let ref = 1e-3 * largest
      let diff = 0
      g.forEach((v, i) => {
        ref = Math.max(ref, Math.abs(v))
        diff = Math.max(diff, Math.abs(v - native.grads[name][i]))
      })
      worst = Math.max(worst, diff / ref)
    }
    // Measured: ~5e-6 typical, 2e-5 worst (float32 sums in another order through a deep network).
    expect(worst).toBeLessThan(1e-3)
  }, 60_000)

  it('is bit-for-bit repeatable (resumed runs reproduce uninterrupted ones)', async () => {
    const first = await gradientsOn('native')
    const second = await gradientsOn('native')
    expect(second.loss).toBe(first.loss)
    for (const [name, g] of Object.entries(first.grads)) expect(second.grads[name], name).toEqual(g)
  })
})
