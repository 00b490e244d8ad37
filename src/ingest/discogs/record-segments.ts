import fs from 'node:fs'
import zlib from 'node:zlib'
import { DumpFormatError } from '../../errors.ts'
import { parseDumpFileName } from './dump-file-name.ts'
import { DUMP_TYPES, RECORD_ELEMENT, type DumpType } from './records.ts'
import { XmlRecordReader, XmlSyntaxError } from './xml-records.ts'

/**
 * A run of whole records cut out of a dump, to be parsed on its own (segment-parser.ts), in this thread
 * or in a worker. Cutting is cheap next to parsing: the records are only scanned, which checks them
 * exactly as parsing does (same errors, same offsets) but builds nothing, so every syntax error is found
 * here, in file order, and a segment always parses.
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

export type SegmentEvent = { kind: 'start'; type: DumpType; totalBytes: number } | { kind: 'segment'; segment: RecordSegment }

export interface SegmentOptions {
  /** record elements per segment at most */
  records: number
  /** a segment is also cut once it holds this many bytes */
  bytes: number
  /** records to skip from the start of the file (resume) */
  skipRecords?: number
}

async function isGzip(file: string): Promise<boolean> {
  const fh = await fs.promises.open(file, 'r')
  try {
    const b = Buffer.alloc(2)
    const { bytesRead } = await fh.read(b, 0, 2, 0)
    return bytesRead === 2 && b[0] === 0x1f && b[1] === 0x8b
  } finally {
    await fh.close()
  }
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

/**
 * Streams one dump file (gzipped or plain) into record segments. Memory stays bounded by one input chunk
 * and one segment, whatever the file's size. On bad input the records read whole before the failure go
 * out as a last segment, then a DumpFormatError names the file, the record and the offset (the id of the
 * last good record is known only to whoever parses the segments: readers add it).
 */
export async function* segmentDumpFile(file: string, opts: SegmentOptions): AsyncGenerator<SegmentEvent> {
  const named = parseDumpFileName(file)
  let stat: fs.Stats
  try {
    stat = await fs.promises.stat(file)
  } catch (err) {
    throw new DumpFormatError(file, {}, `cannot read: ${(err as Error).message}`, { cause: err })
  }
  const gz = await isGzip(file)
  const input = fs.createReadStream(file, { highWaterMark: 1 << 20 })
  const stream: NodeJS.ReadableStream = gz ? input.pipe(zlib.createGunzip({ chunkSize: 256 << 10 })) : input
  if (gz) input.on('error', (err) => (stream as zlib.Gunzip).destroy(err))
  const reader = new XmlRecordReader({ scan: true })

  let type: DumpType | null = null
  let recordElement = ''
  let seq = 0
  let skipLeft = opts.skipRecords ?? 0
  /** record elements scanned whole, in earlier segments and in the pending one */
  let recordNo = 0
  // The pending segment: bytes copied before each feed, plus the run scanned since.
  const pending = new SegmentBytes()
  let segOffset = -1
  let segRecords = 0
  let runFrom = -1
  let runTo = -1
  const keepRun = () => {
    if (runFrom < 0) return
    pending.append(reader.slice(runFrom, runTo))
    runFrom = runTo = -1
  }
  const cut = (): SegmentEvent | null => {
    keepRun()
    if (pending.length === 0) return null
    const recordsBefore = recordNo - segRecords
    const skip = Math.min(skipLeft, segRecords)
    skipLeft -= skip
    const segment: RecordSegment = {
      type: type!,
      seq: seq++,
      bytes: pending.take(),
      offset: segOffset,
      recordsBefore,
      skip,
      bytesRead: input.bytesRead,
    }
    segOffset = -1
    segRecords = 0
    return { kind: 'segment', segment }
  }
  const where = (offset?: number, id?: number) => ({
    record: recordNo + 1,
    ...(id !== undefined ? { id } : {}),
    ...(offset !== undefined ? { byteOffset: offset } : {}),
  })
  // The failing record was not scanned, but its start tag (where the reader stopped) usually names its id.
  const syntaxError = (err: XmlSyntaxError) => {
    const head = reader.pending.slice(0, 300)
    const m = /^\s*<\w+[^>]*?\sid="(\d+)"/.exec(head) ?? /^\s*<\w+>\s*(?:<images>[\s\S]*?<\/images>)?\s*<id>(\d+)<\/id>/.exec(head)
    return new DumpFormatError(file, where(err.charOffset, m ? Number(m[1]) : undefined), `XML syntax error: ${err.message}`)
  }

  let failure: DumpFormatError | null = null
  try {
    const drain = function* (): Generator<SegmentEvent> {
      for (;;) {
        const ev = reader.next()
        if (ev === null || ev.kind === 'end') return
        if (ev.kind === 'root') {
          const t = (DUMP_TYPES as readonly string[]).includes(ev.name) ? (ev.name as DumpType) : null
          if (t === null)
            throw new DumpFormatError(
              file,
              { byteOffset: 0 },
              `not a Discogs dump: root element <${ev.name}>, expected one of ${DUMP_TYPES.map((x) => `<${x}>`).join(', ')}`,
            )
          if (named.type && named.type !== t)
            throw new DumpFormatError(file, { byteOffset: 0 }, `the file is named as ${named.type} but holds <${t}>`)
          type = t
          recordElement = RECORD_ELEMENT[t]
          yield { kind: 'start', type: t, totalBytes: stat.size }
          continue
        }
        if (segOffset < 0) segOffset = ev.start
        if (runFrom < 0) runFrom = ev.start
        runTo = ev.end
        if (ev.node.name === recordElement) {
          recordNo++
          segRecords++
        }
        if (segRecords >= opts.records || pending.length + (runTo - runFrom) >= opts.bytes) yield cut()!
      }
    }
    for await (const chunk of stream) {
      keepRun() // before feeding drops what has been read
      reader.feed(chunk as Buffer)
      try {
        yield* drain()
      } catch (err) {
        if (err instanceof XmlSyntaxError) throw syntaxError(err)
        throw err
      }
    }
    if (type === null) {
      const head = reader.pending.trim()
      throw new DumpFormatError(file, { byteOffset: 0 }, head ? 'not XML: no root element' : 'empty file')
    }
    if (!reader.done) {
      const inside = reader.pending.trimStart().length > 0 ? `inside <${recordElement}>` : `before </${type}>`
      throw new DumpFormatError(file, where(reader.offset), `unexpected end of file ${inside} (truncated dump?)`)
    }
  } catch (err) {
    if (err instanceof DumpFormatError) failure = err
    else if ((err as { code?: string }).code?.startsWith('Z_') || /unexpected end of file|incorrect header check|invalid/i.test((err as Error).message)) {
      failure = new DumpFormatError(
        file,
        { byteOffset: input.bytesRead, record: recordNo + 1 },
        `corrupt or truncated gzip: ${(err as Error).message} (byte offset is in the compressed file)`,
        { cause: err },
      )
    } else throw err
  } finally {
    input.destroy()
  }
  // Everything read whole before the end (or the failure) still goes out, so it can be committed.
  const last = cut()
  if (last) yield last
  if (failure) throw failure
}
