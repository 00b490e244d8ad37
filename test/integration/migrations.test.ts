import 'reflect-metadata'
import fs from 'node:fs'
import pg from 'pg'
import { afterAll, describe, expect, it } from 'vitest'
import { loadConfig } from '../../src/config/config.ts'
import {
  MIGRATION_LOCK_KEY,
  migrate,
  openDatabase,
  pendingMigrations,
  type Database,
} from '../../src/db/database.ts'
import { migrations } from '../../migrations/index.ts'
import { ADMIN_URL, createScratchDatabase, tmpDir } from '../support/database.ts'

const allNames = migrations.map((m) => m.name)

describe('migrations on a server', () => {
  const cleanups: (() => Promise<void>)[] = []
  afterAll(async () => {
    for (const c of cleanups.reverse()) await c()
  })

  /** A fresh, unmigrated database and `n` independent pools of it (as `n` processes would have). */
  async function freshDatabase(n: number, poolMax: number): Promise<{ url: string; dbs: Database[] }> {
    const scratch = await createScratchDatabase(ADMIN_URL, `discograph_mig_${process.pid}`)
    const dataDir = tmpDir()
    cleanups.push(async () => {
      await scratch.drop()
      fs.rmSync(dataDir, { recursive: true, force: true })
    })
    const config = {
      ...loadConfig({}),
      dataDir,
      logLevel: 'silent' as const,
      dbPoolMax: poolMax,
      databaseUrl: scratch.url,
    }
    const dbs: Database[] = []
    for (let i = 0; i < n; i++) {
      const db = await openDatabase(config)
      cleanups.push(() => db.close())
      dbs.push(db)
    }
    return { url: scratch.url, dbs }
  }

  it('lets two concurrent migrators of a fresh database both succeed, applying each migration once', async () => {
    // pools of one connection (DB_POOL_MAX=1): the lock and the migrations must share it
    const { dbs } = await freshDatabase(2, 1)
    expect(await pendingMigrations(dbs[0])).toEqual(allNames)
    // reading what is pending created nothing
    expect((await dbs[0].pool.query(`SELECT to_regclass('typeorm_migrations') AS t`)).rows[0].t).toBeNull()

    const [a, b] = await Promise.all(dbs.map((db) => migrate(db)))
    // one did all the work, the other waited and found nothing left
    expect([a.length, b.length].sort((x, y) => x - y)).toEqual([0, allNames.length])
    expect([...a, ...b]).toEqual(allNames)
    const { rows } = await dbs[0].pool.query('SELECT name FROM typeorm_migrations ORDER BY id')
    expect(rows.map((r) => r.name)).toEqual(allNames)
    expect(await pendingMigrations(dbs[1])).toEqual([])
  })

  it('makes a migrator wait while another holds the migration lock', async () => {
    const { url, dbs } = await freshDatabase(1, 3)
    const holder = new pg.Client({ connectionString: url })
    await holder.connect()
    cleanups.push(() => holder.end())
    await holder.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_KEY.toString()])

    let done = false
    const migrating = migrate(dbs[0]).then((applied) => ((done = true), applied))
    await new Promise((r) => setTimeout(r, 1000))
    expect(done).toBe(false)
    expect(await pendingMigrations(dbs[0])).toEqual(allNames)

    await holder.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY.toString()])
    expect(await migrating).toEqual(allNames)
    // and it let go of the lock: another session takes it at once
    expect(
      (await holder.query('SELECT pg_try_advisory_lock($1) AS ok', [MIGRATION_LOCK_KEY.toString()])).rows[0]
        .ok,
    ).toBe(true)
  })
})
