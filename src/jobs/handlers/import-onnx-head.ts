import { importOnnxHead } from '../../services/onnx-probe.service.ts'
import { predictAll } from '../../services/probe.service.ts'
import type { JobHandler } from '../worker.ts'

/**
 * Imports a classifier head as a probe, then scores the model's embedded tracks (an encoder pass over their
 * audio). Run twice, it finds the same probe and scores only the tracks still lacking its predictions.
 */
export const importOnnxHeadHandler: JobHandler<'import-onnx-head'> = async (payload, ctx) => {
  const { probe, created } = await importOnnxHead(ctx.db, ctx.config, payload.file, {
    model: payload.model,
    metadata: payload.metadata,
    name: payload.name,
  })
  ctx.log(
    'info',
    `${created ? 'imported' : 'already imported:'} probe ${probe.name} (${probe.classes.length} classes)`,
  )
  let predictions: number | undefined
  if (payload.predict ?? true) {
    const summary = await predictAll(ctx.db, probe.name, {
      config: ctx.config,
      signal: ctx.signal,
      onProgress: (done, total) =>
        ctx.progress({
          fraction: total ? done / total : undefined,
          message: `scored ${done}/${total} tracks`,
        }),
    })
    predictions = summary.tracks
    ctx.log('info', `probe ${probe.name}: scored ${summary.tracks} tracks`)
  }
  return { probe: probe.name, id: probe.id, created, predictions }
}
