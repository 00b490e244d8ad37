import type { Command } from 'commander'
import { BadInputError } from '../../errors.ts'
import { initBackend } from '../../ml/engine/backend.ts'
import type { EpochLog, MlpOptions } from '../../ml/probes/mlp.ts'
import { percent } from '../../report/table.ts'
import {
  CATALOG_TASKS,
  listProbes,
  predictAll,
  PROBE_SPACES,
  trainProbe,
  type ProbeMetrics,
  type ProbeRow,
  type ProbeSpace,
} from '../../services/probe.service.ts'
import { importOnnxHead } from '../../services/onnx-probe.service.ts'
import { isImportedProbe, probeKind } from '../../ml/probes/probe-kind.ts'
import { withDatabase, type CliContext } from '../context.ts'
import { integerOption, numberOption } from '../options.ts'
import { progressReporter } from '../progress.ts'

export const spaceOption = (v: string): ProbeSpace => {
  if (!(PROBE_SPACES as readonly string[]).includes(v))
    throw new BadInputError(`must be ${PROBE_SPACES.join(' or ')}, got "${v}"`, '--space')
  return v as ProbeSpace
}

/** The MLP options a user may set from the command line (both `probe train` and `evaluate`). */
export function addMlpOptions(command: Command): Command {
  return command
    .option(
      '--epochs <n>',
      'most epochs (early stopping on validation loss usually stops before)',
      integerOption('--epochs'),
    )
    .option(
      '--patience <n>',
      'epochs without a better validation loss before stopping',
      integerOption('--patience'),
    )
    .option('--hidden <n>', 'hidden units', integerOption('--hidden'))
    .option('--dropout <p>', 'dropout rate', numberOption('--dropout'))
    .option('--lr <x>', 'Adam learning rate', numberOption('--lr'))
    .option('--batch <n>', 'batch size', integerOption('--batch'))
    .option('--backend <name>', 'auto, tfjs-node-gpu, tfjs-node, native, wasm or cpu', 'auto')
}

export function mlpOptionsFrom(o: Record<string, unknown>): Partial<Omit<MlpOptions, 'seed'>> {
  const m: Partial<Omit<MlpOptions, 'seed'>> = {}
  if (o.epochs !== undefined) m.maxEpochs = o.epochs as number
  if (o.patience !== undefined) m.patience = o.patience as number
  if (o.hidden !== undefined) m.hidden = o.hidden as number
  if (o.dropout !== undefined) m.dropout = o.dropout as number
  if (o.lr !== undefined) m.learningRate = o.lr as number
  if (o.batch !== undefined) m.batchSize = o.batch as number
  return m
}

export function describeMetrics(m: Partial<ProbeMetrics>): string {
  const acc = m.accuracy !== undefined ? `, accuracy ${percent(m.accuracy)}` : ''
  const skipped = m.classesSkipped
    ? ` (${m.classesSkipped} class${m.classesSkipped > 1 ? 'es' : ''} without test positives skipped)`
    : ''
  return `ROC-AUC ${percent(m.rocAuc)}, PR-AUC ${percent(m.prAuc)}${acc}${skipped}`
}

/** Imported probes were evaluated by their publisher, if at all: say so rather than print empty metrics. */
function describeQuality(p: ProbeRow): string {
  if (!isImportedProbe(p)) return describeMetrics(p.metrics)
  const meta = (p.config.metadata ?? {}) as { file?: string; publishedMetrics?: Record<string, number> }
  const published = Object.entries(meta.publishedMetrics ?? {})
    .map(([k, v]) => `${k} ${v}`)
    .join(', ')
  return `${probeKind(p)} from ${meta.file ?? 'its metadata'}${published ? ` (published: ${published}; not evaluated here)` : ' (not evaluated here)'}`
}

export function registerProbeCommands(program: Command, ctx: () => CliContext): void {
  const probe = program.command('probe').description('classifiers on frozen embeddings: train, predict, list')

  addMlpOptions(
    probe
      .command('train')
      .description(
        'train an MLP probe (Dense 512, ReLU, dropout; sigmoid or softmax) on the vectors of one model, or the stack of several, ' +
          `for a catalog task (${CATALOG_TASKS.join(', ')}) or a label file (TSV: track id or audio path, then labels); split by artist`,
      )
      .requiredOption(
        '--model <m>',
        'model name or id; repeat to stack models',
        (v: string, prev: string[] = []) => [...prev, v],
      )
      .requiredOption('--task <task>', `${CATALOG_TASKS.join(', ')}, or the path of a .tsv label file`)
      .option('--space <space>', 'backbone or projection vectors', spaceOption, 'backbone' as ProbeSpace)
      .option(
        '--seed <n>',
        'seed of the split, initialisation, batches and dropout',
        integerOption('--seed'),
        1,
      )
      .option(
        '--top <k>',
        'keep the k most frequent classes (styles and labels: 50 by default)',
        integerOption('--top'),
      )
      .option('--name <name>', 'probe name (default <task>@<model>[+<model>…])')
      .option('--json', 'print the stored probe and its metrics as JSON'),
  ).action(async (o) => {
    const c = ctx()
    const backend = await initBackend(o.backend, { logger: c.logger })
    const mlp = mlpOptionsFrom(o)
    const progress = progressReporter<EpochLog>({
      format: 'probe [{bar}] epoch {value}/{total} | loss {loss} | val loss {val}',
      tokens: (e) => ({ loss: e.loss.toFixed(4), val: e.valLoss.toFixed(4) }),
      log: (_epoch, _epochs, e) => c.logger.debug(e, 'probe epoch'),
      logEverySeconds: 0,
    })
    const result = await withDatabase(c, async (db) => {
      try {
        return await trainProbe(db, c.config, {
          models: o.model,
          task: o.task,
          space: o.space,
          seed: o.seed,
          top: o.top,
          name: o.name,
          mlp,
          backend: backend.name,
          logger: c.logger,
          onEpoch: (e) => progress.update(e.epoch, mlp.maxEpochs ?? 200, e),
        })
      } finally {
        progress.stop()
      }
    })
    if (o.json) {
      console.log(JSON.stringify({ ...result.probe, models: result.models, metrics: result.metrics }))
      return
    }
    const m = result.metrics
    console.log(
      `probe ${result.probe.name}: ${result.probe.classes.length} ${result.probe.multiLabel ? 'multi-label' : 'single-label'} classes on ` +
        `${result.models.join(' + ')} (${result.probe.space}); train/validation/test ${m.trainTracks}/${m.validationTracks}/${m.testTracks} tracks; ` +
        `stopped after epoch ${m.epochs} (best ${m.bestEpoch})`,
    )
    console.log(`test: ${describeMetrics(m)}`)
  })

  probe
    .command('predict')
    .description("score every track the probe's models embedded and store the scores (probe_prediction)")
    .requiredOption('--probe <name>', 'probe name or id')
    .option('--backend <name>', 'auto, tfjs-node-gpu, tfjs-node, native, wasm or cpu', 'auto')
    .option('--json', 'print a JSON summary')
    .action(async (o) => {
      const c = ctx()
      await initBackend(o.backend, { logger: c.logger })
      const progress = progressReporter({
        format: 'predict [{bar}] {value}/{total} tracks',
        log: (done, total) => c.logger.info({ done, total }, 'predicting'),
        logEverySeconds: 0,
      })
      const summary = await withDatabase(c, async (db) => {
        try {
          return await predictAll(db, o.probe, {
            config: c.config,
            onProgress: (done, total) => progress.update(done, total),
          })
        } finally {
          progress.stop()
        }
      })
      if (o.json) console.log(JSON.stringify(summary))
      else
        console.log(
          `probe ${summary.probe}: scored ${summary.tracks} tracks × ${summary.classes} classes in ${summary.seconds.toFixed(1)} s`,
        )
    })

  probe
    .command('list')
    .description('the stored probes with their test metrics')
    .option('--json', 'print as JSON')
    .action(async (o) => {
      const c = ctx()
      const probes = await withDatabase(c, (db) => listProbes(db))
      if (o.json) {
        console.log(JSON.stringify(probes))
        return
      }
      if (!probes.length) console.log('no probes yet: discograph probe train --model <m> --task styles')
      for (const p of probes) {
        console.log(
          `${p.name}  ${p.task} (${p.multiLabel ? 'multi' : 'single'}-label, ${p.classes.length} classes) on ${p.models.join(' + ')} ${p.space}  ` +
            `${describeQuality(p)}  ${p.predictions} predictions`,
        )
      }
    })

  probe
    .command('import-onnx <head>')
    .description(
      "import a pretrained classifier head as a probe, e.g. Essentia's genre_discogs400-discogs-effnet-1.onnx or " +
        'mtg_jamendo_moodtheme-discogs-effnet-1.onnx (CC BY-NC-SA 4.0): input [N, 1280] embeddings of the imported encoder ' +
        "--model, output [N, K] scores of the K classes its metadata JSON names; then score that model's embedded tracks",
    )
    .requiredOption(
      '--model <m>',
      'the imported encoder (models import-onnx) whose backbone embeddings the head reads',
    )
    .option('--metadata <json>', "the head's metadata JSON (default: the .json beside the .onnx)")
    .option('--name <name>', 'probe name (default <task>@<model>, e.g. genre_discogs400@effnet)')
    .option('--no-predict', "register only; score the model's tracks later with probe predict")
    .option('--json', 'print the probe (and the scoring summary) as JSON')
    .action(async (file: string, o) => {
      const c = ctx()
      const progress = progressReporter({
        format: 'score [{bar}] {value}/{total} tracks',
        log: (done, total) => c.logger.info({ done, total }, 'scoring'),
        logEverySeconds: 0,
      })
      const result = await withDatabase(c, async (db) => {
        const imported = await importOnnxHead(db, c.config, file, {
          model: o.model,
          metadata: o.metadata,
          name: o.name,
        })
        if (!o.predict) return { ...imported, summary: null }
        try {
          const summary = await predictAll(db, imported.probe.name, {
            config: c.config,
            onProgress: (done, total) => progress.update(done, total),
          })
          return { ...imported, summary }
        } finally {
          progress.stop()
        }
      })
      if (o.json) {
        console.log(JSON.stringify({ ...result.probe, created: result.created, predicted: result.summary }))
        return
      }
      const p = result.probe
      console.log(
        `${result.created ? 'imported' : 'already imported:'} probe ${p.name}: ${p.classes.length} ${p.multiLabel ? 'multi' : 'single'}-label classes (${p.task}) on ${(p.config.models as string[]).join(' + ')}`,
      )
      if (result.summary)
        console.log(`scored ${result.summary.tracks} tracks in ${result.summary.seconds.toFixed(1)} s`)
    })
}
