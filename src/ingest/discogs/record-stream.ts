import fs from 'node:fs'
import zlib from 'node:zlib'
import { DumpFormatError } from '../../errors.ts'
import { parseDumpFileName } from './dump-file-name.ts'
import { DUMP_TYPES, RECORD_ELEMENT, type DumpType } from './records.ts'
import { XmlRecordReader, XmlSyntaxError, type XmlNode } from './xml-records.ts'

/** What a handler is given for each child of the root: its tree (only its name when scanning) and where it sits. */
export interface StreamedRecord {
  node: XmlNode
  /** byte offsets in the uncompressed document */
  start: number
  end: number
}

/** Takes the root's children in file order and turns them into items (batches, segments) now and then. */
export interface RecordHandler<T> {
  record(r: StreamedRecord): T | null
  /** The reader is about to drop what it has read: views of it (reader.slice) must be taken now. */
  beforeFeed?(): void
  /** At the end of the input or before a failure is reported: whatever is pending. */
  flush(): T | null
}

export interface StreamContext {
  type: DumpType
  reader: XmlRecordReader
  /** bytes of the file read so far (compressed bytes for .gz), for progress */
  bytesRead(): number
}

export type StreamEvent<T> = { kind: 'start'; type: DumpType; totalBytes: number } | { kind: 'item'; item: T }

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
 * Streams one dump file (gzipped or plain) through a record handler: checks that the root names a dump
 * type (and the one the file name says), hands over every child of the root, and reports bad input as a
 * DumpFormatError naming the file, the record and the byte offset — after the handler's pending items,
 * so that everything read whole before the failure can still be committed. Memory stays bounded by one
 * input chunk and what the handler holds, whatever the file's size.
 *
 * `scan` reads records without building their trees (they are checked all the same): for cutting the
 * file into segments that are parsed elsewhere. The handler, made once the root is known, cannot name
 * the last good record's id when scanning; readers add it (LastGoodRecord).
 */
export async function* readDumpStream<T>(
  file: string,
  scan: boolean,
  handlerFor: (ctx: StreamContext) => RecordHandler<T>,
): AsyncGenerator<StreamEvent<T>> {
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
  const reader = new XmlRecordReader({ scan })

  let type: DumpType | null = null
  let recordElement = ''
  let handler: RecordHandler<T> | null = null
  /** record elements read whole */
  let recordNo = 0
  const where = (offset?: number, id?: number) => ({
    record: recordNo + 1,
    ...(id !== undefined ? { id } : {}),
    ...(offset !== undefined ? { byteOffset: offset } : {}),
  })
  // The failing record was not read, but its start tag (where the reader stopped) usually names its id.
  const syntaxError = (err: XmlSyntaxError) => {
    const head = reader.pending.slice(0, 300)
    const m =
      /^\s*<\w+[^>]*?\sid="(\d+)"/.exec(head) ??
      /^\s*<\w+>\s*(?:<images>[\s\S]*?<\/images>)?\s*<id>(\d+)<\/id>/.exec(head)
    return new DumpFormatError(
      file,
      where(err.charOffset, m ? Number(m[1]) : undefined),
      `XML syntax error: ${err.message}`,
    )
  }

  let failure: DumpFormatError | null = null
  try {
    const drain = function* (): Generator<StreamEvent<T>> {
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
            throw new DumpFormatError(
              file,
              { byteOffset: 0 },
              `the file is named as ${named.type} but holds <${t}>`,
            )
          type = t
          recordElement = RECORD_ELEMENT[t]
          handler = handlerFor({ type: t, reader, bytesRead: () => input.bytesRead })
          yield { kind: 'start', type: t, totalBytes: stat.size }
          continue
        }
        if (ev.node.name === recordElement) recordNo++
        const item = handler!.record(ev)
        if (item !== null) yield { kind: 'item', item }
      }
    }
    for await (const chunk of stream) {
      ;(handler as RecordHandler<T> | null)?.beforeFeed?.()
      reader.feed(chunk as Buffer) // bytes: the tokenizer decodes only text values
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
      throw new DumpFormatError(
        file,
        where(reader.offset),
        `unexpected end of file ${inside} (truncated dump?)`,
      )
    }
  } catch (err) {
    if (err instanceof DumpFormatError) failure = err
    else if (
      (err as { code?: string }).code?.startsWith('Z_') ||
      /unexpected end of file|incorrect header check|invalid/i.test((err as Error).message)
    ) {
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
  const last = (handler as RecordHandler<T> | null)?.flush() ?? null
  if (last !== null) yield { kind: 'item', item: last }
  if (failure) throw failure
}
