import type { Command } from 'commander'
import { BadInputError } from '../../errors.ts'
import { isEmbeddingSpace } from '../../ml/embedding/patch-encoder.ts'
import { ModelService, type ModelSummary } from '../../services/model.service.ts'
import { withDatabase, type CliContext } from '../context.ts'

function describe(m: ModelSummary): string {
  const dims = Object.entries(m.dims)
    .map(([s, d]) => `${s} ${d}-d`)
    .join(', ')
  const embedded =
    Object.entries(m.embedded)
      .map(([s, n]) => `${n} ${s}`)
      .join(', ') || 'none'
  return `${String(m.id).padStart(3)}  ${m.name}  (${m.kind}${m.association ? `, ${m.association}` : ''}; ${dims}; vectors: ${embedded})`
}

export function registerModelCommands(program: Command, ctx: () => CliContext): void {
  const models = program
    .command('models')
    .description('the model registry: random-weights baselines, trained runs, imported ONNX graphs')

  models
    .command('list')
    .description('registered models with their spaces, widths and how many tracks each has embedded')
    .option('--json', 'print the models as JSON')
    .action(async (o) => {
      const c = ctx()
      const list = await withDatabase(c, (db) => new ModelService(db, c.config).list())
      if (o.json) console.log(JSON.stringify(list))
      else if (!list.length)
        console.log('no models yet: `discograph embed --model random` registers the random-weights baseline')
      else for (const m of list) console.log(describe(m))
    })

  models
    .command('register <model>')
    .description(
      'register a training run (id or name; its newest checkpoint) or a random-weights model (random, random-small, random-tiny)',
    )
    .option('--json', 'print the model as JSON')
    .action(async (ref: string, o) => {
      const c = ctx()
      const m = await withDatabase(c, (db) => new ModelService(db, c.config).resolve(ref))
      console.log(o.json ? JSON.stringify(m) : `model ${m.id} ${m.name} (${m.kind}) ${m.fingerprint}`)
    })

  models
    .command('import-onnx <file>')
    .description(
      "import an ONNX encoder, e.g. Essentia's discogs-effnet-bsdynamic-1.onnx or discogs_artist_embeddings-effnet-bs64-1.onnx " +
        '(CC BY-NC-SA 4.0): input melspectrogram [N, 128, 96]; the embedding output is found by shape (1280-d backbone, 512-d projection)',
    )
    .requiredOption('--name <name>', 'name of the model in the registry')
    .option('--output <name>', 'use this graph output as the embedding instead of recognising it by shape')
    .option('--space <space>', 'space of --output: backbone or projection (default: projection when 512-d)')
    .option('--association <a>', 'what it was trained on (default: read from Essentia file names)')
    .option(
      '--metadata <json>',
      "its metadata JSON (e.g. discogs-effnet-bsdynamic-1.json): the graph's [N, classes] output becomes a probe of the model, scored at embed time",
    )
    .option('--json', 'print the model as JSON')
    .action(async (file: string, o) => {
      if (o.space !== undefined && !isEmbeddingSpace(o.space))
        throw new BadInputError(`must be backbone or projection, got ${o.space}`, '--space')
      const c = ctx()
      const { model, created, predictor } = await withDatabase(c, (db) =>
        new ModelService(db, c.config).importOnnx(file, {
          name: o.name,
          output: o.output,
          space: o.space,
          association: o.association,
          metadata: o.metadata,
        }),
      )
      if (o.json) {
        console.log(JSON.stringify({ ...model, created, predictor: predictor ?? null }))
        return
      }
      if (!created) console.log(`${file} is already registered as model ${model.id} ${model.name}`)
      else
        console.log(
          `imported ${file} as model ${model.id} ${model.name}: ${Object.entries(model.dims)
            .map(([s, d]) => `${s} ${d}-d`)
            .join(', ')}`,
        )
      if (predictor)
        console.log(
          `probe ${predictor.name}: its ${predictor.classes.length}-class output (output ${String(predictor.config.output)}), ` +
            `scored by \`discograph embed --model ${model.name}\` (tracks embedded before: \`discograph probe predict --probe ${predictor.name}\`)`,
        )
    })
}
