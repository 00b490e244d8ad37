import { Worker } from 'node:worker_threads'
import type { ProjectionWorkerData } from './projection-worker.ts'

/**
 * projectTo2d (projection.ts) on a worker thread of its own: UMAP of a few thousand vectors is seconds of
 * CPU that would otherwise hold the caller's event loop (the API's, for every request) all that time.
 * `vectors` is n × dims, row after row; its buffer is moved to the worker, so the caller must not use it
 * after. Aborting `signal` stops the thread and rejects.
 */
export function projectTo2dInWorker(
  vectors: Float32Array,
  dims: number,
  options: { seed?: number; signal?: AbortSignal } = {},
): Promise<Float32Array> {
  if (options.signal?.aborted) return Promise.reject(new Error('projection cancelled'))
  const data: ProjectionWorkerData = { vectors, dims, seed: options.seed }
  // A `.js` entry: from source it registers tsx and loads projection-worker.ts; in dist/ it is the compiled worker.
  const worker = new Worker(new URL('./projection-worker.js', import.meta.url), {
    workerData: data,
    transferList: [vectors.buffer as ArrayBuffer],
  })
  return new Promise<Float32Array>((resolve, reject) => {
    let result: Float32Array | null = null
    const stop = () => void worker.terminate()
    options.signal?.addEventListener('abort', stop, { once: true })
    worker.on('message', (xy: Float32Array) => (result = xy))
    worker.on('error', reject)
    worker.on('exit', (code) => {
      options.signal?.removeEventListener('abort', stop)
      if (result) resolve(result)
      else
        reject(
          new Error(
            options.signal?.aborted
              ? 'projection cancelled'
              : `the projection thread stopped (exit code ${code})`,
          ),
        )
    })
  })
}
