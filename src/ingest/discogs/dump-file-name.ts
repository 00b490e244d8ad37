import fs from 'node:fs'
import path from 'node:path'
import { DUMP_TYPES, type DumpType } from './records.ts'

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
