import path from 'node:path'
import type { Command } from 'commander'
import type { ProbeSpace } from '../../db/repositories/probe.repository.ts'
import { initBackend } from '../../ml/engine/backend.ts'
import { DEFAULT_EVALUATION_TASKS, evaluate, writeEvaluation } from '../../services/evaluation.service.ts'
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
        "reproduce the paper's evaluation table: train a probe per model (and stack) and task on the same tracks and artist split, " +
          'print macro ROC-AUC / PR-AUC (and accuracy for single-label tasks) as Markdown, write Markdown, JSON and an SVG chart',
      )
      .option('--models <list>', 'comma-separated model names or ids, a+b for a stack (default: every model with vectors + the stack of the trained ones)', list)
      .option('--tasks <list>', `comma-separated catalog tasks or label files (default ${DEFAULT_EVALUATION_TASKS.join(',')})`, list)
      .option('--out <dir>', 'where evaluation.md, .svg and .json go (default DATA_DIR/evaluation)')
      .option('--space <space>', 'backbone or projection vectors', spaceOption, 'backbone' as ProbeSpace)
      .option('--seed <n>', 'seed of the split and the probes', integerOption('--seed'), 1)
      .option('--top <k>', 'keep the k most frequent classes per task', integerOption('--top'))
      .option('--json', 'print the report as JSON instead of the Markdown table'),
  ).action(async (o) => {
    const c = ctx()
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
    const files = writeEvaluation(report, path.resolve(o.out ?? path.join(c.config.dataDir, 'evaluation')))
    if (o.json) console.log(JSON.stringify({ ...report, files }))
    else {
      console.log(report.markdown)
      console.log(`written: ${files.markdown}, ${files.svg}, ${files.json}`)
    }
  })
}
