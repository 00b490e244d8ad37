import path from 'node:path'
import { initBackend } from '../../ml/engine/backend.ts'
import { evaluate, writeEvaluation } from '../../services/evaluation.service.ts'
import { evaluateRetrieval, writeRetrieval } from '../../services/retrieval.service.ts'
import type { JobHandler } from '../worker.ts'

/**
 * Runs the evaluation table and writes it to `out`. A retried job runs it again from the start: each probe
 * is replaced under its name, the files are rewritten, nothing accumulates.
 */
export const evaluateHandler: JobHandler<'evaluate'> = async (payload, ctx) => {
  const out = path.resolve(payload.out ?? path.join(ctx.config.dataDir, 'evaluation'))
  ctx.progress({ message: 'retrieval' })
  const retrieval = await evaluateRetrieval(ctx.db, ctx.config.dataDir, {
    models: payload.models?.filter((m) => !m.includes('+')),
    logger: ctx.logger,
  })
  const retrievalFiles = writeRetrieval(retrieval, out)
  const backend = await initBackend(undefined, { logger: ctx.logger })
  const report = await evaluate(ctx.db, ctx.config, {
    models: payload.models,
    tasks: payload.tasks,
    space: payload.space,
    seed: payload.seed,
    top: payload.top,
    backend: backend.name,
    logger: ctx.logger,
    signal: ctx.signal,
    onProbe: (done, total, what) =>
      ctx.progress({
        fraction: total ? done / total : undefined,
        message: what === 'done' ? 'done' : `probe ${done + 1}/${total}: ${what}`,
      }),
  })
  const files = { ...writeEvaluation(report, out), retrieval: retrievalFiles }
  for (const s of report.skippedTasks) ctx.log('warn', `skipped ${s.task}: ${s.reason}`)
  return {
    files,
    retrieval: { k: retrieval.k, tracks: retrieval.tracks, chance: retrieval.chance, rows: retrieval.rows },
    tracks: report.tracks,
    rows: report.rows.map((r) => ({ label: r.label, models: r.models, results: r.results })),
  }
}
