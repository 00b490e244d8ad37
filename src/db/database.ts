import type pg from 'pg'
import { DataSource, MigrationExecutor } from 'typeorm'
import type { PostgresDriver } from 'typeorm/driver/postgres/PostgresDriver.js'
import type { Config } from '../config/config.ts'
import { startEmbeddedPostgres, type EmbeddedServer } from './embedded.ts'
import { entities } from './entities/index.ts'
import { migrations } from '../../migrations/index.ts'

export type DatabaseKind = 'server' | 'embedded'

/**
 * A connected database: TypeORM for entities and migrations, and the same pg pool underneath for the
 * hand-written SQL of the repositories. `kind` tells writers whether COPY FROM STDIN is available
 * (pglite-socket does not speak the COPY sub-protocol).
 */
export interface Database {
  kind: DatabaseKind
  url: string
  dataSource: DataSource
  pool: pg.Pool
  close(): Promise<void>
}

export async function openDatabase(config: Config): Promise<Database> {
  let embedded: EmbeddedServer | undefined
  let url = config.databaseUrl
  if (!url) {
    embedded = await startEmbeddedPostgres(config.dataDir)
    url = embedded.url
  }
  const dataSource = createDataSource(url, embedded ? Math.min(config.dbPoolMax, 8) : config.dbPoolMax)
  try {
    await dataSource.initialize()
  } catch (err) {
    await embedded?.stop()
    throw err
  }
  const pool = (dataSource.driver as PostgresDriver).master as pg.Pool
  return {
    kind: embedded ? 'embedded' : 'server',
    url,
    dataSource,
    pool,
    async close() {
      await dataSource.destroy()
      await embedded?.stop()
    },
  }
}

/** How long a request waits for a connection (a new one, or a busy pool's) before it fails as unavailable. */
export const CONNECT_TIMEOUT_MS = 10_000

/**
 * A pooled connection lost while checked out between two statements (PostgreSQL restarted, the network
 * dropped) emits 'error' where pg-pool listens only to idle ones, and an unheard 'error' ends the process:
 * every connection gets a listener of its own. The holder learns of it at its next statement, which fails,
 * and pg-pool drops the connection when it comes back.
 */
function keepConnectionErrors(client: pg.PoolClient): void {
  client.on('error', () => {})
}

export function createDataSource(url: string, poolSize: number): DataSource {
  return new DataSource({
    type: 'postgres',
    url,
    entities,
    migrations,
    migrationsTableName: 'typeorm_migrations',
    synchronize: false,
    logging: false,
    poolSize,
    extra: { max: poolSize, connectionTimeoutMillis: CONNECT_TIMEOUT_MS, onConnect: keepConnectionErrors },
  })
}

/**
 * The advisory lock every migrator holds while it migrates (any bigint would do; this one spells "dgmigrat").
 * Advisory locks belong to one database, so migrators of different databases on one server never wait on
 * each other.
 */
export const MIGRATION_LOCK_KEY = 0x64676d6967726174n

/**
 * Applies pending migrations; returns the names applied. TypeORM takes no lock of its own, so two processes
 * starting after an upgrade (scaled workers) would both run the same migration: the second to commit fails,
 * or a statement that cannot run twice (CREATE EXTENSION) fails outright. Every migrator holds one
 * session-level advisory lock for the whole run; a second one waits, then reads the migrations table
 * again and finds nothing left to do. The lock and the migrations share one connection (a pool of one
 * must not wait on itself), and the lock goes with the session if the process dies.
 */
export async function migrate(db: Database): Promise<string[]> {
  const runner = db.dataSource.createQueryRunner()
  try {
    await runner.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_KEY.toString()])
    try {
      const executor = new MigrationExecutor(db.dataSource, runner)
      executor.transaction = 'each'
      return (await executor.executePendingMigrations()).map((m) => m.name)
    } finally {
      await runner.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY.toString()])
    }
  } finally {
    await runner.release()
  }
}

/**
 * The names of the migrations this code has that the database has not applied, oldest first. Reads only:
 * on a fresh database (no migrations table yet) every migration is pending, and nothing is created
 * (TypeORM's showMigrations creates the table, which two concurrent callers race to do).
 */
export async function pendingMigrations(db: Database): Promise<string[]> {
  const pending = await new MigrationExecutor(db.dataSource).getPendingMigrations()
  return pending.map((m) => m.name)
}
