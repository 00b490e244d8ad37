import { spawn } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import type { Command } from 'commander'
import { BadInputError, DiscographError } from '../../errors.ts'
import { evaluateRetrieval, writeRetrieval, type RetrievalReport } from '../../services/retrieval.service.ts'
import { findRun } from '../../services/training-runs.service.ts'
import { withDatabase, type CliContext } from '../context.ts'

class DemoStepError extends DiscographError {
  readonly code = 'DEMO_STEP'
}

/**
 * Runs one `discograph` subcommand as a child process, its progress bars on this terminal: through the entry
 * this process was started with (bin/discograph.js, the build; bin/discograph-dev.js, the source).
 */
function run(args: string[], env: NodeJS.ProcessEnv): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...process.execArgv, process.argv[1], ...args], {
      stdio: 'inherit',
      env,
    })
    const forward = (signal: NodeJS.Signals) => child.kill(signal)
    process.on('SIGINT', forward)
    process.on('SIGTERM', forward)
    child.on('error', reject)
    child.on('exit', (code, signal) => {
      process.off('SIGINT', forward)
      process.off('SIGTERM', forward)
      if (code === 0 || signal === 'SIGINT' || signal === 'SIGTERM') resolve()
      else
        reject(
          new DemoStepError(
            `\`discograph ${args.join(' ')}\` failed (exit ${code ?? signal}); fix the cause and run the demo again: finished steps are kept`,
          ),
        )
    })
  })
}

/** The training run's state, read before deciding whether to train, resume or skip. */
function runStatus(ctx: CliContext, name: string): Promise<string | null> {
  return withDatabase(ctx, async (db) => (await findRun(db, name))?.status ?? null)
}

export function registerDemoCommand(program: Command, ctx: () => CliContext): void {
  program
    .command('demo')
    .description(
      'the whole product on the embedded database (or DATABASE_URL): generate a synthetic catalog with audio, import it, ' +
        'train a small artist-association model, embed every track, train a style probe, then serve GraphQL and the web UI. ' +
        'Re-running skips what is done.',
    )
    .option(
      '--size <size>',
      'synthetic catalog preset: demo or small (tiny has too few artists for an artist split)',
      'demo',
    )
    .option('--steps <n>', 'training steps (docs/evaluation.md, Training settings: why 600)', '600')
    .option('--port <port>', 'port to serve on (default: PORT, else 4000)')
    .option('--no-serve', 'stop after preparing everything')
    .action(async (o: { size: string; steps: string; port?: string; serve: boolean }) => {
      const c = ctx()
      if (!['demo', 'small'].includes(o.size))
        throw new BadInputError(`must be demo or small, not "${o.size}"`, '--size')
      if (!/^\d+$/.test(o.steps) || Number(o.steps) < 1)
        throw new BadInputError(`must be a positive integer, not "${o.steps}"`, '--steps')
      const env = { ...process.env, DATA_DIR: c.config.dataDir }
      const world = path.join(c.config.dataDir, `demo-world-${o.size}`)
      const runName = `demo-artist-${o.size}`
      const probeName = `demo-styles-${o.size}`
      const started = performance.now()
      const step = (n: number, what: string) =>
        console.error(`\n[${n}/7] ${what}  (${((performance.now() - started) / 1000).toFixed(0)} s)`)

      // The demo sets a database up, so it migrates a server's too, through `db migrate` (the other steps
      // would stop at pending migrations there); the embedded database migrates at each step's start.
      if (c.config.databaseUrl) await run(['db', 'migrate'], env)

      step(1, `synthetic catalog with audio in ${world}`)
      if (fs.existsSync(path.join(world, 'manifest.csv'))) console.error('already there')
      else await run(['synth', '--out', world, '--size', o.size, '--fast'], env)

      step(2, 'import its Discogs dumps')
      await run(['ingest', 'discogs', world], env)

      step(3, 'decode the audio, compute mel patches and link each file to its track')
      await run(
        ['ingest', 'audio', path.join(world, 'audio'), '--manifest', path.join(world, 'manifest.csv')],
        env,
      )

      step(4, `train ${runName}: a small EfficientNet, positives = two tracks of the same artist`)
      const status = await runStatus(c, runName)
      if (status === 'succeeded') console.error('already trained')
      else if (status) await run(['train', '--resume', runName], env)
      // The cosine similarity at temperature 0.3 and no augmentation are train's defaults; the held-out
      // validation runs every 150 steps (a demo world holds out 2 artists, so its figure says little).
      // A constant learning rate without warm-up, not train's warm-up and cosine decay: on the demo's own
      // world the `tiny` encoder reached 3.93× chance with it and 3.38× with them; the `small` encoder, at
      // a third more training CPU, 4.69× (docs/evaluation.md, The demo).
      else
        await run(
          [
            'train',
            '--association',
            'artist',
            '--size',
            'small',
            '--steps',
            o.steps,
            '--batch',
            '16',
            '--checkpoint-every',
            '50',
            '--validate-every',
            '150',
            '--schedule',
            'constant',
            '--warmup',
            '0',
            '--name',
            runName,
          ],
          env,
        )

      step(5, 'embed every track with it (pgvector, HNSW index)')
      await run(['embed', '--model', runName], env)

      step(
        6,
        'measure what the track page shows: similar tracks of other artists and releases sharing a style, against random weights and a no-learning baseline',
      )
      const random = 'random-small'
      await run(['embed', '--model', random], env)
      const report = await withDatabase(c, (db) =>
        evaluateRetrieval(db, c.config.dataDir, { models: [runName, random] }),
      )
      writeRetrieval(report, path.join(c.config.dataDir, 'evaluation'))
      console.error(demoRetrievalSummary(report, runName, random))

      step(7, `train ${probeName}: a style classifier on the frozen embeddings`)
      await run(['probe', 'train', '--model', runName, '--task', 'styles', '--name', probeName], env)

      console.error(`\nready in ${((performance.now() - started) / 1000).toFixed(0)} s`)
      if (o.serve) await run(['serve', ...(o.port ? ['--port', o.port] : [])], env)
    })
}

/** The demo's headline: style precision@k of the default space of each model, the baseline, and chance. */
export function demoRetrievalSummary(report: RetrievalReport, trained: string, random: string): string {
  const style = (label: string) =>
    report.rows.find((r) => r.label === label)?.figures.find((f) => f.relation === 'style')
  const line = (name: string, label: string) => {
    const f = style(label)
    return f
      ? `  ${name.padEnd(34)} ${(f.precision * 100).toFixed(1).padStart(5)}%  ${f.lift.toFixed(2)}× chance`
      : ''
  }
  return [
    `style precision@${report.k} over ${report.tracks} tracks (chance ${(report.chance.style * 100).toFixed(1)}%):`,
    line(`${trained} (served)`, `${trained} (projection)`),
    line('random weights', `${random} (projection)`),
    line('no learning (mel statistics)', 'mel statistics (no learning)'),
    `  every figure: ${path.join('DATA_DIR', 'evaluation', 'retrieval.md')}`,
  ]
    .filter(Boolean)
    .join('\n')
}
