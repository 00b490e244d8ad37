import crypto from 'node:crypto'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import pg from 'pg'
import { loadConfig, type Config } from '../../src/config/config.ts'
import { migrate, openDatabase, type Database } from '../../src/db/database.ts'

/** The real PostgreSQL server the integration tests use (trust auth on this machine and in CI). */
export const ADMIN_URL =
  process.env.TEST_ADMIN_DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres'

export interface TestDatabase {
  db: Database
  config: Config
  /** Drops the database (server) or removes the data directory (embedded). */
  dispose(): Promise<void>
}

function testConfig(overrides: Partial<Config>): Config {
  return {
    ...loadConfig({}),
    dataDir: tmpDir(),
    logLevel: 'silent',
    port: 0,
    dbPoolMax: 4,
    publicRead: true,
    ...overrides,
  }
}

export function tmpDir(prefix = 'discograph-test-'): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix))
}

/**
 * A new, empty database on the server that `adminUrl` reaches (named `<prefix>_<random>`), and how to drop
 * it: for tests and benchmarks that must not see each other's rows.
 */
export async function createScratchDatabase(
  adminUrl: string,
  prefix: string,
): Promise<{ url: string; drop: () => Promise<void> }> {
  const name = `${prefix}_${crypto.randomBytes(4).toString('hex')}`
  const admin = new pg.Client({ connectionString: adminUrl })
  await admin.connect()
  await admin.query(`CREATE DATABASE ${name}`)
  await admin.end()
  const url = new URL(adminUrl)
  url.pathname = `/${name}`
  return {
    url: url.toString(),
    async drop() {
      const c = new pg.Client({ connectionString: adminUrl })
      await c.connect()
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)
      await c.end()
    },
  }
}

/** A fresh, migrated database of its own on the real server, so test files never see each other's rows. */
export async function createServerTestDatabase(overrides: Partial<Config> = {}): Promise<TestDatabase> {
  const scratch = await createScratchDatabase(ADMIN_URL, `discograph_t_${process.pid}`)
  const config = testConfig({ databaseUrl: scratch.url, ...overrides })
  const db = await openDatabase(config)
  await migrate(db)
  return {
    db,
    config,
    async dispose() {
      await db.close()
      await scratch.drop()
      fs.rmSync(config.dataDir, { recursive: true, force: true })
    },
  }
}

/** A fresh, migrated embedded (PGlite) database in a temporary DATA_DIR. */
export async function createEmbeddedTestDatabase(): Promise<TestDatabase> {
  const config = testConfig({})
  const db = await openDatabase(config)
  await migrate(db)
  return {
    db,
    config,
    async dispose() {
      await db.close()
      fs.rmSync(config.dataDir, { recursive: true, force: true })
    },
  }
}

/** Whether a Docker engine answers (testcontainers needs one; none runs on this project's machines). */
export async function dockerEngineAvailable(): Promise<boolean> {
  try {
    const { getContainerRuntimeClient } = await import('testcontainers')
    await getContainerRuntimeClient()
    return true
  } catch {
    return false
  }
}

/** A migrated database in a throwaway `pgvector/pgvector` container (only where Docker runs). */
export async function createContainerTestDatabase(): Promise<TestDatabase> {
  const { PostgreSqlContainer } = await import('@testcontainers/postgresql')
  const container = await new PostgreSqlContainer('pgvector/pgvector:pg16').start()
  const config = testConfig({ databaseUrl: container.getConnectionUri() })
  const db = await openDatabase(config)
  await migrate(db)
  return {
    db,
    config,
    async dispose() {
      await db.close()
      await container.stop()
      fs.rmSync(config.dataDir, { recursive: true, force: true })
    },
  }
}
