import os from 'node:os'
import { Worker } from 'node:worker_threads'
import { readPlan, LastGoodRecord, type ParsedBatch, type ReadOptions, type ReaderEvent } from './dump-reader.ts'
import { segmentDumpFile, type RecordSegment } from './record-segments.ts'
import type { SegmentParseOptions } from './segment-parser.ts'

type Reply = { seq: number; batches: ParsedBatch[] } | { seq: number; error: { message: string; stack?: string } }

/**
 * Parse workers by default: one per core but one, which this thread (cutting segments, writing) and the
 * database share. Parsing is most of an import's CPU and scales with workers (bench:parse: 1.5× with two
 * workers on two cores), but on two cores a second worker only competes with the database and costs
 * ~80 MB (docs/BENCHMARKS.md).
 */
export function defaultParseWorkers(): number {
  return Math.max(1, Math.min(8, os.availableParallelism() - 1))
}

/** Worker threads parsing segments; each segment goes to the least busy worker. */
class ParseWorkerPool {
  private readonly workers: { worker: Worker; busy: number; waiting: Map<number, { resolve: (b: ParsedBatch[]) => void; reject: (e: Error) => void }> }[]

  constructor(size: number, opts: SegmentParseOptions) {
    this.workers = Array.from({ length: size }, () => {
      const worker = new Worker(new URL('./parse-worker.js', import.meta.url), {
        workerData: opts,
        // A worker holds a segment and its batches. A larger young generation would save CPU (8 MB: ~10%
        // less parse CPU in bench:parse) but costs peak RSS per worker, and bench:ingest has 300 MB.
        resourceLimits: { maxOldGenerationSizeMb: 32, maxYoungGenerationSizeMb: 4 },
      })
      const w = { worker, busy: 0, waiting: new Map() }
      const failAll = (err: Error) => {
        for (const p of w.waiting.values()) p.reject(err)
        w.waiting.clear()
      }
      worker.on('message', (m: Reply) => {
        const p = w.waiting.get(m.seq)!
        w.waiting.delete(m.seq)
        w.busy--
        if ('error' in m) {
          const err = new Error(m.error.message)
          err.stack = m.error.stack
          p.reject(err)
        } else p.resolve(m.batches)
      })
      worker.on('error', failAll)
      worker.on('exit', () => failAll(new Error('a parse worker stopped unexpectedly')))
      return w
    })
  }

  parse(segment: RecordSegment): Promise<ParsedBatch[]> {
    const w = this.workers.reduce((a, b) => (b.busy < a.busy ? b : a))
    w.busy++
    const done = new Promise<ParsedBatch[]>((resolve, reject) => w.waiting.set(segment.seq, { resolve, reject }))
    // The segment's bytes move to the worker (segmentDumpFile gives each its own ArrayBuffer).
    w.worker.postMessage(segment, [segment.bytes.buffer as ArrayBuffer])
    return done
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.worker.terminate()))
  }
}

/**
 * readDumpFile with the parsing spread over worker threads: this thread reads, decompresses and cuts
 * the file into segments of whole records (cheap next to parsing), the workers parse and encode them,
 * and the batches come out in file order. Same events, same errors. One segment per worker and one more
 * are in flight (with one worker and none more, it waited for this thread between segments), so memory
 * stays bounded whatever the relative speed of parsing and writing.
 */
export async function* readDumpFileInWorkers(file: string, opts: ReadOptions, workers = defaultParseWorkers()): AsyncGenerator<ReaderEvent> {
  const plan = readPlan(opts)
  const pool = new ParseWorkerPool(workers, plan.parse)
  const segments = segmentDumpFile(file, plan.segments)
  const inFlight: Promise<ParsedBatch[]>[] = []
  const lastGood = new LastGoodRecord()
  let segmentError: unknown = null
  let cutting = true
  try {
    for (;;) {
      while (cutting && inFlight.length <= workers) {
        let next: IteratorResult<Awaited<ReturnType<typeof segments.next>>['value']>
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
