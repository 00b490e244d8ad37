import 'reflect-metadata'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import pg from 'pg'
import { loadConfig } from '../../src/config/config.ts'
import { migrate, openDatabase, type Database } from '../../src/db/database.ts'
import { loadBenchCatalog } from './catalog.ts'
import { embedSynthetic } from './synthetic-embeddings.ts'

/** The model whose vectors the served catalog's similarity and mix queries use. */
export const LOAD_MODEL = 'bench-load'
/** The width of the served, whitened search vectors (as bench:mix). */
const DIMS = 128
/** What a complete cached catalog says of itself (a half-built one lacks it and is built again). */
const COMPLETE = 'discograph bench:load catalog, complete'

export interface LoadCatalogSize {
  releases: number
  /** Tracks given vectors of the LOAD_MODEL model, spread evenly over the catalog's tracks. */
  embedded: number
}

export interface CachedCatalog {
  /** DATABASE_URL for a server catalog; undefined for the embedded one (then `dataDir` holds it). */
  databaseUrl?: string
  dataDir: string
  /** Whether this run built it (false: found complete from an earlier run). */
  built: boolean
  buildSeconds: number
}

const log = (msg: string) => console.error(`[catalog ${new Date().toISOString().slice(11, 19)}] ${msg}`)

/** The database (server) or DATA_DIR (embedded) a catalog of this size is kept in between runs. */
export function cachedCatalogName({ releases, embedded }: LoadCatalogSize): string {
  return `discograph_load_${releases}r_${embedded}e`
}

/**
 * A server catalog of `size` in a PostgreSQL database named for its size beside `adminUrl`'s: built once
 * (bench catalog with the growing vocabulary, then synthetic clustered vectors for `embedded` tracks, their
 * search vectors and HNSW index), then found again by later runs. A database without the completion mark
 * (a build that was interrupted) is dropped and built again. Migrations this code has and the cache lacks
 * are applied either way.
 */
export async function cachedServerCatalog(adminUrl: string, size: LoadCatalogSize): Promise<CachedCatalog> {
  const name = cachedCatalogName(size)
  const url = new URL(adminUrl)
  url.pathname = `/${name}`
  const admin = new pg.Client({ connectionString: adminUrl })
  await admin.connect()
  const dataDir = path.join(os.tmpdir(), `${name}-data`)
  fs.mkdirSync(dataDir, { recursive: true })
  try {
    const { rows } = await admin.query<{ comment: string | null }>(
      `SELECT shobj_description(oid, 'pg_database') AS comment FROM pg_database WHERE datname = $1`,
      [name],
    )
    if (rows[0]?.comment === COMPLETE) {
      log(`${name}: found complete, reused`)
      const db = await openDatabase({ ...benchConfig(dataDir), databaseUrl: url.toString() })
      await migrate(db).finally(() => db.close())
      return { databaseUrl: url.toString(), dataDir, built: false, buildSeconds: 0 }
    }
    if (rows.length) log(`${name}: incomplete (an interrupted build), dropped`)
    await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)
    await admin.query(`CREATE DATABASE ${name}`)
    const t0 = performance.now()
    const db = await openDatabase({ ...benchConfig(dataDir), databaseUrl: url.toString() })
    try {
      await migrate(db)
      await buildCatalog(db, size)
    } finally {
      await db.close()
    }
    await admin.query(`COMMENT ON DATABASE ${name} IS '${COMPLETE}'`)
    const buildSeconds = (performance.now() - t0) / 1000
    log(`${name}: built in ${buildSeconds.toFixed(0)} s`)
    return { databaseUrl: url.toString(), dataDir, built: true, buildSeconds }
  } finally {
    await admin.end()
  }
}

/**
 * The same catalog in an embedded (PGlite) DATA_DIR under the system's temporary folder, named for its size;
 * a marker file says it is complete.
 */
export async function cachedEmbeddedCatalog(size: LoadCatalogSize): Promise<CachedCatalog> {
  const dataDir = path.join(os.tmpdir(), cachedCatalogName(size))
  const marker = path.join(dataDir, 'bench-load-complete')
  if (fs.existsSync(marker)) {
    log(`${dataDir}: found complete, reused`)
    return { dataDir, built: false, buildSeconds: 0 }
  }
  fs.rmSync(dataDir, { recursive: true, force: true })
  fs.mkdirSync(dataDir, { recursive: true })
  const t0 = performance.now()
  const db = await openDatabase(benchConfig(dataDir))
  try {
    await migrate(db)
    await buildCatalog(db, size)
  } finally {
    await db.close()
  }
  fs.writeFileSync(marker, COMPLETE + '\n')
  const buildSeconds = (performance.now() - t0) / 1000
  log(`${dataDir}: built in ${buildSeconds.toFixed(0)} s`)
  return { dataDir, built: true, buildSeconds }
}

function benchConfig(dataDir: string) {
  return { ...loadConfig({ LOG_LEVEL: 'silent' }), dataDir, databaseUrl: undefined, dbPoolMax: 4 }
}

async function buildCatalog(db: Database, { releases, embedded }: LoadCatalogSize): Promise<void> {
  const dumpDir = fs.mkdtempSync(path.join(os.tmpdir(), 'discograph-bench-load-'))
  try {
    let t = performance.now()
    await loadBenchCatalog(db, releases, dumpDir, 'heaps')
    log(`${releases} releases imported in ${((performance.now() - t) / 1000).toFixed(0)} s`)
    t = performance.now()
    const trackIds = await spreadTrackIds(db, embedded)
    await embedSynthetic(db, LOAD_MODEL, trackIds, DIMS)
    log(`${trackIds.length} tracks embedded and indexed in ${((performance.now() - t) / 1000).toFixed(0)} s`)
  } finally {
    fs.rmSync(dumpDir, { recursive: true, force: true })
  }
}

/**
 * `n` top-level tracks spread evenly over the catalog (every k-th by id), in id order: releases of every
 * style and year get vectors, so filtered similarity queries have candidates across the catalog. The
 * synthetic vectors cluster consecutive rows (10 per "release", 100 per "artist"), so neighbours are
 * mostly tracks near each other in id.
 */
async function spreadTrackIds(db: Database, n: number): Promise<number[]> {
  const { rows: count } = await db.pool.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM track WHERE parent_id IS NULL`,
  )
  const step = Math.max(1, Math.floor(count[0].n / n))
  const { rows } = await db.pool.query<{ id: number }>(
    `SELECT id FROM (SELECT id, row_number() OVER (ORDER BY id) AS k FROM track WHERE parent_id IS NULL) t
     WHERE k % $1 = 0 ORDER BY id LIMIT $2`,
    [step, n],
  )
  return rows.map((r) => Number(r.id))
}
