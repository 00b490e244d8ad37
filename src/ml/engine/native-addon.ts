import fs from 'node:fs'
import { createRequire } from 'node:module'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { MlBackendError } from '../../errors.ts'

/**
 * The compiled kernels of the `native` backend (src/ml/engine/native/kernels.cc; built by
 * scripts/build-ml-native.sh at install time). Every function reads and writes the Float32Arrays it is given
 * in place; shapes and padding come from JavaScript, and each function checks every array's length against
 * them first (a RangeError, not a write past the end of an array, when a shape is wrong).
 */

export interface NativeKernels {
  gemm(
    ta: number,
    tb: number,
    m: number,
    n: number,
    k: number,
    a: Float32Array,
    b: Float32Array,
    c: Float32Array,
    beta: number,
  ): void
  batchGemm(
    batch: number,
    batchA: number,
    batchB: number,
    ta: number,
    tb: number,
    m: number,
    n: number,
    k: number,
    a: Float32Array,
    b: Float32Array,
    c: Float32Array,
  ): void
  conv2dIm2col(x: Float32Array, ...rest: (number | Float32Array)[]): void
  conv2dBackpropFilterIm2col(x: Float32Array, ...rest: (number | Float32Array)[]): void
  conv2dBackpropInputCol2im(dy: Float32Array, ...rest: (number | Float32Array)[]): void
  depthwiseForward(x: Float32Array, ...rest: (number | Float32Array)[]): void
  depthwiseBackpropInput(dy: Float32Array, ...rest: (number | Float32Array)[]): void
  depthwiseBackpropFilter(x: Float32Array, ...rest: (number | Float32Array)[]): void
  bnActForward(
    x: Float32Array,
    rows: number,
    c: number,
    gamma: Float32Array,
    beta: Float32Array,
    eps: number,
    act: number,
    y: Float32Array,
    mean: Float32Array,
    invStd: Float32Array,
  ): void
  bnActBackward(
    dy: Float32Array,
    x: Float32Array,
    rows: number,
    c: number,
    gamma: Float32Array,
    beta: Float32Array,
    mean: Float32Array,
    invStd: Float32Array,
    act: number,
    dx: Float32Array,
    dgamma: Float32Array,
    dbeta: Float32Array,
  ): void
  affineAct(
    x: Float32Array,
    rows: number,
    c: number,
    scale: Float32Array,
    shift: Float32Array,
    act: number,
    y: Float32Array,
  ): void
  swish(x: Float32Array, y: Float32Array): void
  swishGrad(dy: Float32Array, x: Float32Array, dx: Float32Array): void
  channelMean(x: Float32Array, n: number, hw: number, c: number, y: Float32Array): void
  channelMeanGrad(dy: Float32Array, n: number, hw: number, c: number, dx: Float32Array): void
  channelScale(x: Float32Array, s: Float32Array, n: number, hw: number, c: number, y: Float32Array): void
  channelScaleGrad(
    dy: Float32Array,
    x: Float32Array,
    s: Float32Array,
    n: number,
    hw: number,
    c: number,
    dx: Float32Array,
    ds: Float32Array,
  ): void
  binary(op: number, a: Float32Array, b: Float32Array, out: Float32Array, inner: number): void
  sigmoid(x: Float32Array, y: Float32Array): void
  reduceSum(x: Float32Array, outer: number, inner: number, leading: number, out: Float32Array): void
  addN(xs: Float32Array[], out: Float32Array): void
  adam(
    theta: Float32Array,
    m: Float32Array,
    v: Float32Array,
    g: Float32Array,
    lr: number,
    beta1: number,
    beta2: number,
    eps: number,
    c1: number,
    c2: number,
    thetaOut: Float32Array,
    mOut: Float32Array,
    vOut: Float32Array,
  ): void
  setThreads(n: number): void
  tuneAllocator(): boolean
  info(): string
}

const here = path.dirname(fileURLToPath(import.meta.url))
export const NATIVE_ADDON_PATH = path.join(here, 'native', 'build', 'discograph_kernels.node')

let addon: NativeKernels | undefined
const calls = new Map<string, number>()

/**
 * How many times each compiled function has been called in this process, by name (`gemm`, `depthwiseForward`,
 * …). A kernel that falls back to the CPU backend calls none, so tests assert on these to show that the native
 * code is what ran.
 */
export function nativeCallCounts(): Record<string, number> {
  return Object.fromEntries(calls)
}

/** The addon's functions, each counting its calls (a map update per kernel call: nothing beside a kernel). */
function counting(raw: NativeKernels): NativeKernels {
  const wrapped: Record<string, unknown> = {}
  for (const [name, fn] of Object.entries(
    raw as unknown as Record<string, (...args: unknown[]) => unknown>,
  )) {
    wrapped[name] = (...args: unknown[]) => {
      calls.set(name, (calls.get(name) ?? 0) + 1)
      return fn(...args)
    }
  }
  return wrapped as unknown as NativeKernels
}

/** Loads the compiled kernels (built by scripts/build-ml-native.sh at install time); throws if absent. */
export function loadNativeKernels(): NativeKernels {
  if (addon) return addon
  if (!fs.existsSync(NATIVE_ADDON_PATH)) {
    throw new MlBackendError(
      'native',
      `${NATIVE_ADDON_PATH} is not built (run: sh scripts/build-ml-native.sh)`,
    )
  }
  // libgomp reads its wait policy once, when the addon loads. Its default (spin ~0.3 ms after every parallel
  // loop) keeps a core busy between kernels while this thread runs JavaScript and V8 its GC threads; on two
  // cores that cost a fifth of a B0 inference pass. Passive workers sleep at once (docs/ml-engine.md).
  // An explicit setting by the user wins.
  process.env.OMP_WAIT_POLICY ??= 'PASSIVE'
  try {
    addon = counting(createRequire(import.meta.url)(NATIVE_ADDON_PATH) as NativeKernels)
  } catch (e) {
    throw new MlBackendError('native', `cannot load ${NATIVE_ADDON_PATH}: ${(e as Error).message}`, {
      cause: e,
    })
  }
  return addon
}
