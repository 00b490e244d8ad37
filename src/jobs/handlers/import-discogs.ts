import { importDiscogsDumps } from '../../services/import.service.ts'
import type { JobHandler } from '../worker.ts'

/**
 * Imports dump files. Batches commit whole records, and the importer resumes an interrupted file, so a
 * cancelled or crashed job re-run later repeats nothing it had committed.
 */
export const importDiscogsHandler: JobHandler<'import-discogs'> = async (payload, ctx) => {
  const summary = await importDiscogsDumps(ctx.db, payload.files, {
    dumpDate: payload.dumpDate,
    logger: ctx.logger,
    signal: ctx.signal, // stops between batches; what is committed stays committed
    onProgress: (p) =>
      ctx.progress({
        fraction: p.totalBytes ? p.bytes / p.totalBytes : undefined,
        rate: p.recordsPerSecond,
        rateUnit: 'records/s',
        message: `${p.type}: ${p.records} records (${p.file})`,
      }),
  })
  ctx.log(
    'info',
    `imported ${summary.records} records (${summary.inserted} new, ${summary.updated} updated) in ${summary.elapsedSeconds.toFixed(1)} s`,
  )
  return summary
}
