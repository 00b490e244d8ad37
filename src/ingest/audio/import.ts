import os from 'node:os'
import path from 'node:path'
import { FeatureStore } from '../../audio/feature-store.ts'
import { DEFAULT_PATCH_HOP, patchCount } from '../../audio/patches.ts'
import type { Database } from '../../db/database.ts'
import {
  AudioFileRepository,
  type AudioFileRecord,
  type DecodedInfo,
  type MatchMethod,
  type MatchRecord,
  type StoredAudioFile,
} from '../../db/repositories/audio-file.repository.ts'
import { TrackMatchRepository } from '../../db/repositories/track-match.repository.ts'
import { BadInputError } from '../../errors.ts'
import type { Logger } from '../../logger.ts'
import { inlineExtractor, workerExtractor, type Extractor } from './extract-pool.ts'
import type { ExtractResult } from './extract.ts'
import { readManifest, type ManifestRow } from './manifest.ts'
import { manifestMatch, TrackMatcher, type CatalogSearch, type ManifestClaim } from './match.ts'
import { scanAudioFiles, type ScannedFile } from './scan.ts'

export interface AudioImportOptions {
  /** the feature store lives under DATA_DIR/features */
  dataDir: string
  /** the catalog's search (SearchService), which finds the candidates of a file matched by its tags */
  search: CatalogSearch
  /** CSV `path,release_id,position`: exact links, before any tag matching */
  manifest?: string
  /** only changes the patch count reported: frames are stored, patches are cut when read */
  patchHop?: number
  /** decoding threads (default: the machine's cores); 1 decodes on the calling thread */
  concurrency?: number
  logger?: Logger
  onProgress?: (p: AudioImportProgress) => void
  signal?: AbortSignal
}

export interface AudioImportProgress {
  /** files read so far, of `total` new or changed ones */
  done: number
  total: number
  path: string
  audioSeconds: number
  elapsedSeconds: number
}

export interface AudioImportSummary {
  dir: string
  manifest: string | null
  patchHop: number
  /** decoding threads used; 0 = decoded on the main thread */
  threads: number
  files: {
    scanned: number
    new: number
    changed: number
    unchanged: number
    /** unchanged files whose features had gone from the store: recomputed */
    featuresMissing: number
    /** recorded under the folder before, gone now: their rows are deleted (features stay in the store) */
    removed: number
    /** unchanged files matched again (a manifest row, or an earlier miss against a newer catalog) */
    rematched: number
  }
  features: {
    /** files decoded this run */
    decoded: number
    /** distinct contents whose mel frames were written this run */
    computed: number
    /** files read this run whose content was already in the store: not decoded */
    reused: number
  }
  /** the state of every file under the folder after this run */
  match: {
    linked: number
    byMethod: Record<MatchMethod, number>
    duplicate: number
    ambiguous: number
    unmatched: number
    errors: number
  }
  /** files not linked, by reason code (docs/audio-store.md lists them) */
  reasons: Record<string, number>
  errors: { path: string; error: string }[]
  ambiguous: { path: string; reason: string; note: string }[]
  unmatched: { path: string; reason: string; note: string }[]
  duplicates: { path: string; trackId: number; linkedTo: string | null }[]
  manifestRowsWithoutFile: { line: number; path: string }[]
  /** audio decoded this run */
  audioSeconds: number
  /** audio of every good file under the folder, and the patches it gives at `patchHop` */
  totalAudioSeconds: number
  patches: number
  elapsedSeconds: number
  /** files read (hashed, and decoded unless known) per second of the whole run */
  filesPerSecond: number
  audioSecondsPerSecond: number
}

/** Below this much work, starting worker threads (each loads its own TypeScript runtime) costs more than it saves. */
const INLINE_MAX_BYTES = 8 << 20
const INLINE_MAX_FILES = 4

interface Todo {
  file: ScannedFile
  why: 'new' | 'changed' | 'features-missing'
}

const NO_MATCH: MatchRecord = {
  claimTrackId: null,
  status: null,
  method: null,
  score: null,
  reason: null,
  note: null,
}

function sameMatch(a: MatchRecord, b: MatchRecord): boolean {
  return (
    a.claimTrackId === b.claimTrackId &&
    a.status === b.status &&
    a.method === b.method &&
    a.reason === b.reason &&
    a.note === b.note
  )
}

/**
 * Imports the audio files under `dir`: scan, hash, decode and mel once per distinct content into the
 * feature store, match each file to a catalog track (manifest, else tags), then link claims to tracks.
 * Every file is committed as it is done, so an interrupted import loses nothing; re-running skips
 * unchanged files (same size and modification time) and redoes changed ones. A file that cannot be read
 * or decoded is recorded with its error and the import goes on.
 */
export async function importAudio(
  db: Database,
  dir: string,
  opts: AudioImportOptions,
): Promise<AudioImportSummary> {
  const t0 = performance.now()
  const root = path.resolve(dir)
  const hop = opts.patchHop ?? DEFAULT_PATCH_HOP
  if (!Number.isInteger(hop) || hop < 1 || hop > 128)
    throw new BadInputError(`must be an integer in 1..128, got ${hop}`, '--patch-hop')
  const concurrency = opts.concurrency ?? os.availableParallelism()
  if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 64)
    throw new BadInputError(`must be an integer in 1..64, got ${concurrency}`, '--concurrency')
  const manifestRows = opts.manifest ? readManifest(opts.manifest) : []
  const log = opts.logger

  const scanned = await scanAudioFiles(root)
  const files = new AudioFileRepository(db.pool)
  const tracks = new TrackMatchRepository(db.pool)
  const matcher = new TrackMatcher(tracks, opts.search)
  const store = new FeatureStore(opts.dataDir)
  // what a killed import left half-written (its files were never adopted, so nothing refers to them)
  const swept = store.sweepTemporaryFiles()
  if (swept.length) log?.info({ files: swept.length }, 'removed temporary feature files of an earlier run')

  const existing = new Map((await files.filesUnder(root)).map((r) => [r.path, r]))
  const present = new Set(scanned.map((f) => f.path))
  const removed = [...existing.values()].filter((r) => !present.has(r.path))
  await files.deleteByIds(removed.map((r) => r.id))

  const claims = await manifestClaims(tracks, manifestRows, present, opts.manifest)
  // rows for files outside the folder belong to another import and are not reported
  const manifestRowsWithoutFile = manifestRows
    .filter((r) => !present.has(r.path) && r.path.startsWith(root + path.sep))
    .map((r) => ({ line: r.line, path: r.path }))

  const todo: Todo[] = []
  const unchanged: StoredAudioFile[] = []
  for (const f of scanned) {
    const old = existing.get(f.path)
    if (!old) todo.push({ file: f, why: 'new' })
    else if (old.size !== f.size || old.mtimeMs !== f.mtimeMs) todo.push({ file: f, why: 'changed' })
    else if (old.status === 'ok' && (!old.sha256 || !store.has(old.sha256)))
      todo.push({ file: f, why: 'features-missing' })
    else unchanged.push(old)
  }
  log?.info(
    {
      dir: root,
      scanned: scanned.length,
      todo: todo.length,
      unchanged: unchanged.length,
      removed: removed.length,
    },
    'audio scan',
  )

  let rematched = 0
  // a handful of matching queries at a time: a big library may have thousands of earlier misses
  await inParallel(unchanged, 4, async (old) => {
    if (old.status !== 'ok') return
    opts.signal?.throwIfAborted()
    const claim = claims.get(old.path)
    let m: MatchRecord | undefined
    if (claim) m = manifestMatch(claim)
    else if (
      old.match.method !== 'manifest' &&
      (old.match.status !== 'matched' || old.match.claimTrackId === null)
    )
      m = await matcher.matchTags(old.tags, old.durationS ?? undefined)
    if (m && !sameMatch(m, old.match)) {
      await files.updateMatch(old.id, m)
      rematched++
    }
  })

  const totalBytes = todo.reduce((s, t) => s + t.file.size, 0)
  const threads =
    concurrency <= 1 || todo.length <= INLINE_MAX_FILES || totalBytes <= INLINE_MAX_BYTES
      ? 0
      : Math.min(concurrency, todo.length)
  const extractor: Extractor = threads
    ? workerExtractor(opts.dataDir, threads)
    : inlineExtractor(opts.dataDir)
  const known = new Map<string, DecodedInfo>() // content decoded (or found decoded) in this run
  const counts = { decoded: 0, computed: 0, reused: 0, audioSeconds: 0 }

  const handle = async (t: Todo): Promise<void> => {
    let r: ExtractResult = await extractor.run({ path: t.file.path, skipIfStored: true })
    let info: DecodedInfo | null = null
    if (r.kind === 'stored') {
      info = known.get(r.sha256) ?? (await files.decodedByHash(r.sha256))
      if (info) counts.reused++
      else r = await extractor.run({ path: t.file.path, skipIfStored: false }) // in the store, but no row says what it is
    }
    if (r.kind === 'decoded') {
      info = {
        format: r.format,
        sourceSampleRate: r.sourceSampleRate,
        channels: r.channels,
        durationS: r.durationS,
        nFrames: r.nFrames,
      }
      if (!known.has(r.sha256)) {
        store.adopt(r.sha256, r)
        counts.computed++
      } else store.discard(r)
      counts.decoded++
      counts.audioSeconds += r.durationS
    }
    if (r.sha256 && info) known.set(r.sha256, info)
    const ok = r.kind !== 'failed' && info !== null
    if (r.kind === 'failed') log?.warn({ path: t.file.path, error: r.error }, 'audio file not imported')
    const claim = claims.get(t.file.path)
    const match = !ok
      ? NO_MATCH
      : claim
        ? manifestMatch(claim)
        : await matcher.matchTags(r.tags, info?.durationS ?? undefined)
    const rec: AudioFileRecord = {
      path: t.file.path,
      size: t.file.size,
      mtimeMs: t.file.mtimeMs,
      sha256: r.sha256,
      status: ok ? 'ok' : 'error',
      error: r.kind === 'failed' ? r.error : null,
      format: info?.format ?? null,
      sourceSampleRate: info?.sourceSampleRate ?? null,
      channels: info?.channels ?? null,
      durationS: info?.durationS ?? null,
      nFrames: info?.nFrames ?? null,
      tags: r.tags,
      match,
    }
    await files.upsert(rec)
  }

  let done = 0
  try {
    // Twice as many files in flight as threads: one decoding per thread while the other's result is written.
    await inParallel(todo, Math.max(1, threads * 2), async (t) => {
      opts.signal?.throwIfAborted()
      await handle(t)
      done++
      opts.onProgress?.({
        done,
        total: todo.length,
        path: t.file.path,
        audioSeconds: counts.audioSeconds,
        elapsedSeconds: (performance.now() - t0) / 1000,
      })
    })
  } finally {
    await extractor.close()
  }

  await files.resolveClaims()
  const report = await files.reportUnder(root)
  const elapsedSeconds = (performance.now() - t0) / 1000

  const summary: AudioImportSummary = {
    dir: root,
    manifest: opts.manifest ? path.resolve(opts.manifest) : null,
    patchHop: hop,
    threads,
    files: {
      scanned: scanned.length,
      new: todo.filter((t) => t.why === 'new').length,
      changed: todo.filter((t) => t.why === 'changed').length,
      unchanged: unchanged.length,
      featuresMissing: todo.filter((t) => t.why === 'features-missing').length,
      removed: removed.length,
      rematched,
    },
    features: { decoded: counts.decoded, computed: counts.computed, reused: counts.reused },
    match: {
      linked: 0,
      byMethod: { manifest: 0, 'discogs-id': 0, tags: 0 },
      duplicate: 0,
      ambiguous: 0,
      unmatched: 0,
      errors: 0,
    },
    reasons: {},
    errors: [],
    ambiguous: [],
    unmatched: [],
    duplicates: [],
    manifestRowsWithoutFile,
    audioSeconds: counts.audioSeconds,
    totalAudioSeconds: 0,
    patches: 0,
    elapsedSeconds,
    filesPerSecond: todo.length / Math.max(1e-3, elapsedSeconds),
    audioSecondsPerSecond: counts.audioSeconds / Math.max(1e-3, elapsedSeconds),
  }
  const reason = (code: string) => (summary.reasons[code] = (summary.reasons[code] ?? 0) + 1)
  for (const r of report) {
    if (r.status === 'error') {
      summary.match.errors++
      summary.errors.push({ path: r.path, error: r.error ?? 'unknown error' })
      reason('decode-error')
      continue
    }
    summary.totalAudioSeconds += r.durationS ?? 0
    summary.patches += patchCount(r.nFrames ?? 0, hop)
    if (r.trackId !== null) {
      summary.match.linked++
      if (r.matchMethod) summary.match.byMethod[r.matchMethod]++
    } else if (r.matchStatus === 'matched' && r.claimTrackId !== null) {
      summary.match.duplicate++
      summary.duplicates.push({ path: r.path, trackId: r.claimTrackId, linkedTo: r.linkedTo })
      reason('track-claimed-by-another-file')
    } else if (r.matchStatus === 'ambiguous') {
      summary.match.ambiguous++
      summary.ambiguous.push({
        path: r.path,
        reason: r.matchReason ?? 'close-candidates',
        note: r.matchNote ?? '',
      })
      reason(r.matchReason ?? 'close-candidates')
    } else {
      summary.match.unmatched++
      summary.unmatched.push({
        path: r.path,
        reason: r.matchReason ?? 'not-matched',
        note: r.matchNote ?? '',
      })
      reason(r.matchReason ?? 'not-matched')
    }
  }
  log?.info(
    { dir: root, seconds: Math.round(elapsedSeconds * 10) / 10, ...summary.match },
    'audio import done',
  )
  return summary
}

/** Manifest rows for files that are there, each with what the catalog has at its (release, position). */
async function manifestClaims(
  tracks: TrackMatchRepository,
  rows: ManifestRow[],
  present: Set<string>,
  manifestFile: string | undefined,
): Promise<Map<string, ManifestClaim>> {
  const inScope = rows.filter((r) => present.has(r.path))
  const found = await tracks.tracksAtPositions(inScope)
  const name = manifestFile ? path.basename(manifestFile) : 'manifest'
  return new Map(
    inScope.map((r, i) => [
      r.path,
      { manifest: name, line: r.line, releaseId: r.releaseId, position: r.position, ...found[i] },
    ]),
  )
}

/**
 * Runs `fn` over `items`, at most `limit` at a time, in order of start. The first failure stops new
 * starts and is thrown once those running have settled, so nothing is left writing behind the caller.
 */
async function inParallel<T>(items: T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0
  let failure: { err: unknown } | undefined
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (!failure && next < items.length) {
        const item = items[next++]
        try {
          await fn(item)
        } catch (err) {
          failure ??= { err }
        }
      }
    }),
  )
  if (failure) throw failure.err
}
