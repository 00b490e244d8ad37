import { initBackend } from '../../ml/engine/backend.ts'
import { predictAll, trainProbe } from '../../services/probe.service.ts'
import type { JobHandler } from '../worker.ts'

/**
 * Trains a probe (and optionally scores every embedded track with it). Probes train in seconds to minutes,
 * so a retried job simply trains again: the probe of the same name is replaced, never duplicated.
 */
export const trainProbeHandler: JobHandler<'train-probe'> = async (payload, ctx) => {
  const backend = await initBackend(undefined, { logger: ctx.logger })
  const maxEpochs = 200
  const trained = await trainProbe(ctx.db, ctx.config, {
    models: payload.models,
    task: payload.task,
    space: payload.space,
    seed: payload.seed,
    top: payload.top,
    name: payload.name,
    backend: backend.name,
    logger: ctx.logger,
    signal: ctx.signal,
    mlp: { maxEpochs },
    onEpoch: (e) =>
      ctx.progress({
        fraction: (payload.predict ? 0.8 : 1) * Math.min(1, e.epoch / maxEpochs),
        message: `epoch ${e.epoch}: loss ${e.loss.toFixed(4)}, validation ${e.valLoss.toFixed(4)}`,
      }),
  })
  const m = trained.metrics
  ctx.log(
    'info',
    `probe ${trained.probe.name}: ROC-AUC ${m.rocAuc.toFixed(3)}, PR-AUC ${m.prAuc.toFixed(3)}${m.accuracy !== undefined ? `, accuracy ${m.accuracy.toFixed(3)}` : ''}`,
  )
  let predictions: number | undefined
  if (payload.predict) {
    const summary = await predictAll(ctx.db, trained.probe.name, {
      signal: ctx.signal,
      onProgress: (done, total) =>
        ctx.progress({ fraction: 0.8 + (0.2 * done) / total, message: `scored ${done}/${total} tracks` }),
    })
    predictions = summary.tracks
  }
  return { probe: trained.probe.name, id: trained.probe.id, metrics: trained.metrics, predictions }
}
