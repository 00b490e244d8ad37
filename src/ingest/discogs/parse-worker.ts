import { parentPort, workerData } from 'node:worker_threads'
import { DumpFormatError } from '../../errors.ts'
import { readDumpFile, type ReadOptions } from './dump-reader.ts'
import type { RecordSegment } from './record-segments.ts'
import { parseSegment, type SegmentParseOptions } from './segment-parser.ts'
import { BatchCarry, batchBuffers } from './staging-batch.ts'

/**
 * A parse worker (parse-workers.ts), in one of two roles: the whole file read in one pass, its batches
 * posted under credits; or segments cut by the importing thread, each parsed and its batches posted
 * back. Batch buffers are moved (transferred), not copied.
 */
export type ParseWorkerData =
  | { role: 'file'; file: string; opts: ReadOptions; initialCredits: number }
  | { role: 'segments'; opts: SegmentParseOptions }

const data = workerData as ParseWorkerData
const port = parentPort!

const failure = (err: unknown) => {
  const e = err as Error
  return err instanceof DumpFormatError
    ? { dump: true as const, file: err.file, where: err.where, reason: err.reason }
    : { dump: false as const, message: e.message, stack: e.stack }
}

if (data.role === 'segments') {
  const carry = new BatchCarry()
  port.on('message', (segment: RecordSegment) => {
    try {
      const batches = parseSegment(segment, data.opts, carry)
      port.postMessage({ seq: segment.seq, batches }, batches.flatMap(batchBuffers))
    } catch (err) {
      port.postMessage({ seq: segment.seq, error: failure(err) })
    }
  })
} else {
  // Flow control by credits: the importing thread grants one per batch it has written, so at most
  // `initialCredits` batches wait in memory whatever the relative speed of parsing and writing.
  let credits = data.initialCredits
  let wake: (() => void) | null = null
  port.on('message', (m: { credit?: number; stop?: boolean }) => {
    if (m.credit) credits += m.credit
    if (m.stop) credits = -Infinity
    wake?.()
    wake = null
  })
  try {
    for await (const ev of readDumpFile(data.file, data.opts)) {
      if (ev.kind === 'batch') {
        while (credits <= 0) {
          if (credits === -Infinity) break
          await new Promise<void>((r) => (wake = r))
        }
        if (credits === -Infinity) break
        credits--
        port.postMessage(ev, batchBuffers(ev.batch))
        continue
      }
      port.postMessage(ev)
    }
    port.postMessage({ kind: 'done' })
  } catch (err) {
    port.postMessage({ kind: 'error', error: failure(err) })
  } finally {
    port.close()
  }
}
