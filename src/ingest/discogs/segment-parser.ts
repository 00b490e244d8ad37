import type { StageTable } from '../../db/repositories/catalog-staging.ts'
import type { ParsedBatch } from './dump-reader.ts'
import { RECORD_ELEMENT, parseRecord, recordId } from './records.ts'
import type { RecordSegment } from './record-segments.ts'
import { StagingBatch, type Encoding } from './staging-batch.ts'
import { XmlRecordReader } from './xml-records.ts'

export interface SegmentParseOptions {
  encoding: Encoding
  /** YYYYMMDD of the dump: new records are written with it as first and last seen */
  dumpDate: string
  /** a batch is cut at this many bytes of encoded rows (and before a record id it already holds) */
  batchChars: number
}

/**
 * Parses one segment of whole records into encoded staging batches: usually one, more when a batch
 * reaches batchChars or the segment holds the same record twice (two versions of a record cannot be
 * merged in one statement). `sizeHints` carries buffer sizes from one batch to the next.
 */
export function parseSegment(seg: RecordSegment, opts: SegmentParseOptions, sizeHints: Map<StageTable, number>): ParsedBatch[] {
  const type = seg.type
  const recordElement = RECORD_ELEMENT[type]
  const reader = new XmlRecordReader({ fragmentOf: { root: type, offset: seg.offset } })
  reader.feed(seg.bytes)
  const out: ParsedBatch[] = []
  let batch = new StagingBatch(type, opts.encoding, opts.dumpDate, sizeHints)
  let skipLeft = seg.skip
  let skippedNoId = 0
  let skippedResume = 0
  let lastGoodId: number | undefined
  let unknown: Record<string, number> = {}
  const countUnknown = (p: string) => {
    unknown[p] = (unknown[p] ?? 0) + 1
  }
  const emit = () => {
    out.push({
      ...batch.take(),
      bytesRead: seg.bytesRead,
      skippedNoId,
      skippedResume,
      droppedRows: batch.droppedRows,
      unknown,
      ...(lastGoodId !== undefined ? { lastGoodId } : {}),
    })
    batch = new StagingBatch(type, opts.encoding, opts.dumpDate, sizeHints)
    skippedNoId = skippedResume = 0
    unknown = {}
  }
  for (;;) {
    const ev = reader.next()
    if (ev === null) break
    if (ev.kind !== 'record') throw new Error(`segment ${seg.seq} of <${type}> holds the end of its root`)
    const node = ev.node
    if (node.name !== recordElement) {
      countUnknown(`${type}/${node.name}`)
      continue
    }
    if (skipLeft > 0) {
      skipLeft--
      skippedResume++
      lastGoodId = recordId(node) ?? lastGoodId
      continue
    }
    const rec = parseRecord(type, node, countUnknown)
    if (rec === null) {
      skippedNoId++
      continue
    }
    if (batch.has(rec.record.id)) emit()
    batch.add(rec)
    lastGoodId = rec.record.id
    if (batch.size >= opts.batchChars) emit()
  }
  // The segmenter cut whole records; anything left over means it and the parser disagree.
  if (reader.offset < seg.offset + seg.bytes.length && reader.pending.trim() !== '')
    throw new Error(`segment ${seg.seq} of <${type}> ends inside a record`)
  if (batch.records > 0 || skippedNoId > 0 || skippedResume > 0 || Object.keys(unknown).length > 0) emit()
  return out
}
