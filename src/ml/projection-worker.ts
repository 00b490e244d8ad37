import os from 'node:os'
import { parentPort, workerData } from 'node:worker_threads'
import { projectTo2d } from './projection.ts'

/**
 * One 2-D projection (projection-thread.ts) per worker: the vectors come packed in one buffer (moved, not
 * copied), the coordinates go back the same way, and the thread ends.
 */
export interface ProjectionWorkerData {
  /** n × dims, row after row */
  vectors: Float32Array
  dims: number
  seed?: number
}

// Lowest priority for this thread only (on Linux a priority is per thread): a map is background work, and
// on a busy machine, where Linux (autogroup) shares one CPU share among a process's threads, it otherwise
// takes the API thread's turns (docs/BENCHMARKS.md, embedding map).
try {
  os.setPriority(19)
} catch {
  // not permitted here: the map only competes harder
}

const { vectors, dims, seed } = workerData as ProjectionWorkerData
const rows = Array.from({ length: vectors.length / dims }, (_, i) =>
  vectors.subarray(i * dims, (i + 1) * dims),
)
const xy = projectTo2d(rows, { seed })
parentPort!.postMessage(xy, [xy.buffer as ArrayBuffer])
