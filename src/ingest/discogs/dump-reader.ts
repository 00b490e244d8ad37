import fs from 'node:fs'
import path from 'node:path'
import zlib from 'node:zlib'
import { DumpFormatError } from '../../errors.ts'
import { DUMP_TYPES, RECORD_ELEMENT, parseRecord, recordId, type DumpType } from './records.ts'
import type { StageTable } from '../../db/repositories/catalog-staging.ts'
import { StagingBatch, type EncodedBatch, type Encoding } from './staging-batch.ts'
import { XmlRecordReader, XmlSyntaxError } from './xml-records.ts'

const NAME = /^discogs_(\d{8})_(artists|labels|masters|releases)\.xml(\.gz)?$/

export interface DumpFileName {
  type: DumpType | null
  dumpDate: string | null
}

/** Type and dump date from a file name like discogs_20200806_releases.xml.gz (null when not named so). */
export function parseDumpFileName(file: string): DumpFileName {
  const m = NAME.exec(path.basename(file))
  return m ? { dumpDate: m[1], type: m[2] as DumpType } : { type: null, dumpDate: null }
}

/** Dump files in a directory (discogs_*.xml / .xml.gz), artists → labels → masters → releases, by date. */
export function dumpFilesIn(dir: string): string[] {
  const order = (f: string) => {
    const n = parseDumpFileName(f)
    return `${n.dumpDate ?? ''}:${n.type ? DUMP_TYPES.indexOf(n.type) : 9}:${f}`
  }
  return fs
    .readdirSync(dir)
    .filter((f) => NAME.test(f))
    .sort((a, b) => order(a).localeCompare(order(b)))
    .map((f) => path.join(dir, f))
}

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
}

export type ReaderEvent = { kind: 'start'; type: DumpType; totalBytes: number } | { kind: 'batch'; batch: ParsedBatch }

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
 * Streams one dump file into encoded staging batches. Memory stays bounded by one input chunk, one
 * record tree and one batch, whatever the file's size. On bad input the records read whole before the
 * failure are emitted as a last batch, then a DumpFormatError names the file, the record and the offset.
 */
export async function* readDumpFile(file: string, opts: ReadOptions): AsyncGenerator<ReaderEvent> {
  const batchRecords = opts.batchRecords ?? 2000
  const batchChars = opts.batchChars ?? 8 << 20
  let skipLeft = opts.skipRecords ?? 0
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
  const reader = new XmlRecordReader()
  const sizeHints = new Map<StageTable, number>()

  let type: DumpType | null = null
  let recordElement = ''
  let batch: StagingBatch | null = null
  let recordNo = 0
  let lastGoodId: number | undefined
  let skippedNoId = 0
  let skippedResume = 0
  let dropped = 0
  let unknown: Record<string, number> = {}
  const countUnknown = (p: string) => {
    unknown[p] = (unknown[p] ?? 0) + 1
  }
  const emit = (): ParsedBatch => {
    const b = batch!
    const out: ParsedBatch = {
      ...b.take(),
      bytesRead: input.bytesRead,
      skippedNoId,
      skippedResume,
      droppedRows: dropped + b.droppedRows,
      unknown,
    }
    batch = new StagingBatch(type!, opts.encoding, opts.dumpDate, sizeHints)
    skippedNoId = skippedResume = dropped = 0
    unknown = {}
    return out
  }
  const where = (offset?: number, id?: number) => ({
    record: recordNo + 1,
    ...(id !== undefined ? { id } : {}),
    ...(lastGoodId !== undefined ? { lastGoodId } : {}),
    ...(offset !== undefined ? { byteOffset: offset } : {}),
  })

  // The failing record was not parsed, but its start tag (where the reader stopped) usually names its id.
  const syntaxError = (err: XmlSyntaxError) => {
    const head = reader.pending.slice(0, 300)
    const m = /^\s*<\w+[^>]*?\sid="(\d+)"/.exec(head) ?? /^\s*<\w+>\s*(?:<images>[\s\S]*?<\/images>)?\s*<id>(\d+)<\/id>/.exec(head)
    return new DumpFormatError(file, where(err.charOffset, m ? Number(m[1]) : undefined), `XML syntax error: ${err.message}`)
  }
  let failure: DumpFormatError | null = null
  try {
    const drain = function* (): Generator<ReaderEvent> {
      for (;;) {
        const ev = reader.next()
        if (ev === null) return
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
          batch = new StagingBatch(t, opts.encoding, opts.dumpDate, sizeHints)
          yield { kind: 'start', type: t, totalBytes: stat.size }
          continue
        }
        if (ev.kind === 'end') return
        const node = ev.node
        if (node.name !== recordElement) {
          countUnknown(`${type}/${node.name}`)
          continue
        }
        recordNo++
        if (skipLeft > 0) {
          skipLeft--
          skippedResume++
          lastGoodId = recordId(node) ?? lastGoodId
          continue
        }
        const rec = parseRecord(type!, node, countUnknown)
        if (rec === null) {
          skippedNoId++
          continue
        }
        if (batch!.has(rec.record.id)) yield { kind: 'batch', batch: emit() }
        batch!.add(rec)
        lastGoodId = rec.record.id
        if (batch!.records >= batchRecords || batch!.size >= batchChars) yield { kind: 'batch', batch: emit() }
      }
    }
    for await (const chunk of stream) {
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
      throw new DumpFormatError(file, where(reader.offset), `unexpected end of file ${inside} (truncated dump?)`)
    }
  } catch (err) {
    if (err instanceof DumpFormatError) failure = err
    else if ((err as { code?: string }).code?.startsWith('Z_') || /unexpected end of file|incorrect header check|invalid/i.test((err as Error).message)) {
      failure = new DumpFormatError(
        file,
        { byteOffset: input.bytesRead, record: recordNo + 1, ...(lastGoodId !== undefined ? { lastGoodId } : {}) },
        `corrupt or truncated gzip: ${(err as Error).message} (byte offset is in the compressed file)`,
        { cause: err },
      )
    } else throw err
  } finally {
    input.destroy()
  }
  // Everything read whole before the end (or the failure) still goes out, so it can be committed.
  const last = batch as StagingBatch | null
  if (last && (last.records > 0 || skippedNoId > 0 || skippedResume > 0 || Object.keys(unknown).length > 0))
    yield { kind: 'batch', batch: emit() }
  if (failure) throw failure
}
