import type { Command } from 'commander'
import { BadInputError } from '../../errors.ts'
import { embedTracks, type EmbedProgress, type SpaceChoice } from '../../services/embedding.service.ts'
import { withDatabase, type CliContext } from '../context.ts'
import { integerOption } from '../options.ts'
import { progressReporter } from '../progress.ts'

export function registerEmbedCommand(program: Command, ctx: () => CliContext): void {
  program
    .command('embed')
    .description(
      'embed every track with audio with a model: mean of its patch embeddings, L2-normalised, into pgvector; then the ' +
        "search transform fitted on the model's vectors, one HNSW index per model and space on the search vectors, and " +
        'artist/label centroids. Resumable: tracks already embedded by the model are skipped.',
    )
    .requiredOption(
      '--model <model>',
      'model id or name, random (B0) / random-small / random-tiny, or a training run id or name',
    )
    .option('--space <space>', 'backbone, projection or both (every space the model has)', 'both')
    .option(
      '--batch <n>',
      "patches per forward pass (default: 32 for tfjs models, the graph's batch or 64 for ONNX)",
      integerOption('--batch', { min: 1 }),
    )
    .option(
      '--backend <name>',
      'TensorFlow.js backend for trained and random models: auto, native, wasm, cpu…',
      'auto',
    )
    .option(
      '--search-transform <kind>',
      'what search vectors are: center (minus the library mean; the default), whiten (centred, PCA-whitened), or raw; refitted whenever vectors are written',
    )
    .option(
      '--whiten-dims <n>',
      'dimensions whitened search vectors keep (default 128, at most the tracks embedded − 1)',
      integerOption('--whiten-dims', { min: 1 }),
    )
    .option('--json', 'print the summary as JSON')
    .action(async (o) => {
      if (!['backbone', 'projection', 'both'].includes(o.space))
        throw new BadInputError(`must be backbone, projection or both, got ${o.space}`, '--space')
      const c = ctx()
      const progress = progressReporter<EmbedProgress>({
        format: 'embed [{bar}] {value}/{total} tracks | {rate} patches/s | eta {eta_formatted}',
        tokens: (p) => ({ rate: p.patchesPerS.toFixed(1) }),
        log: (done, total, p) =>
          c.logger.info(
            { tracks: done, of: total, patchesPerS: Number(p.patchesPerS.toFixed(1)) },
            'embedding',
          ),
      })
      const summary = await withDatabase(c, async (db) => {
        try {
          return await embedTracks(db, c.config, {
            model: o.model,
            space: o.space as SpaceChoice,
            batch: o.batch,
            backend: o.backend,
            searchTransform: { kind: o.searchTransform, dims: o.whitenDims },
            logger: c.logger,
            onProgress: (p) => progress.update(p.tracksDone, p.tracksTotal, p),
          })
        } finally {
          progress.stop()
        }
      })
      if (o.json) {
        console.log(JSON.stringify(summary))
        return
      }
      const t = summary.tracks
      console.log(
        `model ${summary.model.id} ${summary.model.name}: ${t.embedded} tracks embedded, ${t.skipped} already done (of ${t.withAudio} with audio); ` +
          `${summary.patches} patches in ${summary.seconds.toFixed(1)} s (${summary.patchesPerS.toFixed(1)} patches/s)`,
      )
      for (const s of summary.spaces) {
        console.log(
          `  ${s.space} ${s.dims}-d: ${s.written} written, ${s.total} in total; HNSW index ${s.index === 'built' ? `built in ${s.indexSeconds.toFixed(1)} s` : 'kept'}; ` +
            `${s.artists} artist and ${s.labels} label centroids; search vectors ${s.search.kind}${s.search.kind === 'whiten' ? ` ${s.search.dims}-d` : ''} ` +
            `(${s.search.refit ? `fitted on ${s.search.fittedOn} vectors in ${s.search.seconds.toFixed(1)} s` : 'kept'})`,
        )
      }
      for (const p of summary.predictions) console.log(`  probe ${p.probe}: ${p.written} tracks scored`)
    })
}
