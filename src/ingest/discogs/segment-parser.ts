import type { ParsedBatch } from './dump-reader.ts'
import { RecordBatcher, type BatchOptions } from './record-batcher.ts'
import type { RecordSegment } from './record-segments.ts'
import type { BatchCarry } from './staging-batch.ts'
import { XmlRecordReader } from './xml-records.ts'

export type SegmentParseOptions = Omit<BatchOptions, 'batchRecords'>

/**
 * Parses one segment of whole records into encoded staging batches: usually one (the segment was cut at
 * the batch's record count), more when a batch reaches batchChars or the segment holds a record twice.
 */
export function parseSegment(
  seg: RecordSegment,
  opts: SegmentParseOptions,
  carry: BatchCarry,
): ParsedBatch[] {
  const reader = new XmlRecordReader({ fragmentOf: { root: seg.type, offset: seg.offset } })
  reader.feed(seg.bytes)
  const batcher = new RecordBatcher(
    seg.type,
    { ...opts, batchRecords: Infinity },
    carry,
    () => seg.bytesRead,
    seg.skip,
  )
  const out: ParsedBatch[] = []
  for (;;) {
    const ev = reader.next()
    if (ev === null) break
    if (ev.kind !== 'record') throw new Error(`segment ${seg.seq} of <${seg.type}> holds the end of its root`)
    const batches = batcher.record(ev)
    if (batches) out.push(...batches)
  }
  // The segmenter cut whole records; anything left over means it and the parser disagree.
  if (reader.pending.trim() !== '')
    throw new Error(`segment ${seg.seq} of <${seg.type}> ends inside a record`)
  const last = batcher.flush()
  if (last) out.push(...last)
  return out
}
