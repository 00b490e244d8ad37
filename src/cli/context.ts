import { loadConfig, type Config } from '../config/config.ts'
import { openDatabase, migrate, pendingMigrations, type Database } from '../db/database.ts'
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
 * Opens the configured database (embedded by default), brings its schema up to date and runs `fn`;
 * the database is closed whatever happens. Every command that needs the catalog goes through here.
 */
export async function withDatabase<T>(ctx: CliContext, fn: (db: Database) => Promise<T>): Promise<T> {
  const db = await openDatabase(ctx.config)
  try {
    // a migration over a loaded catalog can take minutes (the search views: 10 at 8M releases)
    if (await pendingMigrations(db)) {
      ctx.logger.info('applying schema migrations')
      ctx.logger.info({ applied: await migrate(db) }, 'migrations applied')
    }
    return await fn(db)
  } finally {
    await db.close()
  }
}
