import type pg from 'pg'
import { DataSource } from 'typeorm'
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
    extra: { max: poolSize },
  })
}

/** Applies pending migrations; returns the names applied. */
export async function migrate(db: Database): Promise<string[]> {
  const applied = await db.dataSource.runMigrations({ transaction: 'each' })
  return applied.map((m) => m.name)
}

export async function pendingMigrations(db: Database): Promise<boolean> {
  return db.dataSource.showMigrations()
}
