import { DumpFormatError } from '../../errors.ts'
import type { DumpType } from './records.ts'
import { RecordBatcher, type BatchOptions } from './record-batcher.ts'
import type { SegmentOptions } from './record-segments.ts'
import { readDumpStream, type StreamContext } from './record-stream.ts'
import type { SegmentParseOptions } from './segment-parser.ts'
import { BatchCarry, type EncodedBatch, type Encoding } from './staging-batch.ts'

export interface ReadOptions {
  encoding: Encoding
  /** YYYYMMDD of the dump: new records are written with it as first and last seen */
  dumpDate: string
  /** records per batch (a batch is also cut at batchChars of encoded rows) */
  batchRecords?: number
  batchChars?: number
  /** records to read without emitting them (resume after a failed run) */
  skipRecords?: number
}

/** What the reader emits: encoded staging batches plus the bookkeeping the importer reports. */
export interface ParsedBatch extends EncodedBatch {
  /** bytes of the file consumed so far (compressed bytes for .gz), for progress and ETA */
  bytesRead: number
  /** records read but not emitted in this stretch: skipped on resume, or without a usable id */
  skippedNoId: number
  skippedResume: number
  droppedRows: number
  /** unknown element paths seen since the previous batch */
  unknown: Record<string, number>
  /** id of the last record read whole in this stretch (also when skipped on resume), for error reports */
  lastGoodId?: number
}

export type ReaderEvent =
  { kind: 'start'; type: DumpType; totalBytes: number } | { kind: 'batch'; batch: ParsedBatch }

const DEFAULT_BATCH_RECORDS = 2000
const DEFAULT_BATCH_CHARS = 8 << 20

/** The reader's options with their defaults, as a batcher takes them. */
function batchOptionsOf(opts: ReadOptions): BatchOptions {
  return {
    encoding: opts.encoding,
    dumpDate: opts.dumpDate,
    batchRecords: opts.batchRecords ?? DEFAULT_BATCH_RECORDS,
    batchChars: opts.batchChars ?? DEFAULT_BATCH_CHARS,
  }
}

/** How a file is cut into segments and each parsed, from the reader's options. */
export function segmentPlan(opts: ReadOptions): { segments: SegmentOptions; parse: SegmentParseOptions } {
  const { batchRecords, ...parse } = batchOptionsOf(opts)
  return {
    // A record's XML is about twice its encoded rows: a segment cut at 2 × batchChars makes about one batch.
    segments: { records: batchRecords, bytes: 2 * parse.batchChars, skipRecords: opts.skipRecords },
    parse,
  }
}

/**
 * The id of the last record read whole, followed across batches: a segmenting error (syntax, truncation)
 * is found where no record is parsed, so it gets the id from here.
 */
export class LastGoodRecord {
  private id: number | undefined

  see(batch: ParsedBatch): void {
    if (batch.lastGoodId !== undefined) this.id = batch.lastGoodId
  }

  annotate(err: unknown): unknown {
    if (!(err instanceof DumpFormatError) || this.id === undefined || err.where.lastGoodId !== undefined)
      return err
    return new DumpFormatError(err.file, { ...err.where, lastGoodId: this.id }, err.reason, {
      cause: err.cause,
    })
  }
}

/**
 * Streams one dump file into encoded staging batches in one pass, in the calling thread (parse-workers.ts
 * runs it in a worker, or spreads the parsing over several). Memory stays bounded by one input chunk, one
 * record tree and one batch, whatever the file's size. On bad input the records read whole before the
 * failure are emitted, then a DumpFormatError names the file, the record and the offset.
 */
export async function* readDumpFile(file: string, opts: ReadOptions): AsyncGenerator<ReaderEvent> {
  const batchOptions = batchOptionsOf(opts)
  const carry = new BatchCarry()
  const lastGood = new LastGoodRecord()
  const batchers = (ctx: StreamContext) =>
    new RecordBatcher(ctx.type, batchOptions, carry, ctx.bytesRead, opts.skipRecords)
  try {
    for await (const ev of readDumpStream(file, false, batchers)) {
      if (ev.kind === 'start') {
        yield ev
        continue
      }
      for (const batch of ev.item) {
        lastGood.see(batch)
        yield { kind: 'batch', batch }
      }
    }
  } catch (err) {
    throw lastGood.annotate(err)
  }
}
