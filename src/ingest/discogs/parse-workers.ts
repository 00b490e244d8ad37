import os from 'node:os'
import { Worker } from 'node:worker_threads'
import { DumpFormatError, type DumpLocation } from '../../errors.ts'
import {
  segmentPlan,
  LastGoodRecord,
  type ParsedBatch,
  type ReadOptions,
  type ReaderEvent,
} from './dump-reader.ts'
import type { ParseWorkerData } from './parse-worker.ts'
import { segmentDumpFile, type RecordSegment } from './record-segments.ts'

type WorkerFailure =
  | { dump: true; file: string; where: DumpLocation; reason: string }
  | { dump: false; message: string; stack?: string }
type FileMessage = ReaderEvent | { kind: 'done' } | { kind: 'error'; error: WorkerFailure }
type SegmentReply = { seq: number; batches: ParsedBatch[] } | { seq: number; error: WorkerFailure }

/**
 * Parse workers by default: one per core but one, which this thread (reading, writing) and the database
 * share. Parsing is most of an import's CPU, but several workers need this thread to cut the file into
 * segments, a scan of every record: on two cores, a second worker parsed only 8 % faster alone and made
 * the whole import no faster while it competed with the database (docs/BENCHMARKS.md).
 */
export function defaultParseWorkers(): number {
  return Math.max(1, Math.min(8, os.availableParallelism() - 1))
}

function spawn(data: ParseWorkerData): Worker {
  return new Worker(new URL('./parse-worker.js', import.meta.url), {
    workerData: data,
    // A worker holds one chunk, one record or segment and a couple of batches. The young generation trades
    // CPU (scavenges) for peak RSS in every worker: 8 MB against 4 took an import of 100k releases from
    // 10,004-10,410 to 10,295-10,589 releases/s, peak RSS staying at 227-245 MB (bench:ingest has 300 MB;
    // it was 293-296 MB when the CLI loaded everything up front).
    resourceLimits: { maxOldGenerationSizeMb: 32, maxYoungGenerationSizeMb: 8 },
  })
}

/** The error a worker reported, rebuilt on this side (a DumpFormatError stays one). */
function rebuild(e: WorkerFailure): Error {
  if (e.dump) return new DumpFormatError(e.file, e.where, e.reason)
  const err = new Error(e.message)
  err.stack = e.stack
  return err
}

/**
 * Reads a dump file with the parsing off this thread, so that on a machine shared with the database it
 * overlaps with the writing instead of alternating with it. With one worker, the worker reads the whole
 * file in one pass (readDumpFile); with more, this thread cuts the file into segments of whole records,
 * the workers parse them and the batches come out in file order. Same events and errors either way.
 */
export function readDumpFileInWorkers(
  file: string,
  opts: ReadOptions,
  workers = defaultParseWorkers(),
): AsyncGenerator<ReaderEvent> {
  return workers <= 1 ? readInOneWorker(file, opts) : readInSegments(file, opts, workers)
}

async function* readInOneWorker(
  file: string,
  opts: ReadOptions,
  initialCredits = 2,
): AsyncGenerator<ReaderEvent> {
  const worker = spawn({ role: 'file', file, opts, initialCredits })
  const queue: FileMessage[] = []
  let wake: (() => void) | null = null
  let crashed: Error | null = null
  let exited = false
  worker.on('message', (m: FileMessage) => {
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
      if (m.kind === 'error') throw rebuild(m.error)
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

/** Workers parsing segments; each segment goes to the least busy one. */
class SegmentWorkerPool {
  private readonly workers: {
    worker: Worker
    busy: number
    waiting: Map<number, { resolve: (b: ParsedBatch[]) => void; reject: (e: Error) => void }>
  }[]

  constructor(size: number, data: Extract<ParseWorkerData, { role: 'segments' }>) {
    this.workers = Array.from({ length: size }, () => {
      const w = { worker: spawn(data), busy: 0, waiting: new Map() }
      const failAll = (err: Error) => {
        for (const p of w.waiting.values()) p.reject(err)
        w.waiting.clear()
      }
      w.worker.on('message', (m: SegmentReply) => {
        const p = w.waiting.get(m.seq)!
        w.waiting.delete(m.seq)
        w.busy--
        if ('error' in m) p.reject(rebuild(m.error))
        else p.resolve(m.batches)
      })
      w.worker.on('error', failAll)
      w.worker.on('exit', () => failAll(new Error('a parse worker stopped unexpectedly')))
      return w
    })
  }

  parse(segment: RecordSegment): Promise<ParsedBatch[]> {
    const w = this.workers.reduce((a, b) => (b.busy < a.busy ? b : a))
    w.busy++
    const done = new Promise<ParsedBatch[]>((resolve, reject) =>
      w.waiting.set(segment.seq, { resolve, reject }),
    )
    // The segment's bytes move to the worker (each segment has an ArrayBuffer of its own).
    w.worker.postMessage(segment, [segment.bytes.buffer as ArrayBuffer])
    return done
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.worker.terminate()))
  }
}

/**
 * One segment per worker and one more are in flight (with none more, a worker waited for this thread
 * between segments), so memory stays bounded whatever the relative speed of parsing and writing.
 */
async function* readInSegments(
  file: string,
  opts: ReadOptions,
  workers: number,
): AsyncGenerator<ReaderEvent> {
  const plan = segmentPlan(opts)
  const pool = new SegmentWorkerPool(workers, { role: 'segments', opts: plan.parse })
  const segments = segmentDumpFile(file, plan.segments)
  const inFlight: Promise<ParsedBatch[]>[] = []
  const lastGood = new LastGoodRecord()
  let segmentError: unknown = null
  let cutting = true
  try {
    for (;;) {
      while (cutting && inFlight.length <= workers) {
        let next: Awaited<ReturnType<typeof segments.next>>
        try {
          next = await segments.next()
        } catch (err) {
          // Whatever was cut before the error is parsed and emitted first, as in readDumpFile.
          segmentError = err
          cutting = false
          break
        }
        if (next.done) cutting = false
        else if (next.value.kind === 'start') yield next.value
        else {
          const parsed = pool.parse(next.value.segment)
          parsed.catch(() => undefined) // awaited in order below; not unhandled meanwhile
          inFlight.push(parsed)
        }
      }
      if (inFlight.length === 0) break
      for (const batch of await inFlight.shift()!) {
        lastGood.see(batch)
        yield { kind: 'batch', batch }
      }
    }
    if (segmentError) throw lastGood.annotate(segmentError)
  } finally {
    await segments.return(undefined)
    await pool.close()
  }
}
