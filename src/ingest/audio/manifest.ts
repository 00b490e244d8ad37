import { isUtf8 } from 'node:buffer'
import fs from 'node:fs'
import path from 'node:path'
import { CsvError, parse } from 'csv-parse/sync'
import { BadInputError } from '../../errors.ts'

/** One row of an audio manifest: this file is that track (release id + Discogs position). */
export interface ManifestRow {
  /** 1-based line in the manifest (the header is line 1) */
  line: number
  /** absolute: a relative path in the manifest is relative to the manifest's own directory */
  path: string
  releaseId: number
  position: string
}

const REQUIRED = ['path', 'release_id', 'position'] as const
const MAX_REPORTED = 20

/** One CSV record, with the line it starts on, so that errors can name it. */
export interface CsvRecord {
  line: number
  fields: string[]
}

/**
 * Splits CSV text into records of fields (RFC 4180 through csv-parse: quoted fields may hold commas, quotes
 * as "" and line breaks; lines may end in LF, CRLF or CR, mixed; blank lines are skipped). The lines are
 * counted here: csv-parse reports where a record ends, and counts a CRLF inside quotes as two lines.
 */
export function parseCsv(text: string): CsvRecord[] {
  const bytes = Buffer.from(text)
  const lines = lineCounter(bytes)
  // Byte offset after the last record read: the next starts there, past any blank lines.
  let end = 0
  const startLine = () => {
    let i = end
    while (bytes[i] === 0x0a || bytes[i] === 0x0d) i++
    return lines(i)
  }
  const records: CsvRecord[] = []
  try {
    parse(bytes, {
      bom: true,
      record_delimiter: ['\r\n', '\n', '\r'],
      skip_empty_lines: true,
      relax_column_count: true, // the caller names a row with too few or too many fields
      relax_quotes: true, // a quote inside an unquoted field is a character: My "Best" Song.mp3
      on_record: (fields, info) => {
        records.push({ line: startLine(), fields })
        end = info.bytes
        return null // kept here, with its line
      },
    })
  } catch (err) {
    if (!(err instanceof CsvError)) throw err
    if (err.code === 'CSV_QUOTE_NOT_CLOSED')
      throw new BadInputError(`unterminated quoted field starting on line ${startLine()}`)
    throw new BadInputError(`line ${startLine()}: ${err.message}`)
  }
  return records
}

/** The 1-based line of a byte offset, for offsets asked in increasing order (LF, CRLF and CR end a line). */
function lineCounter(bytes: Buffer): (offset: number) => number {
  let at = 0
  let line = 1
  return (offset) => {
    for (; at < offset; at++) {
      const c = bytes[at]
      if (c === 0x0a || (c === 0x0d && bytes[at + 1] !== 0x0a)) line++
    }
    return line
  }
}

/**
 * Parses a manifest (`path,release_id,position` with that header; columns in any order, others ignored).
 * Every bad row is reported at once, by line, and nothing is imported: a manifest is an explicit
 * statement, so a half-applied one would be worse than none.
 */
export function parseManifest(text: string, manifestFile: string): ManifestRow[] {
  const base = path.dirname(path.resolve(manifestFile))
  let records: CsvRecord[]
  try {
    records = parseCsv(text)
  } catch (err) {
    throw new BadInputError((err as Error).message, manifestFile)
  }
  const header = records.shift()
  if (!header) throw new BadInputError(`empty; expected a header line "${REQUIRED.join(',')}"`, manifestFile)
  const names = header.fields.map((f) => f.trim().toLowerCase())
  const missing = REQUIRED.filter((n) => !names.includes(n))
  if (missing.length)
    throw new BadInputError(
      `line ${header.line}: header lacks ${missing.join(', ')} (expected "${REQUIRED.join(',')}", got "${header.fields.join(',')}")`,
      manifestFile,
    )
  const col = Object.fromEntries(REQUIRED.map((n) => [n, names.indexOf(n)])) as Record<
    (typeof REQUIRED)[number],
    number
  >

  const problems: string[] = []
  const rows: ManifestRow[] = []
  const byPath = new Map<string, ManifestRow>()
  for (const { line, fields } of records) {
    if (fields.length !== names.length) {
      problems.push(`line ${line}: ${fields.length} fields, the header has ${names.length}`)
      continue
    }
    const file = fields[col.path].trim()
    const rid = fields[col.release_id].trim()
    const position = fields[col.position].trim()
    const bad: string[] = []
    // A NUL ends a path for the operating system and cannot be stored in PostgreSQL text.
    if (file.includes('\u0000')) bad.push('path contains a NUL character')
    if (position.includes('\u0000')) bad.push('position contains a NUL character')
    if (!file) bad.push('empty path')
    if (!/^\d+$/.test(rid) || Number(rid) < 1 || Number(rid) > 2147483647)
      bad.push(`release_id must be a positive integer, got "${rid}"`)
    if (!position) bad.push('empty position')
    if (bad.length) {
      problems.push(`line ${line}: ${bad.join('; ')}`)
      continue
    }
    const row: ManifestRow = { line, path: path.resolve(base, file), releaseId: Number(rid), position }
    const seen = byPath.get(row.path)
    if (seen) {
      if (seen.releaseId !== row.releaseId || seen.position !== row.position)
        problems.push(
          `line ${line}: ${file} is already given as release ${seen.releaseId} position ${seen.position} on line ${seen.line}`,
        )
      continue
    }
    byPath.set(row.path, row)
    rows.push(row)
  }
  if (problems.length) {
    const shown = problems.slice(0, MAX_REPORTED)
    const more = problems.length > shown.length ? `\n  … and ${problems.length - shown.length} more` : ''
    throw new BadInputError(
      `${problems.length} bad row${problems.length > 1 ? 's' : ''}:\n  ${shown.join('\n  ')}${more}`,
      manifestFile,
    )
  }
  return rows
}

/**
 * The 1-based line of the first byte sequence that is not UTF-8, or null when all of it is. Read leniently,
 * such bytes would become U+FFFD and a path naming no file on disk.
 */
export function firstNonUtf8Line(bytes: Buffer): number | null {
  if (isUtf8(bytes)) return null
  let line = 1
  let start = 0
  for (let i = 0; i <= bytes.length; i++) {
    if (i === bytes.length || bytes[i] === 0x0a) {
      if (!isUtf8(bytes.subarray(start, i))) return line
      line++
      start = i + 1
    }
  }
  return line // not reached: some line holds the bad sequence
}

export function readManifest(manifestFile: string): ManifestRow[] {
  let bytes: Buffer
  try {
    bytes = fs.readFileSync(manifestFile)
  } catch (err) {
    throw new BadInputError(`cannot read: ${(err as Error).message}`, '--manifest')
  }
  const badLine = firstNonUtf8Line(bytes)
  if (badLine !== null)
    throw new BadInputError(`line ${badLine}: not UTF-8 text (save the manifest as UTF-8)`, manifestFile)
  return parseManifest(bytes.toString('utf8'), manifestFile)
}
