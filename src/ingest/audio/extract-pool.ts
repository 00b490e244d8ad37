import { Worker } from 'node:worker_threads'
import { FeatureStore } from '../../audio/feature-store.ts'
import { extractFeatures, type ExtractResult, type ExtractTask } from './extract.ts'

export interface Extractor {
  /** worker threads in use; 0 = inline on the calling thread */
  readonly threads: number
  run(task: ExtractTask): Promise<ExtractResult>
  close(): Promise<void>
}

/** Runs extraction on the calling thread: no start-up cost, for a handful of files or one core. */
export function inlineExtractor(dataDir: string): Extractor {
  const store = new FeatureStore(dataDir)
  return { threads: 0, run: (task) => extractFeatures(task, store), close: async () => {} }
}

interface Slot {
  worker: Worker
  busy?: { id: number; task: ExtractTask; resolve: (r: ExtractResult) => void; reject: (e: Error) => void }
}

/**
 * A pool of worker threads, each extracting one file at a time; tasks queue until a thread is free, so
 * every core stays busy whatever the spread of file lengths. A thread that dies (out of memory on a
 * huge file, a crash in a WASM decoder) fails only its own file, which is reported as a per-file
 * error, and is replaced.
 */
export function workerExtractor(dataDir: string, threads: number): Extractor {
  const store = new FeatureStore(dataDir)
  const queue: NonNullable<Slot['busy']>[] = []
  let nextId = 0
  let closed = false
  const slots: Slot[] = []

  const spawn = (): Slot => {
    const slot: Slot = {
      worker: new Worker(new URL('./extract-worker.js', import.meta.url), { workerData: { dataDir } }),
    }
    slot.worker.on('message', (m: { id: number; result?: ExtractResult; error?: string }) => {
      const job = slot.busy
      if (!job || job.id !== m.id) return
      slot.busy = undefined
      if (m.result) job.resolve(m.result)
      else job.reject(new Error(m.error ?? 'extraction failed'))
      feed(slot)
    })
    const thread = slot.worker.threadId
    const lost = (reason: string) => {
      const job = slot.busy
      slot.busy = undefined
      // the file it was writing stays under its temporary name; nothing will finish it
      store.sweepTemporaryFiles({ thread })
      const i = slots.indexOf(slot)
      if (i >= 0) slots.splice(i, 1)
      if (job)
        job.resolve({
          kind: 'failed',
          path: job.task.path,
          sha256: null,
          tags: null,
          error: `the decoding thread stopped: ${reason}`,
        })
      if (!closed) {
        const fresh = spawn()
        slots.push(fresh)
        feed(fresh)
      }
    }
    slot.worker.on('error', (err) => lost(err.message))
    slot.worker.on('exit', (code) => {
      if (slots.includes(slot)) lost(`exit code ${code}`)
    })
    return slot
  }

  const feed = (slot: Slot) => {
    if (slot.busy || closed) return
    const job = queue.shift()
    if (!job) return
    slot.busy = job
    slot.worker.postMessage({ id: job.id, task: job.task })
  }

  for (let i = 0; i < threads; i++) slots.push(spawn())

  return {
    threads,
    run(task) {
      if (closed) return Promise.reject(new Error('the extraction pool is closed'))
      return new Promise<ExtractResult>((resolve, reject) => {
        queue.push({ id: nextId++, task, resolve, reject })
        const idle = slots.find((s) => !s.busy)
        if (idle) feed(idle)
      })
    },
    async close() {
      closed = true
      const all = slots.splice(0)
      for (const job of [...queue.splice(0), ...all.flatMap((s) => (s.busy ? [s.busy] : []))])
        job.reject(new Error('the extraction pool was closed'))
      await Promise.all(all.map((s) => s.worker.terminate()))
    },
  }
}
