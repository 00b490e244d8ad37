import type { Command } from 'commander'
import { featureStorePatchSource } from '../../services/patch-source.ts'
import { DEFAULT_PATCH_HOP } from '../../audio/patches.ts'
import { BadInputError } from '../../errors.ts'
import { NO_AUGMENTATION } from '../../ml/training/augment.ts'
import { DEFAULT_BATCH_SIZE, DEFAULT_TEMPERATURE, TRACK_TEMPERATURE } from '../../ml/training/config.ts'
import { initBackend } from '../../ml/engine/backend.ts'
import { trainContrastive, type TrainProgress } from '../../services/training.service.ts'
import { withDatabase, type CliContext } from '../context.ts'
import { integerOption, numberOption } from '../options.ts'
import { progressReporter } from '../progress.ts'

export function registerTrainCommand(program: Command, ctx: () => CliContext): void {
  program
    .command('train')
    .description(
      'train a contrastive audio encoder (EfficientNet + COLA) with positives from Discogs associations: two patches of ' +
        'a track (track), or two tracks of a release, artist or label; multi = track + artist on two heads',
    )
    .option('--association <a>', 'track, release, artist, label or multi')
    .option('--size <size>', 'b0 (the paper), small or tiny', 'small')
    .option(
      '--batch <n>',
      'pairs per batch (negatives per anchor = batch − 1)',
      integerOption('--batch'),
      DEFAULT_BATCH_SIZE,
    )
    .option(
      '--chunk <n>',
      'pairs encoded at once; smaller than --batch turns on gradient caching',
      integerOption('--chunk'),
    )
    .option(
      '--steps <n>',
      'training steps (default 600 unless --epochs; under batch 32, 600 × 32 / batch)',
      integerOption('--steps'),
    )
    .option(
      '--epochs <n>',
      'epochs over the association groups (instead of --steps)',
      integerOption('--epochs'),
    )
    .option('--lr <x>', 'Adam learning rate (default 1e-3)', numberOption('--lr'))
    .option(
      '--warmup <n>',
      'steps of linear learning-rate warm-up (default: 5 % of the steps, 30 of 600)',
      integerOption('--warmup'),
    )
    .option(
      '--schedule <s>',
      'learning rate after warm-up: cosine (to 0 at the last step; the default) or constant',
    )
    .option('--similarity <s>', 'pair score in the loss: cosine (over --temperature) or bilinear (COLA)')
    .option(
      '--temperature <x>',
      `softmax temperature of the cosine similarity (default ${TRACK_TEMPERATURE} for track associations, else ${DEFAULT_TEMPERATURE})`,
      numberOption('--temperature'),
    )
    .option('--no-augment', 'train on the patches as they are (no gain, mixing, shift or masks)')
    .option(
      '--validate-every <n>',
      'steps between held-out retrieval validations',
      integerOption('--validate-every'),
    )
    .option('--seed <n>', 'seed of initialisation, sampling and validation split', integerOption('--seed'), 1)
    .option(
      '--validation <fraction>',
      'share of groups held out for validation',
      numberOption('--validation'),
      0.1,
    )
    .option('--patches <mode>', 'patch selection: random or first', 'random')
    .option(
      '--track-pooling <p>',
      "how the registered model pools a track's patch vectors: mean (default) or mean-std (the mean, then the deviation over the patches: twice the width)",
    )
    .option('--patch-hop <n>', 'frames between patch starts', integerOption('--patch-hop'), DEFAULT_PATCH_HOP)
    .option('--checkpoint-every <n>', 'steps between checkpoints', integerOption('--checkpoint-every'), 50)
    .option('--name <name>', 'run name (default: association-size-timestamp)')
    .option('--resume <run>', 'continue a stopped or crashed run (id or name) from its last checkpoint')
    .option(
      '--backend <name>',
      'auto, tfjs-node-gpu, tfjs-node, native or cpu (not wasm: it cannot train)',
      'auto',
    )
    .option('--json', 'print the finished run as JSON')
    .action(async (o) => {
      if (!o.resume && !o.association) throw new BadInputError('is required (or --resume)', '--association')
      // Refused before a run is recorded: the run would fail at its first step (docs/ml-engine.md).
      if (o.backend === 'wasm') {
        throw new BadInputError(
          "wasm cannot train: tfjs' WASM backend has no gradient kernels for convolutions; choose auto, native, cpu, tfjs-node or tfjs-node-gpu",
          '--backend',
        )
      }
      const c = ctx()
      const backend = await initBackend(o.backend, { logger: c.logger })
      // Every step is logged off a terminal: a run's log is its history.
      const progress = progressReporter<TrainProgress>({
        format:
          'train [{bar}] {value}/{total} steps | loss {loss} | held-out P@10 {precision} (chance {chance}) | {rate} samples/s',
        tokens: (p) => ({
          loss: p.entry.loss?.toFixed(4) ?? '-',
          precision: p.entry.valPrecision?.toFixed(3) ?? '-',
          chance: p.entry.valChance?.toFixed(3) ?? '-',
          rate: p.entry.samplesPerS?.toFixed(1) ?? '-',
        }),
        log: (_done, _total, p) => c.logger.info(p.entry, 'training'),
        logEverySeconds: 0,
      })
      const onProgress = (p: TrainProgress) => progress.update(p.step, p.totalSteps || p.step, p)
      const config = {
        association: o.association,
        size: o.size,
        batchSize: o.batch,
        chunkSize: o.chunk,
        steps: o.steps,
        epochs: o.epochs,
        learningRate: o.lr,
        warmupSteps: o.warmup,
        schedule: o.schedule,
        similarity: o.similarity,
        temperature: o.temperature,
        augment: o.augment === false ? NO_AUGMENTATION : undefined,
        validateEvery: o.validateEvery,
        seed: o.seed,
        validationFraction: o.validation,
        patchSelection: o.patches,
        trackPooling: o.trackPooling,
        checkpointEvery: o.checkpointEvery,
      }
      const run = await withDatabase(c, async (db) => {
        const patches = await featureStorePatchSource(db, c.config.dataDir, o.patchHop)
        try {
          return await trainContrastive(db, c.config, config, patches, {
            name: o.name,
            resume: o.resume,
            backend: backend.name,
            logger: c.logger,
            onProgress,
          })
        } finally {
          patches.close()
          progress.stop()
        }
      })
      if (o.json) console.log(JSON.stringify(run))
      else
        console.log(
          `run ${run.name} (${run.id}) ${run.status} after ${run.step} steps on ${run.backend}: ${JSON.stringify(run.metrics)}`,
        )
    })
}
