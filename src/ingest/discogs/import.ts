import fs from 'node:fs'
import path from 'node:path'
import type { Database } from '../../db/database.ts'
import { CatalogWriterRepository } from '../../db/repositories/catalog-writer.repository.ts'
import { DeferredIndexRepository } from '../../db/repositories/deferred-index.repository.ts'
import { ImportSession } from '../../db/repositories/import-session.ts'
import { SearchMaintenanceRepository } from '../../db/repositories/search-maintenance.repository.ts'
import { BadInputError, DumpFormatError } from '../../errors.ts'
import type { Logger } from '../../logger.ts'
import { copyTextEditor } from './copy-text-patch.ts'
import { dumpFilesIn, parseDumpFileName } from './dump-file-name.ts'
import { readDumpFile, type ParsedBatch, type ReaderEvent } from './dump-reader.ts'
import { readDumpFileInWorkers } from './parse-workers.ts'
import { DUMP_TYPES, type DumpType } from './records.ts'

export interface ImportProgress {
  file: string
  type: string
  records: number
  bytes: number
  totalBytes: number
}

export interface ImportOptions {
  /** YYYYMMDD; required for files not named discogs_YYYYMMDD_<type>.xml[.gz] */
  dumpDate?: string
  logger?: Logger
  onProgress?: (p: ImportProgress) => void
  /** checked before each batch is written: what is committed stays committed, and a re-run resumes after it */
  signal?: AbortSignal
  /** parse in worker threads while this thread writes (default true; false runs all in one thread) */
  worker?: boolean
  /** how many parse worker threads (default: one per core but one, see defaultParseWorkers) */
  parseWorkers?: number
  /** records per transaction (default 2000 on a server, 500 embedded) */
  batchRecords?: number
  /**
   * Drop the type's secondary indexes while loading and rebuild them after the file (always, whatever
   * happens). Default: when the type's tables are empty and the file is at least 16 MB, i.e. a first
   * bulk import, where building each index once is much faster than maintaining it row by row.
   */
  deferIndexes?: boolean
}

const DEFER_INDEXES_MIN_BYTES = 16 << 20

export interface TypeCounts {
  records: number
  inserted: number
  updated: number
  unchanged: number
  /** records of this type not in the dump that were marked missing_since_dump */
  missing: number
}

export interface ImportSummary {
  files: {
    file: string
    type: DumpType
    dumpDate: string
    records: number
    resumedAfter: number
    seconds: number
  }[]
  /** per dump type */
  types: Partial<Record<DumpType, TypeCounts>>
  records: number
  inserted: number
  updated: number
  unchanged: number
  missing: number
  /** catalog rows written per table (core rows of new/changed records and their replaced children) */
  rows: Record<string, number>
  /** records without a usable id, and child rows beyond what the schema holds (ord > 32767) */
  skipped: { noId: number; rows: number }
  /** elements the parser does not know, by path: drift in the dump format shows up here */
  unknownElements: Record<string, number>
  unknownTotal: number
  elapsedSeconds: number
  /**
   * time spent on indexes after loading: rebuilding deferred ones (bulk imports into empty tables), merging
   * the GIN indexes' pending entries (other imports), rebuilding the search views and their indexes
   */
  indexRebuildSeconds: number
  /** time spent refreshing the planner's statistics of the searchable tables (ANALYZE) */
  analyzeSeconds: number
  /** milliseconds of database time per load/merge step, summed over batches (where the time goes) */
  writeTimingsMs: Record<string, number>
}

const DATE = /^\d{8}$/

/** Files and directories (expanded to the dump files inside) → dump files, in a sensible load order. */
export function expandDumpPaths(paths: string[]): string[] {
  const out: string[] = []
  for (const p of paths) {
    let st: fs.Stats
    try {
      st = fs.statSync(p)
    } catch {
      throw new BadInputError(`no such file or directory: ${p}`)
    }
    if (st.isDirectory()) {
      const found = dumpFilesIn(p)
      if (found.length === 0) throw new BadInputError(`no discogs_YYYYMMDD_<type>.xml[.gz] files in ${p}`)
      out.push(...found)
    } else out.push(p)
  }
  return out
}

function emptyCounts(): TypeCounts {
  return { records: 0, inserted: 0, updated: 0, unchanged: 0, missing: 0 }
}

/**
 * Imports Discogs dump files into the catalog (see src/db/repositories/catalog-batch-sql.ts for the merge rules).
 * Files are processed one after another; each is streamed, parsed (in a worker thread by default) and
 * written in batches of whole records, one transaction each. A bad file stops the import with a
 * DumpFormatError after committing every record read whole before the failure; running it again
 * resumes after those records.
 */
export async function importDiscogs(
  db: Database,
  files: string[],
  options: ImportOptions = {},
): Promise<ImportSummary> {
  const started = performance.now()
  if (options.dumpDate !== undefined && !DATE.test(options.dumpDate))
    throw new BadInputError(`dump date must be YYYYMMDD, got "${options.dumpDate}"`, 'dumpDate')
  const list = expandDumpPaths(files)
  const summary: ImportSummary = {
    files: [],
    types: {},
    records: 0,
    inserted: 0,
    updated: 0,
    unchanged: 0,
    missing: 0,
    rows: {},
    skipped: { noId: 0, rows: 0 },
    unknownElements: {},
    unknownTotal: 0,
    elapsedSeconds: 0,
    writeTimingsMs: {},
    indexRebuildSeconds: 0,
    analyzeSeconds: 0,
  }
  const log = options.logger
  const session = await ImportSession.open(db)
  const repos: ImportRepositories = {
    session,
    writer: new CatalogWriterRepository(session, copyTextEditor),
    indexes: new DeferredIndexRepository(session),
    search: new SearchMaintenanceRepository(session),
  }
  try {
    const restored = await repos.indexes.restoreDeferredIndexes() // left behind by an import that died
    if (restored.length) log?.warn({ restored }, 'rebuilt indexes deferred by an earlier, interrupted import')
    for (const file of list) {
      const dumpDate = parseDumpFileName(file).dumpDate ?? options.dumpDate
      if (!dumpDate)
        throw new DumpFormatError(
          file,
          {},
          'unknown dump date: name the file discogs_YYYYMMDD_<type>.xml[.gz] or pass --dump-date',
        )
      await importFile(repos, db, file, dumpDate, options, summary)
    }
  } finally {
    for (const [k, v] of session.timings) summary.writeTimingsMs[k] = Math.round(v)
    await session.close()
  }
  summary.elapsedSeconds = (performance.now() - started) / 1000
  log?.info({ records: summary.records, seconds: summary.elapsedSeconds }, 'discogs import done')
  return summary
}

/** The import's repositories, all on one session (its connection holds the import lock). */
interface ImportRepositories {
  session: ImportSession
  writer: CatalogWriterRepository
  indexes: DeferredIndexRepository
  search: SearchMaintenanceRepository
}

async function importFile(
  { session, writer, indexes, search }: ImportRepositories,
  db: Database,
  file: string,
  dumpDate: string,
  options: ImportOptions,
  summary: ImportSummary,
): Promise<void> {
  const t0 = performance.now()
  const log = options.logger
  const size = fs.statSync(file).size
  const named = parseDumpFileName(file)
  const encoding = db.kind === 'server' ? 'copy' : 'json'
  const batchRecords = options.batchRecords ?? (db.kind === 'server' ? 2000 : 500)

  // The resume point is per (dump date, type); the type is known up front from the name, else from the
  // root element, in which case a resume can only apply from the next run on.
  let type: DumpType | null = named.type
  let resume = type ? await writer.startFile(dumpDate, type, path.resolve(file), size) : 0
  const readOptions = { encoding, dumpDate, batchRecords, skipRecords: resume } as const
  const events: AsyncGenerator<ReaderEvent> =
    options.worker === false
      ? readDumpFile(file, readOptions)
      : readDumpFileInWorkers(file, readOptions, options.parseWorkers)
  let records = resume
  let totalBytes = size
  let deferred: string[] = []
  if (type && (options.deferIndexes ?? (size >= DEFER_INDEXES_MIN_BYTES && (await writer.isEmpty(type))))) {
    deferred = await indexes.deferIndexes(type)
    log?.info({ type, indexes: deferred.length }, 'secondary indexes deferred to the end of the file')
  }
  if (resume > 0) log?.info({ file, resume }, 'resuming after the records committed by an earlier run')
  // Time spent waiting for the parser: when it dominates, parsing (not the database) is the limit.
  let waitFrom = performance.now()
  let loaded = 0
  try {
    for await (const ev of events) {
      session.addTiming('wait for parser', waitFrom)
      if (ev.kind === 'start') {
        if (type === null) {
          type = ev.type
          resume = await writer.startFile(dumpDate, type, path.resolve(file), size)
          records = 0 // the reader was not told to skip: nothing is skipped this run
        }
        totalBytes = ev.totalBytes
        log?.info({ file, type, dumpDate }, 'importing')
        continue
      }
      options.signal?.throwIfAborted()
      const b: ParsedBatch = ev.batch
      records += b.records + b.skippedNoId // skippedResume records are in `resume` already
      const merged = await writer.writeBatch(b, { dumpDate, type: type!, records })
      account(summary, type!, b, merged)
      options.onProgress?.({ file, type: type!, records, bytes: b.bytesRead, totalBytes })
      waitFrom = performance.now()
    }
    loaded = performance.now()
    // The views' indexes are deferred too, so the refresh only writes rows, and their trigram indexes
    // build beside the tables' on two connections (REFRESH builds a view's indexes one after another).
    if (type !== null && deferred.length > 0) await search.refreshSearchViews(type)
  } catch (err) {
    if (type) await writer.failFile(dumpDate, type, (err as Error).message).catch(() => undefined)
    throw err
  } finally {
    if (deferred.length) await indexes.restoreDeferredIndexes()
  }
  if (type === null) throw new DumpFormatError(file, {}, 'no records')
  if (deferred.length === 0) await search.rebuildSearchViews(type)
  summary.indexRebuildSeconds += (performance.now() - loaded) / 1000
  log?.info(
    { type, seconds: Number(((performance.now() - loaded) / 1000).toFixed(1)) },
    'indexes and search views rebuilt',
  )
  const t1 = performance.now()
  const merged = await search.mergeGinPendingLists(type)
  summary.indexRebuildSeconds += (performance.now() - t1) / 1000
  if (merged > 0) log?.info({ type, pages: merged }, 'merged the search indexes’ pending entries')
  const t2 = performance.now()
  await search.analyze(type)
  summary.analyzeSeconds += (performance.now() - t2) / 1000
  const missing = await writer.finishFile(dumpDate, type)
  const counts = (summary.types[type] ??= emptyCounts())
  counts.missing += missing
  summary.missing += missing
  summary.files.push({
    file,
    type,
    dumpDate,
    records,
    resumedAfter: resume,
    seconds: (performance.now() - t0) / 1000,
  })
}

function account(
  summary: ImportSummary,
  type: DumpType,
  b: ParsedBatch,
  merged: { inserted: number; updated: number; unchanged: number; rows: Record<string, number> },
): void {
  const counts = (summary.types[type] ??= emptyCounts())
  counts.records += b.records
  counts.inserted += merged.inserted
  counts.updated += merged.updated
  counts.unchanged += merged.unchanged
  summary.records += b.records
  summary.inserted += merged.inserted
  summary.updated += merged.updated
  summary.unchanged += merged.unchanged
  for (const [t, n] of Object.entries(merged.rows)) summary.rows[t] = (summary.rows[t] ?? 0) + n
  summary.skipped.noId += b.skippedNoId
  summary.skipped.rows += b.droppedRows
  for (const [p, n] of Object.entries(b.unknown)) {
    summary.unknownElements[p] = (summary.unknownElements[p] ?? 0) + n
    summary.unknownTotal += n
  }
}

export { DUMP_TYPES }
