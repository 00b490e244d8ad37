import cliProgress from 'cli-progress'
import type { Command } from 'commander'
import { featureStorePatchSource } from '../../audio/patch-source.ts'
import { DEFAULT_PATCH_HOP } from '../../audio/patches.ts'
import { BadInputError } from '../../errors.ts'
import { initBackend } from '../../ml/engine/backend.ts'
import { trainContrastive, type TrainProgress } from '../../services/training.service.ts'
import { withDatabase, type CliContext } from '../context.ts'

const int = (name: string) => (v: string) => {
  const n = Number(v)
  if (!Number.isInteger(n)) throw new BadInputError(`must be an integer, got "${v}"`, name)
  return n
}
const num = (name: string) => (v: string) => {
  const n = Number(v)
  if (!Number.isFinite(n)) throw new BadInputError(`must be a number, got "${v}"`, name)
  return n
}

export function registerTrainCommand(program: Command, ctx: () => CliContext): void {
  program
    .command('train')
    .description(
      'train a contrastive audio encoder (EfficientNet + COLA) with positives from Discogs associations: two patches of ' +
        'a track (track), or two tracks of a release, artist or label; multi = track + artist on two heads',
    )
    .option('--association <a>', 'track, release, artist, label or multi')
    .option('--size <size>', 'b0 (the paper), small or tiny', 'small')
    .option('--batch <n>', 'pairs per batch (negatives per anchor = batch − 1)', int('--batch'), 32)
    .option('--chunk <n>', 'pairs encoded at once; smaller than --batch turns on gradient caching', int('--chunk'))
    .option('--steps <n>', 'training steps', int('--steps'))
    .option('--epochs <n>', 'epochs over the association groups (instead of --steps)', int('--epochs'))
    .option('--lr <x>', 'Adam learning rate', num('--lr'), 1e-3)
    .option('--seed <n>', 'seed of initialisation, sampling and validation split', int('--seed'), 1)
    .option('--validation <fraction>', 'share of groups held out for validation', num('--validation'), 0.1)
    .option('--patches <mode>', 'patch selection: random or first', 'random')
    .option('--patch-hop <n>', 'frames between patch starts', int('--patch-hop'), DEFAULT_PATCH_HOP)
    .option('--checkpoint-every <n>', 'steps between checkpoints', int('--checkpoint-every'), 50)
    .option('--name <name>', 'run name (default: association-size-timestamp)')
    .option('--resume <run>', 'continue a stopped or crashed run (id or name) from its last checkpoint')
    .option('--backend <name>', 'auto, tfjs-node-gpu, tfjs-node, native, wasm or cpu', 'auto')
    .option('--json', 'print the finished run as JSON')
    .action(async (o) => {
      if (!o.resume && !o.association) throw new BadInputError('is required (or --resume)', '--association')
      const c = ctx()
      const backend = await initBackend(o.backend, { logger: c.logger })
      const bar = process.stderr.isTTY ? new cliProgress.SingleBar({ format: 'train [{bar}] {value}/{total} steps | loss {loss} | val top-1 {top1} | {rate} samples/s' }, cliProgress.Presets.shades_classic) : null
      let started = false
      const onProgress = (p: TrainProgress) => {
        const payload = { loss: p.entry.loss?.toFixed(4) ?? '-', top1: p.entry.valTop1?.toFixed(3) ?? '-', rate: p.entry.samplesPerS?.toFixed(1) ?? '-' }
        if (bar) {
          if (!started) bar.start(p.totalSteps || p.step, p.step, payload)
          started = true
          bar.update(p.step, payload)
        } else {
          c.logger.info(p.entry, 'training')
        }
      }
      const config = {
        association: o.association,
        size: o.size,
        batchSize: o.batch,
        chunkSize: o.chunk,
        steps: o.steps,
        epochs: o.epochs,
        learningRate: o.lr,
        seed: o.seed,
        validationFraction: o.validation,
        patchSelection: o.patches,
        checkpointEvery: o.checkpointEvery,
      }
      const run = await withDatabase(c, async (db) => {
        const patches = await featureStorePatchSource(db, c.config.dataDir, o.patchHop)
        try {
          return await trainContrastive(db, c.config, config, patches, { name: o.name, resume: o.resume, backend: backend.name, logger: c.logger, onProgress })
        } finally {
          patches.close()
          bar?.stop()
        }
      })
      if (o.json) console.log(JSON.stringify(run))
      else console.log(`run ${run.name} (${run.id}) ${run.status} after ${run.step} steps on ${run.backend}: ${JSON.stringify(run.metrics)}`)
    })
}
