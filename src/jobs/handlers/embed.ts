import { embedTracks } from '../../services/embedding.service.ts'
import type { JobHandler } from '../worker.ts'

/**
 * Embeds every track with audio with one model. Each batch of vectors is committed as it is written and
 * tracks already embedded are skipped, so a cancelled, crashed or retried job continues where it stopped;
 * the index and centroids are (re)built at the end of the pass that completes.
 */
export const embedHandler: JobHandler<'embed'> = async (payload, ctx) => {
  const summary = await embedTracks(ctx.db, ctx.config, {
    model: payload.model,
    space: payload.space,
    batch: payload.batch,
    searchTransform: { kind: payload.searchTransform, dims: payload.whitenDims },
    logger: ctx.logger,
    signal: ctx.signal,
    onProgress: (p) =>
      ctx.progress({
        fraction: p.tracksTotal ? p.tracksDone / p.tracksTotal : undefined,
        rate: p.patchesPerS,
        rateUnit: 'patches/s',
        message: `${p.tracksDone}/${p.tracksTotal} tracks`,
      }),
  })
  ctx.log(
    'info',
    `model ${summary.model.name}: ${summary.tracks.embedded} tracks embedded, ${summary.tracks.skipped} already done; ` +
      [
        ...summary.spaces.map((s) => `${s.space} ${s.total} vectors, index ${s.index}`),
        ...summary.predictions.map((p) => `probe ${p.probe}: ${p.written} tracks scored`),
      ].join('; '),
  )
  return summary
}
