import type { Config } from '../config/config.ts'
import type { Database } from '../db/database.ts'
import { importAudio, type AudioImportProgress, type AudioImportSummary } from '../ingest/audio/import.ts'
import { importDiscogs, type ImportProgress, type ImportSummary } from '../ingest/discogs/import.ts'
import { defaultParseWorkers } from '../ingest/discogs/parse-workers.ts'
import type { Logger } from '../logger.ts'
import { SearchService } from './search.service.ts'

/**
 * The two imports users ask for, Discogs dumps and an audio folder, for `discograph ingest …` and the
 * import jobs alike: each caller shows the progress its own way (a bar or log lines, the job's row), from
 * the same figures, computed here once.
 */

export type { AudioImportSummary, ImportSummary as DiscogsImportSummary }
export { defaultParseWorkers }

export interface DiscogsImportProgress extends ImportProgress {
  /** seconds on this file so far: its clock starts when the previous file's last batch was written */
  seconds: number
  /** records of this file per second so far (records resumed after count from this run's start) */
  recordsPerSecond: number
}

export interface DiscogsImportOptions {
  /** YYYYMMDD, for files not named discogs_YYYYMMDD_<type>.xml[.gz] */
  dumpDate?: string
  /** parse worker threads (default: defaultParseWorkers()) */
  parseWorkers?: number
  logger?: Logger
  /** checked before each batch is written: what is committed stays committed, and a re-run resumes after it */
  signal?: AbortSignal
  onProgress?: (p: DiscogsImportProgress) => void
}

/**
 * Imports Discogs dump files and directories of them (src/ingest/discogs/import.ts). Batches commit whole
 * records and an interrupted file resumes, so a cancelled, crashed or repeated import repeats nothing it
 * had committed.
 */
export function importDiscogsDumps(
  db: Database,
  paths: string[],
  opts: DiscogsImportOptions = {},
): Promise<ImportSummary> {
  let file = ''
  // Progress only arrives after a file's first batch, so a file's clock starts when the previous one ended.
  let fileStart = performance.now()
  let lastUpdate = fileStart
  return importDiscogs(db, paths, {
    dumpDate: opts.dumpDate,
    parseWorkers: opts.parseWorkers,
    logger: opts.logger,
    signal: opts.signal,
    onProgress: (p) => {
      const now = performance.now()
      if (p.file !== file) {
        file = p.file
        fileStart = lastUpdate
      }
      lastUpdate = now
      const seconds = (now - fileStart) / 1000
      opts.onProgress?.({ ...p, seconds, recordsPerSecond: p.records / Math.max(0.001, seconds) })
    },
  })
}

export interface AudioProgress extends AudioImportProgress {
  /** files read per second of the whole run so far */
  filesPerSecond: number
  /** seconds of audio decoded per second of the run so far (× realtime) */
  audioSecondsPerSecond: number
}

export interface AudioImportRequest {
  /** CSV `path,release_id,position`: exact links, before any tag matching */
  manifest?: string
  /** only changes the patch count reported (default 62) */
  patchHop?: number
  /** decoding threads (default: the machine's cores) */
  concurrency?: number
  logger?: Logger
  /** checked between files: every finished file stays committed */
  signal?: AbortSignal
  onProgress?: (p: AudioProgress) => void
}

/**
 * Imports the audio files under `dir` (src/ingest/audio/import.ts): mel frames into the feature store
 * under DATA_DIR, each file linked to its track from the manifest, else from its tags through the
 * catalog's search. Every file is committed as it is done and unchanged files are skipped.
 */
export function importAudioFolder(
  db: Database,
  config: Pick<Config, 'dataDir'>,
  dir: string,
  opts: AudioImportRequest = {},
): Promise<AudioImportSummary> {
  const per = (n: number, seconds: number) => n / Math.max(1e-3, seconds)
  return importAudio(db, dir, {
    dataDir: config.dataDir,
    search: new SearchService(db.pool),
    manifest: opts.manifest,
    patchHop: opts.patchHop,
    concurrency: opts.concurrency,
    logger: opts.logger,
    signal: opts.signal,
    onProgress: (p) =>
      opts.onProgress?.({
        ...p,
        filesPerSecond: per(p.done, p.elapsedSeconds),
        audioSecondsPerSecond: per(p.audioSeconds, p.elapsedSeconds),
      }),
  })
}
