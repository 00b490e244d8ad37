import * as tf from '@tensorflow/tfjs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { registerNativeBackend } from '../../src/ml/engine/native-backend.ts'
import { batchNormAct, channelMean, channelScale, fusedKernelsActive, swish, type BatchNormOptions } from '../../src/ml/engine/ops.ts'

/**
 * Every native kernel and fused op against TensorFlow.js' plain CPU backend: the same function, values and
 * gradients (of Σ f(x)·r for a fixed random r), on both backends. Tolerance: max |native − cpu| ≤ 2e-4 ·
 * max(1, max |cpu|) (float32 sums in a different order; im2col/GEMM blocking). Tensor counts are checked so a
 * leaking kernel fails.
 */

function rand(n: number, seed: number, scale = 1): Float32Array {
  let s = seed >>> 0
  return Float32Array.from({ length: n }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0
    return ((s / 4294967296) * 2 - 1) * scale
  })
}
const size = (shape: number[]) => shape.reduce((a, b) => a * b, 1)

type Fn = (...xs: tf.Tensor[]) => tf.Tensor

async function evaluate(backend: string, fn: Fn, shapes: number[][], seed: number, withGrads = true) {
  await tf.setBackend(backend)
  const before = tf.memory().numTensors
  const xs = shapes.map((s, i) => tf.tensor(rand(size(s), seed + i), s))
  const y = tf.tidy(() => fn(...xs))
  const r = tf.tensor(rand(y.size, seed + 99), y.shape)
  const { value, grads } = withGrads
    ? tf.valueAndGrads((...a: tf.Tensor[]) => tf.sum(tf.mul(fn(...a), r)))(xs)
    : { value: tf.tidy(() => tf.sum(tf.mul(y, r))), grads: [] as tf.Tensor[] }
  const result = { y: y.dataSync().slice(), grads: grads.map((g) => g.dataSync().slice()), value: value.dataSync()[0] }
  tf.dispose([...xs, y, r, value, ...grads])
  expect(tf.memory().numTensors).toBe(before)
  return result
}

function expectClose(actual: ArrayLike<number>, expected: ArrayLike<number>, what: string, rtol = 2e-4) {
  expect(actual.length, what).toBe(expected.length)
  let maxRef = 1
  let maxDiff = 0
  for (let i = 0; i < expected.length; i++) {
    maxRef = Math.max(maxRef, Math.abs(expected[i]))
    maxDiff = Math.max(maxDiff, Math.abs(actual[i] - expected[i]))
  }
  expect(maxDiff, `${what}: max |diff| ${maxDiff} vs scale ${maxRef}`).toBeLessThanOrEqual(rtol * maxRef)
}

async function compare(fn: Fn, shapes: number[][], seed = 1, rtol = 2e-4, withGrads = true) {
  const cpu = await evaluate('cpu', fn, shapes, seed, withGrads)
  const native = await evaluate('native', fn, shapes, seed, withGrads)
  expectClose(native.y, cpu.y, 'value', rtol)
  native.grads.forEach((g, i) => expectClose(g, cpu.grads[i], `gradient of input ${i}`, rtol))
}

beforeAll(() => {
  registerNativeBackend({ threads: 2 })
})
afterAll(async () => {
  await tf.setBackend('cpu')
})

describe('native convolutions match the CPU backend', () => {
  it('1×1 conv (one GEMM): value, input and filter gradients', async () => {
    await compare((x, w) => tf.conv2d(x as tf.Tensor4D, w as tf.Tensor4D, 1, 'same'), [[2, 5, 7, 6], [1, 1, 6, 9]])
  })
  it('3×3 stride-2 SAME conv with one input channel (the stem): im2col, col2im', async () => {
    await compare((x, w) => tf.conv2d(x as tf.Tensor4D, w as tf.Tensor4D, 2, 'same'), [[3, 9, 8, 1], [3, 3, 1, 4]], 2)
  })
  it('3×3 stride-1 SAME and VALID convs with several channels', async () => {
    await compare((x, w) => tf.conv2d(x as tf.Tensor4D, w as tf.Tensor4D, 1, 'same'), [[2, 6, 5, 3], [3, 3, 3, 5]], 3)
    await compare((x, w) => tf.conv2d(x as tf.Tensor4D, w as tf.Tensor4D, 1, 'valid'), [[2, 6, 5, 3], [3, 3, 3, 5]], 4)
  })
  it('depthwise 3×3 stride 1 and 5×5 stride 2 (odd sizes: asymmetric SAME padding)', async () => {
    const dw = (s: number) => (x: tf.Tensor, w: tf.Tensor) => tf.depthwiseConv2d(x as tf.Tensor4D, w as tf.Tensor4D, s, 'same')
    await compare(dw(1), [[2, 7, 6, 8], [3, 3, 8, 1]], 5)
    await compare(dw(2), [[3, 9, 7, 5], [5, 5, 5, 1]], 6)
    await compare(dw(2), [[2, 8, 6, 4], [3, 3, 4, 1]], 7)
  })
  it('matmul with every transpose combination, and batched', async () => {
    for (const [ta, tb] of [[false, false], [true, false], [false, true], [true, true]]) {
      const a = ta ? [7, 5] : [5, 7]
      const b = tb ? [4, 7] : [7, 4]
      await compare((x, y) => tf.matMul(x as tf.Tensor2D, y as tf.Tensor2D, ta, tb), [a, b], 8)
    }
    await compare((x, y) => tf.matMul(x, y), [[3, 4, 6], [3, 6, 2]], 9)
  })
})

describe('fused ops match the composed tfjs ops', () => {
  const bnState = (c: number) => ({
    movingMean: tf.variable(tf.zeros([c]), false),
    movingVariance: tf.variable(tf.ones([c]), false),
  })
  const options = (activation: 'swish' | 'none', training: boolean): BatchNormOptions => ({
    training, activation, momentum: 0.99, epsilon: 1e-3, updateStatistics: false,
  })

  it('batch norm (training, batch statistics) with and without swish: value and gradients for x, γ, β', async () => {
    for (const activation of ['swish', 'none'] as const) {
      const state = bnState(6)
      const f: Fn = (x, g, b) => batchNormAct(x as tf.Tensor4D, { ...state, gamma: g, beta: b }, options(activation, true))
      await compare(f, [[3, 5, 4, 6], [6], [6]], 10, 5e-4)
      tf.dispose([state.movingMean, state.movingVariance])
    }
  })

  it('batch norm moving statistics are updated the same way (momentum 0.99, unbiased variance)', async () => {
    const stats: ArrayLike<number>[][] = []
    for (const backend of ['cpu', 'native']) {
      await tf.setBackend(backend)
      const state = bnState(4)
      const x = tf.tensor4d(rand(2 * 3 * 5 * 4, 11, 3), [2, 3, 5, 4])
      tf.tidy(() => batchNormAct(x, { ...state, gamma: tf.ones([4]), beta: tf.zeros([4]) }, { ...options('swish', true), updateStatistics: true }))
      stats.push([state.movingMean.dataSync().slice(), state.movingVariance.dataSync().slice()])
      tf.dispose([x, state.movingMean, state.movingVariance])
    }
    expectClose(stats[1][0], stats[0][0], 'moving mean', 1e-5)
    expectClose(stats[1][1], stats[0][1], 'moving variance', 1e-5)
    expect(Math.abs(stats[0][0][0])).toBeGreaterThan(0) // the update happened
  })

  it('batch norm inference (moving statistics, folded affine) with swish', async () => {
    const f: Fn = (x, g, b, m, v) =>
      batchNormAct(
        x as tf.Tensor4D,
        { gamma: g, beta: b, movingMean: m as tf.Variable, movingVariance: tf.abs(v) as tf.Variable },
        options('swish', false),
      )
    await compare(f, [[2, 3, 4, 5], [5], [5], [5], [5]], 12, 2e-4, false) // inference only: no gradient
  })

  it('swish, per-channel mean and per-channel scale', async () => {
    await compare((x) => swish(x), [[4, 3, 2, 7]], 13)
    await compare((x) => channelMean(x as tf.Tensor4D), [[3, 5, 4, 6]], 14)
    await compare((x, s) => channelScale(x as tf.Tensor4D, s as tf.Tensor2D), [[3, 5, 4, 6], [3, 6]], 15)
  })

  it('the fused path is what runs on the native backend (and not on cpu)', async () => {
    await tf.setBackend('native')
    expect(fusedKernelsActive()).toBe(true)
    await tf.setBackend('cpu')
    expect(fusedKernelsActive()).toBe(false)
  })
})
