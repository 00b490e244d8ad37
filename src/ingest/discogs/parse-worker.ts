import { parentPort, workerData } from 'node:worker_threads'
import type { StageTable } from '../../db/repositories/catalog-staging.ts'
import type { RecordSegment } from './record-segments.ts'
import { parseSegment, type SegmentParseOptions } from './segment-parser.ts'
import { batchBuffers } from './staging-batch.ts'

/**
 * Parses the segments the importing thread sends and posts back each one's batches, with their buffers
 * moved (transferred) rather than copied.
 */
const opts = workerData as SegmentParseOptions
const port = parentPort!
const sizeHints = new Map<StageTable, number>()

port.on('message', (segment: RecordSegment) => {
  try {
    const batches = parseSegment(segment, opts, sizeHints)
    port.postMessage({ seq: segment.seq, batches }, batches.flatMap(batchBuffers))
  } catch (err) {
    const e = err as Error
    port.postMessage({ seq: segment.seq, error: { message: e.message, stack: e.stack } })
  }
})
