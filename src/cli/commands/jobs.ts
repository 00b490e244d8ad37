import type { Command } from 'commander'
import { BadInputError } from '../../errors.ts'
import { isJobName, jobNames, type JobName } from '../../jobs/catalogue.ts'
import { jobHandlers } from '../../jobs/handlers/index.ts'
import { JobQueue } from '../../jobs/queue.ts'
import { JobWorker } from '../../jobs/worker.ts'
import type { JobRow } from '../../services/job.service.ts'
import { withDatabase, type CliContext } from '../context.ts'

function describeJob(j: JobRow): string {
  const pct = j.progress == null ? '' : ` ${(j.progress * 100).toFixed(0)}%`
  const eta = j.etaS == null ? '' : ` eta ${Math.round(j.etaS)}s`
  return `${j.id}  ${j.name.padEnd(14)} ${j.state.padEnd(9)}${pct}${eta}  ${j.message ?? j.error ?? ''}`
}

export function registerJobCommands(program: Command, ctx: () => CliContext): void {
  program
    .command('worker')
    .description('run background jobs from the queue until stopped (several workers may share one database)')
    .option('--queues <names>', `comma-separated job names (default: all of ${jobNames.join(', ')})`)
    .option('--heartbeat-seconds <s>', 'how often a running job reports that its worker is alive', '5')
    .option(
      '--stale-seconds <s>',
      "hand a job to another worker when its worker's heartbeat is this old",
      '30',
    )
    .option(
      '--migrate',
      'apply pending schema migrations first (several workers may: one migrates, the others wait)',
    )
    .action(
      async (opts: {
        queues?: string
        heartbeatSeconds: string
        staleSeconds: string
        migrate?: boolean
      }) => {
        const names = opts.queues?.split(',').map((s) => s.trim())
        const bad = names?.filter((n) => !isJobName(n))
        if (bad?.length) throw new BadInputError(`unknown job names: ${bad.join(', ')}`, '--queues')
        const c = ctx()
        await withDatabase(
          c,
          async (db) => {
            const queue = await JobQueue.start(db)
            const worker = new JobWorker(
              queue,
              { db, config: c.config, logger: c.logger },
              {
                handlers: jobHandlers,
                names: names as JobName[] | undefined,
                heartbeatSeconds: Number(opts.heartbeatSeconds),
                staleSeconds: Number(opts.staleSeconds),
              },
            )
            await worker.start()
            console.error(`worker ${worker.id} running; Ctrl-C to stop`)
            await new Promise<void>((resolve) => {
              process.once('SIGINT', resolve)
              process.once('SIGTERM', resolve)
            })
            await worker.stop()
            await queue.stop()
          },
          { migrate: opts.migrate },
        )
      },
    )

  const jobs = program.command('jobs').description('inspect and control background jobs')
  const withQueue = <T>(fn: (q: JobQueue) => Promise<T>) =>
    withDatabase(ctx(), async (db) => {
      const q = await JobQueue.start(db)
      try {
        return await fn(q)
      } finally {
        await q.stop()
      }
    })

  jobs
    .command('list')
    .option('--state <state>', 'queued, running, succeeded, failed or cancelled')
    .option('--limit <n>', 'how many', '20')
    .option('--json', 'print as JSON')
    .action(async (opts: { state?: JobRow['state']; limit: string; json?: boolean }) => {
      const rows = await withQueue((q) => q.list({ state: opts.state, limit: Number(opts.limit) }))
      if (opts.json) console.log(JSON.stringify(rows))
      else for (const j of rows) console.log(describeJob(j))
    })
  jobs
    .command('show <id>')
    .action(async (id: string) => console.log(JSON.stringify(await withQueue((q) => q.get(id)), null, 2)))
  jobs
    .command('cancel <id>')
    .action(async (id: string) => console.log(describeJob(await withQueue((q) => q.cancel(id)))))
  jobs
    .command('retry <id>')
    .action(async (id: string) => console.log(describeJob(await withQueue((q) => q.retry(id)))))
  jobs
    .command('enqueue <name> <payload-json>')
    .description('queue a job for the workers, e.g. jobs enqueue import-discogs \'{"files":["dumps/"]}\'')
    .action(async (name: string, payloadJson: string) => {
      if (!isJobName(name))
        throw new BadInputError(`unknown job ${name}; one of ${jobNames.join(', ')}`, 'name')
      let payload: unknown
      try {
        payload = JSON.parse(payloadJson)
      } catch {
        throw new BadInputError('is not valid JSON', 'payload-json')
      }
      console.log(describeJob(await withQueue((q) => q.enqueue(name, payload as never, 'cli'))))
    })
}
