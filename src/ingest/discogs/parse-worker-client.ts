import { Worker } from 'node:worker_threads'
import { DumpFormatError, type DumpLocation } from '../../errors.ts'
import type { ReadOptions, ReaderEvent } from './dump-reader.ts'

type WorkerMessage =
  | ReaderEvent
  | { kind: 'done' }
  | {
      kind: 'error'
      error: { dump: true; file: string; where: DumpLocation; reason: string } | { dump: false; message: string; stack?: string }
    }

/**
 * readDumpFile run in a worker thread: on two cores, parsing overlaps with the database's work instead
 * of alternating with it. Same events, same errors (a DumpFormatError is rebuilt on this side).
 */
export async function* readDumpFileInWorker(file: string, opts: ReadOptions, initialCredits = 2): AsyncGenerator<ReaderEvent> {
  const worker = new Worker(new URL('./parse-worker.js', import.meta.url), {
    workerData: { file, opts, initialCredits },
    // Cap the worker's heap: it holds one chunk, one record and a couple of batches. A larger young
    // generation would save CPU (8 MB: ~10% less parse CPU in bench:parse) but raised bench:ingest's peak
    // RSS by ~10-15 MB, too close to its 300 MB budget.
    resourceLimits: { maxOldGenerationSizeMb: 32, maxYoungGenerationSizeMb: 4 },
  })
  const queue: WorkerMessage[] = []
  let wake: (() => void) | null = null
  let crashed: Error | null = null
  let exited = false
  worker.on('message', (m: WorkerMessage) => {
    queue.push(m)
    wake?.()
  })
  worker.on('error', (err) => {
    crashed = err
    wake?.()
  })
  worker.on('exit', () => {
    exited = true
    wake?.()
  })
  try {
    for (;;) {
      while (queue.length === 0) {
        if (crashed) throw crashed
        if (exited) throw new Error(`the parse worker for ${file} stopped unexpectedly`)
        await new Promise<void>((r) => (wake = r))
        wake = null
      }
      const m = queue.shift()!
      if (m.kind === 'done') return
      if (m.kind === 'error') {
        const e = m.error
        if (e.dump) throw new DumpFormatError(e.file, e.where, e.reason)
        const err = new Error(e.message)
        err.stack = e.stack
        throw err
      }
      yield m
      // The batch has been handled by the consumer: let the worker parse one more.
      if (m.kind === 'batch') worker.postMessage({ credit: 1 })
    }
  } finally {
    if (!exited) {
      worker.postMessage({ stop: true })
      await worker.terminate()
    }
  }
}
