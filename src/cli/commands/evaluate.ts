import path from 'node:path'
import type { Command } from 'commander'
import { initBackend } from '../../ml/engine/backend.ts'
import { DEFAULT_EVALUATION_TASKS, evaluate, writeEvaluation } from '../../services/evaluation.service.ts'
import type { ProbeSpace } from '../../services/probe.service.ts'
import { evaluateRetrieval, writeRetrieval } from '../../services/retrieval.service.ts'
import { withDatabase, type CliContext } from '../context.ts'
import { integerOption } from '../options.ts'
import { progressReporter } from '../progress.ts'
import { addMlpOptions, mlpOptionsFrom, spaceOption } from './probe.ts'

const list = (v: string) =>
  v
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)

export function registerEvaluateCommand(program: Command, ctx: () => CliContext): void {
  addMlpOptions(
    program
      .command('evaluate')
      .description(
        "retrieval figures per model and space (precision@k and mAP@k of shared style, genre, label and artist among each track's " +
          'nearest other-artist, other-release tracks, with chance and lift, beside the mel-statistics no-learning baseline), then ' +
          "the paper's probe table (a probe per model and stack and task on the same tracks and artist split: macro ROC-AUC / PR-AUC, " +
          'accuracy for single-label tasks); Markdown, JSON and SVG of both',
      )
      .option(
        '--models <list>',
        'comma-separated model names or ids, a+b for a stack (default: every model with vectors + the stack of the trained ones)',
        list,
      )
      .option(
        '--tasks <list>',
        `comma-separated catalog tasks or label files (default ${DEFAULT_EVALUATION_TASKS.join(',')})`,
        list,
      )
      .option('--out <dir>', 'where evaluation.md, .svg and .json go (default DATA_DIR/evaluation)')
      .option('--space <space>', 'backbone or projection vectors', spaceOption, 'backbone' as ProbeSpace)
      .option('--seed <n>', 'seed of the split and the probes', integerOption('--seed'), 1)
      .option('--top <k>', 'keep the k most frequent classes per task', integerOption('--top'))
      .option('--k <n>', 'retrieval: neighbours per query', integerOption('--k', { min: 1 }), 10)
      .option(
        '--compare-transforms',
        'retrieval: also rank each model raw, centred and whitened (32, 64, 128 dims)',
      )
      .option('--retrieval-only', 'skip the probe table')
      .option('--json', 'print the report as JSON instead of the Markdown table'),
  ).action(async (o) => {
    const c = ctx()
    const out = path.resolve(o.out ?? path.join(c.config.dataDir, 'evaluation'))
    const retrieval = await withDatabase(c, (db) =>
      evaluateRetrieval(db, c.config.dataDir, {
        models: o.models?.filter((m: string) => !m.includes('+')),
        k: o.k,
        compareTransforms: Boolean(o.compareTransforms),
        logger: c.logger,
      }),
    )
    const retrievalFiles = writeRetrieval(retrieval, out)
    if (o.retrievalOnly) {
      if (o.json) console.log(JSON.stringify({ retrieval: { ...retrieval, files: retrievalFiles } }))
      else {
        console.log(retrieval.markdown)
        console.log(`written: ${retrievalFiles.markdown}, ${retrievalFiles.svg}, ${retrievalFiles.json}`)
      }
      return
    }
    const backend = await initBackend(o.backend, { logger: c.logger })
    const progress = progressReporter<string>({
      format: 'evaluate [{bar}] {value}/{total} probes | {what}',
      tokens: (what) => ({ what }),
      log: (done, total, what) => {
        if (what !== 'done') c.logger.info({ done, total, probe: what }, 'evaluating')
      },
      logEverySeconds: 0,
    })
    const report = await withDatabase(c, async (db) => {
      try {
        return await evaluate(db, c.config, {
          models: o.models,
          tasks: o.tasks,
          space: o.space,
          seed: o.seed,
          top: o.top,
          mlp: mlpOptionsFrom(o),
          backend: backend.name,
          logger: c.logger,
          onProbe: (done, total, what) => progress.update(done, total, what),
        })
      } finally {
        progress.stop()
      }
    })
    const files = writeEvaluation(report, out)
    if (o.json)
      console.log(JSON.stringify({ ...report, files, retrieval: { ...retrieval, files: retrievalFiles } }))
    else {
      console.log(retrieval.markdown)
      console.log(report.markdown)
      console.log(
        `written: ${retrievalFiles.markdown}, ${files.markdown}, ${files.svg}, ${files.json} (and retrieval's .svg, .json)`,
      )
    }
  })
}
