import type { Command } from 'commander'
import { exampleQueries } from '../../api/example-queries.ts'
import { startApiServer } from '../../api/http-server.ts'
import { BadInputError } from '../../errors.ts'
import { jobHandlers } from '../../jobs/handlers/index.ts'
import { JobQueue } from '../../jobs/queue.ts'
import { JobWorker } from '../../jobs/worker.ts'
import { CatalogService } from '../../services/catalog.service.ts'
import { withDatabase, type CliContext } from '../context.ts'

/**
 * Resolves on the first SIGINT or SIGTERM. Later ones are absorbed while shutting down (Ctrl-C in a terminal
 * reaches both `demo` and the `serve` it runs, and `demo` forwards it too); a third forces the exit.
 */
export function untilSignal(): Promise<string> {
  return new Promise((resolve) => {
    let received = 0
    const on = (signal: string) => {
      received++
      if (received === 1) resolve(signal)
      else if (received >= 3) {
        console.error(`${signal} again: exiting without finishing`)
        process.exit(130)
      }
    }
    process.on('SIGINT', on)
    process.on('SIGTERM', on)
  })
}

export function registerServeCommand(program: Command, ctx: () => CliContext): void {
  program
    .command('serve')
    .description(
      'serve the GraphQL API (/graphql, GraphiQL in a browser), the web UI (/), /healthz and /metrics',
    )
    .option('--port <port>', 'port to listen on (default: PORT, else 4000; 0 = any free port)')
    .option('--host <host>', 'interface to listen on (default: HOST, else 127.0.0.1)')
    .option(
      '--worker <mode>',
      'also run background jobs in this process: auto (yes on the embedded database), yes or no',
      'auto',
    )
    .option(
      '--migrate',
      'apply pending schema migrations first (on a server; the embedded database always does)',
    )
    .action(async (opts: { port?: string; host?: string; worker: string; migrate?: boolean }) => {
      const c = ctx()
      const port = opts.port === undefined ? c.config.port : Number(opts.port)
      if (!Number.isInteger(port) || port < 0 || port > 65535)
        throw new BadInputError(`"${opts.port}" is not a port number`, '--port')
      if (!['auto', 'yes', 'no'].includes(opts.worker))
        throw new BadInputError(`must be auto, yes or no, not "${opts.worker}"`, '--worker')
      await withDatabase(
        c,
        async (db) => {
          const queue = await JobQueue.start(db)
          // The embedded database admits one process, so its jobs must run beside the server.
          const runWorker = opts.worker === 'yes' || (opts.worker === 'auto' && db.kind === 'embedded')
          const worker = runWorker
            ? new JobWorker(queue, { db, config: c.config, logger: c.logger }, { handlers: jobHandlers })
            : undefined
          await worker?.start()
          const server = await startApiServer(
            { db, config: c.config, logger: c.logger, queue },
            { port, host: opts.host ?? c.config.host },
          )
          console.error(
            [
              `Discograph on ${db.kind === 'embedded' ? `the embedded database in ${c.config.dataDir}` : 'PostgreSQL'}${worker ? ', running jobs too' : ''}`,
              `  web UI    ${server.url}/`,
              `  GraphQL   ${server.url}/graphql  (GraphiQL when opened in a browser)`,
              `  health    ${server.url}/healthz    metrics ${server.url}/metrics`,
              `Try:`,
              // Quoted for a POSIX shell: a name may hold an apostrophe.
              ...exampleQueries(await new CatalogService(db.pool).exampleRelease()).map(
                (q) =>
                  `  curl -s ${server.url}/graphql -H 'content-type: application/json' -d '${JSON.stringify({ query: q }).replaceAll("'", "'\\''")}'`,
              ),
              `Ctrl-C to stop.`,
            ].join('\n'),
          )
          const signal = await untilSignal()
          console.error(`${signal}: finishing requests in flight, then stopping`)
          await server.close()
          await worker?.stop()
          await queue.stop()
        },
        { migrate: opts.migrate },
      )
    })
}
