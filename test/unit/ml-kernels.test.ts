import * as tf from '@tensorflow/tfjs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { BufferPool } from '../../src/ml/engine/buffer-pool.ts'
import { loadNativeKernels, nativeCallCounts, type NativeKernels } from '../../src/ml/engine/native-addon.ts'
import { registerNativeBackend, type NativeBackend } from '../../src/ml/engine/native-backend.ts'
import { repeatPattern } from '../../src/ml/engine/native-kernels.ts'
import {
  batchNormAct,
  channelMean,
  channelScale,
  fusedKernelsActive,
  swish,
  type BatchNormOptions,
} from '../../src/ml/engine/ops.ts'
import { createAdam } from '../../src/ml/engine/optimizer.ts'

/**
 * Every native kernel and fused op against TensorFlow.js' plain CPU backend: the same function, values and
 * gradients (of Σ f(x)·r for a fixed random r), on both backends. Tolerance: max |native − cpu| ≤ 2e-4 ·
 * max(1, max |cpu|) (float32 sums in a different order; im2col/GEMM blocking). Tensor counts are checked so a
 * leaking kernel fails, and the addon's call counts (`ranNatively`) so that a kernel silently falling back to
 * the CPU backend fails too: the comparison alone would pass on the CPU backend's own answer.
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

async function evaluate(
  backend: string,
  fn: Fn,
  shapes: number[][],
  seed: number,
  withGrads = true,
  scale = 1,
) {
  await tf.setBackend(backend)
  const before = tf.memory().numTensors
  const xs = shapes.map((s, i) => tf.tensor(rand(size(s), seed + i, scale), s))
  const y = tf.tidy(() => fn(...xs))
  const r = tf.tensor(rand(y.size, seed + 99), y.shape)
  const { value, grads } = withGrads
    ? tf.valueAndGrads((...a: tf.Tensor[]) => tf.sum(tf.mul(fn(...a), r)))(xs)
    : { value: tf.tidy(() => tf.sum(tf.mul(y, r))), grads: [] as tf.Tensor[] }
  const result = {
    y: y.dataSync().slice(),
    grads: grads.map((g) => g.dataSync().slice()),
    value: value.dataSync()[0],
  }
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

/** Inputs uniform in [−scale, scale]. NaN anywhere fails (a NaN difference is never ≤ the tolerance). */
async function compare(fn: Fn, shapes: number[][], seed = 1, rtol = 2e-4, withGrads = true, scale = 1) {
  const cpu = await evaluate('cpu', fn, shapes, seed, withGrads, scale)
  const native = await evaluate('native', fn, shapes, seed, withGrads, scale)
  expectClose(native.y, cpu.y, 'value', rtol)
  native.grads.forEach((g, i) => expectClose(g, cpu.grads[i], `gradient of input ${i}`, rtol))
}

/**
 * Runs `body` and checks that each named function of the addon was called at least as often as asked
 * (a name alone: at least once).
 */
async function ranNatively<T>(
  expected: string[] | Record<string, number>,
  body: () => Promise<T>,
): Promise<T> {
  const want = Array.isArray(expected) ? Object.fromEntries(expected.map((n) => [n, 1])) : expected
  const before = nativeCallCounts()
  const result = await body()
  const after = nativeCallCounts()
  for (const [name, min] of Object.entries(want)) {
    expect((after[name] ?? 0) - (before[name] ?? 0), `calls of the native ${name}`).toBeGreaterThanOrEqual(
      min,
    )
  }
  return result
}

beforeAll(() => {
  registerNativeBackend({ threads: 2 })
})
afterAll(async () => {
  await tf.setBackend('cpu')
})

const CONV = ['conv2dIm2col', 'conv2dBackpropInputCol2im', 'conv2dBackpropFilterIm2col']
const DEPTHWISE = ['depthwiseForward', 'depthwiseBackpropInput', 'depthwiseBackpropFilter']

describe('native convolutions match the CPU backend', () => {
  it('1×1 conv (one GEMM): value, input and filter gradients', async () => {
    // two forward passes (value, then under the gradient tape) and both gradients: four products
    await ranNatively({ gemm: 4 }, () =>
      compare(
        (x, w) => tf.conv2d(x as tf.Tensor4D, w as tf.Tensor4D, 1, 'same'),
        [
          [2, 5, 7, 6],
          [1, 1, 6, 9],
        ],
      ),
    )
  })
  it('3×3 stride-2 SAME conv with one input channel (the stem): im2col, col2im', async () => {
    await ranNatively(CONV, () =>
      compare(
        (x, w) => tf.conv2d(x as tf.Tensor4D, w as tf.Tensor4D, 2, 'same'),
        [
          [3, 9, 8, 1],
          [3, 3, 1, 4],
        ],
        2,
      ),
    )
  })
  it('3×3 stride-1 SAME and VALID convs with several channels', async () => {
    await ranNatively(CONV, () =>
      compare(
        (x, w) => tf.conv2d(x as tf.Tensor4D, w as tf.Tensor4D, 1, 'same'),
        [
          [2, 6, 5, 3],
          [3, 3, 3, 5],
        ],
        3,
      ),
    )
    await ranNatively(CONV, () =>
      compare(
        (x, w) => tf.conv2d(x as tf.Tensor4D, w as tf.Tensor4D, 1, 'valid'),
        [
          [2, 6, 5, 3],
          [3, 3, 3, 5],
        ],
        4,
      ),
    )
  })
  it('depthwise 3×3 stride 1 and 5×5 stride 2 (odd sizes: asymmetric SAME padding)', async () => {
    const dw = (s: number) => (x: tf.Tensor, w: tf.Tensor) =>
      tf.depthwiseConv2d(x as tf.Tensor4D, w as tf.Tensor4D, s, 'same')
    await ranNatively(DEPTHWISE, () =>
      compare(
        dw(1),
        [
          [2, 7, 6, 8],
          [3, 3, 8, 1],
        ],
        5,
      ),
    )
    await ranNatively(DEPTHWISE, () =>
      compare(
        dw(2),
        [
          [3, 9, 7, 5],
          [5, 5, 5, 1],
        ],
        6,
      ),
    )
    await ranNatively(DEPTHWISE, () =>
      compare(
        dw(2),
        [
          [2, 8, 6, 4],
          [3, 3, 4, 1],
        ],
        7,
      ),
    )
  })
  it('depthwise with 64-channel blocks, 16-channel blocks and a remainder (C = 88), 3×3 s1 and 5×5 s2', async () => {
    const dw = (s: number) => (x: tf.Tensor, w: tf.Tensor) =>
      tf.depthwiseConv2d(x as tf.Tensor4D, w as tf.Tensor4D, s, 'same')
    await ranNatively(DEPTHWISE, () =>
      compare(
        dw(1),
        [
          [2, 6, 5, 88],
          [3, 3, 88, 1],
        ],
        16,
      ),
    )
    await ranNatively(DEPTHWISE, () =>
      compare(
        dw(2),
        [
          [2, 9, 7, 88],
          [5, 5, 88, 1],
        ],
        17,
      ),
    )
  })
  it('large enough to run in parallel: 1×1 conv split by rows, stem conv, depthwise (OpenMP paths)', async () => {
    await ranNatively({ gemm: 4 }, () =>
      compare(
        (x, w) => tf.conv2d(x as tf.Tensor4D, w as tf.Tensor4D, 1, 'same'),
        [
          [4, 24, 16, 24],
          [1, 1, 24, 40],
        ],
        18,
      ),
    )
    await ranNatively(CONV, () =>
      compare(
        (x, w) => tf.conv2d(x as tf.Tensor4D, w as tf.Tensor4D, 2, 'same'),
        [
          [4, 32, 24, 1],
          [3, 3, 1, 16],
        ],
        19,
      ),
    )
    await ranNatively(DEPTHWISE, () =>
      compare(
        (x, w) => tf.depthwiseConv2d(x as tf.Tensor4D, w as tf.Tensor4D, 2, 'same'),
        [
          [4, 16, 12, 96],
          [5, 5, 96, 1],
        ],
        20,
      ),
    )
  })
  it('matmul split across threads by rows, by columns, and by K with partial sums', async () => {
    // matMul is BatchMatMul: two forward passes and two gradients
    await ranNatively({ batchGemm: 4 }, () =>
      compare(
        (x, y) => tf.matMul(x as tf.Tensor2D, y as tf.Tensor2D),
        [
          [600, 40],
          [40, 30],
        ],
        21,
      ),
    ) // rows
    await ranNatively({ batchGemm: 4 }, () =>
      compare(
        (x, y) => tf.matMul(x as tf.Tensor2D, y as tf.Tensor2D),
        [
          [6, 300],
          [300, 200],
        ],
        22,
      ),
    ) // columns
    await ranNatively({ batchGemm: 4 }, () =>
      compare(
        (x, y) => tf.matMul(x as tf.Tensor2D, y as tf.Tensor2D, true, false),
        [
          [20000, 5],
          [20000, 6],
        ],
        23,
        5e-4,
      ),
    ) // K
  })
  it('matmul with every transpose combination, and batched', async () => {
    for (const [ta, tb] of [
      [false, false],
      [true, false],
      [false, true],
      [true, true],
    ]) {
      const a = ta ? [7, 5] : [5, 7]
      const b = tb ? [4, 7] : [7, 4]
      await ranNatively({ batchGemm: 4 }, () =>
        compare((x, y) => tf.matMul(x as tf.Tensor2D, y as tf.Tensor2D, ta, tb), [a, b], 8),
      )
    }
    await ranNatively({ batchGemm: 4 }, () =>
      compare(
        (x, y) => tf.matMul(x, y),
        [
          [3, 4, 6],
          [3, 6, 2],
        ],
        9,
      ),
    )
    await ranNatively({ batchGemm: 1 }, () =>
      compare(
        (x, y) => tf.matMul(x, y),
        [
          [5, 0],
          [0, 4],
        ],
        10,
        2e-4,
        false,
      ),
    ) // K = 0: an empty sum
  })
})

describe('native elementwise kernels match the CPU backend', () => {
  const ops: [string, (a: tf.Tensor, b: tf.Tensor) => tf.Tensor][] = [
    ['add', tf.add],
    ['sub', tf.sub],
    ['mul', tf.mul],
    ['div', (a, b) => tf.div(a, tf.add(tf.abs(b), 0.5))], // keep divisors away from 0
  ]
  it('add, sub, mul, div with equal shapes, scalars, channel vectors, columns and unsupported broadcasts', async () => {
    const cases: [number[][], boolean][] = [
      [
        [
          [3, 4, 5],
          [3, 4, 5],
        ],
        true,
      ],
      [[[3, 4, 5], []], true],
      [[[], [3, 4, 5]], true],
      [[[6, 7], [7]], true],
      [[[7], [6, 7]], true],
      [
        [
          [200, 300],
          [1, 300],
        ],
        true,
      ], // parallel, channel vector
      [
        [
          [32, 512],
          [32, 1],
        ],
        true,
      ], // column (layer-norm statistics)
      [
        [
          [32, 1],
          [32, 512],
        ],
        true,
      ],
      [
        [
          [2, 3, 4, 5],
          [2, 1, 1, 5],
        ],
        false,
      ], // falls back to the CPU kernel
      [
        [
          [4, 1],
          [1, 5],
        ],
        false,
      ], // both broadcast: falls back
    ]
    for (const [name, f] of ops) {
      for (const [i, [shapes, native]] of cases.entries()) {
        await ranNatively(native ? { binary: 1 } : {}, () => compare(f, shapes, 30 + i)).catch((e) =>
          Promise.reject(new Error(`${name} ${JSON.stringify(shapes)}: ${e}`)),
        )
        // a fallback calls no native code (div's own `+ 0.5` on its divisor is native whatever the shapes)
        if (!native && name !== 'div') {
          await tf.setBackend('native')
          const [a, b] = shapes.map((sh, j) => tf.tensor(rand(size(sh), j), sh))
          const before = nativeCallCounts().binary ?? 0
          tf.dispose(f(a, b))
          expect(nativeCallCounts().binary ?? 0, `${name} ${JSON.stringify(shapes)} falls back`).toBe(before)
          tf.dispose([a, b])
        }
      }
    }
  })
  it('repeatPattern says how the smaller operand repeats, or null', () => {
    expect(repeatPattern([], [3, 4])).toBe(1)
    expect(repeatPattern([4], [3, 4])).toBe(1)
    expect(repeatPattern([1, 4], [3, 4])).toBe(1)
    expect(repeatPattern([3, 1], [3, 4])).toBe(4)
    expect(repeatPattern([3, 1, 1], [2, 3, 4, 5])).toBe(20)
    expect(repeatPattern([2, 1, 1, 5], [2, 3, 4, 5])).toBeNull()
    expect(repeatPattern([4, 1], [3, 4])).toBeNull()
  })
  it('sigmoid, AddN, and sums over leading, trailing, all and middle axes (with keepDims)', async () => {
    await ranNatively(['sigmoid'], () => compare((x) => tf.sigmoid(x), [[300, 200]], 40))
    await ranNatively(['addN'], () =>
      compare(
        (x, y, z) => tf.addN([x, y, z]),
        [
          [50, 700],
          [50, 700],
          [50, 700],
        ],
        41,
      ),
    )
    await ranNatively(['reduceSum'], () => compare((x) => tf.sum(x, 0), [[600, 70]], 42))
    await ranNatively(['reduceSum'], () => compare((x) => tf.sum(x, [0, 1], true), [[6, 7, 8]], 43))
    await ranNatively(['reduceSum'], () => compare((x) => tf.sum(x, -1), [[6, 7, 800]], 44))
    await ranNatively(['reduceSum'], () => compare((x) => tf.sum(x), [[6, 7, 8]], 45))
    await compare((x) => tf.sum(x, 1), [[6, 7, 8]], 46) // middle axis: CPU fallback
  })
})

describe('native memory and optimiser', () => {
  it('the buffer pool recycles exact lengths, declines small arrays and respects its budget', () => {
    const pool = new BufferPool(3 * 4 * 20000, 16384)
    const a = pool.take(20000)
    expect(pool.give(a)).toBe(true)
    expect(pool.take(20000)).toBe(a)
    expect(pool.give(new Float32Array(100))).toBe(false)
    expect(pool.give(new Float32Array(20000))).toBe(true)
    expect(pool.give(new Float32Array(20000))).toBe(true)
    expect(pool.give(new Float32Array(20000))).toBe(true)
    expect(pool.give(new Float32Array(20000))).toBe(false) // over budget
    expect(pool.stats().pooledBytes).toBe(3 * 4 * 20000)
  })

  it('an array read out of a tensor is never recycled into a later tensor', async () => {
    await tf.setBackend('native')
    const x = tf.tensor(rand(64 * 1024, 50), [64, 1024])
    const y = tf.sigmoid(x) // native output, large enough to be pooled
    const read = y.dataSync()
    const copy = read.slice()
    y.dispose()
    const later = tf.tidy(() => [tf.mul(x, 3), tf.add(x, 1), tf.sigmoid(tf.neg(x))])
    expect(read).toEqual(copy)
    tf.dispose([x, ...later])
  })

  it('a slice, a split and an unstacked row outlive their parent: its memory is not recycled under them', async () => {
    await tf.setBackend('native')
    const pool = (tf.backend() as NativeBackend).pool
    const x = tf.tensor(rand(64 * 1024, 51), [64, 1024])
    const expected = tf.tidy(() => tf.sigmoid(x).dataSync().slice()) // the same values, from a buffer of its own
    const y = tf.sigmoid(x) // a pooled native output
    // contiguous slices: the CPU backend's Slice, SplitV and Unpack return subarray views of y's array
    const slice = tf.slice(y, [0, 0], [32, 1024])
    const [, half] = tf.split(y, 2)
    const rows = tf.unstack(y)
    y.dispose()
    // Were y's array pooled, the next native outputs of its length would take it and overwrite it.
    const later = tf.tidy(() => [tf.mul(x, 3), tf.add(x, 1), tf.sigmoid(tf.neg(x))])
    expect(slice.dataSync()).toEqual(expected.subarray(0, 32 * 1024))
    expect(half.dataSync()).toEqual(expected.subarray(32 * 1024))
    expect(rows[63].dataSync()).toEqual(expected.subarray(63 * 1024))
    tf.dispose([slice, half, ...rows, ...later])

    // An output nothing else views is still recycled.
    const z = tf.sigmoid(x)
    z.dispose()
    const hits = pool.stats().hits
    const again = tf.sigmoid(x)
    expect(pool.stats().hits).toBe(hits + 1)
    tf.dispose([x, again])
  })

  it('every binding refuses an array whose length does not match its shape arguments (RangeError)', () => {
    const k = loadNativeKernels()
    const f = (n: number) => new Float32Array(n)
    // N H W Ci KH KW SH SW PT PL HO WO Co: a 4×4 image of 2 channels, 3×3 SAME, 3 (depthwise: 2) out channels
    const conv = [1, 4, 4, 2, 3, 3, 1, 1, 1, 1, 4, 4, 3]
    const depth = [1, 4, 4, 2, 3, 3, 1, 1, 1, 1, 4, 4, 2]
    const calls: [keyof NativeKernels, unknown[]][] = [
      ['gemm', [0, 0, 2, 3, 4, f(8), f(12), f(6), 0]],
      ['batchGemm', [2, 2, 1, 0, 0, 2, 3, 4, f(16), f(12), f(12)]],
      ['conv2dIm2col', [f(32), ...conv, f(54), f(48)]],
      ['conv2dBackpropFilterIm2col', [f(32), ...conv, f(48), f(54)]],
      ['conv2dBackpropInputCol2im', [f(48), ...conv, f(54), f(32)]],
      ['depthwiseForward', [f(32), ...depth, f(18), f(32)]],
      ['depthwiseBackpropInput', [f(32), ...depth, f(18), f(32)]],
      ['depthwiseBackpropFilter', [f(32), ...depth, f(32), f(18)]],
      ['bnActForward', [f(12), 4, 3, f(3), f(3), 1e-3, 1, f(12), f(3), f(3)]],
      ['bnActBackward', [f(12), f(12), 4, 3, f(3), f(3), f(3), f(3), 1, f(12), f(3), f(3)]],
      ['affineAct', [f(12), 4, 3, f(3), f(3), 1, f(12)]],
      ['swish', [f(10), f(10)]],
      ['swishGrad', [f(10), f(10), f(10)]],
      ['channelMean', [f(24), 2, 4, 3, f(6)]],
      ['channelMeanGrad', [f(6), 2, 4, 3, f(24)]],
      ['channelScale', [f(24), f(6), 2, 4, 3, f(24)]],
      ['channelScaleGrad', [f(24), f(24), f(6), 2, 4, 3, f(24), f(6)]],
      ['binary', [0, f(12), f(3), f(12), 4]],
      ['sigmoid', [f(10), f(10)]],
      ['reduceSum', [f(12), 4, 3, 1, f(3)]],
      ['addN', [[f(5), f(5)], f(5)]],
      ['adam', [f(7), f(7), f(7), f(7), 0.01, 0.9, 0.999, 1e-7, 0.1, 0.001, f(7), f(7), f(7)]],
    ]
    const call = (name: keyof NativeKernels, args: unknown[]) =>
      (k[name] as (...a: unknown[]) => unknown)(...args)
    let refused = 0
    for (const [name, args] of calls) {
      expect(() => call(name, args), `${name} with the right lengths`).not.toThrow()
      // every array argument (each of addN's inputs too), one float short and one too many
      const arrays: [number, number | null][] = []
      args.forEach((a, i) => {
        if (a instanceof Float32Array) arrays.push([i, null])
        if (Array.isArray(a)) a.forEach((_, j) => arrays.push([i, j]))
      })
      for (const [i, j] of arrays) {
        for (const delta of [-1, 1]) {
          const wrong = args.map((a, p) => {
            if (p !== i) return a
            if (j === null) return f((a as Float32Array).length + delta)
            return (a as Float32Array[]).map((x, q) => (q === j ? f(x.length + delta) : x))
          })
          expect(
            () => call(name, wrong),
            `${name}: argument ${i}${j === null ? '' : `[${j}]`} ${delta > 0 ? 'too long' : 'too short'}`,
          ).toThrow(RangeError)
          refused++
        }
      }
    }
    expect(refused).toBeGreaterThan(100)
    // a shape argument that is no size at all
    expect(() => call('gemm', [0, 0, -2, 3, 4, f(8), f(12), f(6), 0])).toThrow(/gemm: M is -2/)
    expect(() =>
      call('conv2dIm2col', [f(32), ...conv.slice(0, 6), 0, ...conv.slice(7), f(54), f(48)]),
    ).toThrow(/SH is 0/)
    expect(() => call('depthwiseForward', [f(32), ...conv, f(18), f(48)])).toThrow(
      /Co \(3\) must equal Ci \(2\)/,
    )
    expect(() => call('batchGemm', [3, 2, 1, 0, 0, 2, 3, 4, f(16), f(12), f(18)])).toThrow(RangeError)
  })

  it('fused Adam matches tf.train.adam on the CPU backend, and its state is interchangeable', async () => {
    const run = async (backend: string, make: () => tf.Optimizer) => {
      await tf.setBackend(backend)
      const w = tf.variable(
        tf.tensor(rand(50000, 60), [250, 200]),
        true,
        `adam_w_${backend}_${Math.random()}`,
      )
      const target = tf.tensor(rand(50000, 61), [250, 200])
      const opt = make()
      for (let i = 0; i < 3; i++) opt.minimize(() => tf.sum(tf.square(tf.sub(w, target))) as tf.Scalar)
      const state = await opt.getWeights()
      const result = {
        w: w.dataSync().slice(),
        m: state[1].tensor.dataSync().slice(),
        v: state[2].tensor.dataSync().slice(),
        names: state.map((s) => s.name.replace(/adam_w_.*\//, '')),
      }
      state.filter((s) => s.name === 'iter').forEach((s) => s.tensor.dispose())
      opt.dispose()
      tf.dispose([w, target])
      return result
    }
    const reference = await run('cpu', () => tf.train.adam(0.01))
    const fused = await ranNatively({ adam: 3 }, () => run('native', () => createAdam(0.01)))
    expectClose(fused.w, reference.w, 'weights after 3 steps', 1e-5)
    expectClose(fused.m, reference.m, 'first moment', 1e-5)
    expectClose(fused.v, reference.v, 'second moment', 1e-5)
    expect(fused.names).toEqual(reference.names)
  })
})

describe('fused ops match the composed tfjs ops', () => {
  const bnState = (c: number) => ({
    movingMean: tf.variable(tf.zeros([c]), false),
    movingVariance: tf.variable(tf.ones([c]), false),
  })
  const options = (activation: 'swish' | 'none', training: boolean): BatchNormOptions => ({
    training,
    activation,
    momentum: 0.99,
    epsilon: 1e-3,
    updateStatistics: false,
  })

  it('batch norm (training, batch statistics) with and without swish: value and gradients for x, γ, β', async () => {
    for (const activation of ['swish', 'none'] as const) {
      const state = bnState(6)
      const f: Fn = (x, g, b) =>
        batchNormAct(x as tf.Tensor4D, { ...state, gamma: g, beta: b }, options(activation, true))
      await ranNatively(['bnActForward', 'bnActBackward'], () =>
        compare(f, [[3, 5, 4, 6], [6], [6]], 10, 5e-4),
      )
      tf.dispose([state.movingMean, state.movingVariance])
    }
  })

  it('batch norm moving statistics are updated the same way (momentum 0.99, unbiased variance)', async () => {
    const stats: ArrayLike<number>[][] = []
    for (const backend of ['cpu', 'native']) {
      await tf.setBackend(backend)
      const state = bnState(4)
      const x = tf.tensor4d(rand(2 * 3 * 5 * 4, 11, 3), [2, 3, 5, 4])
      tf.tidy(() =>
        batchNormAct(
          x,
          { ...state, gamma: tf.ones([4]), beta: tf.zeros([4]) },
          { ...options('swish', true), updateStatistics: true },
        ),
      )
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
    await ranNatively(['affineAct'], () => compare(f, [[2, 3, 4, 5], [5], [5], [5], [5]], 12, 2e-4, false)) // inference only: no gradient
  })

  it('batch norm over enough elements to run in parallel', async () => {
    const state = bnState(40)
    const f: Fn = (x, g, b) =>
      batchNormAct(x as tf.Tensor4D, { ...state, gamma: g, beta: b }, options('swish', true))
    await ranNatively(['bnActForward', 'bnActBackward'], () =>
      compare(f, [[4, 32, 24, 40], [40], [40]], 47, 5e-4),
    )
    tf.dispose([state.movingMean, state.movingVariance])
  })

  it('swish, per-channel mean and per-channel scale', async () => {
    await ranNatively(['swish', 'swishGrad'], () => compare((x) => swish(x), [[4, 3, 2, 7]], 13))
    await ranNatively(['channelMean', 'channelMeanGrad'], () =>
      compare((x) => channelMean(x as tf.Tensor4D), [[3, 5, 4, 6]], 14),
    )
    await ranNatively(['channelScale', 'channelScaleGrad'], () =>
      compare(
        (x, s) => channelScale(x as tf.Tensor4D, s as tf.Tensor2D),
        [
          [3, 5, 4, 6],
          [3, 6],
        ],
        15,
      ),
    )
  })

  // e^−x overflows float32 below x ≈ −88.7, and the -ffast-math build divided by that +Inf as a reciprocal
  // estimate times a Newton step: 0·Inf = NaN. A trained model's inference batch norm reaches such inputs on
  // real music (−143), and embeddings came out NaN. Inputs here span ±300.
  it('sigmoid and swish of inputs far below −88 are ≈ 0 as on the CPU backend, not NaN (values and gradients)', async () => {
    await compare((x) => tf.sigmoid(x), [[64, 40]], 50, 2e-4, true, 300)
    await compare((x) => swish(x), [[4, 3, 2, 40]], 51, 2e-4, true, 300)
    await compare((x) => swish(x), [[4, 32, 24, 40]], 52, 2e-4, true, 300) // parallel
  })

  it('a NaN input stays NaN through swish and batch norm (a bad input must not become a plausible vector)', async () => {
    await tf.setBackend('native')
    const x = tf.tensor4d(
      Float32Array.from({ length: 2 * 3 * 4 * 16 }, (_, i) => (i % 5 === 0 ? NaN : i / 10)),
      [2, 3, 4, 16],
    )
    const bn = {
      gamma: tf.ones([16]),
      beta: tf.zeros([16]),
      movingMean: tf.variable(tf.zeros([16]), false),
      movingVariance: tf.variable(tf.ones([16]), false),
    }
    const [s, b] = [swish(x), batchNormAct(x, bn, options('swish', false))]
    for (const y of [s, b]) {
      const v = y.dataSync()
      x.dataSync().forEach((xi, i) => expect(Number.isNaN(v[i]), `element ${i}`).toBe(Number.isNaN(xi)))
    }
    tf.dispose([x, s, b, ...Object.values(bn)])
  })

  it('batch norm with swish whose affine part reaches far below −88: training (value and gradients) and inference', async () => {
    const state = bnState(40)
    const train: Fn = (x, g, b) =>
      batchNormAct(x as tf.Tensor4D, { ...state, gamma: g, beta: b }, options('swish', true))
    await compare(train, [[2, 5, 4, 40], [40], [40]], 53, 5e-4, true, 300)
    tf.dispose([state.movingMean, state.movingVariance])
    const infer: Fn = (x, g, b, m, v) =>
      batchNormAct(
        x as tf.Tensor4D,
        { gamma: g, beta: b, movingMean: m as tf.Variable, movingVariance: tf.abs(v) as tf.Variable },
        options('swish', false),
      )
    await compare(infer, [[2, 5, 4, 40], [40], [40], [40], [40]], 54, 2e-4, false, 300)
  })

  it('the fused path is what runs on the native backend (and not on cpu)', async () => {
    await tf.setBackend('native')
    expect(fusedKernelsActive()).toBe(true)
    await tf.setBackend('cpu')
    expect(fusedKernelsActive()).toBe(false)
  })
})
