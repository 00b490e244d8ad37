import { importAudioFolder } from '../../services/import.service.ts'
import type { JobHandler } from '../worker.ts'

/**
 * Imports an audio folder. Every file is committed as it is done and unchanged files are skipped, so a
 * cancelled, crashed or retried job repeats nothing it had finished.
 */
export const importAudioHandler: JobHandler<'import-audio'> = async (payload, ctx) => {
  let lastLog = 0
  const summary = await importAudioFolder(ctx.db, ctx.config, payload.dir, {
    manifest: payload.manifest,
    patchHop: payload.patchHop,
    logger: ctx.logger,
    signal: ctx.signal, // stops between files; what is committed stays committed
    onProgress: (p) => {
      ctx.progress({
        fraction: p.total ? p.done / p.total : undefined,
        rate: p.filesPerSecond,
        rateUnit: 'files/s',
        message: `${p.done}/${p.total} files, ${Math.round(p.audioSeconds)} s of audio decoded`,
      })
      if (p.done === p.total || performance.now() - lastLog > 30_000) {
        lastLog = performance.now()
        ctx.log('info', `${p.done}/${p.total} files (${p.filesPerSecond.toFixed(1)} files/s)`)
      }
    },
  })
  const m = summary.match
  ctx.log(
    'info',
    `${summary.files.scanned} files: ${summary.files.new} new, ${summary.files.changed} changed, ${summary.files.unchanged} unchanged; ` +
      `${m.linked} linked, ${m.duplicate} duplicate, ${m.ambiguous} ambiguous, ${m.unmatched} unmatched, ${m.errors} errors ` +
      `in ${summary.elapsedSeconds.toFixed(1)} s`,
  )
  if (m.errors)
    ctx.log(
      'warn',
      `${m.errors} files could not be decoded, e.g. ${summary.errors[0].path}: ${summary.errors[0].error}`,
    )
  // the job row keeps the result: the per-file lists are cut (the counts and reasons stay whole)
  const cut = <T>(xs: T[]) => xs.slice(0, RESULT_LIST_MAX)
  return {
    ...summary,
    errors: cut(summary.errors),
    ambiguous: cut(summary.ambiguous),
    unmatched: cut(summary.unmatched),
    duplicates: cut(summary.duplicates),
    manifestRowsWithoutFile: cut(summary.manifestRowsWithoutFile),
  }
}

const RESULT_LIST_MAX = 100
