import { featureStorePatchSource } from '../../services/patch-source.ts'
import { initBackend } from '../../ml/engine/backend.ts'
import { runOfJob } from '../../services/training-runs.service.ts'
import { trainContrastive } from '../../services/training.service.ts'
import type { JobHandler } from '../worker.ts'

/**
 * Trains a run. A retried job (worker killed, failure) finds the run it created by its job id and resumes it
 * from the last checkpoint, losing at most the steps since.
 */
export const trainHandler: JobHandler<'train'> = async (payload, ctx) => {
  const backend = await initBackend(payload.backend, { logger: ctx.logger })
  const previous = payload.resume ?? (await runOfJob(ctx.db, ctx.jobId))?.id
  const patches = await featureStorePatchSource(ctx.db, ctx.config.dataDir)
  try {
    const run = await trainContrastive(ctx.db, ctx.config, payload.config, patches, {
      name: payload.name,
      resume: previous,
      jobId: ctx.jobId,
      backend: backend.name,
      logger: ctx.logger,
      signal: ctx.signal,
      onProgress: (p) =>
        ctx.progress({
          fraction: p.totalSteps ? p.step / p.totalSteps : undefined,
          rate: p.entry.samplesPerS,
          rateUnit: 'samples/s',
          message: `step ${p.step}: loss ${p.entry.loss?.toFixed(4)}${p.entry.valPrecision !== undefined ? `, held-out precision@${p.entry.valK} ${p.entry.valPrecision.toFixed(3)} (chance ${p.entry.valChance?.toFixed(3)})` : ''}`,
        }),
    })
    if (previous) ctx.log('info', `resumed run ${run.name} from its last checkpoint`)
    return { run: run.name, id: run.id, steps: run.step, metrics: run.metrics, backend: run.backend }
  } finally {
    patches.close()
  }
}
