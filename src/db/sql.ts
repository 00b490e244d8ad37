import crypto from 'node:crypto'
import pg from 'pg'

/** Anything that runs SQL: a pool, a client, or a counting wrapper. Repositories take this, not a Pool. */
export interface Queryable {
  query<R extends pg.QueryResultRow = pg.QueryResultRow>(
    text: string,
    values?: unknown[],
  ): Promise<pg.QueryResult<R>>
}

/** What pg's query method accepts beyond a text: a named statement is prepared once per connection. */
interface NamedQueryable {
  query<R extends pg.QueryResultRow = pg.QueryResultRow>(config: pg.QueryConfig): Promise<pg.QueryResult<R>>
}

const statementNames = new Map<string, string>()

/**
 * Distinct SQL texts that get a prepared statement. The API's texts depend on the selection (which lists a
 * query reads, which fields of linked rows), so a client varying its queries could otherwise make every
 * pooled connection, and this map, hold statements without end. Texts past the limit run unprepared.
 */
export const MAX_PREPARED_STATEMENTS = 512

/** A stable name per distinct SQL text, so each pooled connection parses and plans it once; null past the limit. */
function statementName(text: string, limit: number): string | null {
  let name = statementNames.get(text)
  if (!name) {
    if (statementNames.size >= limit) return null
    name = 's' + crypto.createHash('sha1').update(text).digest('hex').slice(0, 16)
    statementNames.set(text, name)
  }
  return name
}

/**
 * A Queryable that counts statements and their time: one per GraphQL request, so the number of SQL
 * statements a query costs is visible (Server-Timing header, logs) and testable. Statements run as named
 * prepared statements: the API's SQL comes from a small set of shapes, so planning them once per
 * connection saves Postgres the parse and plan of every request. Not on the embedded database: pglite-socket
 * funnels every pooled connection into one PGlite session, where the names of two connections would collide.
 */
export class CountingQueryable implements Queryable {
  statements = 0
  millis = 0

  constructor(
    private readonly inner: NamedQueryable,
    private readonly prepare: boolean,
    private readonly maxPrepared = MAX_PREPARED_STATEMENTS,
  ) {}

  async query<R extends pg.QueryResultRow = pg.QueryResultRow>(
    text: string,
    values?: unknown[],
  ): Promise<pg.QueryResult<R>> {
    this.statements++
    const started = performance.now()
    try {
      const name = this.prepare ? statementName(text, this.maxPrepared) : null
      return await this.inner.query<R>(name ? { name, text, values } : { text, values })
    } finally {
      this.millis += performance.now() - started
    }
  }

  /**
   * Runs `fn` on one connection of the pool with the given settings (`name = value`), put back after;
   * statements are counted here. With prepared statements (a server) they are local to a read-only
   * transaction. Without (the embedded database, where every pooled connection shares one session, so that
   * a transaction would take in other requests' statements) they are the session's, reset after; meanwhile
   * other connections' statements run with them too (see the callers for why that is harmless). On a
   * connection rather than a pool, `fn` runs on this Queryable as it is.
   */
  async withSettings<T>(settings: readonly string[], fn: (db: Queryable) => Promise<T>): Promise<T> {
    if (!(this.inner instanceof pg.Pool)) return fn(this)
    const client = await this.inner.connect()
    const counted = new CountingQueryable(client, this.prepare, this.maxPrepared)
    const resets = settings.map(resetSql)
    const [begin, end, undo] = this.prepare
      ? [['BEGIN READ ONLY', ...settings.map((setting) => `SET LOCAL ${setting}`)], ['COMMIT'], ['ROLLBACK']]
      : [settings.map((setting) => `SET ${setting}`), resets, resets]
    let broken: Error | undefined
    try {
      for (const sql of begin) await counted.query(sql)
      const result = await fn(counted)
      for (const sql of end) await counted.query(sql)
      return result
    } catch (err) {
      for (const sql of undo) await counted.query(sql).catch((e: Error) => (broken = e))
      throw err
    } finally {
      client.release(broken)
      this.statements += counted.statements
      this.millis += counted.millis
    }
  }
}

/**
 * Settings for statements whose custom plans cost more to make than to run (withSettings). PostgreSQL plans
 * a prepared statement's first five executions for their own values before it compares them with a generic
 * plan, and a search statement's plan estimates each word's condition for every partial index (with the
 * regular expressions of the time, a pasted title's relaxed pass: 30 expressions × 5 types, about 15 ms of
 * planning to 3 of execution).
 * Unprepared statements (the embedded database) are planned at every execution, and a generic plan costs
 * less to make: on the embedded fixture catalog the pasted title took 512 ms, 190 ms with generic plans.
 * Other connections of the embedded database plan generically meanwhile, which changes their plans, never
 * their results.
 *
 * A generic plan estimates a word condition's matches without the word (thousands of rows per
 * band at 4M releases), and at that estimate PostgreSQL compiled the statement with JIT (27 ms) and started
 * two parallel workers, for statements that found nothing: a rare word took 250 ms there, 7 ms without
 * either (custom plans: 20 ms). Neither pays for statements this short. (The embedded database has neither.)
 */
export const GENERIC_PLAN_SETTINGS = [
  'plan_cache_mode = force_generic_plan',
  'jit = off',
  'max_parallel_workers_per_gather = 0',
] as const

/** Node's socket errors that mean the server cannot be reached or dropped the connection. */
const UNREACHABLE = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
])
/** What pg says of a connection it lost, or of a pool that found none in time (messages: pg has no codes for them). */
const LOST =
  /^(Connection terminated|Client has encountered a connection error|Client was closed|timeout exceeded when trying to connect)/

/**
 * True for an error that says the database is out of reach rather than that a statement is wrong: it is
 * restarting or shut down (SQLSTATE 57P01–57P03), the connection failed or was lost (class 08, a socket
 * error, pg's own "Connection terminated…"), or the pool found no connection within its timeout. Worth
 * trying again later; the API answers it as UNAVAILABLE.
 */
export function isDatabaseUnavailable(err: unknown): boolean {
  for (
    let e = err as { code?: unknown; message?: unknown; cause?: unknown } | null, depth = 0;
    e && depth < 4;
    depth++
  ) {
    const code = typeof e.code === 'string' ? e.code : ''
    if (code.startsWith('08') || ['57P01', '57P02', '57P03'].includes(code) || UNREACHABLE.has(code))
      return true
    if (typeof e.message === 'string' && LOST.test(e.message)) return true
    e = e.cause as typeof e
  }
  return false
}

/** True for PostgreSQL's error for a lock not granted within lock_timeout (SQLSTATE 55P03). */
export function isLockNotAvailable(err: unknown): boolean {
  return (err as { code?: string } | null)?.code === '55P03'
}

/** The statement putting a setting (`name = value`) back to its default. */
export function resetSql(setting: string): string {
  return `RESET ${setting.split('=')[0].trim()}`
}

/** Runs `fn` with `settings` where `db` is a pool's counting wrapper (CountingQueryable.withSettings), else on `db` as it is. */
export function withSettings<T>(
  db: Queryable,
  settings: readonly string[],
  fn: (db: Queryable) => Promise<T>,
): Promise<T> {
  return db instanceof CountingQueryable ? db.withSettings(settings, fn) : fn(db)
}

/** Runs `work` on one connection of `pool` in a transaction: committed when it returns, rolled back when it throws. */
export async function inTransaction<T>(pool: pg.Pool, work: (c: pg.PoolClient) => Promise<T>): Promise<T> {
  const c = await pool.connect()
  let broken: Error | undefined
  try {
    await c.query('BEGIN')
    const out = await work(c)
    await c.query('COMMIT')
    return out
  } catch (err) {
    // On a lost connection ROLLBACK fails too: the work's error is the one to report, and the connection
    // leaves the pool.
    await c.query('ROLLBACK').catch((e: Error) => (broken = e))
    throw err
  } finally {
    c.release(broken)
  }
}
