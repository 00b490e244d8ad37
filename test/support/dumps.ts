import fs from 'node:fs'
import path from 'node:path'
import zlib from 'node:zlib'
import { FIXTURES } from './cli.ts'

/** The real fixture's <release> records, as XML strings. */
export function fixtureReleaseRecords(): string[] {
  const xml = zlib
    .gunzipSync(fs.readFileSync(path.join(FIXTURES, 'discogs_20200806_releases.xml.gz')))
    .toString('utf8')
  return xml.match(/<release id="\d+"[\s\S]*?<\/release>/g) ?? []
}

/**
 * A releases dump of `count` records made by renumbering the fixture's records (ids from `firstId`), gzipped,
 * named like a real dump so the importer takes type and date from the name. Written a thousand records at
 * a time, each as a gzip member of its own (gunzip reads concatenated members as one stream), so that a
 * dump of any size takes little memory to write (the ingest benchmark writes hundreds of thousands).
 * `rewrite` changes each copy of a record (its number: 0 for the first thousand records, 1 for the next).
 */
export function writeRenumberedReleaseDump(
  dir: string,
  count: number,
  options: {
    firstId?: number
    date?: string
    level?: number
    rewrite?: (record: string, copy: number) => string
  } = {},
): string {
  const records = fixtureReleaseRecords()
  const file = path.join(dir, `discogs_${options.date ?? '20200806'}_releases.xml.gz`)
  const first = options.firstId ?? 1
  const fd = fs.openSync(file, 'w')
  try {
    let parts = ['<releases>\n']
    const flush = () => {
      fs.writeSync(fd, zlib.gzipSync(parts.join(''), { level: options.level ?? 1 }))
      parts = []
    }
    for (let i = 0; i < count; i++) {
      const record = records[i % records.length]
      const copy = options.rewrite ? options.rewrite(record, Math.floor(i / records.length)) : record
      parts.push(copy.replace(/^<release id="\d+"/, `<release id="${first + i}"`), '\n')
      if (parts.length >= 2000) flush()
    }
    parts.push('</releases>\n')
    flush()
  } finally {
    fs.closeSync(fd)
  }
  return file
}
