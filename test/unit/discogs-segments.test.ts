import fs from 'node:fs'
import path from 'node:path'
import zlib from 'node:zlib'
import { afterAll, describe, expect, it } from 'vitest'
import {
  readDumpFile,
  type ParsedBatch,
  type ReadOptions,
  type ReaderEvent,
} from '../../src/ingest/discogs/dump-reader.ts'
import { readDumpFileInWorkers } from '../../src/ingest/discogs/parse-workers.ts'
import { segmentDumpFile, type RecordSegment } from '../../src/ingest/discogs/record-segments.ts'
import { parseSegment } from '../../src/ingest/discogs/segment-parser.ts'
import { BatchCarry } from '../../src/ingest/discogs/staging-batch.ts'
import { TRACK_NUMBER_DIGITS, type StageTable } from '../../src/db/repositories/catalog-staging.ts'
import { DumpFormatError } from '../../src/errors.ts'
import { FIXTURES } from '../support/cli.ts'
import { tmpDir } from '../support/database.ts'

const RELEASES = path.join(FIXTURES, 'discogs_20200806_releases.xml.gz')
const LABELS = path.join(FIXTURES, 'discogs_20200806_labels.xml.gz')
const dir = tmpDir('discograph-segments-')
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }))

async function batches(events: AsyncIterable<ReaderEvent>): Promise<ParsedBatch[]> {
  const out: ParsedBatch[] = []
  for await (const ev of events) if (ev.kind === 'batch') out.push(ev.batch)
  return out
}

/**
 * What a reader produced, comparable however it was cut into batches: ids and each table's COPY text,
 * with the batch-relative track numbers blanked out.
 */
function digest(bs: ParsedBatch[]) {
  const tables: Record<string, string> = {}
  for (const b of bs)
    for (const [t, data] of Object.entries(b.tables)) {
      const bytes = Buffer.from(data)
      for (const at of b.trackNumbers[t as StageTable] ?? []) bytes.fill('#', at, at + TRACK_NUMBER_DIGITS)
      tables[t] = (tables[t] ?? '') + bytes.toString('utf8')
    }
  return { ids: bs.flatMap((b) => b.ids), records: bs.reduce((n, b) => n + b.records, 0), tables }
}

/** The ids of every batch a reader emits before it fails, and the DumpFormatError it fails with. */
async function untilFailure(
  events: AsyncIterable<ReaderEvent>,
): Promise<{ ids: number[]; error: DumpFormatError }> {
  const ids: number[] = []
  try {
    for await (const ev of events) if (ev.kind === 'batch') ids.push(...ev.batch.ids)
  } catch (error) {
    if (error instanceof DumpFormatError) return { ids, error }
    throw error
  }
  throw new Error('the reader did not fail')
}

async function segments(
  file: string,
  records: number,
  bytes = 1 << 30,
  skipRecords = 0,
): Promise<RecordSegment[]> {
  const out: RecordSegment[] = []
  for await (const ev of segmentDumpFile(file, { records, bytes, skipRecords }))
    if (ev.kind === 'segment') out.push(ev.segment)
  return out
}

const opts: ReadOptions = { encoding: 'copy', dumpDate: '20200806' }

describe('record segments', () => {
  it('cut a dump into runs of whole records, numbered, that parse to what one pass gives', async () => {
    const whole = digest(await batches(readDumpFile(RELEASES, { ...opts, batchRecords: 5000 })))
    expect(whole.records).toBe(1000)
    const segs = await segments(RELEASES, 7)
    expect(segs).toHaveLength(Math.ceil(1000 / 7))
    expect(segs.map((s) => s.seq)).toEqual(segs.map((_, i) => i))
    expect(segs.map((s) => s.recordsBefore)).toEqual(segs.map((_, i) => 7 * i))
    // Each segment starts at its first record, in the uncompressed document.
    for (const s of segs) expect(Buffer.from(s.bytes.subarray(0, 9)).toString()).toBe('<release ')
    const carry = new BatchCarry()
    const parsed = segs.flatMap((s) =>
      parseSegment(s, { encoding: 'copy', dumpDate: '20200806', batchChars: 8 << 20 }, carry),
    )
    expect(digest(parsed)).toEqual(whole)
  })

  it('also cut by size: a segment ends after the record that reaches it', async () => {
    const segs = await segments(RELEASES, 1000, 64 << 10)
    expect(segs.length).toBeGreaterThan(10)
    for (const s of segs.slice(0, -1)) expect(s.bytes.length).toBeGreaterThanOrEqual(64 << 10)
    const counts = segs.map((s, i) => (segs[i + 1]?.recordsBefore ?? 1000) - s.recordsBefore)
    expect(Math.min(...counts)).toBeGreaterThan(0)
    expect(counts.reduce((a, b) => a + b)).toBe(1000)
  })

  it('nested elements named like the record (a label’s sublabels) stay inside their record', async () => {
    const text = zlib.gunzipSync(fs.readFileSync(LABELS)).toString('utf8')
    expect(text).toContain('<sublabels><label')
    const segs = await segments(LABELS, 3)
    expect(segs).toHaveLength(Math.ceil(1000 / 3))
    const parsed = segs.flatMap((s) =>
      parseSegment(s, { encoding: 'copy', dumpDate: '20200806', batchChars: 8 << 20 }, new BatchCarry()),
    )
    expect(parsed.reduce((n, b) => n + b.records, 0)).toBe(1000)
    expect(parsed.flatMap((b) => Object.keys(b.unknown))).toEqual([])

    // As later dumps write them: sublabels with ids and names.
    const file = path.join(dir, 'discogs_20250101_labels.xml')
    fs.writeFileSync(
      file,
      `<labels>\n<label><id>1</id><name>A</name><sublabels><label id="2">B</label><label id="3">C</label></sublabels></label>\n` +
        `<label><id>2</id><name>B</name><parentLabel id="1">A</parentLabel></label>\n</labels>\n`,
    )
    const nested = await segments(file, 1)
    expect(nested.map((s) => Buffer.from(s.bytes).toString())).toEqual([
      '<label><id>1</id><name>A</name><sublabels><label id="2">B</label><label id="3">C</label></sublabels></label>',
      '<label><id>2</id><name>B</name><parentLabel id="1">A</parentLabel></label>',
    ])
  })

  it('resume: the first records are skipped wherever the segments fall, and still name the last good id', async () => {
    const ids = (await batches(readDumpFile(RELEASES, { ...opts, batchRecords: 5000 }))).flatMap((b) => b.ids)
    for (const resumed of [
      await batches(readDumpFile(RELEASES, { ...opts, batchRecords: 7, skipRecords: 10 })),
      await batches(readDumpFileInWorkers(RELEASES, { ...opts, batchRecords: 7, skipRecords: 10 }, 2)),
    ]) {
      expect(resumed.reduce((n, b) => n + b.skippedResume, 0)).toBe(10)
      expect(resumed.flatMap((b) => b.ids)).toEqual(ids.slice(10))
      let skipped = 0
      for (const b of resumed) {
        skipped += b.skippedResume
        expect(b.lastGoodId).toBe(b.ids.at(-1) ?? ids[skipped - 1])
      }
    }
  })
})

describe('parse workers', () => {
  it('one worker or three give the batches one pass in this thread gives, in file order', async () => {
    const here = digest(await batches(readDumpFile(RELEASES, { ...opts, batchRecords: 50 })))
    expect(here.records).toBe(1000)
    for (const n of [1, 3])
      expect(
        digest(await batches(readDumpFileInWorkers(RELEASES, { ...opts, batchRecords: 50 }, n))),
      ).toEqual(here)
  })

  it('a truncated gzip read by three workers: every whole record before the cut, in order, then the error', async () => {
    const whole = (await batches(readDumpFile(RELEASES, opts))).flatMap((b) => b.ids)
    const gz = fs.readFileSync(RELEASES)
    const file = path.join(dir, 'discogs_20200806_releases.xml.gz')
    fs.writeFileSync(file, gz.subarray(0, Math.floor(gz.length * 0.6)))
    const { ids, error } = await untilFailure(readDumpFileInWorkers(file, { ...opts, batchRecords: 30 }, 3))
    expect(error.message).toMatch(/gzip/)
    expect(ids.length).toBeGreaterThan(300)
    expect(ids).toEqual(whole.slice(0, ids.length))
    expect(error.where.lastGoodId).toBe(ids.at(-1))
    expect(error.where.record).toBe(ids.length + 1)
  })

  it('an error found while cutting comes after every record before it, with the last good id', async () => {
    const text = zlib.gunzipSync(fs.readFileSync(RELEASES)).toString('utf8')
    let at = 0
    for (let i = 0; i < 300; i++) at = text.indexOf('<release id="', at + 1)
    const file = path.join(dir, 'discogs_20200806_releases.xml')
    fs.writeFileSync(file, text.slice(0, at) + text.slice(at).replace('</title>', '</titel>'))
    const { ids, error } = await untilFailure(readDumpFileInWorkers(file, { ...opts, batchRecords: 40 }, 2))
    expect(error.message).toMatch(/<\/titel> does not close <title>/)
    expect(error.where.record).toBe(300)
    expect(ids).toHaveLength(299)
    expect(error.where.lastGoodId).toBe(ids.at(-1))
  })
})
