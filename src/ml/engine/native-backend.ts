import os from 'node:os'
import * as tf from '@tensorflow/tfjs'
import { MathBackendCPU } from '@tensorflow/tfjs-backend-cpu'
import { MlBackendError } from '../../errors.ts'
import { BufferPool } from './buffer-pool.ts'
import { loadNativeKernels } from './native-addon.ts'
import { nativeKernelFuncs } from './native-kernels.ts'

/**
 * The `native` backend: TensorFlow.js' CPU backend (same tensor storage: one Float32Array per tensor) with the
 * kernels that dominate EfficientNet training replaced by native code (./native-kernels.ts over the addon of
 * ./native-addon.ts): convolutions and depthwise convolutions in all three directions, matrix products,
 * broadcast arithmetic, sums, the fused ops of ./ops.ts and Adam's update (./optimizer.ts). Every other kernel
 * is the CPU backend's own, and cases the native code does not cover fall back to it, so the backend is
 * always complete. Design and measurements: docs/ml-engine.md.
 */

export const NATIVE_BACKEND = 'native'

let allocatorTuned = false

/** Bytes of freed tensor memory kept for reuse: enough for a B0 training step's activations. */
const POOL_BYTES = Math.min(4 * 2 ** 30, Math.floor(os.totalmem() / 4))

/**
 * The CPU backend, with outputs of native kernels drawn from a BufferPool and handed back to it when their
 * tensor is disposed. An array is recycled only when provably unreachable: it was allocated by `alloc`, its
 * memory backed exactly one tensor, and it never left the backend through readSync/read (dataSync(), data(),
 * arraySync() return the backing array itself).
 *
 * "Its memory", not the array object: the CPU backend's Slice returns a `subarray` view of its input when
 * the slice is contiguous (and SplitV and Unpack slice), so a second tensor can live on the same memory
 * through another Float32Array. Ownership is therefore tracked by ArrayBuffer (each pooled array has one of
 * its own): a buffer written into a second tensor, whether as the same array or as a view, is never recycled.
 */
export class NativeBackend extends MathBackendCPU {
  readonly pool = new BufferPool(POOL_BYTES)
  private readonly recyclable = new WeakSet<ArrayBufferLike>()
  private readonly inUse = new WeakSet<ArrayBufferLike>()

  constructor() {
    super()
    // The CPU backend prints an "install tfjs-node" banner on first use; this backend is the answer to it.
    ;(this as unknown as { firstUse: boolean }).firstUse = false
  }

  /** A float32 output buffer; contents unspecified (the kernel writes every element). */
  alloc(length: number): Float32Array {
    const a = this.pool.take(length)
    if (this.pool.pools(length)) this.recyclable.add(a.buffer)
    return a
  }

  override write(values: tf.backend_util.BackendValues, shape: number[], dtype: tf.DataType): tf.DataId {
    this.track(values)
    return super.write(values, shape, dtype)
  }

  override move(
    dataId: tf.DataId,
    values: tf.backend_util.BackendValues,
    shape: number[],
    dtype: tf.DataType,
    refCount: number,
  ): void {
    this.track(values)
    super.move(dataId, values, shape, dtype, refCount)
  }

  override readSync(dataId: tf.DataId): tf.backend_util.BackendValues {
    const values = this.data.get(dataId)?.values
    if (values instanceof Float32Array) this.recyclable.delete(values.buffer)
    return super.readSync(dataId)
  }

  override disposeData(dataId: tf.DataId, force = false): boolean {
    const values = this.data.get(dataId)?.values
    const disposed = super.disposeData(dataId, force)
    if (values instanceof Float32Array && !this.data.has(dataId) && this.recyclable.has(values.buffer)) {
      this.recyclable.delete(values.buffer)
      this.inUse.delete(values.buffer)
      // only the whole array goes back (a tensor made straight from a part of one never is pooled)
      if (values.byteOffset === 0 && values.byteLength === values.buffer.byteLength) this.pool.give(values)
    }
    return disposed
  }

  private track(values: tf.backend_util.BackendValues): void {
    if (!ArrayBuffer.isView(values) || !this.recyclable.has(values.buffer)) return
    if (this.inUse.has(values.buffer)) this.recyclable.delete(values.buffer)
    else this.inUse.add(values.buffer)
  }
}

/** Empties the native backend's buffer pool (its memory goes back to the garbage collector). */
export function releaseNativeBuffers(): void {
  const b = tf.findBackend(NATIVE_BACKEND) as NativeBackend | null
  b?.pool.clear()
}

/** Registers the `native` backend (idempotent). Returns a one-line description of the native library. */
export function registerNativeBackend(options: { threads?: number } = {}): string {
  const k = loadNativeKernels()
  k.setThreads(options.threads ?? os.availableParallelism())
  if (tf.findBackendFactory(NATIVE_BACKEND)) return k.info()
  // Keep freed tensor memory mapped for the next tensor (page faults dominate otherwise; see kernels.cc).
  allocatorTuned = k.tuneAllocator()
  tf.registerBackend(NATIVE_BACKEND, () => new NativeBackend(), 1)

  const cpuKernels = new Map(tf.getKernelsForBackend('cpu').map((c) => [c.kernelName, c]))
  for (const config of cpuKernels.values()) tf.registerKernel({ ...config, backendName: NATIVE_BACKEND })

  const fallback = (name: string) => {
    const c = cpuKernels.get(name)
    if (!c) throw new MlBackendError(NATIVE_BACKEND, `the CPU backend has no ${name} kernel`)
    return c.kernelFunc
  }
  const register = (kernelName: string, kernelFunc: tf.KernelFunc) => {
    // Replaces the copied CPU registration of the same name.
    if (cpuKernels.has(kernelName)) tf.unregisterKernel(kernelName, NATIVE_BACKEND)
    tf.registerKernel({ kernelName, backendName: NATIVE_BACKEND, kernelFunc })
  }

  for (const [name, impl] of Object.entries(nativeKernelFuncs(k, fallback))) register(name, impl)
  return `${k.info()}; allocator ${allocatorTuned ? 'tuned' : 'default'}`
}

/** Whether glibc's allocator was set to keep large freed blocks mapped (see TuneAllocator in kernels.cc). */
export function nativeAllocatorTuned(): boolean {
  return allocatorTuned
}
