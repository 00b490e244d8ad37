import { loadConfig, type Config } from '../config/config.ts'
import { openDatabase, migrate, pendingMigrations, type Database } from '../db/database.ts'
import { MigrationsPendingError } from '../errors.ts'
import { createLogger, type Logger } from '../logger.ts'

export interface CliContext {
  config: Config
  logger: Logger
}

export function createCliContext(): CliContext {
  const config = loadConfig()
  return { config, logger: createLogger(config.logLevel) }
}

/**
 * Opens the configured database (embedded by default), checks that its schema is current and runs `fn`;
 * the database is closed whatever happens. Every command that needs the catalog goes through here.
 *
 * Pending migrations are applied here only on the embedded database (one process owns it) or when the
 * command asks (`serve --migrate`, `worker --migrate`). On a server any other command stops, naming them:
 * a migration over a loaded catalog can take minutes (the search views: 10 at 8M releases), and neither a
 * read-only `jobs list` nor a dozen scaled workers starting at once should be what runs it.
 */
export async function withDatabase<T>(
  ctx: CliContext,
  fn: (db: Database) => Promise<T>,
  opts: { migrate?: boolean } = {},
): Promise<T> {
  const db = await openDatabase(ctx.config)
  try {
    const pending = await pendingMigrations(db)
    if (pending.length > 0) {
      if (db.kind === 'server' && !opts.migrate) throw new MigrationsPendingError(pending)
      ctx.logger.info({ pending }, 'applying schema migrations')
      ctx.logger.info({ applied: await migrate(db) }, 'migrations applied')
    }
    return await fn(db)
  } finally {
    await db.close()
  }
}
