import { RECORD_ELEMENT, type DumpType } from './records.ts'
import {
  readDumpStream,
  type RecordHandler,
  type StreamContext,
  type StreamedRecord,
} from './record-stream.ts'

/**
 * A run of whole records cut out of a dump, to be parsed on its own (segment-parser.ts), in this thread
 * or in a worker. Cutting costs about a sixth of parsing: the records are only scanned, which checks
 * them exactly as parsing does (same errors, same offsets) but builds nothing, so every syntax error is
 * found here, in file order, and a segment always parses.
 */
export interface RecordSegment {
  type: DumpType
  /** position in the file's sequence of segments, from 0 */
  seq: number
  /**
   * The records (and any other children of the root between them, which the parser counts as unknown).
   * Whitespace between records that a chunk boundary separated may be missing: nothing reads it.
   */
  bytes: Uint8Array
  /** byte offset of the first record in the uncompressed document */
  offset: number
  /** record elements before this segment in the file */
  recordsBefore: number
  /** how many of its first records to read without emitting them (resuming a failed run) */
  skip: number
  /** bytes of the file read when the segment was cut (compressed bytes for .gz), for progress */
  bytesRead: number
}

export type SegmentEvent =
  { kind: 'start'; type: DumpType; totalBytes: number } | { kind: 'segment'; segment: RecordSegment }

export interface SegmentOptions {
  /** record elements per segment at most */
  records: number
  /** a segment is also cut once it holds this many bytes */
  bytes: number
  /** records to skip from the start of the file (resume) */
  skipRecords?: number
}

/**
 * The bytes of the segment being cut, copied as they are scanned (so the input chunks can go) into a
 * buffer of its own, which can then be transferred to a worker. It starts at the size of the previous
 * segment, so it is usually allocated once.
 */
class SegmentBytes {
  private buf = new Uint8Array(0)
  length = 0
  private hint = 1 << 20

  append(view: Uint8Array): void {
    const need = this.length + view.length
    if (need > this.buf.length) {
      const grown = new Uint8Array(Math.max(need, this.length === 0 ? this.hint : 2 * this.buf.length))
      grown.set(this.buf.subarray(0, this.length))
      this.buf = grown
    }
    this.buf.set(view, this.length)
    this.length = need
  }

  take(): Uint8Array {
    const out = this.buf.subarray(0, this.length)
    this.hint = Math.ceil(this.length * 1.1)
    this.buf = new Uint8Array(0)
    this.length = 0
    return out
  }
}

/** Cuts the scanned records into segments (see RecordSegment). */
class SegmentCutter implements RecordHandler<RecordSegment> {
  private readonly pending = new SegmentBytes()
  private readonly recordElement: string
  private seq = 0
  private recordNo = 0
  private segOffset = -1
  private segRecords = 0
  // The run of records scanned since the last feed, still in the reader's buffer.
  private runFrom = -1
  private runTo = -1

  constructor(
    private readonly ctx: StreamContext,
    private readonly opts: SegmentOptions,
    private skipLeft = opts.skipRecords ?? 0,
  ) {
    this.recordElement = RECORD_ELEMENT[ctx.type]
  }

  record({ node, start, end }: StreamedRecord): RecordSegment | null {
    if (this.segOffset < 0) this.segOffset = start
    if (this.runFrom < 0) this.runFrom = start
    this.runTo = end
    if (node.name === this.recordElement) {
      this.recordNo++
      this.segRecords++
    }
    const size = this.pending.length + (this.runTo - this.runFrom)
    return this.segRecords >= this.opts.records || size >= this.opts.bytes ? this.flush() : null
  }

  beforeFeed(): void {
    if (this.runFrom < 0) return
    this.pending.append(this.ctx.reader.slice(this.runFrom, this.runTo))
    this.runFrom = this.runTo = -1
  }

  flush(): RecordSegment | null {
    this.beforeFeed()
    if (this.pending.length === 0) return null
    const skip = Math.min(this.skipLeft, this.segRecords)
    this.skipLeft -= skip
    const segment: RecordSegment = {
      type: this.ctx.type,
      seq: this.seq++,
      bytes: this.pending.take(),
      offset: this.segOffset,
      recordsBefore: this.recordNo - this.segRecords,
      skip,
      bytesRead: this.ctx.bytesRead(),
    }
    this.segOffset = -1
    this.segRecords = 0
    return segment
  }
}

/**
 * Streams one dump file into record segments: memory stays bounded by one input chunk and one segment.
 * On bad input the records read whole before the failure go out as a last segment, then the
 * DumpFormatError (without the last good id: whoever parses the segments adds it).
 */
export async function* segmentDumpFile(file: string, opts: SegmentOptions): AsyncGenerator<SegmentEvent> {
  for await (const ev of readDumpStream(file, true, (ctx) => new SegmentCutter(ctx, opts)))
    yield ev.kind === 'start' ? ev : { kind: 'segment', segment: ev.item }
}
