import type { Command } from 'commander'
import {
  importAudioFolder,
  type AudioImportSummary,
  type AudioProgress,
} from '../../services/import.service.ts'
import { withDatabase, type CliContext } from '../context.ts'
import { integerOption } from '../options.ts'
import { progressReporter } from '../progress.ts'
import { ingestCommand } from './ingest-discogs.ts'

export function registerIngestAudioCommand(program: Command, ctx: () => CliContext): void {
  ingestCommand(program)
    .command('audio')
    .description(
      'import the audio files under a folder (mp3, flac, ogg, opus, wav; m4a/aac with ffmpeg): decode, store ' +
        'Discogs-EffNet mel frames once per distinct content under DATA_DIR, and link each file to its Discogs ' +
        'track, exactly from --manifest or else from its tags. Re-running is safe: unchanged files are skipped.',
    )
    .argument('<dir>', 'folder to scan recursively')
    .option(
      '--manifest <file.csv>',
      'CSV path,release_id,position (paths relative to the manifest or absolute)',
    )
    .option(
      '--patch-hop <n>',
      'patch hop in frames for the patch count reported (62 = Essentia default, 128 = no overlap)',
      integerOption('--patch-hop'),
      62,
    )
    .option('--concurrency <n>', 'decoding threads (default: CPU cores)', integerOption('--concurrency'))
    .option('--json', 'print the summary as JSON on stdout')
    .action(
      async (
        dir: string,
        opts: { manifest?: string; patchHop: number; concurrency?: number; json?: boolean },
      ) => {
        const c = ctx()
        const progress = audioProgress(c)
        try {
          const summary = await withDatabase(c, (db) =>
            importAudioFolder(db, c.config, dir, {
              manifest: opts.manifest,
              patchHop: opts.patchHop,
              concurrency: opts.concurrency,
              logger: c.logger,
              onProgress: (p) => progress.update(p.done, p.total, p),
            }),
          )
          progress.stop()
          process.stdout.write(opts.json ? JSON.stringify(summary) + '\n' : formatAudioSummary(summary))
        } finally {
          progress.stop()
        }
      },
    )
}

/** A bar (files, files/s, audio ×realtime, ETA) on a terminal; a log line every few seconds otherwise. */
function audioProgress(c: CliContext) {
  return progressReporter<AudioProgress>({
    format:
      'audio [{bar}] {value}/{total} files | {rate} files/s | {realtime}× realtime | ETA {eta_formatted}',
    tokens: (p) => ({ rate: p.filesPerSecond.toFixed(1), realtime: Math.round(p.audioSecondsPerSecond) }),
    log: (done, total, p) =>
      c.logger.info(
        {
          done,
          total,
          filesPerSecond: Math.round(10 * p.filesPerSecond) / 10,
          audioSecondsPerSecond: Math.round(p.audioSecondsPerSecond),
          file: p.path,
        },
        'importing audio',
      ),
  })
}

const LISTED = 20

export function formatAudioSummary(s: AudioImportSummary): string {
  const f = s.files
  const m = s.match
  const lines = [
    `${f.scanned} audio files under ${s.dir} in ${s.elapsedSeconds.toFixed(1)} s: ${f.new} new, ${f.changed} changed, ` +
      `${f.unchanged} unchanged, ${f.removed} removed` +
      (f.featuresMissing ? `, ${f.featuresMissing} with features missing from the store` : ''),
    `  read ${f.new + f.changed + f.featuresMissing} files (${s.filesPerSecond.toFixed(1)} files/s), decoded ${s.features.decoded} ` +
      `(${Math.round(s.audioSeconds)} s of audio, ${Math.round(s.audioSecondsPerSecond)}× realtime, ` +
      `${s.threads ? `${s.threads} threads` : 'main thread'}); ${s.features.reused} already in the store`,
    `  ${m.linked} linked to tracks (manifest ${m.byMethod.manifest}, Discogs id ${m.byMethod['discogs-id']}, tags ${m.byMethod.tags}), ` +
      `${m.duplicate} duplicate, ${m.ambiguous} ambiguous, ${m.unmatched} unmatched, ${m.errors} errors` +
      (f.rematched ? `; ${f.rematched} unchanged files matched again` : ''),
    `  ${Math.round(s.totalAudioSeconds)} s of audio, ${s.patches} patches at hop ${s.patchHop}`,
  ]
  const reasons = Object.entries(s.reasons).sort((a, b) => b[1] - a[1])
  if (reasons.length) lines.push(`not linked, by reason: ${reasons.map(([r, n]) => `${r} ${n}`).join(', ')}`)
  const list = (title: string, items: string[]) => {
    if (!items.length) return
    lines.push(`${title}:`)
    for (const i of items.slice(0, LISTED)) lines.push(`  ${i}`)
    if (items.length > LISTED) lines.push(`  … ${items.length - LISTED} more (--json lists all)`)
  }
  list(
    'errors',
    s.errors.map((e) => (e.error.startsWith(e.path) ? e.error : `${e.path}: ${e.error}`)),
  )
  list(
    'duplicates',
    s.duplicates.map((d) => `${d.path}: track ${d.trackId} is linked to ${d.linkedTo ?? 'another file'}`),
  )
  list(
    'ambiguous',
    s.ambiguous.map((a) => `${a.path}: ${a.note}`),
  )
  list(
    'unmatched',
    s.unmatched.map((u) => `${u.path}: [${u.reason}] ${u.note}`),
  )
  list(
    'manifest rows without a file',
    s.manifestRowsWithoutFile.map((r) => `line ${r.line}: ${r.path}`),
  )
  return lines.join('\n') + '\n'
}
