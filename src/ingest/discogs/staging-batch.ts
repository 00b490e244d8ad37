import crypto from 'node:crypto'
import { STAGE_TABLES_BY_KIND, TRACK_NUMBER_DIGITS, type StageTable } from '../../db/repositories/catalog-staging.ts'
import type {
  ArtistRecord,
  Credit,
  DiscogsRecord,
  DumpType,
  LabelRecord,
  MasterRecord,
  NamedRef,
  ReleaseRecord,
} from './records.ts'

/**
 * Turns typed records into staging rows, already encoded for the loader: PostgreSQL COPY text for the
 * server, JSON arrays for the embedded database (which has no COPY). Encoding happens where parsing
 * happens (the parse worker), so the writing thread only ships bytes.
 *
 * Rows are written as UTF-8 straight into one growable byte buffer per table, not built as strings:
 * a batch is ~70,000 rows, and keeping that many small strings alive until the batch is sent made the
 * garbage collector the parse worker's largest cost. The buffers are handed to the writing thread
 * without a copy (transferred) and go to COPY as they are.
 *
 * Each record's content hash is taken over its encoded rows: equal hashes mean the catalog already holds
 * exactly these rows, so the merge skips the record. HASH_VERSION is part of the hash so that a change to
 * what the parser extracts makes the next import rewrite every record once.
 *
 * Tracks are numbered 1…n within the batch; a track row starts with its number and its parent's, a track
 * credit row with its track's number (catalog-staging.ts says why). In COPY text the numbers are written
 * with a fixed width and their byte offsets are kept, so the writer can turn them into track ids in place.
 */

export type Encoding = 'copy' | 'json'
type Value = string | number | boolean | null | string[]

// v2: rows are hashed without their batch-relative track numbers (the track key stands for them).
const HASH_VERSION = Buffer.from('discograph-discogs-v2\n')
/** `ord` is smallint: rows past it are dropped (and counted as skipped) rather than failing a batch. */
const MAX_ORD = 32767

export interface EncodedBatch {
  type: DumpType
  /** encoded rows per staging table: COPY text, or a JSON array text, as UTF-8 */
  tables: Partial<Record<StageTable, Uint8Array>>
  /** rows per staging table */
  rows: Partial<Record<StageTable, number>>
  /**
   * COPY text only: byte offsets in `tables[t]` of the fixed-width track numbers (a track's own and its
   * parent's; a credit's track), for the writer to rewrite into ids.
   */
  trackNumbers: Partial<Record<StageTable, Int32Array>>
  records: number
  /** the records' Discogs ids, in batch order (the writer checks which are already stored) */
  ids: number[]
  firstId: number
  lastId: number
}

/** The ArrayBuffers of a batch, to transfer (not copy) it to another thread. */
export function batchBuffers(b: EncodedBatch): ArrayBuffer[] {
  const out = new Set<ArrayBuffer>()
  for (const a of [...Object.values(b.tables), ...Object.values(b.trackNumbers)]) if (a) out.add(a.buffer as ArrayBuffer)
  return [...out]
}

const TAB = 9
const LF = 10
const BACKSLASH = 92

/** Node's native UTF-8 writer (Buffer.prototype, not in its type declarations): no argument checks. */
interface Utf8Writer {
  utf8Write(s: string, offset: number): number
}

/** Characters COPY text escapes, in a field and in a quoted array element. */
const COPY_SPECIAL = /[\t\n\r\\]/
const ELEMENT_SPECIAL = /[\t\n\r\\"]/

/** A growable UTF-8 byte buffer. Every buffer has an ArrayBuffer of its own, so it can be transferred. */
class ByteSink {
  buf: Buffer
  len = 0
  /** rows written (JSON needs a separator between rows) */
  rows = 0

  constructor(size: number) {
    this.buf = Buffer.allocUnsafeSlow(size) // not from Node's shared pool: transferable
  }

  ensure(n: number): void {
    if (this.len + n <= this.buf.length) return
    let size = this.buf.length * 2
    while (size < this.len + n) size *= 2
    const next = Buffer.allocUnsafeSlow(size)
    this.buf.copy(next, 0, 0, this.len)
    this.buf = next
  }

  byte(b: number): void {
    this.ensure(1)
    this.buf[this.len++] = b
  }

  /** A string known to be ASCII without special characters (numbers, keywords). */
  ascii(s: string): void {
    this.ensure(s.length)
    const b = this.buf
    let p = this.len
    for (let i = 0; i < s.length; i++) b[p++] = s.charCodeAt(i)
    this.len = p
  }

  /**
   * Text as UTF-8. `copy`: with COPY text escapes (backslash, newline, carriage return, tab); `element`
   * additionally escapes `"` and `\` for a quoted array element inside COPY text. `raw`: as is (JSON
   * text, already escaped by JSON.stringify).
   */
  text(s: string, mode: 'copy' | 'element' | 'raw'): void {
    const n = s.length
    // Most values need no escape: then the native encoder writes them (a third of the JS loop's cost;
    // it also turns a lone surrogate into U+FFFD).
    if (mode === 'raw' || !(mode === 'copy' ? COPY_SPECIAL : ELEMENT_SPECIAL).test(s)) {
      this.ensure(n * 3)
      this.len += (this.buf as unknown as Utf8Writer).utf8Write(s, this.len)
      return
    }
    this.ensure(n * 4 + 4) // worst case: a backslash inside an array element is 4 bytes
    const b = this.buf
    let p = this.len
    const element = mode === 'element'
    for (let i = 0; i < n; i++) {
      const c = s.charCodeAt(i)
      if (c < 0x80) {
        if (c > BACKSLASH || (c > 34 && c < BACKSLASH) || (c > 13 && c < 34)) b[p++] = c
        else if (c === BACKSLASH) {
          b[p++] = BACKSLASH
          b[p++] = BACKSLASH
          if (element) {
            b[p++] = BACKSLASH
            b[p++] = BACKSLASH
          }
        } else if (c === 34) {
          if (element) {
            b[p++] = BACKSLASH
            b[p++] = BACKSLASH
          }
          b[p++] = 34
        } else if (c === LF) {
          b[p++] = BACKSLASH
          b[p++] = 110 // n
        } else if (c === 13) {
          b[p++] = BACKSLASH
          b[p++] = 114 // r
        } else if (c === TAB) {
          b[p++] = BACKSLASH
          b[p++] = 116 // t
        } else b[p++] = c
      } else if (c < 0x800) {
        b[p++] = 0xc0 | (c >> 6)
        b[p++] = 0x80 | (c & 0x3f)
      } else if (c >= 0xd800 && c < 0xdc00 && i + 1 < n && (s.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
        const cp = 0x10000 + ((c - 0xd800) << 10) + (s.charCodeAt(++i) - 0xdc00)
        b[p++] = 0xf0 | (cp >> 18)
        b[p++] = 0x80 | ((cp >> 12) & 0x3f)
        b[p++] = 0x80 | ((cp >> 6) & 0x3f)
        b[p++] = 0x80 | (cp & 0x3f)
      } else {
        // A lone surrogate becomes U+FFFD, as Buffer.from(string) does.
        const cp = c >= 0xd800 && c < 0xe000 ? 0xfffd : c
        b[p++] = 0xe0 | (cp >> 12)
        b[p++] = 0x80 | ((cp >> 6) & 0x3f)
        b[p++] = 0x80 | (cp & 0x3f)
      }
    }
    this.len = p
  }

  /** A non-negative integer, left-padded with zeros to `width` digits (PostgreSQL reads 000042 as 42). */
  padded(v: number, width: number): void {
    this.ensure(width)
    const b = this.buf
    for (let i = this.len + width - 1; i >= this.len; i--) {
      b[i] = 48 + (v % 10)
      v = Math.floor(v / 10)
    }
    this.len += width
  }

  copyFrom(src: Buffer, start: number, end: number): void {
    this.ensure(end - start)
    src.copy(this.buf, this.len, start, end)
    this.len += end - start
  }

  view(): Uint8Array {
    return this.buf.subarray(0, this.len)
  }
}

const STAGE_TAG = new Map<StageTable, number>(
  (Object.values(STAGE_TABLES_BY_KIND) as StageTable[][]).flat().map((t, i) => [t, 65 + i]),
)

/** One child row of the record being encoded: where its content sits in the record's scratch buffer. */
interface PendingRow {
  table: StageTable
  start: number
  end: number
  /** leading track numbers (null: none, e.g. a top-level track's parent), or undefined for plain rows */
  numbers: (number | null)[] | undefined
}

export class StagingBatch {
  private readonly sinks = new Map<StageTable, ByteSink>()
  private readonly numberOffsets = new Map<StageTable, number[]>()
  private readonly ids = new Set<number>()
  private readonly idList: number[] = []
  /** tracks in the batch so far: a track's number is its place in the batch (1-based) */
  private tracks = 0
  records = 0
  firstId = 0
  lastId = 0
  /** rows dropped because a record had more than MAX_ORD children of one kind */
  droppedRows = 0
  // per-record scratch: the rows of the record, which are also what its content hash is taken over
  private readonly scratch = new ByteSink(64 << 10)
  private pending: PendingRow[] = []
  private readonly dumpDate: string

  /**
   * @param sizeHints bytes per table of a previous batch, to size the buffers once
   * @param dumpDate YYYYMMDD, written into the core rows' first/last seen columns
   */
  constructor(
    readonly type: DumpType,
    readonly encoding: Encoding,
    dumpDate: string,
    private readonly sizeHints: Map<StageTable, number> = new Map(),
  ) {
    this.dumpDate = dumpDate
  }

  /** True when the batch already holds this id: a repeated id must go to the next batch (upsert once). */
  has(id: number): boolean {
    return this.ids.has(id)
  }

  /** Encoded size so far, to cut batches by volume as well as by count. */
  get size(): number {
    let n = 0
    for (const s of this.sinks.values()) n += s.len
    return n
  }

  add(rec: DiscogsRecord): void {
    this.pending = []
    this.scratch.len = 0
    switch (rec.type) {
      case 'artists':
        this.artist(rec.record)
        break
      case 'labels':
        this.label(rec.record)
        break
      case 'masters':
        this.master(rec.record)
        break
      case 'releases':
        this.release(rec.record)
        break
    }
    const id = rec.record.id
    this.ids.add(id)
    this.idList.push(id)
    if (this.records === 0) this.firstId = id
    this.lastId = id
    this.records++
  }

  take(): EncodedBatch {
    const tables: EncodedBatch['tables'] = {}
    const rows: EncodedBatch['rows'] = {}
    const trackNumbers: EncodedBatch['trackNumbers'] = {}
    for (const t of STAGE_TABLES_BY_KIND[this.type]) {
      const s = this.sinks.get(t)
      if (!s || s.rows === 0) continue
      if (this.encoding === 'json') s.byte(93) // ]
      tables[t] = s.view()
      rows[t] = s.rows
      this.sizeHints.set(t, s.len)
      const offsets = this.numberOffsets.get(t)
      if (offsets) trackNumbers[t] = Int32Array.from(offsets)
    }
    const { type, records, idList: ids, firstId, lastId } = this
    return { type, tables, rows, trackNumbers, records, ids, firstId, lastId }
  }

  private sink(table: StageTable): ByteSink {
    let s = this.sinks.get(table)
    if (!s) {
      s = new ByteSink(Math.max(4096, Math.ceil((this.sizeHints.get(table) ?? 0) * 1.1)))
      if (this.encoding === 'json') s.byte(91) // [
      this.sinks.set(table, s)
    }
    return s
  }

  /** Writes one row's fields into the scratch buffer: COPY text with a line end, or a JSON array. */
  private fields(values: Value[]): void {
    const out = this.scratch
    if (this.encoding === 'json') return out.text(JSON.stringify(values), 'raw')
    for (let i = 0; i < values.length; i++) {
      if (i > 0) out.byte(TAB)
      const v = values[i]
      if (v === null) {
        out.byte(BACKSLASH)
        out.byte(78) // N
      } else if (typeof v === 'string') out.text(v, 'copy')
      else if (typeof v === 'number') out.ascii(String(v))
      else if (typeof v === 'boolean') out.byte(v ? 116 : 102) // t / f
      else {
        out.byte(123) // {
        for (let j = 0; j < v.length; j++) {
          if (j > 0) out.byte(44) // ,
          out.byte(34)
          out.text(v[j], 'element')
          out.byte(34)
        }
        out.byte(125) // }
      }
    }
    out.byte(LF)
  }

  private child(table: StageTable, values: Value[]): void {
    this.scratch.byte(STAGE_TAG.get(table)!)
    const start = this.scratch.len
    this.fields(values)
    this.pending.push({ table, start, end: this.scratch.len, numbers: undefined })
  }

  /**
   * A row led by batch-relative track numbers, which are not content: the hash sees `hashKey` (the track
   * identity) in their place.
   */
  private numbered(table: StageTable, numbers: (number | null)[], hashKey: string, values: Value[]): void {
    const s = this.scratch
    s.byte(STAGE_TAG.get(table)!)
    s.text(hashKey, 'copy')
    s.byte(TAB)
    const start = s.len
    this.fields(values)
    this.pending.push({ table, start, end: s.len, numbers })
  }

  /** Writes the record's core row (with the hash over all its rows), then its children. */
  private finish(core: StageTable, values: Value[]): void {
    const s = this.scratch
    const coreStart = s.len
    this.fields(values)
    const hash = crypto.createHash('sha1').update(HASH_VERSION).update(s.view()).digest('hex')
    const json = this.encoding === 'json'
    const date = this.dumpDate
    // The core row gets its content hash and the dump date columns (first seen, last seen, missing since).
    const coreSink = this.sink(core)
    if (json) {
      if (coreSink.rows > 0) coreSink.byte(44)
      coreSink.copyFrom(s.buf, coreStart, s.len - 1) // without the closing ]
      coreSink.ascii(`,"${hash}","${date}","${date}",null]`)
    } else {
      coreSink.copyFrom(s.buf, coreStart, s.len - 1) // without the line end
      coreSink.ascii(`\t\\\\x${hash}\t${date}\t${date}\t\\N\n`)
    }
    coreSink.rows++
    for (const r of this.pending) {
      const out = this.sink(r.table)
      if (json && out.rows > 0) out.byte(44)
      if (r.numbers === undefined) out.copyFrom(s.buf, r.start, r.end)
      else if (json) {
        out.byte(91)
        out.ascii(r.numbers.map((n) => (n === null ? 'null' : String(n))).join(','))
        out.byte(44)
        out.copyFrom(s.buf, r.start + 1, r.end) // the content's own [ is replaced by the numbers'
      } else {
        let offsets = this.numberOffsets.get(r.table)
        if (!offsets) this.numberOffsets.set(r.table, (offsets = []))
        for (const n of r.numbers) {
          if (n === null) {
            out.byte(BACKSLASH)
            out.byte(78)
          } else {
            offsets.push(out.len)
            out.padded(n, TRACK_NUMBER_DIGITS)
          }
          out.byte(TAB)
        }
        out.copyFrom(s.buf, r.start, r.end)
      }
      out.rows++
    }
  }

  private refs(table: StageTable, owner: number, refs: NamedRef[], nameRequired: boolean): void {
    refs.forEach((r, i) => {
      if (i >= MAX_ORD) return void this.droppedRows++
      this.child(table, [owner, i + 1, r.id, nameRequired ? (r.name ?? '') : r.name])
    })
  }

  private credits(table: StageTable, prefix: Value[], credits: Credit[]): void {
    credits.forEach((c, i) => {
      if (i >= MAX_ORD) return void this.droppedRows++
      this.child(table, [...prefix, i + 1, c.artistId, c.name, c.anv, c.join, c.role, c.tracks])
    })
  }

  private trackCredits(table: StageTable, trackNo: number, key: string, credits: Credit[]): void {
    credits.forEach((c, i) => {
      if (i >= MAX_ORD) return void this.droppedRows++
      this.numbered(table, [trackNo], key, [i + 1, c.artistId, c.name, c.anv, c.join, c.role, c.tracks])
    })
  }

  private artist(a: ArtistRecord): void {
    this.refs('stage_artist_alias', a.id, a.aliases, true)
    this.refs('stage_artist_member', a.id, a.members, true)
    this.refs('stage_artist_group', a.id, a.groups, true)
    this.finish('stage_artist', [a.id, a.name, a.realName, a.profile, a.dataQuality, a.urls, a.nameVariations])
  }

  private label(l: LabelRecord): void {
    this.refs('stage_label_sublabel', l.id, l.sublabels, false)
    this.finish('stage_label', [
      l.id,
      l.name,
      l.contactInfo,
      l.profile,
      l.dataQuality,
      l.urls,
      l.parent?.id ?? null,
      l.parent?.name ?? null,
    ])
  }

  private master(m: MasterRecord): void {
    this.credits('stage_master_artist', [m.id], m.artists)
    for (const g of m.genres) this.child('stage_master_genre', [m.id, g])
    for (const s of m.styles) this.child('stage_master_style', [m.id, s])
    m.videos.forEach((v, i) => {
      if (i >= MAX_ORD) return void this.droppedRows++
      this.child('stage_master_video', [m.id, i + 1, v.src, v.durationS, v.embed, v.title, v.description])
    })
    this.finish('stage_master', [m.id, m.title, m.mainReleaseId, m.year, m.notes, m.dataQuality])
  }

  private release(r: ReleaseRecord): void {
    const id = r.id
    this.credits('stage_release_artist', [id], r.artists)
    this.credits('stage_release_credit', [id], r.credits)
    const limited = <T>(list: T[], f: (x: T, ord: number) => void) =>
      list.forEach((x, i) => (i >= MAX_ORD ? this.droppedRows++ : f(x, i + 1)))
    limited(r.labels, (l, ord) => this.child('stage_release_label', [id, ord, l.id, l.name, l.catno]))
    limited(r.series, (l, ord) => this.child('stage_release_series', [id, ord, l.id, l.name, l.catno]))
    limited(r.formats, (f, ord) =>
      this.child('stage_release_format', [id, ord, f.name, f.qty, f.text, f.descriptions]),
    )
    limited(r.identifiers, (x, ord) =>
      this.child('stage_release_identifier', [id, ord, x.type, x.description, x.value]),
    )
    limited(r.companies, (c, ord) =>
      this.child('stage_release_company', [id, ord, c.id, c.name, c.catno, c.entityType, c.entityTypeName]),
    )
    limited(r.videos, (v, ord) =>
      this.child('stage_release_video', [id, ord, v.src, v.durationS, v.embed, v.title, v.description]),
    )
    for (const g of r.genres) this.child('stage_release_genre', [id, g])
    for (const s of r.styles) this.child('stage_release_style', [id, s])
    // Sub-tracks come after their index track, so its number is known when they are written.
    const numberOf = new Map<string, number>()
    for (const t of r.tracks) {
      const no = ++this.tracks
      numberOf.set(t.key, no)
      const parentNo = t.parentKey === null ? null : (numberOf.get(t.parentKey) ?? null)
      this.numbered('stage_track', [no, parentNo], t.parentKey ?? '', [
        id,
        t.key,
        t.sequence,
        t.position,
        t.title,
        t.durationText,
        t.durationS,
        t.type,
      ])
      this.trackCredits('stage_track_artist', no, t.key, t.artists)
      this.trackCredits('stage_track_credit', no, t.key, t.credits)
    }
    this.finish('stage_release', [
      id,
      r.title,
      r.status,
      r.country,
      r.released,
      r.year,
      r.notes,
      r.dataQuality,
      r.masterId,
      r.isMainRelease,
    ])
  }
}
