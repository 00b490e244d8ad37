import 'reflect-metadata'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { migrate } from '../../src/db/database.ts'
import { ReleaseEntity } from '../../src/db/entities/index.ts'
import { CountingQueryable, GENERIC_PLAN_SETTINGS, isDatabaseUnavailable } from '../../src/db/sql.ts'
import {
  createContainerTestDatabase,
  createEmbeddedTestDatabase,
  createServerTestDatabase,
  dockerEngineAvailable,
  type TestDatabase,
} from '../support/database.ts'

const docker = await dockerEngineAvailable()

// The container case joins only where a Docker engine answers; elsewhere it is skipped, visibly.
describe.skipIf(docker)('pgvector/pgvector container (testcontainers)', () => {
  it.skip('needs a Docker engine', () => {})
})

describe.each([
  ['server', createServerTestDatabase],
  ['embedded', createEmbeddedTestDatabase],
  ...(docker ? ([['server', createContainerTestDatabase]] as const) : []),
] as const)('%s database', (kind, create) => {
  let t: TestDatabase
  beforeAll(async () => {
    t = await create()
  })
  afterAll(async () => {
    await t?.dispose()
  })

  it('is the kind asked for, with pgvector and pg_trgm', async () => {
    expect(t.db.kind).toBe(kind)
    const { rows } = await t.db.pool.query(
      `SELECT extname FROM pg_extension WHERE extname IN ('vector', 'pg_trgm') ORDER BY 1`,
    )
    expect(rows.map((r) => r.extname)).toEqual(['pg_trgm', 'vector'])
    const v = await t.db.pool.query(`SELECT '[1,2,3]'::vector <=> '[1,2,3]'::vector AS d`)
    expect(Number(v.rows[0].d)).toBe(0)
  })

  it('re-running migrations applies nothing', async () => {
    expect(await migrate(t.db)).toEqual([])
  })

  it('has entities that describe the migrated tables column for column', async () => {
    // Migrations own indexes, foreign keys and checks (entities leave them out, so TypeORM would drop
    // them); every table and column, with its type, nullability and default, must agree.
    const { upQueries } = await t.db.dataSource.driver.createSchemaBuilder().log()
    const drift = upQueries
      .map((q) => q.query)
      .filter((q) => !/^(ALTER TABLE "\w+" DROP CONSTRAINT|DROP INDEX) /.test(q))
    expect(drift).toEqual([])
    expect(upQueries.length).toBeGreaterThan(0) // the filter saw the migrations' constraints and indexes
  })

  it('round-trips an entity through TypeORM', async () => {
    const repo = t.db.dataSource.getRepository(ReleaseEntity)
    await repo.insert({ id: 1, title: 'Stockholm', released: '1999-03-00', year: 1999, isMainRelease: true })
    const r = await repo.findOneByOrFail({ id: 1 })
    expect(r).toMatchObject({ title: 'Stockholm', year: 1999, isMainRelease: true, masterId: null })
  })

  it('answers concurrent parameterised queries and transactions on every pooled connection, each with its own result', async () => {
    // Statement shapes with different parameter counts, beside transactions: on the embedded database,
    // interleaved extended-protocol messages would bind one query's parameters to another's statement,
    // or stall the queue (see keepExtendedQueriesTogether).
    const inTransaction = async (i: number) => {
      const c = await t.db.pool.connect()
      try {
        await c.query('BEGIN')
        const r = await c.query<{ v: string }>(`SELECT ($1::int + 1)::text AS v`, [i])
        await c.query('COMMIT')
        return r.rows[0].v
      } finally {
        c.release()
      }
    }
    const all = Promise.all(
      Array.from({ length: 150 }, (_, i) =>
        i % 3 === 0
          ? inTransaction(i)
          : i % 3 === 1
            ? t.db.pool
                .query<{ v: string }>(`SELECT $1::text || $2::text || $3::text AS v`, ['a', String(i), 'z'])
                .then((r) => r.rows[0].v)
            : t.db.pool.query<{ v: string }>(`SELECT ($1::int * 2)::text AS v`, [i]).then((r) => r.rows[0].v),
      ),
    )
    const stalled = new Promise((_, reject) =>
      setTimeout(() => reject(new Error('queries stalled')), 30_000).unref(),
    )
    expect(await Promise.race([all, stalled])).toEqual(
      Array.from({ length: 150 }, (_, i) =>
        i % 3 === 0 ? String(i + 1) : i % 3 === 1 ? `a${i}z` : String(i * 2),
      ),
    )
  })

  // Prepared statements are for servers only (CountingQueryable's `prepare`; see sql.ts).
  it.runIf(kind === 'server')(
    'bounds prepared API statements: distinct texts past the limit still run, unprepared',
    async () => {
      const c = await t.db.pool.connect()
      try {
        const sql = new CountingQueryable(c, true, 3)
        for (let i = 1; i <= 5; i++) {
          const { rows } = await sql.query<{ n: number }>(`SELECT $1::int * ${i} AS n`, [2])
          expect(rows[0].n).toBe(2 * i)
        }
        // The first three again: still prepared, still right.
        for (let i = 1; i <= 3; i++)
          expect((await sql.query<{ n: number }>(`SELECT $1::int * ${i} AS n`, [3])).rows[0].n).toBe(3 * i)
        const { rows } = await c.query<{ n: number }>(`SELECT count(*)::int AS n FROM pg_prepared_statements`)
        expect(rows[0].n).toBe(3)
        expect(sql.statements).toBe(8)
      } finally {
        c.release()
      }
    },
  )

  // after the bound's test, which wants the process's statement names still free
  it('plans generically inside withSettings(GENERIC_PLAN_SETTINGS), on one connection, and puts the settings back after, also after an error', async () => {
    const db = new CountingQueryable(t.db.pool, kind === 'server') // as the API wraps the pool
    const settings = `current_setting('plan_cache_mode') AS mode, current_setting('jit') AS jit, current_setting('max_parallel_workers_per_gather') AS workers`
    const before = (await t.db.pool.query(`SELECT ${settings}`)).rows[0]
    const inside = await db.withSettings(
      GENERIC_PLAN_SETTINGS,
      async (q) => (await q.query(`SELECT ${settings}, $1::int AS n`, [1])).rows[0],
    )
    // no JIT and no parallel workers either: chosen at a generic plan's estimates, they cost short statements most of their time
    expect(inside).toMatchObject({ mode: 'force_generic_plan', jit: 'off', workers: '0', n: 1 })
    await expect(
      db.withSettings(GENERIC_PLAN_SETTINGS, (q) => q.query(`SELECT 1 / $1::int`, [0])),
    ).rejects.toThrow(/division by zero/)
    // every pooled connection (they run side by side while each sleeps) is back to PostgreSQL's default
    const after = await Promise.all(
      Array.from({ length: 4 }, () =>
        t.db.pool.query(`SELECT ${settings} FROM pg_sleep(0.05)`).then((r) => r.rows[0]),
      ),
    )
    expect(after).toEqual(Array(4).fill(before))
    expect(before.mode).toBe('auto')
    expect(db.statements).toBe(kind === 'server' ? 12 : 14) // counted: BEGIN, 3 SET LOCAL, the query, COMMIT / ROLLBACK, or 3 SET, the query, 3 RESET
  })
})

describe('a server connection lost while checked out (PostgreSQL restarted, the network dropped)', () => {
  let t: TestDatabase
  beforeAll(async () => {
    t = await createServerTestDatabase()
  })
  afterAll(async () => {
    await t?.dispose()
  })

  it('does not end the process; the holder’s next statement fails as unavailable and the pool goes on', async () => {
    const held = await t.db.pool.connect()
    const { rows } = await held.query<{ pid: number }>(`SELECT pg_backend_pid() AS pid`)
    // What a restart does to every session: FATAL 57P01, sent while this one sits between statements.
    await t.db.pool.query(`SELECT pg_terminate_backend($1)`, [rows[0].pid])
    await new Promise((r) => setTimeout(r, 300)) // an unheard 'error' event would have ended this process
    const err = await held.query('SELECT 1').then(
      () => null,
      (e: unknown) => e,
    )
    expect(err).toBeInstanceOf(Error)
    expect(isDatabaseUnavailable(err)).toBe(true)
    held.release(err as Error)
    const all = await Promise.all(
      Array.from({ length: 8 }, (_, i) => t.db.pool.query<{ n: number }>(`SELECT $1::int AS n`, [i])),
    )
    expect(all.map((r) => r.rows[0].n)).toEqual([0, 1, 2, 3, 4, 5, 6, 7])
  })

  it('tells a lost or refused connection from a statement’s own error', () => {
    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' })
    expect(isDatabaseUnavailable(refused)).toBe(true)
    expect(isDatabaseUnavailable(new AggregateError([refused], 'x', { cause: refused }))).toBe(true)
    expect(isDatabaseUnavailable(Object.assign(new Error('shutting down'), { code: '57P03' }))).toBe(true)
    expect(isDatabaseUnavailable(new Error('Connection terminated unexpectedly'))).toBe(true)
    expect(isDatabaseUnavailable(new Error('timeout exceeded when trying to connect'))).toBe(true)
    expect(isDatabaseUnavailable(Object.assign(new Error('syntax error'), { code: '42601' }))).toBe(false)
    expect(isDatabaseUnavailable(Object.assign(new Error('deadlock'), { code: '40P01' }))).toBe(false)
    expect(isDatabaseUnavailable(null)).toBe(false)
  })
})
