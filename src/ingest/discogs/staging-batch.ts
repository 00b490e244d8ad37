import crypto from 'node:crypto'
import {
  STAGE_TABLES_BY_KIND,
  TRACK_NUMBER_DIGITS,
  TRIGRAM_COUNT_DIGITS,
  type StageTable,
} from '../../db/repositories/catalog-staging.ts'
import { DictionaryWords } from '../../db/search-words.ts'
import { trigramCount } from '../../db/trigram-bands.ts'
import type {
  ArtistRecord,
  CatalogEntry,
  Credit,
  DiscogsRecord,
  DumpType,
  LabelRecord,
  MasterRecord,
  NamedRef,
  ReleaseRecord,
  Video,
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
  /**
   * COPY text only: the searchable texts whose trigram count is the database's to give (beyond ASCII, see
   * trigramCount), per staging table, with the byte offsets of their counts' fixed-width placeholders,
   * which the writer fills in before loading. (JSON leaves them null; the insert counts them.)
   */
  uncounted: Partial<Record<StageTable, { offsets: Int32Array; texts: string[] }>>
  /** words of the batch's searchable texts for the search dictionary, less those the import sent lately */
  words: string[]
  records: number
  /** the records' Discogs ids, in batch order (the writer checks which are already stored) */
  ids: number[]
  firstId: number
  lastId: number
}

/** The ArrayBuffers of a batch, to transfer (not copy) it to another thread. */
export function batchBuffers(b: EncodedBatch): ArrayBuffer[] {
  const out = new Set<ArrayBuffer>()
  const arrays = [
    ...Object.values(b.tables),
    ...Object.values(b.trackNumbers),
    ...Object.values(b.uncounted).map((u) => u?.offsets),
  ]
  for (const a of arrays) if (a) out.add(a.buffer as ArrayBuffer)
  return [...out]
}

const TAB = 9
const LF = 10
const BACKSLASH = 92

/**
 * String.prototype.charCodeAt, called as charCodeAt.call(s, i) by the loops below rather than as
 * s.charCodeAt(i): the strings they get come in more representations (flat, concatenated, sliced,
 * internalized; one or two bytes per character) than V8 tracks per call site, and past that many it
 * looks `s.charCodeAt` up generically for every character (short texts took twice as long).
 */
const charCodeAt = String.prototype.charCodeAt

/** Node's native UTF-8 writer (Buffer.prototype, not in its type declarations): no argument checks. */
interface Utf8Writer {
  utf8Write(s: string, offset: number): number
}

/** Characters COPY text escapes, in a field and in a quoted array element. */
const COPY_SPECIAL = /[\t\n\r\\]/
const ELEMENT_SPECIAL = /[\t\n\r\\"]/
/**
 * Below this length a string is encoded by the JS loop, above it by Node's encoder: a call into C++ costs
 * more than looping over a few characters, and most values (names, positions, roles) are short.
 */
const NATIVE_TEXT_MIN = 24
const NATIVE_COPY_MIN = 64

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
    if (this.len >= this.buf.length) this.ensure(1)
    this.buf[this.len++] = b
  }
  /** A null: `null` in JSON, `\N` in COPY text. */
  nul(json: boolean): void {
    if (json) this.ascii('null')
    else {
      this.byte(BACKSLASH)
      this.byte(78) // N
    }
  }

  /** A string known to be ASCII without special characters (numbers, keywords). */
  ascii(s: string): void {
    const n = s.length
    this.ensure(n)
    const b = this.buf
    const p = this.len
    for (let i = 0; i < n; i++) b[p + i] = charCodeAt.call(s, i)
    this.len = p + n
  }

  /** An integer in decimal, as String(v) writes it. */
  int(v: number): void {
    // Digits by 32-bit integer division (cheaper than Math.floor on doubles); the rare value beyond 31
    // bits, or not an integer, is written by String().
    if (!(v > -0x80000000 && v < 0x80000000) || (v | 0) !== v) return this.ascii(String(v))
    this.ensure(11)
    const b = this.buf
    if (v < 0) {
      b[this.len++] = 45 // -
      v = -v
    }
    let digits = 1
    for (let x = v; x >= 10; x = (x / 10) | 0) digits++
    let p = this.len + digits
    this.len = p
    do {
      const q = (v / 10) | 0
      b[--p] = 48 + v - q * 10
      v = q
    } while (v > 0)
  }

  /**
   * Text as UTF-8. `copy`: with COPY text escapes (backslash, newline, carriage return, tab); `element`
   * additionally escapes `"` and `\` for a quoted array element inside COPY text. `raw`: as is (JSON
   * text, already escaped by JSON.stringify).
   */
  text(s: string, mode: 'copy' | 'element' | 'raw'): void {
    const n = s.length
    // Long values that need no escape go to the native encoder (which also turns a lone surrogate into
    // U+FFFD, as the loop below does).
    if (
      mode === 'raw' ||
      (n >= NATIVE_TEXT_MIN && !(mode === 'copy' ? COPY_SPECIAL : ELEMENT_SPECIAL).test(s))
    ) {
      this.ensure(n * 3)
      this.len += (this.buf as unknown as Utf8Writer).utf8Write(s, this.len)
      return
    }
    this.ensure(n * 4 + 4) // worst case: a backslash inside an array element is 4 bytes
    // Most characters are plain ASCII, copied by a loop that does nothing else; the first one that is
    // not hands the rest over to the general loop.
    const b = this.buf
    const p = this.len
    let i = 0
    for (; i < n; i++) {
      const c = charCodeAt.call(s, i)
      if (c > BACKSLASH ? c < 0x80 : (c > 34 && c < BACKSLASH) || (c > 13 && c < 34)) b[p + i] = c
      else break
    }
    this.len = p + i
    if (i < n) this.escaped(s, i, mode === 'element')
  }

  /** s from index `from` on, with escapes and multi-byte characters (room is ensured by text()). */
  private escaped(s: string, from: number, element: boolean): void {
    const n = s.length
    const b = this.buf
    let p = this.len
    for (let i = from; i < n; i++) {
      const c = charCodeAt.call(s, i)
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
      } else if (c >= 0xd800 && c < 0xdc00 && i + 1 < n && (charCodeAt.call(s, i + 1) & 0xfc00) === 0xdc00) {
        const cp = 0x10000 + ((c - 0xd800) << 10) + (charCodeAt.call(s, ++i) - 0xdc00)
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
    // v is a track's number in one batch (or 0): far below 2^31, so integer division will do
    for (let i = this.len + width - 1; i >= this.len; i--) {
      const q = (v / 10) | 0
      b[i] = 48 + v - q * 10
      v = q
    }
    this.len += width
  }

  copyFrom(src: Buffer, start: number, end: number): void {
    const n = end - start
    this.ensure(n)
    if (n >= NATIVE_COPY_MIN) src.copy(this.buf, this.len, start, end)
    else {
      const b = this.buf
      let p = this.len
      for (let i = start; i < end; i++) b[p++] = src[i]
    }
    this.len += n
  }

  view(): Uint8Array {
    return this.buf.subarray(0, this.len)
  }
}

const STAGE_TAG = new Map<StageTable, number>(
  (Object.values(STAGE_TABLES_BY_KIND) as StageTable[][]).flat().map((t, i) => [t, 65 + i]),
)

/** `sha1` of bytes in one call (Node ≥ 20.12): no Hash object per record. */
const sha1Hex = (data: Uint8Array): string => crypto.hash('sha1', data, 'hex')

/** What a batch hands on to the next batch of the same import: buffer sizes, and the dictionary words already sent. */
export class BatchCarry {
  readonly sizeHints = new Map<StageTable, number>()
  readonly words = new DictionaryWords()
}

export class StagingBatch {
  private readonly sinks = new Map<StageTable, ByteSink>()
  private readonly numberOffsets = new Map<StageTable, number[]>()
  private readonly uncounted = new Map<StageTable, { offsets: number[]; texts: string[] }>()
  private readonly ids = new Set<number>()
  private readonly idList: number[] = []
  /** tracks in the batch so far: a track's number is its place in the batch (1-based) */
  private tracks = 0
  records = 0
  firstId = 0
  lastId = 0
  /** rows dropped because a record had more than MAX_ORD children of one kind */
  droppedRows = 0
  /**
   * Per-record scratch: HASH_VERSION, then the rows of the record, each led by a table tag — the bytes
   * its content hash is taken over. The rows are copied from here into their tables' buffers.
   */
  private readonly scratch = new ByteSink(64 << 10)
  // The record's child rows, as parallel arrays reused from record to record (no object per row):
  // table, where the row's content sits in the scratch, and its leading track numbers (-1: null).
  private rowTable: StageTable[] = []
  private rowStart: number[] = []
  private rowEnd: number[] = []
  private rowNumbers: number[] = []
  private rowNo0: number[] = []
  private rowNo1: number[] = []
  /**
   * The text whose trigram count ends the row, after its content (outside the hash: it follows from the
   * text); undefined for rows without one.
   */
  private rowCountText: (string | null | undefined)[] = []
  private rowCount = 0
  /** fields written so far in the row being written (for separators) */
  private fieldCount = 0
  private readonly json: boolean
  /** the core row's tail after its hash: the dump date columns, encoded once (its trigram count follows) */
  private readonly coreTail: string

  /**
   * @param dumpDate YYYYMMDD, written into the core rows' first/last seen columns
   * @param carry from the import's previous batch
   */
  constructor(
    readonly type: DumpType,
    readonly encoding: Encoding,
    dumpDate: string,
    private readonly carry = new BatchCarry(),
  ) {
    this.json = encoding === 'json'
    this.coreTail = this.json ? `","${dumpDate}","${dumpDate}",null` : `\t${dumpDate}\t${dumpDate}\t\\N`
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
    this.rowCount = 0
    this.scratch.len = 0
    this.scratch.copyFrom(HASH_VERSION, 0, HASH_VERSION.length)
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
    const uncounted: EncodedBatch['uncounted'] = {}
    for (const [t, u] of this.uncounted)
      uncounted[t] = { offsets: Int32Array.from(u.offsets), texts: u.texts }
    this.uncounted.clear()
    for (const t of STAGE_TABLES_BY_KIND[this.type]) {
      const s = this.sinks.get(t)
      if (!s || s.rows === 0) continue
      if (this.json) s.byte(93) // ]
      tables[t] = s.view()
      rows[t] = s.rows
      this.carry.sizeHints.set(t, s.len)
      const offsets = this.numberOffsets.get(t)
      if (offsets) trackNumbers[t] = Int32Array.from(offsets)
    }
    const { type, records, idList: ids, firstId, lastId } = this
    return {
      type,
      tables,
      rows,
      trackNumbers,
      uncounted,
      words: this.carry.words.take(),
      records,
      ids,
      firstId,
      lastId,
    }
  }

  private sink(table: StageTable): ByteSink {
    let s = this.sinks.get(table)
    if (!s) {
      s = new ByteSink(Math.max(4096, Math.ceil((this.carry.sizeHints.get(table) ?? 0) * 1.1)))
      if (this.json) s.byte(91) // [
      this.sinks.set(table, s)
    }
    return s
  }

  // ------------------------------------------------------------ writing one row's fields into the scratch
  // A row is COPY text (tab-separated, \N for null, ending in a line end) or a JSON array, the same bytes
  // as JSON.stringify of its values.

  /** Starts a child row: its table's tag, then its fields. */
  private row(table: StageTable): void {
    this.scratch.byte(STAGE_TAG.get(table)!)
    this.open(table, 0, -1, -1)
  }

  /**
   * Starts a child row led by batch-relative track numbers, which are not content: the hash sees
   * `hashKey` (the track identity) in their place.
   */
  private numberedRow(table: StageTable, count: number, no0: number, no1: number, hashKey: string): void {
    const s = this.scratch
    s.byte(STAGE_TAG.get(table)!)
    s.text(hashKey, 'copy')
    s.byte(TAB)
    this.open(table, count, no0, no1)
  }

  private open(table: StageTable, count: number, no0: number, no1: number): void {
    const i = this.rowCount++
    this.rowTable[i] = table
    this.rowStart[i] = this.scratch.len
    this.rowNumbers[i] = count
    this.rowNo0[i] = no0
    this.rowNo1[i] = no1
    this.rowCountText[i] = undefined
    this.fieldCount = 0
    if (this.json) this.scratch.byte(91) // [
  }

  private end(): void {
    this.scratch.byte(this.json ? 93 : LF)
    this.rowEnd[this.rowCount - 1] = this.scratch.len
  }

  private sep(): void {
    if (this.fieldCount++ > 0) this.scratch.byte(this.json ? 44 : TAB)
  }

  private nul(): void {
    this.scratch.nul(this.json)
  }

  private int(v: number | null): void {
    this.sep()
    if (v === null) this.nul()
    else this.scratch.int(v)
  }

  private str(v: string | null): void {
    this.sep()
    if (v === null) this.nul()
    else if (this.json) this.scratch.text(JSON.stringify(v), 'raw')
    else this.scratch.text(v, 'copy')
  }

  private bool(v: boolean | null): void {
    this.sep()
    if (v === null) this.nul()
    else if (this.json) this.scratch.ascii(v ? 'true' : 'false')
    else this.scratch.byte(v ? 116 : 102) // t / f
  }

  private strs(v: string[]): void {
    this.sep()
    const out = this.scratch
    if (this.json) return out.text(JSON.stringify(v), 'raw')
    out.byte(123) // {
    for (let j = 0; j < v.length; j++) {
      if (j > 0) out.byte(44) // ,
      out.byte(34)
      out.text(v[j], 'element')
      out.byte(34)
    }
    out.byte(125) // }
  }

  /**
   * Ends the record: its core row (started by the caller, whose fields are written) gets the hash over
   * all its rows and the dump date columns; then every row goes to its table's buffer.
   */
  private finish(core: StageTable, coreStart: number, text: string | null): void {
    const s = this.scratch
    this.end()
    this.rowCount-- // the core row is not a child row
    const hash = sha1Hex(s.view())
    const json = this.json
    const coreSink = this.sink(core)
    if (json) {
      if (coreSink.rows > 0) coreSink.byte(44)
      coreSink.copyFrom(s.buf, coreStart, s.len - 1) // without the closing ]
      coreSink.ascii(`,"${hash}`)
    } else {
      coreSink.copyFrom(s.buf, coreStart, s.len - 1) // without the line end
      coreSink.ascii(`\t\\\\x${hash}`)
    }
    coreSink.ascii(this.coreTail)
    this.endWithCount(coreSink, core, text)
    coreSink.rows++
    for (let r = 0; r < this.rowCount; r++) {
      const table = this.rowTable[r]
      const start = this.rowStart[r]
      const end = this.rowEnd[r]
      const count = this.rowNumbers[r]
      const out = this.sink(table)
      const countText = this.rowCountText[r]
      // a row that ends with a trigram count is copied without its end, which comes after the count
      const contentEnd = countText === undefined ? end : end - 1
      if (json && out.rows > 0) out.byte(44)
      if (count === 0) out.copyFrom(s.buf, start, contentEnd)
      else if (json) {
        out.byte(91)
        for (let k = 0; k < count; k++) {
          if (k > 0) out.byte(44)
          const n = k === 0 ? this.rowNo0[r] : this.rowNo1[r]
          if (n < 0) out.nul(true)
          else out.int(n)
        }
        out.byte(44)
        out.copyFrom(s.buf, start + 1, contentEnd) // the content's own [ is replaced by the numbers'
      } else {
        let offsets = this.numberOffsets.get(table)
        if (!offsets) this.numberOffsets.set(table, (offsets = []))
        for (let k = 0; k < count; k++) {
          const n = k === 0 ? this.rowNo0[r] : this.rowNo1[r]
          if (n < 0) out.nul(false)
          else {
            offsets.push(out.len)
            out.padded(n, TRACK_NUMBER_DIGITS)
          }
          out.byte(TAB)
        }
        out.copyFrom(s.buf, start, contentEnd)
      }
      if (countText !== undefined) this.endWithCount(out, table, countText)
      out.rows++
    }
  }

  /**
   * Writes a row's last field, the trigram count of its searchable text, and ends the row. A count only
   * the database can give is a placeholder in COPY text (noted for the writer), null in JSON.
   */
  private endWithCount(out: ByteSink, table: StageTable, text: string | null): void {
    out.byte(this.json ? 44 : TAB)
    const n = text === null ? null : trigramCount(text, this.carry.words)
    if (n !== null) out.int(n)
    else if (text === null || this.json) out.nul(this.json)
    else {
      let u = this.uncounted.get(table)
      if (!u) this.uncounted.set(table, (u = { offsets: [], texts: [] }))
      u.offsets.push(out.len)
      u.texts.push(text)
      out.padded(0, TRIGRAM_COUNT_DIGITS)
    }
    out.byte(this.json ? 93 : LF)
  }

  /** Starts the core row (after all child rows): returns where its fields begin. */
  private coreRow(): number {
    this.fieldCount = 0
    const start = this.scratch.len
    if (this.json) this.scratch.byte(91)
    // Registered like a child row so that end() can close it; finish() takes it off again.
    this.rowCount++
    return start
  }

  private refs(table: StageTable, owner: number, refs: NamedRef[], nameRequired: boolean): void {
    const n = Math.min(refs.length, MAX_ORD)
    this.droppedRows += refs.length - n
    for (let i = 0; i < n; i++) {
      const r = refs[i]
      this.row(table)
      this.int(owner)
      this.int(i + 1)
      this.int(r.id)
      this.str(nameRequired ? (r.name ?? '') : r.name)
      this.end()
    }
  }

  private creditFields(ord: number, c: Credit): void {
    this.int(ord)
    this.int(c.artistId)
    this.str(c.name)
    this.str(c.anv)
    this.str(c.join)
    this.str(c.role)
    this.str(c.tracks)
    this.end()
  }

  private credits(table: StageTable, owner: number, credits: Credit[]): void {
    const n = Math.min(credits.length, MAX_ORD)
    this.droppedRows += credits.length - n
    for (let i = 0; i < n; i++) {
      this.row(table)
      this.int(owner)
      this.creditFields(i + 1, credits[i])
    }
  }

  private trackCredits(table: StageTable, trackNo: number, key: string, credits: Credit[]): void {
    const n = Math.min(credits.length, MAX_ORD)
    this.droppedRows += credits.length - n
    for (let i = 0; i < n; i++) {
      this.numberedRow(table, 1, trackNo, -1, key)
      this.creditFields(i + 1, credits[i])
    }
  }

  private texts(table: StageTable, owner: number, values: string[]): void {
    for (const v of values) {
      this.row(table)
      this.int(owner)
      this.str(v)
      this.end()
    }
  }

  private videos(table: StageTable, owner: number, videos: Video[]): void {
    const n = Math.min(videos.length, MAX_ORD)
    this.droppedRows += videos.length - n
    for (let i = 0; i < n; i++) {
      const v = videos[i]
      this.row(table)
      this.int(owner)
      this.int(i + 1)
      this.str(v.src)
      this.int(v.durationS)
      this.bool(v.embed)
      this.str(v.title)
      this.str(v.description)
      this.end()
    }
  }

  /** Release labels and series: catalog entries. */
  private entries(table: StageTable, owner: number, entries: CatalogEntry[]): void {
    const n = Math.min(entries.length, MAX_ORD)
    this.droppedRows += entries.length - n
    for (let i = 0; i < n; i++) {
      const l = entries[i]
      this.row(table)
      this.int(owner)
      this.int(i + 1)
      this.int(l.id)
      this.str(l.name)
      this.str(l.catno)
      this.end()
    }
  }

  private artist(a: ArtistRecord): void {
    this.refs('stage_artist_alias', a.id, a.aliases, true)
    this.refs('stage_artist_member', a.id, a.members, true)
    this.refs('stage_artist_group', a.id, a.groups, true)
    const core = this.coreRow()
    this.int(a.id)
    this.str(a.name)
    this.str(a.realName)
    this.str(a.profile)
    this.str(a.dataQuality)
    this.strs(a.urls)
    this.strs(a.nameVariations)
    this.finish('stage_artist', core, a.name)
  }

  private label(l: LabelRecord): void {
    this.refs('stage_label_sublabel', l.id, l.sublabels, false)
    const core = this.coreRow()
    this.int(l.id)
    this.str(l.name)
    this.str(l.contactInfo)
    this.str(l.profile)
    this.str(l.dataQuality)
    this.strs(l.urls)
    this.int(l.parent?.id ?? null)
    this.str(l.parent?.name ?? null)
    this.finish('stage_label', core, l.name)
  }

  private master(m: MasterRecord): void {
    this.credits('stage_master_artist', m.id, m.artists)
    this.texts('stage_master_genre', m.id, m.genres)
    this.texts('stage_master_style', m.id, m.styles)
    this.videos('stage_master_video', m.id, m.videos)
    const core = this.coreRow()
    this.int(m.id)
    this.str(m.title)
    this.int(m.mainReleaseId)
    this.int(m.year)
    this.str(m.notes)
    this.str(m.dataQuality)
    this.finish('stage_master', core, m.title)
  }

  private release(r: ReleaseRecord): void {
    const id = r.id
    this.credits('stage_release_artist', id, r.artists)
    this.credits('stage_release_credit', id, r.credits)
    this.entries('stage_release_label', id, r.labels)
    this.entries('stage_release_series', id, r.series)
    let n = Math.min(r.formats.length, MAX_ORD)
    this.droppedRows += r.formats.length - n
    for (let i = 0; i < n; i++) {
      const f = r.formats[i]
      this.row('stage_release_format')
      this.int(id)
      this.int(i + 1)
      this.str(f.name)
      this.str(f.qty)
      this.str(f.text)
      this.strs(f.descriptions)
      this.end()
    }
    n = Math.min(r.identifiers.length, MAX_ORD)
    this.droppedRows += r.identifiers.length - n
    for (let i = 0; i < n; i++) {
      const x = r.identifiers[i]
      this.row('stage_release_identifier')
      this.int(id)
      this.int(i + 1)
      this.str(x.type)
      this.str(x.description)
      this.str(x.value)
      this.end()
    }
    n = Math.min(r.companies.length, MAX_ORD)
    this.droppedRows += r.companies.length - n
    for (let i = 0; i < n; i++) {
      const c = r.companies[i]
      this.row('stage_release_company')
      this.int(id)
      this.int(i + 1)
      this.int(c.id)
      this.str(c.name)
      this.str(c.catno)
      this.str(c.entityType)
      this.str(c.entityTypeName)
      this.end()
    }
    this.videos('stage_release_video', id, r.videos)
    this.texts('stage_release_genre', id, r.genres)
    this.texts('stage_release_style', id, r.styles)
    // Sub-tracks come after their index track, so its number is known when they are written.
    const numberOf = new Map<string, number>()
    for (const t of r.tracks) {
      const no = ++this.tracks
      numberOf.set(t.key, no)
      const parentNo = t.parentKey === null ? -1 : (numberOf.get(t.parentKey) ?? -1)
      this.numberedRow('stage_track', 2, no, parentNo, t.parentKey ?? '')
      this.int(id)
      this.str(t.key)
      this.int(t.sequence)
      this.str(t.position)
      this.str(t.title)
      this.str(t.durationText)
      this.int(t.durationS)
      this.str(t.type)
      this.end()
      this.rowCountText[this.rowCount - 1] = t.title
      this.trackCredits('stage_track_artist', no, t.key, t.artists)
      this.trackCredits('stage_track_credit', no, t.key, t.credits)
    }
    const core = this.coreRow()
    this.int(id)
    this.str(r.title)
    this.str(r.status)
    this.str(r.country)
    this.str(r.released)
    this.int(r.year)
    this.str(r.notes)
    this.str(r.dataQuality)
    this.int(r.masterId)
    this.bool(r.isMainRelease)
    this.finish('stage_release', core, r.title)
  }
}
