import fs from 'node:fs'
import path from 'node:path'
import zlib from 'node:zlib'
import { FIXTURES } from './cli.ts'

/** The real fixture's <release> records, as XML strings. */
export function fixtureReleaseRecords(): string[] {
  const xml = zlib.gunzipSync(fs.readFileSync(path.join(FIXTURES, 'discogs_20200806_releases.xml.gz'))).toString('utf8')
  return xml.match(/<release id="\d+"[\s\S]*?<\/release>/g) ?? []
}

/**
 * A releases dump of `count` records made by renumbering the fixture's records (ids from `firstId`), gzipped,
 * named like a real dump so the importer takes type and date from the name.
 */
export function writeRenumberedReleaseDump(dir: string, count: number, options: { firstId?: number; date?: string } = {}): string {
  const records = fixtureReleaseRecords()
  const file = path.join(dir, `discogs_${options.date ?? '20200806'}_releases.xml.gz`)
  const first = options.firstId ?? 1
  const parts = ['<releases>\n']
  for (let i = 0; i < count; i++) {
    parts.push(records[i % records.length].replace(/^<release id="\d+"/, `<release id="${first + i}"`), '\n')
  }
  parts.push('</releases>\n')
  fs.writeFileSync(file, zlib.gzipSync(parts.join(''), { level: 1 }))
  return file
}
