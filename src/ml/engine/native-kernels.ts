import * as tf from '@tensorflow/tfjs'
import type { NativeKernels } from './native-addon.ts'
import type { NativeBackend } from './native-backend.ts'

/**
 * The kernel functions the `native` backend registers over the CPU backend's: each unpacks tensors, computes
 * shapes with tfjs' own helpers, allocates its outputs from the backend's buffer pool and calls the addon.
 * Cases the native code does not cover (other dtypes, dilations, NCHW, depth multipliers, other broadcasts)
 * call the CPU backend's kernel of the same name (`fallback`).
 */

type Inputs = Record<string, tf.TensorInfo>
type Attrs = tf.NamedAttrMap
type Backend = NativeBackend
const values = (b: Backend, t: tf.TensorInfo): Float32Array => {
  const v = b.data.get(t.dataId).values
  return v instanceof Float32Array ? v : Float32Array.from(v as ArrayLike<number>)
}
const out = (b: Backend, shape: number[], v: Float32Array): tf.TensorInfo =>
  b.makeTensorInfo(shape, 'float32', v)
const size = (shape: number[]) => shape.reduce((a, b) => a * b, 1)
const float = (...ts: tf.TensorInfo[]) => ts.every((t) => t.dtype === 'float32')
const ones = (v: unknown) =>
  Array.isArray(v) ? v.every((d) => d === 1) : v === 1 || v === undefined || v === null

/** The 13 shape integers the C++ convolutions take (ConvShape in kernels.cc). */
function convArgs(c: tf.backend_util.Conv2DInfo): number[] {
  return [
    c.batchSize,
    c.inHeight,
    c.inWidth,
    c.inChannels,
    c.filterHeight,
    c.filterWidth,
    c.strideHeight,
    c.strideWidth,
    c.padInfo.top,
    c.padInfo.left,
    c.outHeight,
    c.outWidth,
    c.outChannels,
  ]
}

const act = (a: Attrs) => (a.activation === 'swish' ? 1 : 0)

export function nativeKernelFuncs(
  k: NativeKernels,
  fallback: (name: string) => tf.KernelFunc,
): Record<string, tf.KernelFunc> {
  return {
    Conv2D: (args) => {
      const { x, filter } = args.inputs as unknown as Inputs
      const { strides, pad, dataFormat, dilations, dimRoundingMode } = args.attrs as Attrs
      if (dataFormat !== 'NHWC' || !ones(dilations) || !float(x, filter)) return fallback('Conv2D')(args)
      const b = args.backend as Backend
      const info = tf.backend_util.computeConv2DInfo(
        x.shape as [number, number, number, number],
        filter.shape as [number, number, number, number],
        strides as [number, number],
        1,
        pad as 'same',
        dimRoundingMode as 'floor',
        false,
        'channelsLast',
      )
      const y = b.alloc(info.batchSize * info.outHeight * info.outWidth * info.outChannels)
      if (isPointwise(info)) {
        k.gemm(
          0,
          0,
          info.batchSize * info.inHeight * info.inWidth,
          info.outChannels,
          info.inChannels,
          values(b, x),
          values(b, filter),
          y,
          0,
        )
      } else {
        k.conv2dIm2col(values(b, x), ...convArgs(info), values(b, filter), y)
      }
      return out(b, [info.batchSize, info.outHeight, info.outWidth, info.outChannels], y)
    },
    Conv2DBackpropInput: (args) => {
      const { dy, filter } = args.inputs as unknown as Inputs
      const { inputShape, strides, pad, dataFormat, dimRoundingMode } = args.attrs as Attrs
      if (dataFormat !== 'NHWC' || !float(dy, filter)) return fallback('Conv2DBackpropInput')(args)
      const b = args.backend as Backend
      const info = tf.backend_util.computeConv2DInfo(
        inputShape as [number, number, number, number],
        filter.shape as [number, number, number, number],
        strides as [number, number],
        1,
        pad as 'same',
        dimRoundingMode as 'floor',
        false,
        'channelsLast',
      )
      const dx = b.alloc(size(inputShape as number[]))
      if (isPointwise(info)) {
        k.gemm(
          0,
          1,
          info.batchSize * info.inHeight * info.inWidth,
          info.inChannels,
          info.outChannels,
          values(b, dy),
          values(b, filter),
          dx,
          0,
        )
      } else {
        k.conv2dBackpropInputCol2im(values(b, dy), ...convArgs(info), values(b, filter), dx)
      }
      return out(b, inputShape as number[], dx)
    },
    Conv2DBackpropFilter: (args) => {
      const { x, dy } = args.inputs as unknown as Inputs
      const { strides, pad, dataFormat, dimRoundingMode, filterShape } = args.attrs as Attrs
      if (dataFormat !== 'NHWC' || !float(x, dy)) return fallback('Conv2DBackpropFilter')(args)
      const b = args.backend as Backend
      const info = tf.backend_util.computeConv2DInfo(
        x.shape as [number, number, number, number],
        filterShape as [number, number, number, number],
        strides as [number, number],
        1,
        pad as 'same',
        dimRoundingMode as 'floor',
        false,
        'channelsLast',
      )
      const dw = b.alloc(size(filterShape as number[]))
      if (isPointwise(info)) {
        k.gemm(
          1,
          0,
          info.inChannels,
          info.outChannels,
          info.batchSize * info.inHeight * info.inWidth,
          values(b, x),
          values(b, dy),
          dw,
          0,
        )
      } else {
        k.conv2dBackpropFilterIm2col(values(b, x), ...convArgs(info), values(b, dy), dw)
      }
      return out(b, filterShape as number[], dw)
    },
    DepthwiseConv2dNative: (args) => {
      const { x, filter } = args.inputs as unknown as Inputs
      const { strides, pad, dilations, dimRoundingMode } = args.attrs as Attrs
      if (filter.shape[3] !== 1 || !ones(dilations) || !float(x, filter))
        return fallback('DepthwiseConv2dNative')(args)
      const b = args.backend as Backend
      const info = tf.backend_util.computeConv2DInfo(
        x.shape as [number, number, number, number],
        filter.shape as [number, number, number, number],
        strides as [number, number],
        1,
        pad as 'same',
        dimRoundingMode as 'floor',
        true,
      )
      const y = b.alloc(info.batchSize * info.outHeight * info.outWidth * info.outChannels)
      k.depthwiseForward(values(b, x), ...convArgs(info), values(b, filter), y)
      return out(b, [info.batchSize, info.outHeight, info.outWidth, info.outChannels], y)
    },
    DepthwiseConv2dNativeBackpropInput: (args) => {
      const { dy, filter } = args.inputs as unknown as Inputs
      const { strides, pad, dilations, dimRoundingMode, inputShape } = args.attrs as Attrs
      if (filter.shape[3] !== 1 || !ones(dilations) || !float(dy, filter))
        return fallback('DepthwiseConv2dNativeBackpropInput')(args)
      const b = args.backend as Backend
      const info = tf.backend_util.computeConv2DInfo(
        inputShape as [number, number, number, number],
        filter.shape as [number, number, number, number],
        strides as [number, number],
        1,
        pad as 'same',
        dimRoundingMode as 'floor',
        true,
      )
      const dx = b.alloc(size(inputShape as number[]))
      k.depthwiseBackpropInput(values(b, dy), ...convArgs(info), values(b, filter), dx)
      return out(b, inputShape as number[], dx)
    },
    DepthwiseConv2dNativeBackpropFilter: (args) => {
      const { x, dy } = args.inputs as unknown as Inputs
      const { strides, pad, dilations, dimRoundingMode, filterShape } = args.attrs as Attrs
      const fs4 = filterShape as [number, number, number, number]
      if (fs4[3] !== 1 || !ones(dilations) || !float(x, dy))
        return fallback('DepthwiseConv2dNativeBackpropFilter')(args)
      const b = args.backend as Backend
      const info = tf.backend_util.computeConv2DInfo(
        x.shape as [number, number, number, number],
        fs4,
        strides as [number, number],
        1,
        pad as 'same',
        dimRoundingMode as 'floor',
        true,
      )
      const dw = b.alloc(size(fs4))
      k.depthwiseBackpropFilter(values(b, x), ...convArgs(info), values(b, dy), dw)
      return out(b, fs4, dw)
    },
    BatchMatMul: (args) => {
      const { a, b: bm } = args.inputs as unknown as Inputs
      const { transposeA, transposeB } = args.attrs as Attrs
      if (!float(a, bm)) return fallback('BatchMatMul')(args)
      const be = args.backend as Backend
      const ra = a.shape.length
      const rb = bm.shape.length
      const m = transposeA ? a.shape[ra - 1] : a.shape[ra - 2]
      const kk = transposeA ? a.shape[ra - 2] : a.shape[ra - 1]
      const n = transposeB ? bm.shape[rb - 2] : bm.shape[rb - 1]
      const batchA = size(a.shape.slice(0, -2))
      const batchB = size(bm.shape.slice(0, -2))
      if (batchA !== batchB && batchA !== 1 && batchB !== 1) return fallback('BatchMatMul')(args)
      const outBatch = tf.broadcast_util.assertAndGetBroadcastShape(
        a.shape.slice(0, -2),
        bm.shape.slice(0, -2),
      )
      const batch = Math.max(batchA, batchB)
      const c = be.alloc(batch * m * n)
      k.batchGemm(
        batch,
        batchA,
        batchB,
        transposeA ? 1 : 0,
        transposeB ? 1 : 0,
        m,
        n,
        kk,
        values(be, a),
        values(be, bm),
        c,
      )
      return out(be, [...outBatch, m, n], c)
    },

    Add: binary(k, 0, 'Add', fallback),
    Sub: binary(k, 1, 'Sub', fallback),
    Multiply: binary(k, 2, 'Multiply', fallback),
    RealDiv: binary(k, 3, 'RealDiv', fallback),
    Sigmoid: (args) => {
      const { x } = args.inputs as unknown as Inputs
      if (!float(x)) return fallback('Sigmoid')(args)
      const b = args.backend as Backend
      const y = b.alloc(size(x.shape))
      k.sigmoid(values(b, x), y)
      return out(b, x.shape, y)
    },
    // Sums over leading axes (bias gradients, batch statistics) or trailing axes (row sums); others fall back.
    Sum: (args) => {
      const { x } = args.inputs as unknown as Inputs
      const { axis, keepDims } = args.attrs as Attrs
      const axes = tf.util.parseAxisParam(axis as number | number[], x.shape).sort((p, q) => p - q)
      const r = x.shape.length
      const leading = axes.every((a, i) => a === i)
      const trailing = axes.every((a, i) => a === r - axes.length + i)
      if (
        !float(x) ||
        !axes.length ||
        !size(x.shape) ||
        new Set(axes).size !== axes.length ||
        !(leading || trailing)
      ) {
        return fallback('Sum')(args)
      }
      const b = args.backend as Backend
      const reduced = size(axes.map((a) => x.shape[a]))
      const total = size(x.shape)
      const kept = x.shape.filter((_, i) => !axes.includes(i))
      const y = b.alloc(total / reduced)
      // Both leading and trailing means every axis: a full sum, as one row.
      if (trailing) k.reduceSum(values(b, x), total / reduced, reduced, 0, y)
      else k.reduceSum(values(b, x), reduced, total / reduced, 1, y)
      return out(b, keepDims ? x.shape.map((d, i) => (axes.includes(i) ? 1 : d)) : kept, y)
    },
    AddN: (args) => {
      const xs = args.inputs as unknown as tf.TensorInfo[]
      const first = xs[0]
      if (!float(...xs) || xs.some((x) => !tf.util.arraysEqual(x.shape, first.shape)))
        return fallback('AddN')(args)
      const b = args.backend as Backend
      const y = b.alloc(size(first.shape))
      k.addN(
        xs.map((x) => values(b, x)),
        y,
      )
      return out(b, first.shape, y)
    },
    // The update of ./optimizer.ts: one pass per variable instead of a dozen elementwise ops.
    DgAdam: ({ inputs, backend, attrs }) => {
      const { theta, m, v, g } = inputs as unknown as Inputs
      const b = backend as Backend
      const a = attrs as Record<string, number>
      const n = size(theta.shape)
      const [t, mo, vo] = [b.alloc(n), b.alloc(n), b.alloc(n)]
      k.adam(
        values(b, theta),
        values(b, m),
        values(b, v),
        values(b, g),
        a.learningRate,
        a.beta1,
        a.beta2,
        a.epsilon,
        a.c1,
        a.c2,
        t,
        mo,
        vo,
      )
      return [out(b, theta.shape, t), out(b, theta.shape, mo), out(b, theta.shape, vo)]
    },

    // Fused ops of ./ops.ts (NHWC, channels innermost).
    DgBatchNormAct: ({ inputs, backend, attrs }) => {
      const { x, gamma, beta } = inputs as unknown as Inputs
      const b = backend as Backend
      const c = x.shape[x.shape.length - 1]
      const rows = size(x.shape) / c
      const y = b.alloc(size(x.shape))
      const mean = b.alloc(c)
      const invStd = b.alloc(c)
      k.bnActForward(
        values(b, x),
        rows,
        c,
        values(b, gamma),
        values(b, beta),
        (attrs as Attrs).epsilon as number,
        act(attrs as Attrs),
        y,
        mean,
        invStd,
      )
      return [out(b, x.shape, y), out(b, [c], mean), out(b, [c], invStd)]
    },
    DgBatchNormActGrad: ({ inputs, backend, attrs }) => {
      const { dy, x, gamma, beta, mean, invStd } = inputs as unknown as Inputs
      const b = backend as Backend
      const c = x.shape[x.shape.length - 1]
      const rows = size(x.shape) / c
      const dx = b.alloc(size(x.shape))
      const dgamma = b.alloc(c)
      const dbeta = b.alloc(c)
      k.bnActBackward(
        values(b, dy),
        values(b, x),
        rows,
        c,
        values(b, gamma),
        values(b, beta),
        values(b, mean),
        values(b, invStd),
        act(attrs as Attrs),
        dx,
        dgamma,
        dbeta,
      )
      return [out(b, x.shape, dx), out(b, [c], dgamma), out(b, [c], dbeta)]
    },
    DgAffineAct: ({ inputs, backend, attrs }) => {
      const { x, scale, shift } = inputs as unknown as Inputs
      const b = backend as Backend
      const c = x.shape[x.shape.length - 1]
      const y = b.alloc(size(x.shape))
      k.affineAct(
        values(b, x),
        size(x.shape) / c,
        c,
        values(b, scale),
        values(b, shift),
        act(attrs as Attrs),
        y,
      )
      return out(b, x.shape, y)
    },
    DgSwish: ({ inputs, backend }) => {
      const { x } = inputs as unknown as Inputs
      const b = backend as Backend
      const y = b.alloc(size(x.shape))
      k.swish(values(b, x), y)
      return out(b, x.shape, y)
    },
    DgSwishGrad: ({ inputs, backend }) => {
      const { dy, x } = inputs as unknown as Inputs
      const b = backend as Backend
      const dx = b.alloc(size(x.shape))
      k.swishGrad(values(b, dy), values(b, x), dx)
      return out(b, x.shape, dx)
    },
    DgChannelMean: ({ inputs, backend }) => {
      const { x } = inputs as unknown as Inputs
      const b = backend as Backend
      const [n, h, w, c] = x.shape
      const y = b.alloc(n * c)
      k.channelMean(values(b, x), n, h * w, c, y)
      return out(b, [n, c], y)
    },
    DgChannelMeanGrad: ({ inputs, backend, attrs }) => {
      const { dy } = inputs as unknown as Inputs
      const b = backend as Backend
      const [n, c] = dy.shape
      const h = (attrs as Attrs).height as number
      const w = (attrs as Attrs).width as number
      const dx = b.alloc(n * h * w * c)
      k.channelMeanGrad(values(b, dy), n, h * w, c, dx)
      return out(b, [n, h, w, c], dx)
    },
    DgChannelScale: ({ inputs, backend }) => {
      const { x, s } = inputs as unknown as Inputs
      const b = backend as Backend
      const [n, h, w, c] = x.shape
      const y = b.alloc(size(x.shape))
      k.channelScale(values(b, x), values(b, s), n, h * w, c, y)
      return out(b, x.shape, y)
    },
    DgChannelScaleGrad: ({ inputs, backend }) => {
      const { dy, x, s } = inputs as unknown as Inputs
      const b = backend as Backend
      const [n, h, w, c] = x.shape
      const dx = b.alloc(size(x.shape))
      const ds = b.alloc(n * c)
      k.channelScaleGrad(values(b, dy), values(b, x), values(b, s), n, h * w, c, dx, ds)
      return [out(b, x.shape, dx), out(b, [n, c], ds)]
    },
  }
}

/**
 * Add/Sub/Multiply/RealDiv in float32 when one operand has the output's shape and the other repeats over it
 * in a pattern the kernel walks linearly (see repeatPattern); any other broadcast falls back.
 */
function binary(
  k: NativeKernels,
  op: number,
  name: string,
  fallback: (name: string) => tf.KernelFunc,
): tf.KernelFunc {
  return (args) => {
    const { a, b: bIn } = args.inputs as unknown as Inputs
    if (!float(a, bIn)) return fallback(name)(args)
    const shape = tf.backend_util.assertAndGetBroadcastShape(a.shape, bIn.shape)
    const n = size(shape)
    if (n === 0) return fallback(name)(args)
    const [big, small] = size(a.shape) >= size(bIn.shape) ? [a, bIn] : [bIn, a]
    const inner = size(big.shape) === n ? repeatPattern(small.shape, shape) : null
    if (inner === null) return fallback(name)(args)
    const be = args.backend as Backend
    const y = be.alloc(n)
    k.binary(op, values(be, a), values(be, bIn), y, inner)
    return out(be, shape, y)
  }
}

/**
 * How an operand of shape `small` repeats over a broadcast `shape` in memory order, as the native kernel
 * walks it: each of its elements covers `inner` consecutive outputs (the product of the output's trailing
 * axes where `small` is 1), and it restarts every size(small)·inner outputs. That holds when `small`, without
 * its leading and trailing 1s, equals the output's axes just before those trailing ones: a scalar, a
 * per-channel vector [C] over [..., C], a column [R, 1] over [R, C]. Returns inner, or null otherwise.
 */
export function repeatPattern(small: number[], shape: number[]): number | null {
  let lo = 0
  while (lo < small.length && small[lo] === 1) lo++
  let hi = small.length
  while (hi > lo && small[hi - 1] === 1) hi--
  const mid = small.slice(lo, hi)
  const end = shape.length - (small.length - hi)
  const start = end - mid.length
  if (start < 0 || end > shape.length) return null
  if (!mid.every((d, j) => d === shape[start + j])) return null
  return size(shape.slice(end))
}

function isPointwise(c: tf.backend_util.Conv2DInfo): boolean {
  return (
    c.filterHeight === 1 &&
    c.filterWidth === 1 &&
    c.strideHeight === 1 &&
    c.strideWidth === 1 &&
    c.padInfo.top === 0 &&
    c.padInfo.left === 0 &&
    c.outHeight === c.inHeight &&
    c.outWidth === c.inWidth
  )
}
